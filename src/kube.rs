//! Kubernetes access: the client for the chosen kubeconfig context, retries on 429/5xx and
//! connection errors, and small helpers (absence is `None`, errors carry hints).

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::cli::Global;
use crate::error;
use crate::printer::Printer;

#[derive(Clone)]
pub struct Kube {
    pub client: kube::Client,
    pub context: String,
    pub server: String,
    pub namespace: String,
    pub printer: Printer,
}

const KUBECONFIG_HINT: &str = "point at a GKE cluster: `gcloud container clusters get-credentials CLUSTER --location LOCATION`, or pass --kubeconfig/--context";

/// The kubeconfig of `--kubeconfig`, or of `$KUBECONFIG` / `~/.kube/config` (merged as kubectl does).
pub fn read_kubeconfig(g: &Global, hint: &str) -> anyhow::Result<Kubeconfig> {
    match &g.kubeconfig {
        Some(p) => Kubeconfig::read_from(p)
            .map_err(|e| error::environment(format!("cannot read kubeconfig {}: {e}", p.display()), hint)),
        None => Kubeconfig::read().map_err(|e| error::environment(format!("no usable kubeconfig: {e}"), hint)),
    }
}

pub async fn connect(g: &Global, printer: &Printer) -> anyhow::Result<Kube> {
    connect_with(read_kubeconfig(g, KUBECONFIG_HINT)?, g, printer).await
}

/// The part of `kc` that `context` uses, as `kubectl config view --minify` shows it: its context,
/// its cluster and its user (or those `--cluster` / `--user` name). A fleet parses the kubeconfig
/// once and hands each cluster this, instead of parsing the whole file again for each context.
pub fn minify(kc: &Kubeconfig, context: &str, g: &Global) -> Kubeconfig {
    let named = kc.contexts.iter().find(|c| c.name == context);
    let ctx = named.and_then(|c| c.context.as_ref());
    let cluster = g.kube_cluster.clone().or_else(|| ctx.map(|c| c.cluster.clone()));
    let user = g.user.clone().or_else(|| ctx.and_then(|c| c.user.clone()));
    Kubeconfig {
        preferences: kc.preferences.clone(),
        clusters: kc
            .clusters
            .iter()
            .filter(|c| Some(&c.name) == cluster.as_ref())
            .cloned()
            .collect(),
        auth_infos: kc
            .auth_infos
            .iter()
            .filter(|u| Some(&u.name) == user.as_ref())
            .cloned()
            .collect(),
        contexts: named.into_iter().cloned().collect(),
        current_context: Some(context.to_string()),
        extensions: kc.extensions.clone(),
        kind: kc.kind.clone(),
        api_version: kc.api_version.clone(),
        other: kc.other.clone(),
    }
}

/// The client for the context `g` names (or `kc`'s current one).
pub async fn connect_with(kc: Kubeconfig, g: &Global, printer: &Printer) -> anyhow::Result<Kube> {
    let hint = KUBECONFIG_HINT;
    let context = match g.context.clone().or_else(|| kc.current_context.clone()) {
        Some(c) => c,
        None => return Err(error::environment("the kubeconfig has no current context", hint)),
    };
    let Some(named) = kc.contexts.iter().find(|c| c.name == context) else {
        let names: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
        return Err(error::environment(
            format!(
                "context `{context}` is not in the kubeconfig (contexts: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ),
            "pick one with --context, or list them with `kubectl config get-contexts`",
        ));
    };
    let cluster_name = g
        .kube_cluster
        .clone()
        .or_else(|| named.context.as_ref().map(|c| c.cluster.clone()))
        .unwrap_or_default();
    let server = kc
        .clusters
        .iter()
        .find(|c| c.name == cluster_name)
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.server.clone())
        .unwrap_or_default();
    let opts = KubeConfigOptions {
        context: Some(context.clone()),
        cluster: g.kube_cluster.clone(),
        user: g.user.clone(),
    };
    let mut config = kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .map_err(|e| error::environment(format!("cannot use context `{context}`: {e}"), hint))?;
    apply_kubectl_flags(&mut config, g);
    share_roots(&mut config);
    // Requests and responses at -vv/-vvv (headers redacted): see `http_log`.
    let client = kube::client::ClientBuilder::try_from(config)
        .map(|b| b.with_layer(&crate::http_log::RequestLog).build())
        .map_err(|e| error::environment(format!("cannot build a Kubernetes client for `{context}`: {e}"), hint))?;
    Ok(Kube {
        client,
        context,
        server,
        namespace: g.namespace.clone(),
        printer: printer.clone(),
    })
}

/// Give a cluster without a CA of its own the roots it is verified against, loaded once per process.
/// Without this, kube builds rustls' platform verifier for every client, which on Linux reads the
/// system bundle and decodes every PEM root each time (about 5 ms of CPU a cluster); with this, each
/// client still copies and parses the roots, but the file is read and decoded once. A plain-`http`
/// server (`kubectl proxy`) gets an empty store, as it never negotiates TLS.
fn share_roots(config: &mut kube::Config) {
    if config.root_cert.is_some() || config.accept_invalid_certs {
        return;
    }
    if config.cluster_url.scheme_str() == Some("http") {
        config.root_cert = Some(vec![]);
        return;
    }
    // Elsewhere the platform verifier asks the OS, which a bundle of roots cannot stand in for.
    #[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
    if let Some(roots) = system_roots() {
        config.root_cert = Some(roots.to_vec());
    }
}

/// The system's CA roots that rustls can use, as the platform verifier reads them on Linux
/// (`rustls-native-certs`, unparsable ones skipped); `None` when there are none, so that kube's
/// own verifier reports it.
#[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
fn system_roots() -> Option<&'static [Vec<u8>]> {
    static ROOTS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    let roots = ROOTS.get_or_init(|| {
        rustls_native_certs::load_native_certs()
            .certs
            .into_iter()
            .filter(|c| rustls::RootCertStore::empty().add(c.clone()).is_ok())
            .map(|c| c.to_vec())
            .collect()
    });
    (!roots.is_empty()).then_some(roots.as_slice())
}

/// kubectl's `--as`, `--as-group`, `--as-uid` and `--request-timeout`, on top of the kubeconfig.
pub fn apply_kubectl_flags(config: &mut kube::Config, g: &Global) {
    if let Some(user) = &g.as_user {
        config.auth_info.impersonate = Some(user.clone());
        config.auth_info.impersonate_groups = (!g.as_group.is_empty()).then(|| g.as_group.clone());
        config.auth_info.impersonate_uid = g.as_uid.clone();
    }
    if let Some(t) = g.request_timeout.filter(|t| !t.is_zero()) {
        config.connect_timeout = Some(t);
        config.read_timeout = Some(t);
        config.write_timeout = Some(t);
        // Count from when the request is sent, not from when a pooled connection went idle.
        config.reset_reader_on_write = true;
    }
}

pub fn is_retryable(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => matches!(s.code, 429 | 500 | 502 | 503 | 504),
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

pub fn status_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

pub fn is_not_found(e: &kube::Error) -> bool {
    status_code(e) == Some(404)
}

impl Kube {
    /// Run a Kubernetes call with retries on 429, 5xx and transport errors.
    pub async fn retry<T, F, Fut>(&self, what: &str, f: F) -> Result<T, kube::Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, kube::Error>>,
    {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(5))
            .with_max_times(8)
            .with_jitter();
        // Transport errors (connection refused, reset) are retried twice only: an unreachable
        // API server should fail fast with its hint.
        let transport = std::sync::atomic::AtomicUsize::new(0);
        f.retry(backoff)
            .when(|e: &kube::Error| match e {
                kube::Error::HyperError(_) | kube::Error::Service(_) => {
                    transport.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 2
                }
                other => is_retryable(other),
            })
            .notify(|e: &kube::Error, d: Duration| {
                self.printer.verbose(
                    1,
                    &format!(
                        "retry: {what} failed ({}); retrying in {} ms",
                        short_kube_error(e),
                        d.as_millis()
                    ),
                );
            })
            .await
    }

    pub fn api<K>(&self) -> kube::Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        kube::Api::namespaced(self.client.clone(), &self.namespace)
    }
}

pub fn short_kube_error(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{} ({})", s.message, s.code),
        other => other.to_string(),
    }
}

/// Turn a Kubernetes error into a user error with a hint.
pub fn explain(e: kube::Error, what: &str, server: &str) -> anyhow::Error {
    match &e {
        kube::Error::Api(s) if s.code == 403 => error::environment(
            format!("{what}: permission denied: {}", s.message),
            "your Kubernetes user needs the RBAC listed in README.md (Permissions); `kubectl auth can-i --list -n kasten-io` shows what you have",
        ),
        kube::Error::Api(s) if s.code == 401 => error::environment(
            format!("{what}: the cluster rejected the credentials: {}", s.message),
            "refresh them: `gcloud container clusters get-credentials CLUSTER --location LOCATION`",
        ),
        kube::Error::Api(_) => anyhow::Error::new(e).context(what.to_string()),
        _ => error::environment(
            format!("{what}: cannot reach the Kubernetes API server {server}: {}", short_kube_error(&e)),
            "check the context (`kubectl config current-context`) and that the cluster is reachable from here (`kubectl get ns`)",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn global(args: &[&str]) -> Global {
        let argv = ["kubectl-kasten_ilb"].iter().chain(args).chain(&["doctor"]);
        crate::cli::Cli::try_parse_from(argv).expect("flags parse").global
    }

    const FLEET: &str = r#"
apiVersion: v1
kind: Config
current-context: a
clusters:
- {name: ca, cluster: {server: "https://10.0.0.1", certificate-authority-data: "Zm9v"}}
- {name: cb, cluster: {server: "http://127.0.0.1:8001"}}
- {name: other, cluster: {server: "https://10.0.0.9"}}
users:
- {name: ua, user: {token: "t-a"}}
- {name: ub, user: {token: "t-b"}}
- {name: other-user, user: {token: "t-o"}}
contexts:
- {name: a, context: {cluster: ca, user: ua, namespace: k10}}
- {name: b, context: {cluster: cb, user: ub}}
"#;

    fn names<T>(items: &[T], name: impl Fn(&T) -> &str) -> Vec<&str> {
        items.iter().map(name).collect()
    }

    #[test]
    fn minify_keeps_only_the_context_its_cluster_and_its_user() {
        let kc = Kubeconfig::from_yaml(FLEET).unwrap();
        let m = minify(&kc, "b", &global(&[]));
        assert_eq!(names(&m.contexts, |c| &c.name), ["b"]);
        assert_eq!(names(&m.clusters, |c| &c.name), ["cb"]);
        assert_eq!(names(&m.auth_infos, |u| &u.name), ["ub"]);
        assert_eq!(m.current_context.as_deref(), Some("b"));

        // --cluster and --user override the context's own, as they do for a single cluster.
        let m = minify(&kc, "a", &global(&["--cluster", "other", "--user", "other-user"]));
        assert_eq!(names(&m.clusters, |c| &c.name), ["other"]);
        assert_eq!(names(&m.auth_infos, |u| &u.name), ["other-user"]);
        assert_eq!(
            m.contexts[0].context.as_ref().unwrap().namespace.as_deref(),
            Some("k10")
        );
    }

    #[tokio::test]
    async fn a_minified_context_gives_the_client_the_whole_file_would() {
        let kc = Kubeconfig::from_yaml(FLEET).unwrap();
        for ctx in ["a", "b"] {
            let g = global(&["--context", ctx]);
            let opts = KubeConfigOptions {
                context: Some(ctx.to_string()),
                ..Default::default()
            };
            let whole = kube::Config::from_custom_kubeconfig(kc.clone(), &opts).await.unwrap();
            let mini = kube::Config::from_custom_kubeconfig(minify(&kc, ctx, &g), &opts)
                .await
                .unwrap();
            assert_eq!(mini.cluster_url, whole.cluster_url);
            assert_eq!(mini.default_namespace, whole.default_namespace);
            assert_eq!(mini.root_cert, whole.root_cert);
            assert_eq!(format!("{:?}", mini.auth_info), format!("{:?}", whole.auth_info));
        }
    }

    #[tokio::test]
    async fn roots_are_shared_only_where_the_kubeconfig_gives_none() {
        let kc = Kubeconfig::from_yaml(FLEET).unwrap();
        let config = |ctx: &str| {
            let (kc, ctx) = (kc.clone(), ctx.to_string());
            async move {
                let opts = KubeConfigOptions {
                    context: Some(ctx),
                    ..Default::default()
                };
                kube::Config::from_custom_kubeconfig(kc, &opts).await
            }
        };
        // The cluster's own CA stays the only root.
        let mut a = config("a").await.unwrap();
        let own = a.root_cert.clone();
        assert!(own.is_some());
        share_roots(&mut a);
        assert_eq!(a.root_cert, own);
        // Plain http never negotiates TLS: no roots to read.
        let mut b = config("b").await.unwrap();
        share_roots(&mut b);
        assert_eq!(b.root_cert, Some(vec![]));
        // An https server without a CA (a DNS endpoint): the system's roots, read once.
        let mut c = config("b").await.unwrap();
        c.cluster_url = "https://gke-0123.us-central1.gke.goog".parse().unwrap();
        share_roots(&mut c);
        #[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
        if let Some(roots) = system_roots() {
            assert_eq!(c.root_cert.as_deref(), Some(roots));
            assert!(std::ptr::eq(roots, system_roots().unwrap()), "read once");
        } else {
            assert_eq!(c.root_cert, None, "kube's own verifier reports that there are none");
        }
        // --insecure-skip-tls-verify: nothing to verify against.
        let mut d = config("b").await.unwrap();
        d.cluster_url = "https://10.0.0.2".parse().unwrap();
        d.accept_invalid_certs = true;
        share_roots(&mut d);
        assert_eq!(d.root_cert, None);
    }
}

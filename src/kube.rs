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

pub async fn connect(g: &Global, printer: &Printer) -> anyhow::Result<Kube> {
    let hint = "point at a GKE cluster: `gcloud container clusters get-credentials CLUSTER --location LOCATION`, or pass --kubeconfig/--context";
    let kc = match &g.kubeconfig {
        Some(p) => Kubeconfig::read_from(p)
            .map_err(|e| error::environment(format!("cannot read kubeconfig {}: {e}", p.display()), hint))?,
        None => Kubeconfig::read().map_err(|e| error::environment(format!("no usable kubeconfig: {e}"), hint))?,
    };
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

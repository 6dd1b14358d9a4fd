//! Gathering: everything doctor reads, in two concurrent rounds, returned as plain data ([`Facts`],
//! no clients). Errors that stop doctor from running at all (no context, no credentials, no
//! cluster) are returned; the rest are kept in the facts and become findings.

use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use k8s_openapi::api::core::v1::{Event, Node};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{ListParams, PostParams};
use kube::Api;
use serde_json::{json, Value};

use crate::cli::{DoctorArgs, Global};
use crate::discover::{self, K10};
use crate::gcp::model::{BackendService, GroupHealth, HealthCheck, HealthStatus, NetworkEndpointGroup};
use crate::gcp::Gcp;
use crate::kube::Kube;
use crate::plan;
use crate::printer::Printer;
use crate::state::{self, ingress_ip, Base, Vpc, BACKEND_CONFIG};
use crate::verify::{self, CurlError, CurlResult};
use tokio::sync::oneshot;

/// The need an exec that got in answers: install's in-cluster curl is the same exec.
const EXEC_NEED: KubeNeed = ("create", "", "pods", "exec");

/// Kubernetes verbs install needs: (verb, group, resource, subresource).
pub const KUBE_NEEDS: &[KubeNeed] = &[
    ("list", "apps", "deployments", ""),
    ("patch", "apps", "deployments", ""),
    ("patch", "", "services", ""),
    ("list", "", "pods", ""),
    EXEC_NEED,
    ("list", "", "events", ""),
    ("create", "networking.k8s.io", "ingresses", ""),
    ("patch", "networking.k8s.io", "ingresses", ""),
    ("create", "cloud.google.com", "backendconfigs", ""),
];

/// IAM permissions install needs on the project.
pub const GCP_NEEDS: &[&str] = &[
    "container.clusters.get",
    "compute.networks.get",
    "compute.subnetworks.list",
    "compute.subnetworks.create",
    "compute.subnetworks.update",
    "compute.firewalls.list",
    "compute.firewalls.create",
    "compute.networkEndpointGroups.list",
    "compute.regionBackendServices.get",
    "compute.regionHealthChecks.get",
    "compute.instances.get",
];

/// Why the in-cluster curl gave no verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CurlFailure {
    /// No candidate pod has curl (`probe_pod`: the one --probe-pod named).
    NoCurlPod { probe_pod: Option<String> },
    /// curl ran (or was missing in the pod of the deeper request) and gave no HTTP answer.
    Curl(CurlError),
    /// `kubectl exec` itself failed.
    Exec(String),
}

impl std::fmt::Display for CurlFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CurlFailure::NoCurlPod { probe_pod: Some(pp) } => write!(f, "--probe-pod {pp} has no curl"),
            CurlFailure::NoCurlPod { probe_pod: None } => f.write_str("no K10 pod with curl found"),
            CurlFailure::Curl(e) => write!(f, "{e}"),
            CurlFailure::Exec(e) => f.write_str(e),
        }
    }
}

/// The dashboard page and a deeper path, as curl got them from inside the cluster.
pub type Curl = Result<(CurlResult, CurlResult), CurlFailure>;

/// Everything doctor read: plain data, so every check is a pure function of it.
#[derive(Debug, Clone)]
pub struct Facts {
    pub context: String,
    pub namespace: String,
    /// The cluster, nodes and Ingresses; `seen.k10` is a placeholder when `k10_error` is set.
    pub seen: state::Observed,
    /// Why K10 was not found.
    pub k10_error: Option<String>,
    pub vpc: Result<Vpc, String>,
    /// Kubernetes verbs denied (`create pods/exec`), or why the question failed.
    pub denied_kube: Result<Vec<String>, String>,
    /// IAM permissions missing, or why the question failed.
    pub denied_gcp: Result<Vec<String>, String>,
    /// On a Shared VPC, the caller's IAM in the network's host project (None: not shared).
    pub denied_host: Option<Result<super::host_iam::HostIam, String>>,
    pub events: Vec<Event>,
    pub hc: Option<HealthCheck>,
    pub bs: Option<BackendService>,
    pub negs: Result<Vec<NetworkEndpointGroup>, String>,
    /// getHealth per NEG (group URL, statuses).
    pub health: Result<Vec<(String, Vec<HealthStatus>)>, String>,
    /// The BackendConfig the Service names, as read.
    pub backend_config: Option<Value>,
    /// None: not run (`--no-exec`, K10 not found, or no address).
    pub curl: Option<Curl>,
    /// What the security checks read (certificates served, forwarding rules, the time).
    pub security: super::security::Security,
}

impl Facts {
    /// K10 as read, if it was found.
    pub fn k10(&self) -> Option<&K10> {
        self.k10_error.is_none().then_some(&self.seen.k10)
    }

    pub fn cluster(&self) -> &discover::ClusterInfo {
        &self.seen.cluster
    }

    /// Ingresses that route to Service gateway.
    pub fn ingresses(&self) -> Vec<&Ingress> {
        self.seen.gateway_ingresses()
    }

    /// The first address GKE gave one of them.
    pub fn ip(&self) -> Option<String> {
        let gateway = || crate::doctor::checks::gateway::dashboard(&self.seen);
        self.ingresses()
            .iter()
            .find_map(|i| ingress_ip(i))
            .or_else(|| crate::gateway::gateway_view(gateway()?).address())
    }

    /// The range of the ACTIVE proxy-only subnet, when the VPC was read and has one.
    pub fn proxy_range(&self) -> Option<ipnet::Ipv4Net> {
        let vpc = self.vpc.as_ref().ok()?;
        vpc.active_proxy_subnet(&self.cluster().region)?
            .ip_cidr_range
            .parse()
            .ok()
    }
}

/// Read everything, concurrently: two rounds of reads, with the in-cluster curl and the access
/// reviews beside them ([`gather_with`]).
pub async fn gather(g: &Global, a: &DoctorArgs, p: &Printer) -> anyhow::Result<Facts> {
    let kube = crate::kube::connect(g, p).await?;
    let gcp = Gcp::new(p)?;
    gather_with(kube, gcp, g, a).await
}

/// [`gather`] through clients made by the caller (a fleet shares one Google client).
///
/// Three things run side by side: the in-cluster curl, which starts as soon as K10 and its target
/// are read (the exec, a container runtime's start and then curl, is the longest call doctor makes
/// and waits for nothing else); the access reviews, once the lists they might be answered by are
/// back; and the two rounds of reads (the cluster, K10 and the lists; then Google's side of the
/// load balancer, which needs the cluster). A first round that fails ends the lot.
pub async fn gather_with(kube: Kube, gcp: Gcp, g: &Global, a: &DoctorArgs) -> anyhow::Result<Facts> {
    let (early_tx, early) = oneshot::channel::<Base>();
    let (lists_tx, lists) = oneshot::channel::<Listed>();
    let (k10_read_tx, k10_read) = oneshot::channel::<bool>();
    let (exec_tx, exec_let_in) = oneshot::channel::<bool>();
    let curl = async {
        let Ok(early) = early.await else {
            return Ok(None); // K10 was not read: nothing to curl
        };
        let c = curl(&early, Some(&early.seen.k10), a).await;
        // The API server let the exec in when curl ran in the pod, whatever curl then said.
        let _ = exec_tx.send(matches!(c, Some(Ok(_)) | Some(Err(CurlFailure::Curl(_)))));
        Ok(c)
    };
    let reviews = async { Ok(reviews(&kube, lists, k10_read, exec_let_in).await) };
    let rounds = async {
        let first = first_round(
            kube.clone(),
            gcp,
            g,
            Signals {
                lists_tx,
                k10_read_tx,
                early_tx,
            },
        )
        .await?;
        let second = second_round(&first).await;
        Ok::<_, anyhow::Error>((first, second))
    };
    let (curl, denied_kube, (first, second)) = futures::future::try_join3(curl, reviews, rounds).await?;
    let b = first.base;
    Ok(Facts {
        context: b.kube.context.clone(),
        namespace: b.kube.namespace.clone(),
        vpc: second.vpc.map_err(|e| format!("{e:#}")),
        hc: second.hc,
        bs: second.bs,
        negs: second.negs,
        health: second.health,
        backend_config: second.backend_config,
        curl,
        security: second.security,
        seen: b.seen,
        k10_error: first.k10_error,
        denied_kube,
        denied_gcp: first.denied_gcp,
        denied_host: second.denied_host,
        events: first.events,
    })
}

/// Google's side of the load balancer, and the rest that needs the cluster known.
struct SecondRound {
    vpc: anyhow::Result<Vpc>,
    hc: Option<HealthCheck>,
    bs: Option<BackendService>,
    negs: Result<Vec<NetworkEndpointGroup>, String>,
    health: Result<Vec<(String, Vec<HealthStatus>)>, String>,
    backend_config: Option<Value>,
    security: super::security::Security,
    denied_host: Option<Result<super::host_iam::HostIam, String>>,
}

async fn second_round(first: &FirstRound) -> SecondRound {
    let b = &first.base;
    let k10 = first.k10_error.is_none().then_some(&b.k10);
    let backend = backend_name(b, k10).await;
    let backend = backend.as_deref();
    let ingresses = b.seen.gateway_ingresses();
    let negs_then_health = async {
        let negs = negs(b, k10).await;
        let health = health(b, k10, backend, negs.as_ref().ok()).await;
        (negs, health)
    };
    let (vpc, hc, bs, (negs, health), backend_config, security, denied_host) = tokio::join!(
        state::vpc(b),
        health_check(b, backend),
        backend_service(b, backend),
        negs_then_health,
        backend_config(b, k10),
        super::security::gather(b, &ingresses),
        super::host_iam::denied_host(b),
    );
    SecondRound {
        vpc,
        hc,
        bs,
        negs,
        health,
        backend_config,
        security,
        denied_host,
    }
}

/// Which of the first round's lists came back: (nodes, events).
type Listed = (bool, bool);

/// What the first round tells the curl and the access reviews as soon as it knows.
struct Signals {
    /// Whether the node and event lists came back.
    lists_tx: oneshot::Sender<Listed>,
    /// Whether K10 was read (which lists its pods and Deployments).
    k10_read_tx: oneshot::Sender<bool>,
    /// What the curl needs, once its target is known (dropped when K10 was not read).
    early_tx: oneshot::Sender<Base>,
}

/// The access reviews, once the node and event lists and K10 are read: a list that came back
/// already answers its own review, and the rest can reuse connections those reads opened (kube-rs
/// speaks HTTP/1.1: a request in flight holds a connection of its own, and over TLS each new one
/// costs a handshake). They run beside the second round and the curl, so waiting costs no time.
/// The exec's review waits for the curl (`exec_let_in`) and is asked only when no exec got in
/// (not run, or refused). After a failed node list, none (doctor stops there).
async fn reviews(
    kube: &Kube,
    lists: oneshot::Receiver<Listed>,
    k10_read: oneshot::Receiver<bool>,
    exec_let_in: oneshot::Receiver<bool>,
) -> Result<Vec<String>, String> {
    let (lists, k10_read) = tokio::join!(lists, k10_read);
    match lists {
        Ok((true, events)) => {
            let answered = answered_by_reads(events, k10_read == Ok(true));
            denied_kube(kube, &answered, async { exec_let_in.await == Ok(true) }).await
        }
        _ => Err("not asked: the node list failed".to_string()),
    }
}

struct FirstRound {
    base: Base,
    k10_error: Option<String>,
    events: Vec<Event>,
    denied_gcp: Result<Vec<String>, String>,
}

/// K10, the Ingresses and the Gateway API objects, as the first round reads them.
struct KubeSide {
    k10: anyhow::Result<K10>,
    ingresses: Result<Vec<Ingress>, kube::Error>,
    gateway: anyhow::Result<crate::gateway::GatewayApi>,
}

/// Reads K10, the Ingresses and the Gateway API objects, and hands the curl what it needs as soon
/// as its target is known: an Ingress with an address is the target when there is one, so then the
/// curl does not wait for the Gateway API reads (a discovery request, then the lists where Gateway
/// API is on). `k10_read` hears whether K10 was read.
async fn kube_side(
    kube: &Kube,
    gcp: &Gcp,
    g: &Global,
    k10_read: oneshot::Sender<bool>,
    early_tx: oneshot::Sender<Base>,
) -> KubeSide {
    let ing_api: Api<Ingress> = kube.api();
    let lp = ListParams::default();
    let k10 = async {
        let k = discover::k10(kube).await;
        let _ = k10_read.send(k.is_ok());
        k
    };
    // The Gateway API reads run beside everything below; `finish` waits for them and takes their
    // answer.
    let gateway = futures::future::maybe_done(crate::gateway::observe(kube));
    tokio::pin!(gateway);
    let first = futures::future::join(k10, kube.retry("list ingresses", || ing_api.list(&lp)));
    tokio::pin!(first);
    let (k10, ings) = tokio::select! {
        both = &mut first => both,
        () = &mut gateway => first.await,
    };
    let ingresses = ings.map(|l| l.items);
    let Ok(k) = k10 else {
        return KubeSide {
            k10,
            ingresses,
            gateway: finish(gateway.as_mut()).await,
        };
    };
    // curl reads only K10, the Ingresses and the Gateway API objects: the cluster is not known yet.
    let mut early = Base {
        kube: kube.clone(),
        gcp: gcp.clone(),
        seen: state::Observed {
            cluster: discover::cluster_info(unknown_cluster(), Default::default(), g),
            k10: k.clone(),
            nodes: vec![],
            ingresses: ingresses.as_ref().map(|i| i.clone()).unwrap_or_default(),
            gateway: Default::default(),
        },
    };
    let gateway = if curl_target(&early, &early.seen.k10).is_some() {
        let _ = early_tx.send(early);
        finish(gateway.as_mut()).await
    } else {
        let gateway = finish(gateway.as_mut()).await;
        early.seen.gateway = gateway.as_ref().map(|gw| gw.clone()).unwrap_or_default();
        let _ = early_tx.send(early);
        gateway
    };
    KubeSide {
        k10: Ok(k),
        ingresses,
        gateway,
    }
}

/// A future that may already have run to the end: its output, once it has.
async fn finish<F: std::future::Future>(mut f: std::pin::Pin<&mut futures::future::MaybeDone<F>>) -> F::Output {
    f.as_mut().await;
    f.take_output().expect("a future's output is taken once")
}

fn unknown_cluster() -> discover::ClusterRef {
    discover::ClusterRef {
        project: String::new(),
        location: String::new(),
        cluster: String::new(),
    }
}

/// Round 1: the cluster, K10, nodes, ingresses, events and IAM; `signals` tell the curl and the
/// access reviews what they wait for as soon as it is known.
async fn first_round(kube: Kube, gcp: Gcp, g: &Global, signals: Signals) -> anyhow::Result<FirstRound> {
    let nodes_api: Api<Node> = Api::all(kube.client.clone());
    let ev_api: Api<Event> = kube.api();
    let lp = ListParams::default();
    let project_guess = g
        .project
        .clone()
        .or_else(|| discover::parse_context(&kube.context).map(|c| c.project));
    let Signals {
        lists_tx,
        k10_read_tx,
        early_tx,
    } = signals;
    let lists = async {
        let (nodes, events) = tokio::join!(
            kube.retry("list nodes", || nodes_api.list(&lp)),
            kube.retry("list events", || ev_api.list(&lp)),
        );
        let _ = lists_tx.send((nodes.is_ok(), events.is_ok()));
        (nodes, events)
    };
    let (cluster, side, (nodes, events), denied_gcp) = tokio::join!(
        discover::cluster(g, &kube, &gcp),
        kube_side(&kube, &gcp, g, k10_read_tx, early_tx),
        lists,
        denied_gcp(&gcp, project_guess.as_deref()),
    );
    let cluster = cluster?;
    let nodes = nodes
        .map_err(|e| crate::kube::explain(e, "listing nodes", &kube.server))?
        .items;
    let (k10, k10_error) = match side.k10 {
        Ok(k) => (k, None),
        // No such namespace: there is nothing to check (exit 2, like the other commands).
        Err(e) if discover::is_missing_namespace(&e) => return Err(e),
        Err(e) => (placeholder_k10(&kube.namespace), Some(format!("{e:#}"))),
    };
    let seen = state::Observed {
        cluster,
        k10,
        nodes,
        ingresses: side.ingresses.unwrap_or_default(),
        gateway: side.gateway.unwrap_or_default(), // unreadable: treated as absent
    };
    let base = Base { kube, gcp, seen };
    let denied_gcp = match denied_gcp {
        Err(_) if project_guess.as_deref() != Some(&base.cluster.r.project) => {
            denied_gcp_for(&base.gcp, &base.cluster.r.project).await
        }
        d => d,
    };
    Ok(FirstRound {
        base,
        k10_error,
        events: events.map(|l| l.items).unwrap_or_default(),
        denied_gcp,
    })
}

/// Stands in for K10 when it was not found, so the rest can still be read (it has no neg-status).
fn placeholder_k10(ns: &str) -> K10 {
    K10 {
        namespace: ns.to_string(),
        release: "k10".into(),
        service: Default::default(),
        service_port: 80,
        service_port_name: None,
        target_port: json!(8000),
        container_port: None,
        container_name: "gateway".into(),
        container_index: 0,
        declared: false,
        probe: None,
        deployment: Default::default(),
        pods: vec![],
        auth: None,
        curl_candidates: vec![],
        prefix_path: None,
        chart: None,
    }
}

fn region_url(b: &Base, what: &str, name: &str) -> String {
    let c = &b.cluster;
    b.gcp
        .compute_url(&format!("{}/regions/{}/{what}/{name}", c.r.project, c.region))
}

/// The load balancer's health check: GKE names it as the backend service (Ingress: the NEG's name).
async fn health_check(b: &Base, backend: Option<&str>) -> Option<HealthCheck> {
    if !crate::doctor::checks::gateway::gateway_mode(&b.seen) {
        return state::health_check(b).await;
    }
    let url = region_url(b, "healthChecks", backend?);
    b.gcp.get_opt::<HealthCheck>(&url).await.ok().flatten()
}

/// The backend service to read: named as the NEG for an Ingress; GKE's `gkegw1-` one for a Gateway.
async fn backend_name(b: &Base, k10: Option<&K10>) -> Option<String> {
    if crate::doctor::checks::gateway::gateway_mode(&b.seen) {
        return crate::gateway::backend_service(b)
            .await
            .ok()
            .flatten()
            .map(|bs| bs.name);
    }
    state::neg_name(k10?)
}

async fn backend_service(b: &Base, name: Option<&str>) -> Option<BackendService> {
    let url = region_url(b, "backendServices", name?);
    b.gcp.get_opt::<BackendService>(&url).await.ok().flatten()
}

async fn negs(b: &Base, k10: Option<&K10>) -> Result<Vec<NetworkEndpointGroup>, String> {
    match k10.and_then(state::neg_name) {
        Some(n) => verify::negs(b, &n).await.map_err(|e| format!("{e:#}")),
        None => Ok(vec![]),
    }
}

/// getHealth for the NEG of each zone in the Service's neg-status, concurrently; not for a NEG the
/// list showed empty (a zone with nodes but no gateway pod), which getHealth answers with no
/// `healthStatus`: two calls fewer per cluster on a three-zone cluster.
async fn health(
    b: &Base,
    k10: Option<&K10>,
    backend: Option<&str>,
    negs: Option<&Vec<NetworkEndpointGroup>>,
) -> Result<Vec<(String, Vec<HealthStatus>)>, String> {
    let (Some(n), Some(backend)) = (k10.and_then(state::neg_name), backend) else {
        return Ok(vec![]);
    };
    let zones = k10
        .and_then(|k| k.annotation(state::NEG_STATUS))
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .map(|v| v["zones"].clone())
        .unwrap_or(Value::Null);
    let project = &b.cluster.r.project;
    let groups: Vec<String> = zones
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|z| z.as_str())
        .filter(|z| !negs.is_some_and(|ns| ns.iter().any(|g| g.size == 0 && g.zone.rsplit('/').next() == Some(*z))))
        .map(|z| {
            b.gcp
                .compute_url(&format!("{project}/zones/{z}/networkEndpointGroups/{n}"))
        })
        .collect();
    let url = format!("{}/getHealth", region_url(b, "backendServices", backend));
    let futs = groups.iter().map(|gr| {
        let body = json!({"group": gr});
        let url = url.clone();
        async move {
            let v = b.gcp.call(reqwest::Method::POST, &url, Some(&body), true).await?;
            let h: GroupHealth = serde_json::from_value(v)?;
            anyhow::Ok((gr.clone(), h.health_status))
        }
    });
    futures::future::try_join_all(futs).await.map_err(|e| format!("{e:#}"))
}

async fn backend_config(b: &Base, k10: Option<&K10>) -> Option<Value> {
    let k = k10?;
    let name = state::backend_config_ref(
        &k.annotation(BACKEND_CONFIG)?,
        k.service_port_name.as_deref(),
        k.service_port,
    )
    .ok()?;
    let o = state::backend_config(b, &name).await.ok().flatten()?;
    Some(serde_json::to_value(o).unwrap_or(Value::Null))
}

/// curl the dashboard from the first candidate pod that has curl (None: not run). The page and the
/// deeper path are asked in one exec; the deeper answer counts only when the page came back.
async fn curl(b: &Base, k10: Option<&K10>, a: &DoctorArgs) -> Option<Curl> {
    if a.no_exec {
        return None;
    }
    let k = k10?;
    let (ep, path) = curl_target(b, k)?;
    let deep_path = format!("{path}dashboard/");
    for cand in verify::curl_candidates(b, a.probe_pod.as_deref()) {
        let (page, deep) = match verify::curl_pair(b, &cand, &ep, &path, &deep_path).await {
            Ok(answers) => answers,
            Err(e) => return Some(Err(CurlFailure::Exec(format!("{e:#}")))),
        };
        match page {
            Ok(page) => return Some(deep.map(|deep| (page, deep)).map_err(CurlFailure::Curl)),
            Err(CurlError::NoCurl { .. }) => continue,
            Err(e) => return Some(Err(CurlFailure::Curl(e))),
        }
    }
    Some(Err(CurlFailure::NoCurlPod {
        probe_pod: a.probe_pod.clone(),
    }))
}

/// Where to curl: the first Ingress to gateway with an address, else the dashboard's Gateway.
fn curl_target(b: &Base, k: &K10) -> Option<(verify::Endpoint, String)> {
    let ings = b.gateway_ingresses();
    let Some((ing, ip)) = ings.iter().find_map(|i| Some((i, ingress_ip(i)?))) else {
        return crate::doctor::checks::gateway::curl_target(&b.seen, k);
    };
    let path = ings
        .iter()
        .find_map(|i| {
            serde_json::to_value(i).ok()?["spec"]["rules"][0]["http"]["paths"][0]["path"]
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_else(|| k.dashboard_path());
    let path = plan::normalize_path(&path).unwrap_or(path);
    Some((verify::Endpoint::of(ing, &ip), path))
}

fn access_review(namespace: &str, (verb, group, res, sub): (&str, &str, &str, &str)) -> SelfSubjectAccessReview {
    SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(namespace.to_string()),
                verb: Some(verb.to_string()),
                group: Some(group.to_string()),
                resource: Some(res.to_string()),
                subresource: (!sub.is_empty()).then(|| sub.to_string()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A need of [`KUBE_NEEDS`]: (verb, group, resource, subresource).
pub type KubeNeed = (&'static str, &'static str, &'static str, &'static str);

/// The needs that doctor's own reads already proved allowed, so their access reviews are not
/// asked: a list in K10's namespace that came back is the same authorization question (verb
/// `list`, the resource, the namespace) answered by the API server. `events_listed`: the event
/// list came back; `k10_read`: K10 was read, which lists its Deployments and pods.
pub fn answered_by_reads(events_listed: bool, k10_read: bool) -> Vec<KubeNeed> {
    KUBE_NEEDS
        .iter()
        .copied()
        .filter(|&(verb, _, res, _)| {
            verb == "list" && (events_listed && res == "events" || k10_read && matches!(res, "deployments" | "pods"))
        })
        .collect()
}

/// The Kubernetes verbs of [`KUBE_NEEDS`] that RBAC denies, as `verb resource[/sub]`; `answered`
/// are known to be allowed and not asked, and [`EXEC_NEED`] is not asked when `exec_let_in` says
/// an exec got in.
async fn denied_kube(
    kube: &crate::kube::Kube,
    answered: &[KubeNeed],
    exec_let_in: impl std::future::Future<Output = bool>,
) -> Result<Vec<String>, String> {
    let api: Api<SelfSubjectAccessReview> = Api::all(kube.client.clone());
    let mut exec_let_in = Some(exec_let_in);
    let futs = KUBE_NEEDS
        .iter()
        .filter(|n| !answered.contains(n))
        .map(|&(verb, group, res, sub)| {
            let api = api.clone();
            let review = access_review(&kube.namespace, (verb, group, res, sub));
            let wait = exec_let_in.take_if(|_| (verb, group, res, sub) == EXEC_NEED);
            async move {
                if let Some(let_in) = wait {
                    if let_in.await {
                        return Ok(None);
                    }
                }
                let pp = PostParams::default();
                let r = kube
                    .retry("selfsubjectaccessreview", || api.create(&pp, &review))
                    .await
                    .map_err(|e| crate::kube::short_kube_error(&e))?;
                let allowed = r.status.map(|s| s.allowed).unwrap_or(false);
                let name = if sub.is_empty() {
                    format!("{verb} {res}")
                } else {
                    format!("{verb} {res}/{sub}")
                };
                Ok::<_, String>((!allowed).then_some(name))
            }
        });
    let all = futures::future::try_join_all(futs).await?;
    Ok(all.into_iter().flatten().collect())
}

async fn denied_gcp(gcp: &Gcp, project: Option<&str>) -> Result<Vec<String>, String> {
    match project {
        Some(p) => denied_gcp_for(gcp, p).await,
        None => Err("project not known yet".into()),
    }
}

/// The permissions of [`GCP_NEEDS`] that IAM does not grant on the project.
async fn denied_gcp_for(gcp: &Gcp, project: &str) -> Result<Vec<String>, String> {
    gcp.missing(project, GCP_NEEDS).await.map_err(|e| format!("{e:#}"))
}

//! Discovery: from the kubeconfig context to the GKE cluster (project, location, network, region,
//! ranges) and K10's gateway (Service port -> container port, probe, pods, auth).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Container, Namespace, Node, Pod, PodSpec, Service, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::ListParams;
use kube::Api;
use serde_json::Value;

use crate::cli::Global;
use crate::error;
pub use crate::gcp::context as gcp_err;
use crate::gcp::model::{short, Cluster, ClusterList};
use crate::gcp::Gcp;
use crate::kube::{explain, Kube};

/// Where the cluster lives, from the context name, flags, or the nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterRef {
    pub project: String,
    pub location: String,
    pub cluster: String,
}

/// `gke_PROJECT_LOCATION_CLUSTER`, as `gcloud container clusters get-credentials` names contexts.
pub fn parse_context(ctx: &str) -> Option<ClusterRef> {
    let rest = ctx.strip_prefix("gke_")?;
    let mut parts = rest.splitn(3, '_');
    let (p, l, c) = (parts.next()?, parts.next()?, parts.next()?);
    if p.is_empty() || l.is_empty() || c.is_empty() || c.contains('_') {
        return None;
    }
    Some(ClusterRef {
        project: p.into(),
        location: l.into(),
        cluster: c.into(),
    })
}

/// The region of a location: `us-central1-a` -> `us-central1`, `us-central1` -> itself.
pub fn region_of(location: &str) -> String {
    let parts: Vec<&str> = location.split('-').collect();
    if parts.len() >= 3
        && parts
            .last()
            .is_some_and(|z| z.len() == 1 && z.chars().all(|c| c.is_ascii_lowercase()))
    {
        parts[..parts.len() - 1].join("-")
    } else {
        location.to_string()
    }
}

#[derive(Debug, Clone)]
pub struct ClusterInfo {
    pub r: ClusterRef,
    pub region: String,
    /// The project that owns the VPC (the Shared VPC host project when shared).
    pub network_project: String,
    pub network: String,
    pub subnetwork: String,
    pub pod_range: String,
    pub services_range: String,
    pub master_range: String,
    pub vpc_native: bool,
    pub http_lb: bool,
    pub version: String,
    pub raw: Cluster,
}

impl ClusterInfo {
    pub fn shared_vpc(&self) -> bool {
        self.network_project != self.r.project
    }
    pub fn path(&self) -> String {
        format!(
            "projects/{}/locations/{}/clusters/{}",
            self.r.project, self.r.location, self.r.cluster
        )
    }
}

/// Resolve the cluster: flags win, then the context name, then the nodes' providerID plus an
/// endpoint match in `clusters.list`.
pub async fn cluster(g: &Global, kube: &Kube, gcp: &Gcp) -> anyhow::Result<ClusterInfo> {
    let from_ctx = parse_context(&kube.context);
    let mut r = from_ctx.clone();
    if r.is_none() || g.project.is_some() || g.location.is_some() || g.cluster.is_some() {
        let mut project = g
            .project
            .clone()
            .or_else(|| from_ctx.as_ref().map(|c| c.project.clone()));
        if project.is_none() {
            project = project_from_nodes(kube).await?;
        }
        let Some(project) = project else {
            return Err(error::environment(
                format!(
                    "context `{}` does not look like a GKE cluster: its name is not gke_PROJECT_LOCATION_CLUSTER \
                     and its nodes are not Compute Engine VMs",
                    kube.context
                ),
                "use a GKE context (`gcloud container clusters get-credentials CLUSTER --location LOCATION`), or pass \
                 --project, --location and --gke-cluster",
            ));
        };
        r = match (
            g.location
                .clone()
                .or_else(|| from_ctx.as_ref().map(|c| c.location.clone())),
            g.cluster
                .clone()
                .or_else(|| from_ctx.as_ref().map(|c| c.cluster.clone())),
        ) {
            (Some(location), Some(cluster)) => Some(ClusterRef {
                project,
                location,
                cluster,
            }),
            _ => Some(find_by_endpoint(gcp, &project, &kube.server).await?),
        };
    }
    let r = r.expect("resolved above");
    let url = format!(
        "{}v1/projects/{}/locations/{}/clusters/{}",
        gcp.container, r.project, r.location, r.cluster
    );
    let c: Cluster = match gcp.get_opt(&url).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Err(error::environment(
                format!(
                    "GKE cluster `{}` not found in project `{}`, location `{}`",
                    r.cluster, r.project, r.location
                ),
                format!(
                "check --project/--location/--gke-cluster, or list clusters: `gcloud container clusters list --project {}`",
                r.project
            ),
            ))
        }
        Err(e) => return Err(gcp_err(e, "reading the GKE cluster")),
    };
    Ok(cluster_info(r, c, g))
}

pub fn cluster_info(r: ClusterRef, c: Cluster, g: &Global) -> ClusterInfo {
    let net_path = if c.network_config.network.is_empty() {
        format!("projects/{}/global/networks/{}", r.project, c.network)
    } else {
        c.network_config.network.clone()
    };
    let segs: Vec<&str> = net_path.split('/').collect();
    let network_project = segs
        .iter()
        .position(|s| *s == "projects")
        .and_then(|i| segs.get(i + 1))
        .map(|s| s.to_string())
        .unwrap_or_else(|| r.project.clone());
    let network = g.network.clone().unwrap_or_else(|| short(&net_path).to_string());
    let region = g.region.clone().unwrap_or_else(|| region_of(&r.location));
    let pod_range = if !c.ip_allocation_policy.cluster_ipv4_cidr_block.is_empty() {
        c.ip_allocation_policy.cluster_ipv4_cidr_block.clone()
    } else {
        c.cluster_ipv4_cidr.clone()
    };
    let services_range = if !c.ip_allocation_policy.services_ipv4_cidr_block.is_empty() {
        c.ip_allocation_policy.services_ipv4_cidr_block.clone()
    } else {
        c.services_ipv4_cidr.clone()
    };
    ClusterInfo {
        region,
        network_project,
        network,
        subnetwork: short(if c.network_config.subnetwork.is_empty() {
            &c.subnetwork
        } else {
            &c.network_config.subnetwork
        })
        .to_string(),
        pod_range,
        services_range,
        master_range: c.private_cluster_config.master_ipv4_cidr_block.clone(),
        vpc_native: c.ip_allocation_policy.use_ip_aliases,
        http_lb: !c.addons_config.http_load_balancing.disabled,
        version: c.current_master_version.clone(),
        r,
        raw: c,
    }
}

async fn project_from_nodes(kube: &Kube) -> anyhow::Result<Option<String>> {
    let nodes: Api<Node> = Api::all(kube.client.clone());
    let lp = ListParams::default().limit(1);
    let list = kube
        .retry("list nodes", || nodes.list(&lp))
        .await
        .map_err(|e| explain(e, "listing nodes", &kube.server))?;
    Ok(list
        .items
        .first()
        .and_then(|n| n.spec.as_ref()?.provider_id.clone())
        .and_then(|p| {
            p.strip_prefix("gce://")
                .map(|r| r.split('/').next().unwrap_or_default().to_string())
        }))
}

async fn find_by_endpoint(gcp: &Gcp, project: &str, server: &str) -> anyhow::Result<ClusterRef> {
    let host = server
        .split("://")
        .nth(1)
        .unwrap_or(server)
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_string();
    let url = format!("{}v1/projects/{project}/locations/-/clusters", gcp.container);
    let list: ClusterList = gcp.get(&url).await.map_err(|e| gcp_err(e, "listing GKE clusters"))?;
    let found: Vec<&Cluster> = list
        .clusters
        .iter()
        .filter(|c| c.endpoint == host || c.private_cluster_config.master_ipv4_cidr_block == host)
        .collect();
    match found.as_slice() {
        [c] => Ok(ClusterRef {
            project: project.into(),
            location: c.location.clone(),
            cluster: c.name.clone(),
        }),
        [] => Err(error::environment(
            format!("no GKE cluster in project `{project}` has the API endpoint {host} of this context"),
            "pass --project, --location and --gke-cluster",
        )),
        _ => Err(error::environment(
            format!("several GKE clusters in project `{project}` share the endpoint {host}"),
            "pass --location and --gke-cluster",
        )),
    }
}

// ---------------------------------------------------------------- K10

#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub path: String,
    /// number, or a port name
    pub port: Value,
    pub scheme: String,
    pub has_host: bool,
}

#[derive(Debug, Clone)]
pub struct PodInfo {
    pub name: String,
    pub ready: bool,
    pub ip: String,
    pub node: String,
    pub declares_port: bool,
    /// Its containers are ready, but the load balancer's readiness gate
    /// (`cloud.google.com/load-balancer-neg-ready`) is not True yet: the pod is in the NEG and
    /// waits until the load balancer sees it HEALTHY (or GKE's 10-minute timeout).
    pub waits_for_lb: bool,
}

/// The readiness gate GKE adds to pods behind an Ingress's NEG.
pub const NEG_READY_GATE: &str = "cloud.google.com/load-balancer-neg-ready";

#[derive(Debug, Clone)]
pub struct K10 {
    pub namespace: String,
    pub release: String,
    pub service: Service,
    pub service_port: i32,
    pub service_port_name: Option<String>,
    /// targetPort as written (number or name)
    pub target_port: Value,
    /// The container port the targetPort resolves to (None: a name no container declares).
    pub container_port: Option<i32>,
    pub container_name: String,
    pub container_index: usize,
    /// Whether the gateway container declares `containerPort` == targetPort.
    pub declared: bool,
    pub probe: Option<Probe>,
    pub deployment: Deployment,
    pub pods: Vec<PodInfo>,
    pub auth: Option<String>,
    /// Pod (container) names in the namespace that may have curl, best first.
    pub curl_candidates: Vec<(String, String)>,
    /// The gateway's `PREFIX_PATH` (ConfigMap `k10-gateway`, charts 7.x and later): `/k10`.
    pub prefix_path: Option<String>,
    /// The chart that made the release (`helm.sh/chart` label): `k10-6.0.12`.
    pub chart: Option<String>,
}

impl K10 {
    pub fn ready_pods(&self) -> usize {
        self.pods.iter().filter(|p| p.ready).count()
    }
    pub fn annotation(&self, key: &str) -> Option<String> {
        self.service.metadata.annotations.as_ref()?.get(key).cloned()
    }
    /// The path K10's gateway serves the dashboard under, with a trailing slash: its `PREFIX_PATH`,
    /// else the chart's default `/<release>/`.
    pub fn dashboard_path(&self) -> String {
        let prefix = self.prefix_path.clone().unwrap_or_else(|| format!("/{}", self.release));
        let inner = prefix.trim_matches('/');
        if inner.is_empty() {
            "/".into()
        } else {
            format!("/{inner}/")
        }
    }
    /// The gateway serves HTTPS (the chart's `secrets.tlsSecret`): its readinessProbe says so.
    pub fn serves_https(&self) -> bool {
        self.probe
            .as_ref()
            .is_some_and(|p| p.scheme.eq_ignore_ascii_case("HTTPS"))
    }
    /// The protocol the gateway serves: `HTTPS` or `HTTP`.
    pub fn gateway_protocol(&self) -> &'static str {
        if self.serves_https() {
            "HTTPS"
        } else {
            "HTTP"
        }
    }
    /// The protocol the load balancer speaks to the Service port: `cloud.google.com/app-protocols`
    /// keyed by the port's name (HTTP2 is TLS too, so it counts as HTTPS), else HTTP.
    pub fn lb_protocol(&self) -> &'static str {
        let v = self
            .annotation(crate::state::APP_PROTOCOLS)
            .and_then(|raw| serde_json::from_str::<Value>(&raw).ok())
            .unwrap_or(Value::Null);
        let name = self.service_port_name.as_deref().unwrap_or_default();
        match v[name].as_str().map(str::to_ascii_uppercase).as_deref() {
            Some("HTTPS" | "HTTP2") => "HTTPS",
            _ => "HTTP",
        }
    }
}

/// The gateway's `PREFIX_PATH`, from ConfigMap `k10-gateway` (the chart gives it no labels).
pub fn prefix_path_of(cm: &ConfigMap) -> Option<String> {
    cm.data
        .as_ref()?
        .get("PREFIX_PATH")
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
}

/// The chart version from a `helm.sh/chart` label (`k10-6.0.12`, `k10-7.0.1_build`): `(6, 0, 12)`.
pub fn chart_version(label: &str) -> Option<(u64, u64, u64)> {
    let v = label.strip_prefix("k10-")?;
    let mut it = v.split(['.', '_', '+', '-']).map(|p| p.parse::<u64>().ok());
    Some((it.next()??, it.next()??, it.next()??))
}

/// How a missing namespace is named in the error.
const NO_NAMESPACE: &str = "does not exist";

/// Whether discovery failed because K10's namespace does not exist.
pub fn is_missing_namespace(e: &anyhow::Error) -> bool {
    error::find(e).is_some_and(|c| c.message.starts_with("namespace `") && c.message.contains(NO_NAMESPACE))
}

/// K10 from its namespace: the Service `gateway`, the Deployments, the pods and `k10-gateway`. The
/// namespace itself is asked about only when the Service is not there, to say which is missing: a
/// cluster-scoped read that K10's namespace-scoped RBAC (README's rules) need not allow.
pub async fn k10(kube: &Kube) -> anyhow::Result<K10> {
    let ns = kube.namespace.clone();
    let svcs: Api<Service> = kube.api();
    let deps: Api<Deployment> = kube.api();
    let pods: Api<Pod> = kube.api();
    let cms: Api<ConfigMap> = kube.api();
    let lp = ListParams::default();
    let (svc, dlist, plist, cm) = tokio::join!(
        kube.retry("get service gateway", || svcs.get_opt("gateway")),
        kube.retry("list deployments", || deps.list(&lp)),
        kube.retry("list pods", || pods.list(&lp)),
        kube.retry("get configmap k10-gateway", || cms.get_opt("k10-gateway")),
    );
    let what = format!("reading K10 in namespace `{ns}`");
    let Some(service) = svc.map_err(|e| explain(e, &what, &kube.server))? else {
        let nsapi: Api<Namespace> = Api::all(kube.client.clone());
        if let Ok(None) = kube.retry("get namespace", || nsapi.get_opt(&ns)).await {
            return Err(error::environment(
                format!("namespace `{ns}` {NO_NAMESPACE} in context `{}`", kube.context),
                "pass the namespace K10 is installed in with -n/--namespace (`kubectl get pods -A -l app=k10` finds it)",
            ));
        }
        return Err(error::environment(
            format!("K10's Service `gateway` is not in namespace `{ns}`"),
            "is K10 installed here? `helm list -n NAMESPACE` shows the release; pass its namespace with -n",
        ));
    };
    let dlist = dlist.map_err(|e| explain(e, &what, &kube.server))?.items;
    let plist = plist.map_err(|e| explain(e, &what, &kube.server))?.items;
    let mut k = k10_from(ns, service, &dlist, &plist)?;
    // Older charts (6.x, Emissary) have no `k10-gateway`; a denied read is not fatal either.
    k.prefix_path = cm.ok().flatten().as_ref().and_then(prefix_path_of);
    Ok(k)
}

/// K10's gateway from what was read: pure, so it is tested on plain objects.
pub fn k10_from(ns: String, service: Service, dlist: &[Deployment], plist: &[Pod]) -> anyhow::Result<K10> {
    let Some(deployment) = dlist
        .iter()
        .find(|d| d.metadata.name.as_deref() == Some("gateway"))
        .cloned()
    else {
        return Err(error::environment(
            format!("K10's Deployment `gateway` is not in namespace `{ns}`"),
            "the K10 chart creates it; check the installation with `helm status k10 -n kasten-io`",
        ));
    };
    let (port, target_port) = service_port(&service, &ns)?;
    let dj = serde_json::to_value(&deployment)?;
    let containers = dj["spec"]["template"]["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let found = serving_container(&containers, &target_port);
    let c = containers.get(found.index).cloned().unwrap_or(Value::Null);
    let selector = service
        .spec
        .as_ref()
        .and_then(|s| s.selector.clone())
        .unwrap_or_default();
    let chart = [&deployment.metadata.labels, &service.metadata.labels]
        .into_iter()
        .find_map(|l| l.as_ref()?.get("helm.sh/chart").cloned());
    Ok(K10 {
        namespace: ns,
        release: release_of(&deployment),
        prefix_path: None,
        chart,
        service_port: port.port,
        service_port_name: port.name.clone(),
        container_port: found.port,
        container_name: c["name"].as_str().unwrap_or("gateway").to_string(),
        container_index: found.index,
        declared: found.declared,
        probe: probe_of(&c),
        pods: gateway_pods(plist, &selector, &target_port),
        target_port,
        deployment,
        auth: detect_auth(dlist),
        curl_candidates: curl_candidates(plist),
        service,
    })
}

/// The Helm release, from the Deployment's labels.
fn release_of(d: &Deployment) -> String {
    let labels = d.metadata.labels.clone().unwrap_or_default();
    labels
        .get("release")
        .or_else(|| labels.get("app.kubernetes.io/instance"))
        .cloned()
        .unwrap_or_else(|| "k10".into())
}

/// The Service port (80, else `http`, else the first) and its targetPort (number or name).
fn service_port(service: &Service, ns: &str) -> anyhow::Result<(ServicePort, Value)> {
    let ports = service.spec.as_ref().and_then(|s| s.ports.clone()).unwrap_or_default();
    let port = ports
        .iter()
        .find(|p| p.port == 80)
        .or_else(|| ports.iter().find(|p| p.name.as_deref() == Some("http")))
        .or(ports.first());
    let Some(port) = port.cloned() else {
        return Err(error::environment(
            format!("Service `gateway` in `{ns}` has no ports"),
            "reinstall or upgrade K10 with its chart; the gateway Service should serve port 80",
        ));
    };
    let target_port = match &port.target_port {
        Some(IntOrString::Int(n)) => Value::from(*n),
        Some(IntOrString::String(s)) => s
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(s.clone())),
        None => Value::from(port.port),
    };
    Ok((port, target_port))
}

/// Does a container port (its name and number) match the targetPort (a number, or a port name)?
fn port_matches(name: Option<&str>, number: Option<i64>, target_port: &Value) -> bool {
    match target_port {
        Value::String(n) => name == Some(n.as_str()),
        v => number == v.as_i64(),
    }
}

/// The container that serves the targetPort, and the port number it resolves to.
struct Serving {
    index: usize,
    port: Option<i32>,
    declared: bool,
}

fn serving_container(containers: &[Value], target_port: &Value) -> Serving {
    let mut found = Serving {
        index: 0,
        port: target_port.as_i64().map(|n| n as i32),
        declared: false,
    };
    for (i, c) in containers.iter().enumerate() {
        for p in c["ports"].as_array().into_iter().flatten() {
            if port_matches(p["name"].as_str(), p["containerPort"].as_i64(), target_port) {
                found = Serving {
                    index: i,
                    port: p["containerPort"].as_i64().map(|n| n as i32),
                    declared: true,
                };
            }
        }
    }
    if !found.declared {
        // The container that serves: the one whose probe uses the target port, else the first.
        if let Some(i) = containers
            .iter()
            .position(|c| c["readinessProbe"]["httpGet"]["port"] == *target_port)
        {
            found.index = i;
        }
        if target_port.is_string() {
            found.port = None;
        }
    }
    found
}

fn probe_of(container: &Value) -> Option<Probe> {
    container["readinessProbe"]["httpGet"].as_object().map(|h| Probe {
        path: h.get("path").and_then(|p| p.as_str()).unwrap_or("/").to_string(),
        port: h.get("port").cloned().unwrap_or(Value::Null),
        scheme: h.get("scheme").and_then(|s| s.as_str()).unwrap_or("HTTP").to_string(),
        has_host: h.get("host").is_some(),
    })
}

/// The status of the pod's condition `t`, when it has one.
fn condition(pod: &Pod, t: &str) -> Option<bool> {
    let conditions = pod.status.as_ref()?.conditions.as_ref()?;
    conditions.iter().find(|c| c.type_ == t).map(|c| c.status == "True")
}

/// A `Ready` condition that is True (any of them, should a pod carry two).
fn is_ready(pod: &Pod) -> bool {
    let conditions = pod.status.as_ref().and_then(|s| s.conditions.as_ref());
    conditions.is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Containers ready, and the NEG readiness gate present but not True.
fn waits_for_lb(pod: &Pod) -> bool {
    let gates = pod.spec.as_ref().and_then(|s| s.readiness_gates.as_ref());
    let gated = gates.is_some_and(|g| g.iter().any(|g| g.condition_type == NEG_READY_GATE));
    gated && condition(pod, "ContainersReady") == Some(true) && condition(pod, NEG_READY_GATE) != Some(true)
}

/// The pod's containers (none when it has no spec).
fn containers(spec: Option<&PodSpec>) -> &[Container] {
    spec.map(|s| s.containers.as_slice()).unwrap_or_default()
}

/// The pods the Service selects.
fn gateway_pods(pods: &[Pod], selector: &BTreeMap<String, String>, target_port: &Value) -> Vec<PodInfo> {
    pods.iter()
        .filter(|p| {
            let l = p.metadata.labels.as_ref();
            !selector.is_empty() && selector.iter().all(|(k, v)| l.and_then(|l| l.get(k)) == Some(v))
        })
        .map(|p| {
            let declares_port = containers(p.spec.as_ref()).iter().any(|c| {
                c.ports
                    .iter()
                    .flatten()
                    .any(|p| port_matches(p.name.as_deref(), Some(p.container_port.into()), target_port))
            });
            let status = p.status.as_ref();
            PodInfo {
                name: p.metadata.name.clone().unwrap_or_default(),
                ready: is_ready(p),
                ip: status.and_then(|s| s.pod_ip.clone()).unwrap_or_default(),
                node: p.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default(),
                declares_port,
                waits_for_lb: waits_for_lb(p),
            }
        })
        .collect()
}

/// Which K10 authentication method is configured, from the evidence the chart leaves in the
/// Deployments (volumes, env, the dex container).
pub fn detect_auth(deps: &[Deployment]) -> Option<String> {
    for d in deps {
        let spec = d.spec.template.spec.as_ref();
        for v in spec.and_then(|s| s.volumes.as_ref()).into_iter().flatten() {
            let secret = v
                .secret
                .as_ref()
                .and_then(|s| s.secret_name.as_deref())
                .unwrap_or_default();
            let name = v.name.as_str();
            if name == "k10-basic-auth" || secret == "k10-basic-auth" {
                return Some("basic".into());
            }
            if name.starts_with("k10-oidc-auth") || secret.starts_with("k10-oidc-auth") {
                return Some("oidc".into());
            }
        }
        for c in containers(spec) {
            if c.name == "dex" {
                return Some("dex (OpenShift or LDAP)".into());
            }
            if c.env.iter().flatten().any(|e| e.name == "TOKEN_AUTH") {
                return Some("token".into());
            }
        }
    }
    None
}

/// Pods (and containers) in the namespace to try curl from: catalog first (its image has curl),
/// then other K10 service pods; ready ones only.
fn curl_candidates(pods: &[Pod]) -> Vec<(String, String)> {
    let mut out: Vec<(i32, String, String)> = vec![];
    for p in pods.iter().filter(|p| is_ready(p)) {
        let name = p.metadata.name.clone().unwrap_or_default();
        for c in containers(p.spec.as_ref()) {
            let cname = c.name.clone();
            let image = c.image.as_deref().unwrap_or_default();
            let rank = if image.contains("/catalog") {
                0
            } else if image.contains("kanister-tools") || image.contains("controllermanager") {
                1
            } else if image.contains("/gateway") || image.contains("prometheus") {
                9
            } else {
                5
            };
            out.push((rank, name.clone(), cname));
        }
    }
    out.sort();
    out.into_iter().map(|(_, p, c)| (p, c)).take(4).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_names() {
        assert_eq!(
            parse_context("gke_kasten-demo_us-central1-a_kasten-demo"),
            Some(ClusterRef {
                project: "kasten-demo".into(),
                location: "us-central1-a".into(),
                cluster: "kasten-demo".into()
            })
        );
        assert_eq!(parse_context("my-renamed-context"), None);
        assert_eq!(parse_context("gke__us-central1_x"), None);
    }

    #[test]
    fn regions() {
        assert_eq!(region_of("us-central1-a"), "us-central1");
        assert_eq!(region_of("europe-west4"), "europe-west4");
        assert_eq!(region_of("northamerica-northeast1-b"), "northamerica-northeast1");
    }
}

#[cfg(test)]
mod k10_tests {
    use super::*;
    use crate::fixtures::{self, from_json};
    use serde_json::json;

    fn pod(name: &str, labels: Value, ready: bool, port: Option<Value>) -> Pod {
        let ports = port.map(|p| json!([p])).unwrap_or(json!([]));
        from_json(json!({
            "metadata": {"name": name, "labels": labels},
            "spec": {"nodeName": "n1", "containers": [{"name": "gateway", "image": "x/gateway", "ports": ports}]},
            "status": {"podIP": "10.52.1.10",
                       "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]},
        }))
    }

    /// The gateway Deployment with `ports` on its container and `labels`.
    fn deployment(ports: Value, labels: Value) -> Deployment {
        let mut d = serde_json::to_value(fixtures::k10().deployment).unwrap();
        d["spec"]["template"]["spec"]["containers"][0]["ports"] = ports;
        d["metadata"]["labels"] = labels;
        from_json(d)
    }

    fn service(target_port: Value) -> Service {
        let mut s = serde_json::to_value(fixtures::gateway_service()).unwrap();
        s["spec"]["ports"][0]["targetPort"] = target_port;
        from_json(s)
    }

    #[test]
    fn gateway_table() {
        let release = json!({"release": "k10"});
        let p8000 = json!([{"containerPort": 8000}]);
        let named = json!([{"containerPort": 8000, "name": "http"}]);
        let gw = json!({"service": "gateway"});
        // (case, targetPort, container ports, deployment labels) -> (release, port, declared)
        let cases = [
            (
                "declared number",
                json!(8000),
                p8000.clone(),
                release.clone(),
                ("k10", Some(8000), true),
            ),
            (
                "chart: undeclared number",
                json!(8000),
                json!(null),
                release.clone(),
                ("k10", Some(8000), false),
            ),
            (
                "declared name",
                json!("http"),
                named,
                release.clone(),
                ("k10", Some(8000), true),
            ),
            (
                "undeclared name",
                json!("http"),
                p8000.clone(),
                release,
                ("k10", None, false),
            ),
            (
                "instance label",
                json!(8000),
                p8000,
                json!({"app.kubernetes.io/instance": "prod"}),
                ("prod", Some(8000), true),
            ),
        ];
        for (name, tp, ports, labels, (rel, port, declared)) in cases {
            let pods = [
                pod(
                    "gateway-1",
                    gw.clone(),
                    true,
                    Some(json!({"containerPort": 8000, "name": "http"})),
                ),
                pod("gateway-2", gw.clone(), false, None),
                pod("catalog", json!({"service": "catalog"}), true, None),
            ];
            let k = k10_from("kasten-io".into(), service(tp), &[deployment(ports, labels)], &pods).unwrap();
            assert_eq!(
                (k.release.as_str(), k.container_port, k.declared),
                (rel, port, declared),
                "{name}"
            );
            let seen: Vec<(&str, bool)> = k.pods.iter().map(|p| (p.name.as_str(), p.ready)).collect();
            assert_eq!(
                seen,
                [("gateway-1", true), ("gateway-2", false)],
                "{name}: the Service's pods"
            );
            assert!(k.pods[0].declares_port && !k.pods[1].declares_port, "{name}");
        }
    }

    #[test]
    fn missing_parts_are_environment_errors() {
        let no_deployment = k10_from("kasten-io".into(), fixtures::gateway_service(), &[], &[]).unwrap_err();
        assert!(no_deployment.to_string().contains("Deployment `gateway`"));
        let mut s = serde_json::to_value(fixtures::gateway_service()).unwrap();
        s["spec"]["ports"] = json!([]);
        let d = fixtures::k10().deployment;
        let no_ports = k10_from("kasten-io".into(), from_json(s), &[d], &[]).unwrap_err();
        assert!(no_ports.to_string().contains("has no ports"));
        assert_eq!(error::find(&no_ports).map(|c| c.kind), Some(error::Kind::Environment));
    }
}

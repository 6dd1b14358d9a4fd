//! Discovery: from the kubeconfig context to the GKE cluster (project, location, network, region,
//! ranges) and K10's gateway (Service port -> container port, probe, pods, auth).

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Service};
use kube::api::ListParams;
use kube::Api;
use serde_json::Value;

use crate::cli::Global;
use crate::error;
use crate::gcp::model::{short, Cluster, ClusterList};
use crate::gcp::{hint_for, Gcp, GcpError};
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
                format!("context `{}` does not look like a GKE cluster: its name is not gke_PROJECT_LOCATION_CLUSTER and its nodes are not Compute Engine VMs", kube.context),
                "use a GKE context (`gcloud container clusters get-credentials CLUSTER --location LOCATION`), or pass --project, --location and --gke-cluster",
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

pub fn gcp_err(e: anyhow::Error, what: &str) -> anyhow::Error {
    if error::find(&e).is_some() {
        return e;
    }
    match e.downcast_ref::<GcpError>() {
        Some(g) => {
            let hint = hint_for(g);
            if g.is_forbidden() || g.status == 401 {
                error::environment(format!("{what}: {}", g.message), hint)
            } else {
                error::failed(format!("{what}: {} (HTTP {})", g.message, g.status), hint)
            }
        }
        None => error::failed(
            format!("{what}: {e:#}"),
            "check the network path to Google's APIs, then run the same command again",
        ),
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
}

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
}

impl K10 {
    pub fn ready_pods(&self) -> usize {
        self.pods.iter().filter(|p| p.ready).count()
    }
    pub fn annotation(&self, key: &str) -> Option<String> {
        self.service.metadata.annotations.as_ref()?.get(key).cloned()
    }
}

/// Read K10's gateway from the namespace.
pub async fn k10(kube: &Kube) -> anyhow::Result<K10> {
    let ns = kube.namespace.clone();
    let nsapi: Api<Namespace> = Api::all(kube.client.clone());
    let svcs: Api<Service> = kube.api();
    let deps: Api<Deployment> = kube.api();
    let pods: Api<Pod> = kube.api();
    let lp = ListParams::default();
    let (n, svc, dlist, plist) = tokio::join!(
        kube.retry("get namespace", || nsapi.get_opt(&ns)),
        kube.retry("get service gateway", || svcs.get_opt("gateway")),
        kube.retry("list deployments", || deps.list(&lp)),
        kube.retry("list pods", || pods.list(&lp)),
    );
    let what = format!("reading K10 in namespace `{ns}`");
    if n.map_err(|e| explain(e, &what, &kube.server))?.is_none() {
        return Err(error::environment(
            format!("namespace `{ns}` does not exist in context `{}`", kube.context),
            "pass the namespace K10 is installed in with -n/--namespace (`kubectl get pods -A -l app=k10` finds it)",
        ));
    }
    let Some(service) = svc.map_err(|e| explain(e, &what, &kube.server))? else {
        return Err(error::environment(
            format!("K10's Service `gateway` is not in namespace `{ns}`"),
            "is K10 installed here? `helm list -n NAMESPACE` shows the release; pass its namespace with -n",
        ));
    };
    let dlist = dlist.map_err(|e| explain(e, &what, &kube.server))?.items;
    let plist = plist.map_err(|e| explain(e, &what, &kube.server))?.items;
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
    let labels = deployment.metadata.labels.clone().unwrap_or_default();
    let release = labels
        .get("release")
        .or_else(|| labels.get("app.kubernetes.io/instance"))
        .cloned()
        .unwrap_or_else(|| "k10".into());

    let spec = service.spec.clone().unwrap_or_default();
    let ports = spec.ports.clone().unwrap_or_default();
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
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n)) => Value::from(*n),
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s)) => s
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(s.clone())),
        None => Value::from(port.port),
    };
    let dj = serde_json::to_value(&deployment)?;
    let containers = dj["spec"]["template"]["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut container_index = 0;
    let mut container_port = target_port.as_i64().map(|n| n as i32);
    let mut declared = false;
    for (i, c) in containers.iter().enumerate() {
        for p in c["ports"].as_array().into_iter().flatten() {
            let hit = match &target_port {
                Value::String(name) => p["name"].as_str() == Some(name),
                v => p["containerPort"].as_i64() == v.as_i64(),
            };
            if hit {
                container_index = i;
                container_port = p["containerPort"].as_i64().map(|n| n as i32);
                declared = true;
            }
        }
    }
    if !declared {
        // The container that serves: the one whose probe uses the target port, else the first.
        if let Some(i) = containers
            .iter()
            .position(|c| c["readinessProbe"]["httpGet"]["port"] == target_port)
        {
            container_index = i;
        }
        if target_port.is_string() {
            container_port = None;
        }
    }
    let c = &containers.get(container_index).cloned().unwrap_or(Value::Null);
    let probe = c["readinessProbe"]["httpGet"].as_object().map(|h| Probe {
        path: h.get("path").and_then(|p| p.as_str()).unwrap_or("/").to_string(),
        port: h.get("port").cloned().unwrap_or(Value::Null),
        scheme: h.get("scheme").and_then(|s| s.as_str()).unwrap_or("HTTP").to_string(),
        has_host: h.get("host").is_some(),
    });
    let selector = spec.selector.clone().unwrap_or_default();
    let gw_pods: Vec<PodInfo> = plist
        .iter()
        .filter(|p| {
            let l = p.metadata.labels.clone().unwrap_or_default();
            !selector.is_empty() && selector.iter().all(|(k, v)| l.get(k) == Some(v))
        })
        .map(|p| {
            let pj = serde_json::to_value(p).unwrap_or(Value::Null);
            let ready = pj["status"]["conditions"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"));
            let declares_port = pj["spec"]["containers"].as_array().into_iter().flatten().any(|c| {
                c["ports"].as_array().into_iter().flatten().any(|p| match &target_port {
                    Value::String(n) => p["name"].as_str() == Some(n),
                    v => p["containerPort"].as_i64() == v.as_i64(),
                })
            });
            PodInfo {
                name: p.metadata.name.clone().unwrap_or_default(),
                ready,
                ip: pj["status"]["podIP"].as_str().unwrap_or_default().to_string(),
                node: pj["spec"]["nodeName"].as_str().unwrap_or_default().to_string(),
                declares_port,
            }
        })
        .collect();
    let auth = detect_auth(&dlist);
    let curl_candidates = curl_candidates(&plist);
    Ok(K10 {
        namespace: ns,
        release,
        service_port: port.port,
        service_port_name: port.name.clone(),
        target_port,
        container_port,
        container_name: c["name"].as_str().unwrap_or("gateway").to_string(),
        container_index,
        declared,
        probe,
        deployment,
        pods: gw_pods,
        auth,
        curl_candidates,
        service,
    })
}

/// Which K10 authentication method is configured, from the evidence the chart leaves in the
/// Deployments (volumes, env, the dex container).
pub fn detect_auth(deps: &[Deployment]) -> Option<String> {
    for d in deps {
        let dj = serde_json::to_value(d).unwrap_or(Value::Null);
        let spec = &dj["spec"]["template"]["spec"];
        for v in spec["volumes"].as_array().into_iter().flatten() {
            let secret = v["secret"]["secretName"].as_str().unwrap_or_default();
            let name = v["name"].as_str().unwrap_or_default();
            if name == "k10-basic-auth" || secret == "k10-basic-auth" {
                return Some("basic".into());
            }
            if name.starts_with("k10-oidc-auth") || secret.starts_with("k10-oidc-auth") {
                return Some("oidc".into());
            }
        }
        for c in spec["containers"].as_array().into_iter().flatten() {
            if c["name"] == "dex" {
                return Some("dex (OpenShift or LDAP)".into());
            }
            if c["env"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|e| e["name"] == "TOKEN_AUTH")
            {
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
    for p in pods {
        let pj = serde_json::to_value(p).unwrap_or(Value::Null);
        let ready = pj["status"]["conditions"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"));
        if !ready {
            continue;
        }
        let name = p.metadata.name.clone().unwrap_or_default();
        for c in pj["spec"]["containers"].as_array().into_iter().flatten() {
            let cname = c["name"].as_str().unwrap_or_default().to_string();
            let image = c["image"].as_str().unwrap_or_default();
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

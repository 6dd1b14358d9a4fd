//! Observe before mutating: everything install, doctor, uninstall and status read, gathered in as
//! few round trips as possible (independent reads run concurrently).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Event, Node};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::Api;
#[cfg(test)]
use serde_json::json;
use serde_json::Value;

use crate::cli::Global;
use crate::discover::{self, ClusterInfo, K10};
use crate::gcp::model::{short, Firewall, HealthCheck, Network, Subnetwork};
use crate::gcp::Gcp;
use crate::kube::{explain, Kube};
use crate::printer::Printer;

pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGER: &str = "kubectl-kasten-ilb";
/// Annotations install adds to objects it does not own, so uninstall can take back exactly those.
pub const ADDED_ANNOTATIONS: &str = "kasten-ilb.kasten.io/added-annotations";
pub const ADDED_PORT: &str = "kasten-ilb.kasten.io/added-container-port";
pub const NEG_ANNOTATION: &str = "cloud.google.com/neg";
pub const NEG_STATUS: &str = "cloud.google.com/neg-status";
pub const BACKEND_CONFIG: &str = "cloud.google.com/backend-config";
/// The protocol the load balancer speaks to a Service port, keyed by port name (`{"http":"HTTPS"}`).
pub const APP_PROTOCOLS: &str = "cloud.google.com/app-protocols";
pub const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";
pub const STATIC_IP: &str = "kubernetes.io/ingress.regional-static-ip-name";
pub const ALLOW_HTTP: &str = "kubernetes.io/ingress.allow-http";

/// The description that marks a GCP resource as install's.
pub fn gcp_marker(c: &ClusterInfo) -> String {
    format!(
        "Created by kubectl-kasten-ilb for K10 on cluster {}. Remove with `kubectl kasten-ilb uninstall`.",
        c.path()
    )
}

pub fn is_ours_gcp(description: Option<&str>) -> bool {
    description.is_some_and(|d| d.starts_with("Created by kubectl-kasten-ilb"))
}

pub fn backend_config_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("cloud.google.com", "v1", "BackendConfig"),
        "backendconfigs",
    )
}

/// What discovery saw in the cluster: plain data, no clients. Plans and doctor's checks are pure
/// functions of this (and of [`Vpc`]), so tests build it from fixtures without a simulator.
#[derive(Clone, Debug)]
pub struct Observed {
    pub cluster: ClusterInfo,
    pub k10: K10,
    pub nodes: Vec<Node>,
    pub ingresses: Vec<Ingress>,
    /// The Gateway API objects (read only where a command needs them: see [`with_gateway_api`]).
    pub gateway: crate::gateway::GatewayApi,
}

/// A Kubernetes context plus the GKE cluster behind it: the clients, and what was observed
/// through them (`b.cluster`, `b.k10`, ... reach the observed data through `Deref`).
pub struct Base {
    pub kube: Kube,
    pub gcp: Gcp,
    pub seen: Observed,
}

impl std::ops::Deref for Base {
    type Target = Observed;
    fn deref(&self) -> &Observed {
        &self.seen
    }
}

impl std::ops::DerefMut for Base {
    fn deref_mut(&mut self) -> &mut Observed {
        &mut self.seen
    }
}

impl Observed {
    /// Zones of the nodes, by node name.
    pub fn node_zones(&self) -> BTreeMap<String, String> {
        self.nodes
            .iter()
            .filter_map(|n| {
                let z = n.metadata.labels.as_ref()?.get("topology.kubernetes.io/zone")?.clone();
                Some((n.metadata.name.clone()?, z))
            })
            .collect()
    }

    /// Ingresses in the namespace whose rules or default backend route to Service `gateway`.
    pub fn gateway_ingresses(&self) -> Vec<&Ingress> {
        self.ingresses
            .iter()
            .filter(|i| {
                let spec = i.spec.as_ref();
                let default = spec.and_then(|s| s.default_backend.as_ref());
                let rules = spec.and_then(|s| s.rules.as_ref()).into_iter().flatten();
                let paths = rules.filter_map(|r| r.http.as_ref()).flat_map(|h| &h.paths);
                let mut backends = default.into_iter().chain(paths.map(|p| &p.backend));
                backends.any(|b| b.service.as_ref().is_some_and(|s| s.name == "gateway"))
            })
            .collect()
    }
}

/// The address GKE gave an Ingress, if any.
pub fn ingress_ip(i: &Ingress) -> Option<String> {
    i.status
        .as_ref()?
        .load_balancer
        .as_ref()?
        .ingress
        .as_ref()?
        .first()?
        .ip
        .clone()
}

/// Connect and discover: the kube context, the GKE cluster and K10, concurrently.
pub async fn base(g: &Global, printer: &Printer) -> anyhow::Result<Base> {
    let kube = crate::kube::connect(g, printer).await?;
    let gcp = Gcp::new(printer)?;
    base_with(kube, gcp, g).await
}

/// [`base`] through clients made by the caller (a fleet shares one Google client).
pub async fn base_with(kube: Kube, gcp: Gcp, g: &Global) -> anyhow::Result<Base> {
    let nodes_api: Api<Node> = Api::all(kube.client.clone());
    let ing_api: Api<Ingress> = kube.api();
    let lp = ListParams::default();
    let (cluster, k10, nodes, ings) = tokio::join!(
        discover::cluster(g, &kube, &gcp),
        discover::k10(&kube),
        kube.retry("list nodes", || nodes_api.list(&lp)),
        kube.retry("list ingresses", || ing_api.list(&lp)),
    );
    let nodes = nodes.map_err(|e| explain(e, "listing nodes", &kube.server))?.items;
    let ingresses = ings.map_err(|e| explain(e, "listing ingresses", &kube.server))?.items;
    Ok(Base {
        seen: Observed {
            cluster: cluster?,
            k10: k10?,
            nodes,
            ingresses,
            gateway: Default::default(),
        },
        kube,
        gcp,
    })
}

/// Read the Gateway API objects into `b.gateway` (absent CRDs: nothing served, not an error).
pub async fn with_gateway_api(mut b: Base) -> anyhow::Result<Base> {
    b.seen.gateway = crate::gateway::observe(&b.kube).await?;
    Ok(b)
}

/// GCP state of the VPC around the cluster.
#[derive(Clone, Debug, Default)]
pub struct Vpc {
    pub network: Option<Network>,
    /// Every subnet of the network, all regions.
    pub subnets: Vec<Subnetwork>,
    /// INGRESS rules of the network.
    pub firewalls: Vec<Firewall>,
    pub node_tags: Vec<String>,
}

impl Vpc {
    pub fn auto_mode(&self) -> bool {
        self.network
            .as_ref()
            .and_then(|n| n.auto_create_subnetworks)
            .unwrap_or(false)
    }

    /// Proxy-only subnets in the region.
    pub fn proxy_subnets(&self, region: &str) -> Vec<&Subnetwork> {
        self.subnets
            .iter()
            .filter(|s| short(&s.region) == region)
            .filter(|s| {
                matches!(
                    s.purpose.as_deref(),
                    Some("REGIONAL_MANAGED_PROXY" | "INTERNAL_HTTPS_LOAD_BALANCER")
                )
            })
            .collect()
    }

    /// The ACTIVE one, as GKE's controller picks it.
    pub fn active_proxy_subnet(&self, region: &str) -> Option<&Subnetwork> {
        self.proxy_subnets(region)
            .into_iter()
            .find(|s| s.role.as_deref() == Some("ACTIVE"))
    }
}

pub fn network_filter(network: &str) -> String {
    format!("network eq \".*/global/networks/{network}\"")
}

/// Read the network, its subnets and INGRESS firewall rules, and a node's tags, concurrently.
pub async fn vpc(b: &Base) -> anyhow::Result<Vpc> {
    let c = &b.cluster;
    let gcp = &b.gcp;
    let np = &c.network_project;
    let net_url = gcp.compute_url(&format!("{np}/global/networks/{}", c.network));
    let subnets_url = gcp.compute_url(&format!("{np}/aggregated/subnetworks"));
    let fw_url = gcp.compute_url(&format!("{np}/global/firewalls"));
    let fw_filter = format!("{} direction eq INGRESS", network_filter(&c.network));
    let node = b
        .nodes
        .first()
        .and_then(|n| n.spec.as_ref()?.provider_id.clone())
        .and_then(|p| {
            let rest = p.strip_prefix("gce://")?.to_string();
            let parts: Vec<&str> = rest.split('/').collect();
            (parts.len() == 3).then(|| (parts[0].to_string(), parts[1].to_string(), parts[2].to_string()))
        });
    let inst_fut = async {
        match &node {
            Some((p, z, i)) => gcp
                .get_opt::<crate::gcp::model::Instance>(&gcp.compute_url(&format!("{p}/zones/{z}/instances/{i}")))
                .await
                .ok()
                .flatten(),
            None => None,
        }
    };
    let net_filter = network_filter(&c.network);
    let (network, subnets, firewalls, inst) = tokio::join!(
        gcp.get_opt::<Network>(&net_url),
        gcp.aggregated::<Subnetwork>(&subnets_url, "subnetworks", Some(&net_filter)),
        gcp.list::<Firewall>(&fw_url, Some(&fw_filter)),
        inst_fut,
    );
    let network = network.map_err(|e| discover::gcp_err(e, "reading the VPC network"))?;
    let subnets = subnets.map_err(|e| discover::gcp_err(e, "listing subnets"))?;
    let firewalls = firewalls.map_err(|e| discover::gcp_err(e, "listing firewall rules"))?;
    Ok(Vpc {
        network,
        subnets,
        firewalls,
        node_tags: inst.map(|i| i.tags.items).unwrap_or_default(),
    })
}

/// The NEG / backend service / health check name GKE gave the gateway's Service port, from the
/// Service's `neg-status` annotation.
pub fn neg_name(k10: &K10) -> Option<String> {
    parse_neg_status(&k10.annotation(NEG_STATUS)?, k10.service_port)
}

/// `cloud.google.com/neg-status`: `{"network_endpoint_groups":{"80":"k8s1-..."},"zones":[...]}`.
pub fn parse_neg_status(raw: &str, service_port: i32) -> Option<String> {
    let v: Value = serde_json::from_str(raw).ok()?;
    v["network_endpoint_groups"][service_port.to_string()]
        .as_str()
        .map(str::to_string)
}

/// The BackendConfig that a `cloud.google.com/backend-config` annotation names for a Service
/// port, looked up as GKE does (port name, then port number, then `default`), with GKE's texts.
pub fn backend_config_ref(raw: &str, port_name: Option<&str>, port: i32) -> Result<String, String> {
    let v: Value = serde_json::from_str(raw).map_err(|_| "BackendConfig annotation is invalid json".to_string())?;
    if !v.is_object() || (v.get("default").is_none() && v.get("ports").is_none()) {
        return Err("no BackendConfig's found in annotation".into());
    }
    port_name
        .and_then(|n| v["ports"][n].as_str())
        .or_else(|| v["ports"][port.to_string()].as_str())
        .or_else(|| v["default"].as_str())
        .map(str::to_string)
        .ok_or_else(|| "no BackendConfig for service port exists.".into())
}

pub async fn health_check(b: &Base) -> Option<HealthCheck> {
    let name = neg_name(&b.k10)?;
    let url = b.gcp.compute_url(&format!(
        "{}/regions/{}/healthChecks/{name}",
        b.cluster.r.project, b.cluster.region
    ));
    b.gcp.get_opt::<HealthCheck>(&url).await.ok().flatten()
}

pub async fn backend_config(b: &Base, name: &str) -> anyhow::Result<Option<DynamicObject>> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(b.kube.client.clone(), &b.kube.namespace, &backend_config_resource());
    match b.kube.retry("get backendconfig", || api.get_opt(name)).await {
        Ok(o) => Ok(o),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(None), // the CRD itself is missing
        Err(e) => Err(explain(e, "reading BackendConfig", &b.kube.server)),
    }
}

/// Events about an object (oldest first). With its `uid`, only that object's events: an earlier
/// object of the same name (deleted and recreated) has another uid, and its events are history.
pub async fn events_for(kube: &Kube, kind: &str, name: &str, uid: Option<&str>) -> Vec<Event> {
    let api: Api<Event> = kube.api();
    let mut fields = format!("involvedObject.kind={kind},involvedObject.name={name}");
    if let Some(uid) = uid {
        fields.push_str(&format!(",involvedObject.uid={uid}"));
    }
    let lp = ListParams::default().fields(&fields);
    let mut evs: Vec<Event> = kube
        .retry("list events", || api.list(&lp))
        .await
        .map(|l| l.items)
        .unwrap_or_default();
    evs.retain(|e| same_object(e, uid));
    // Timestamps have whole seconds: within one, the later write (higher resourceVersion) is newer.
    evs.sort_by_key(|e| {
        let at = e
            .last_timestamp
            .clone()
            .map(|t| t.0)
            .or_else(|| e.event_time.clone().map(|t| t.0));
        let rv = e
            .metadata
            .resource_version
            .as_deref()
            .and_then(|v| v.parse::<u64>().ok());
        (at, rv)
    });
    evs
}

/// Whether an event is about the object with this uid (an event or object without one matches).
pub fn same_object(e: &Event, uid: Option<&str>) -> bool {
    match (e.involved_object.uid.as_deref(), uid) {
        (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => a == b,
        _ => true,
    }
}

/// When the object is being deleted (it has a deletionTimestamp): it is going away, whatever
/// else it says.
pub fn going_away(meta: &kube::api::ObjectMeta) -> Option<String> {
    meta.deletion_timestamp.as_ref().map(|t| t.0.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_ingress_routes_to_the_gateway_by_a_rule_or_by_its_default_backend() {
        use crate::fixtures::IngressFixture;
        let backend = |name: &str| json!({"service": {"name": name, "port": {"number": 80}}});
        let by_default: Ingress = serde_json::from_value(json!({
            "metadata": {"name": "by-default", "namespace": "kasten-io"},
            "spec": {"defaultBackend": backend("gateway"),
                     "rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend("x")}]}}]},
        }))
        .unwrap();
        let elsewhere: Ingress = serde_json::from_value(json!({
            "metadata": {"name": "elsewhere", "namespace": "kasten-io"},
            "spec": {"defaultBackend": backend("other"), "rules": [{"host": "a.example"}]},
        }))
        .unwrap();
        let o = Observed::healthy()
            .with_ingress(by_default)
            .and_ingress(elsewhere)
            .and_ingress(crate::fixtures::ingress().named("by-rule"));
        let names: Vec<&str> = o
            .gateway_ingresses()
            .iter()
            .filter_map(|i| i.metadata.name.as_deref())
            .collect();
        assert!(names.contains(&"by-default") && names.contains(&"by-rule"), "{names:?}");
        assert!(!names.contains(&"elsewhere"), "{names:?}");
    }

    #[test]
    fn backend_config_lookup_order() {
        let raw = r#"{"default":"d","ports":{"http":"by-name","80":"by-number"}}"#;
        assert_eq!(backend_config_ref(raw, Some("http"), 80).unwrap(), "by-name");
        assert_eq!(backend_config_ref(raw, Some("web"), 80).unwrap(), "by-number");
        assert_eq!(backend_config_ref(raw, None, 8080).unwrap(), "d");
        assert_eq!(
            backend_config_ref("{not json", None, 80).unwrap_err(),
            "BackendConfig annotation is invalid json"
        );
        assert_eq!(
            backend_config_ref("{}", None, 80).unwrap_err(),
            "no BackendConfig's found in annotation"
        );
        assert_eq!(
            backend_config_ref(r#"{"ports":{"81":"x"}}"#, None, 80).unwrap_err(),
            "no BackendConfig for service port exists."
        );
    }

    proptest! {
        #[test]
        fn annotation_parsers_never_panic(raw in ".{0,200}", port in 0i32..70000) {
            let _ = parse_neg_status(&raw, port);
            let _ = backend_config_ref(&raw, Some("http"), port);
            let _ = crate::commands::doctor::explain_event(&raw);
        }

        #[test]
        fn neg_status_round_trips(name in "k8s1-[a-z0-9]{8}-[a-z0-9-]{1,30}-[0-9a-f]{8}", port in 1i32..65536,
                                  zones in proptest::collection::vec("[a-z]{2,8}-[a-z]{4,8}[0-9]-[abcf]", 0..4)) {
            let raw = json!({"network_endpoint_groups": {port.to_string(): name}, "zones": zones}).to_string();
            prop_assert_eq!(parse_neg_status(&raw, port), Some(name));
            prop_assert_eq!(parse_neg_status(&raw, port.wrapping_add(1)), None);
        }

        #[test]
        fn backend_config_default_is_found(name in "[a-z][a-z0-9-]{0,40}", port in 1i32..65536) {
            let raw = json!({"default": name}).to_string();
            prop_assert_eq!(backend_config_ref(&raw, Some("http"), port), Ok(name));
        }

        #[test]
        fn known_controller_messages_are_explained_inside_any_text(pre in "[ -~]{0,60}", post in "[ -~]{0,60}", which in 0usize..4) {
            let known = [
                ("A reserved and active subnetwork is required in the same region and VPC as the forwarding rule.", "proxy-only"),
                ("the given static IP name k10-ip doesn't translate to an existing static IP.", "static IP"),
                ("gce-internal Ingress class must be configured with a static-ip to use both HTTP and HTTPS served on the same IP.", "HTTP and HTTPS"),
                ("googleapi: Error 403: Quota 'SSL_CERTIFICATES' exceeded.", "quota"),
            ];
            let (msg, cause) = known[which];
            let (got, _) = crate::commands::doctor::explain_event(&format!("{pre}{msg}{post}")).expect("explained");
            prop_assert!(got.contains(cause), "{} does not mention {}", got, cause);
        }
    }
}

//! GKE's Gateway API objects as plain data: the kinds (`gateway.networking.k8s.io/v1` GatewayClass,
//! Gateway, HTTPRoute; `networking.gke.io/v1` HealthCheckPolicy, GCPGatewayPolicy) reached through
//! kube's `DynamicObject`, small typed views of the status fields the plugin reads, and what was
//! observed ([`GatewayApi`]). A cluster without the CRDs answers 404: that is "not served", not an error.

use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::Api;
use serde::Deserialize;
use serde_json::Value;

use crate::gcp::model::BackendService;
use crate::kube::{explain, Kube};
use crate::state::{Base, MANAGED_BY_LABEL, MANAGER};

/// The GatewayClass of GKE's regional internal Application Load Balancer.
pub const CLASS: &str = "gke-l7-rilb";
pub const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";
pub const GKE_GROUP: &str = "networking.gke.io";
/// The Container API's value for `--gateway-api=standard`.
pub const CHANNEL_STANDARD: &str = "CHANNEL_STANDARD";

/// One of the kinds the plugin reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    GatewayClass,
    Gateway,
    HttpRoute,
    HealthCheckPolicy,
    GcpGatewayPolicy,
}

impl Kind {
    pub const NAMESPACED: [Kind; 4] = [
        Kind::Gateway,
        Kind::HttpRoute,
        Kind::HealthCheckPolicy,
        Kind::GcpGatewayPolicy,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::GatewayClass => "GatewayClass",
            Kind::Gateway => "Gateway",
            Kind::HttpRoute => "HTTPRoute",
            Kind::HealthCheckPolicy => "HealthCheckPolicy",
            Kind::GcpGatewayPolicy => "GCPGatewayPolicy",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Kind::GatewayClass => "gatewayclasses",
            Kind::Gateway => "gateways",
            Kind::HttpRoute => "httproutes",
            Kind::HealthCheckPolicy => "healthcheckpolicies",
            Kind::GcpGatewayPolicy => "gcpgatewaypolicies",
        }
    }

    pub fn group(self) -> &'static str {
        match self {
            Kind::HealthCheckPolicy | Kind::GcpGatewayPolicy => GKE_GROUP,
            _ => GATEWAY_GROUP,
        }
    }

    /// `gateway.networking.k8s.io/v1`.
    pub fn api_version(self) -> String {
        format!("{}/v1", self.group())
    }

    /// kubectl's name for it: `gateway/k10-ilb`, `httproute/k10-ilb`.
    pub fn resource(self, name: &str) -> String {
        format!("{}/{name}", self.name().to_lowercase())
    }

    pub fn api_resource(self) -> ApiResource {
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(self.group(), "v1", self.name()), self.plural())
    }

    /// The kind of a manifest (`kind` field).
    pub fn of(body: &Value) -> Option<Kind> {
        let k = body["kind"].as_str()?;
        [Kind::GatewayClass]
            .into_iter()
            .chain(Kind::NAMESPACED)
            .find(|x| x.name() == k)
    }
}

/// What the cluster serves of the Gateway API, and the objects in K10's namespace.
#[derive(Debug, Clone, Default)]
pub struct GatewayApi {
    /// The cluster serves `gateway.networking.k8s.io/v1` (Gateway API is enabled).
    pub served: bool,
    pub classes: Vec<DynamicObject>,
    pub gateways: Vec<DynamicObject>,
    pub routes: Vec<DynamicObject>,
    pub health_policies: Vec<DynamicObject>,
    pub gcp_policies: Vec<DynamicObject>,
}

impl GatewayApi {
    pub fn objects(&self, kind: Kind) -> &[DynamicObject] {
        match kind {
            Kind::GatewayClass => &self.classes,
            Kind::Gateway => &self.gateways,
            Kind::HttpRoute => &self.routes,
            Kind::HealthCheckPolicy => &self.health_policies,
            Kind::GcpGatewayPolicy => &self.gcp_policies,
        }
    }

    pub fn get(&self, kind: Kind, name: &str) -> Option<&DynamicObject> {
        self.objects(kind)
            .iter()
            .find(|o| o.metadata.name.as_deref() == Some(name))
    }

    pub fn class(&self, name: &str) -> Option<&DynamicObject> {
        self.get(Kind::GatewayClass, name)
    }

    /// HTTPRoutes with a backendRef to Service `gateway`.
    pub fn routes_to_gateway(&self) -> Vec<&DynamicObject> {
        self.routes
            .iter()
            .filter(|r| route_view(r).backends().iter().any(|b| b.name == "gateway"))
            .collect()
    }

    /// The Gateways those routes attach to (in the route's namespace), by name, first seen first.
    pub fn dashboard_gateways(&self) -> Vec<&DynamicObject> {
        let mut out: Vec<&DynamicObject> = vec![];
        for r in self.routes_to_gateway() {
            for p in route_view(r).spec.parent_refs {
                if let Some(g) = self.get(Kind::Gateway, &p.name) {
                    if !out.iter().any(|o| o.metadata.name == g.metadata.name) {
                        out.push(g);
                    }
                }
            }
        }
        out
    }

    /// The HealthCheckPolicies that target Service `gateway`.
    pub fn policies_for_gateway_service(&self) -> Vec<&DynamicObject> {
        self.health_policies
            .iter()
            .filter(|p| {
                let t = &p.data["spec"]["targetRef"];
                t["kind"] == "Service" && t["name"] == "gateway"
            })
            .collect()
    }

    /// Whether anything of install's exists (by label).
    pub fn any_ours(&self) -> bool {
        Kind::NAMESPACED.iter().any(|k| self.objects(*k).iter().any(is_ours))
    }
}

pub fn is_ours(o: &DynamicObject) -> bool {
    o.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(MANAGED_BY_LABEL))
        .is_some_and(|v| v == MANAGER)
}

/// A status condition (Gateway API and Kubernetes' `metav1.Condition`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayAddress {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub value: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListenerStatus {
    pub name: String,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayStatus {
    pub conditions: Vec<Condition>,
    pub addresses: Vec<GatewayAddress>,
    pub listeners: Vec<ListenerStatus>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayView {
    pub status: GatewayStatus,
}

impl GatewayView {
    pub fn condition(&self, t: &str) -> Option<&Condition> {
        find(&self.status.conditions, t)
    }
    /// The first IP address in the status.
    pub fn address(&self) -> Option<String> {
        self.status
            .addresses
            .iter()
            .find(|a| a.type_.as_deref().unwrap_or("IPAddress") == "IPAddress" && !a.value.is_empty())
            .map(|a| a.value.clone())
    }
    /// Accepted and Programmed, with an address.
    pub fn ready(&self) -> bool {
        is_true(self.condition("Accepted")) && is_true(self.condition("Programmed")) && self.address().is_some()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ParentRef {
    pub name: String,
    pub namespace: Option<String>,
    pub section_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BackendRef {
    pub name: String,
    pub kind: Option<String>,
    pub port: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteRule {
    pub matches: Vec<Value>,
    pub backend_refs: Vec<BackendRef>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteSpec {
    pub parent_refs: Vec<ParentRef>,
    pub hostnames: Vec<String>,
    pub rules: Vec<RouteRule>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteParentStatus {
    pub parent_ref: ParentRef,
    pub controller_name: String,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteStatus {
    pub parents: Vec<RouteParentStatus>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteView {
    pub spec: RouteSpec,
    pub status: RouteStatus,
}

impl RouteView {
    pub fn backends(&self) -> Vec<&BackendRef> {
        self.spec.rules.iter().flat_map(|r| r.backend_refs.iter()).collect()
    }
    /// The first PathPrefix (or Exact) path value, as written.
    pub fn path(&self) -> Option<String> {
        self.spec
            .rules
            .iter()
            .flat_map(|r| r.matches.iter())
            .find_map(|m| m["path"]["value"].as_str().map(str::to_string))
    }
}

pub fn gateway_view(o: &DynamicObject) -> GatewayView {
    serde_json::from_value(o.data.clone()).unwrap_or_default()
}

pub fn route_view(o: &DynamicObject) -> RouteView {
    serde_json::from_value(o.data.clone()).unwrap_or_default()
}

pub fn find<'a>(cs: &'a [Condition], t: &str) -> Option<&'a Condition> {
    cs.iter().find(|c| c.type_ == t)
}

pub fn is_true(c: Option<&Condition>) -> bool {
    c.is_some_and(|c| c.status == "True")
}

/// `Programmed=False (Invalid): message`, or `no Programmed condition yet`.
pub fn describe(c: Option<&Condition>, t: &str) -> String {
    match c {
        Some(c) if c.message.is_empty() => format!("{t}={} ({})", c.status, c.reason),
        Some(c) => format!("{t}={} ({}): {}", c.status, c.reason, c.message),
        None => format!("no {t} condition yet"),
    }
}

/// The Gateway API channel set on the cluster (`CHANNEL_STANDARD`), None when off.
pub fn channel(c: &crate::discover::ClusterInfo) -> Option<&str> {
    let ch = c.raw.network_config.gateway_api_config.channel.as_str();
    (!ch.is_empty() && ch != "CHANNEL_DISABLED").then_some(ch)
}

/// The command that turns Gateway API on.
pub fn enable_command(c: &crate::discover::ClusterInfo) -> String {
    format!(
        "gcloud container clusters update {} --location {} --gateway-api=standard --project {}",
        c.r.cluster, c.r.location, c.r.project
    )
}

/// What discovery found: the resources (plurals) of each group version, None where the group
/// version is not served (404).
#[derive(Debug, Default)]
pub struct Discovered {
    pub gateway: Option<Vec<String>>,
    pub gke: Option<Vec<String>>,
}

impl Discovered {
    /// Does the cluster serve this kind?
    pub fn serves(&self, kind: Kind) -> bool {
        let gv = if kind.group() == GKE_GROUP {
            &self.gke
        } else {
            &self.gateway
        };
        gv.as_ref().is_some_and(|r| r.iter().any(|n| n == kind.plural()))
    }
}

/// The resources one group version serves (`GET /apis/GROUP/VERSION`), None when it is not served.
async fn discover(kube: &Kube, gv: &str) -> anyhow::Result<Option<Vec<String>>> {
    match kube
        .retry(&format!("discover {gv}"), || kube.client.list_api_group_resources(gv))
        .await
    {
        Ok(l) => Ok(Some(l.resources.into_iter().map(|r| r.name).collect())),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
        Err(e) => Err(explain(e, &format!("discovering {gv}"), &kube.server)),
    }
}

/// List one kind where discovery found it: `Ok(None)` when the cluster does not serve it.
async fn list(kube: &Kube, kind: Kind, found: &Discovered) -> anyhow::Result<Option<Vec<DynamicObject>>> {
    if !found.serves(kind) {
        return Ok(None);
    }
    let ar = kind.api_resource();
    let api: Api<DynamicObject> = match kind {
        Kind::GatewayClass => Api::all_with(kube.client.clone(), &ar),
        _ => Api::namespaced_with(kube.client.clone(), &kube.namespace, &ar),
    };
    let lp = ListParams::default();
    match kube.retry("list gateway api objects", || api.list(&lp)).await {
        Ok(l) => Ok(Some(l.items)),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
        Err(e) => Err(explain(e, &format!("listing {}", kind.plural()), &kube.server)),
    }
}

/// Read the Gateway API objects concurrently (the GatewayClasses, and K10's namespace's objects),
/// each kind only where discovery of its group version finds it: a cluster without Gateway API
/// answers two discovery requests instead of five lists that would each be 404. GKE's policy kinds
/// (`networking.gke.io/v1`) are discovered on their own, so they are still read (and uninstall
/// still finds its own) where the Gateway API group is not served.
pub async fn observe(kube: &Kube) -> anyhow::Result<GatewayApi> {
    let (gateway_gv, gke_gv) = (Kind::Gateway.api_version(), Kind::HealthCheckPolicy.api_version());
    let (gateway, gke) = tokio::join!(discover(kube, &gateway_gv), discover(kube, &gke_gv));
    let found = Discovered {
        gateway: gateway?,
        gke: gke?,
    };
    let (classes, gateways, routes, hcp, gcpp) = tokio::join!(
        list(kube, Kind::GatewayClass, &found),
        list(kube, Kind::Gateway, &found),
        list(kube, Kind::HttpRoute, &found),
        list(kube, Kind::HealthCheckPolicy, &found),
        list(kube, Kind::GcpGatewayPolicy, &found),
    );
    let classes = classes?;
    Ok(GatewayApi {
        served: classes.is_some(),
        classes: classes.unwrap_or_default(),
        gateways: gateways?.unwrap_or_default(),
        routes: routes?.unwrap_or_default(),
        health_policies: hcp?.unwrap_or_default(),
        gcp_policies: gcpp?.unwrap_or_default(),
    })
}

/// The API for one namespaced kind in K10's namespace.
pub fn api(kube: &Kube, kind: Kind) -> Api<DynamicObject> {
    Api::namespaced_with(kube.client.clone(), &kube.namespace, &kind.api_resource())
}

/// The backend service GKE's Gateway controller made for Service gateway: a `gkegw1-` one whose
/// backends are the gateway's NEGs (`neg`, from the Service's neg-status), or, without that, whose
/// name holds `-<namespace>-gateway-<port>-`.
pub fn pick_backend<'a>(
    all: &'a [BackendService],
    neg: Option<&str>,
    ns: &str,
    port: i32,
) -> Option<&'a BackendService> {
    let ours = || all.iter().filter(|bs| bs.name.starts_with("gkegw1-"));
    let by_neg = neg.and_then(|n| {
        let tail = format!("/networkEndpointGroups/{n}");
        ours().find(|bs| bs.backends.iter().any(|be| be.group.ends_with(&tail)))
    });
    let infix = format!("-{ns}-gateway-{port}-");
    by_neg.or_else(|| ours().find(|bs| bs.name.contains(&infix)))
}

/// Read the region's backend services and pick the Gateway's (None: not made yet).
pub async fn backend_service(b: &Base) -> anyhow::Result<Option<BackendService>> {
    let c = &b.cluster;
    let url = b
        .gcp
        .compute_url(&format!("{}/regions/{}/backendServices", c.r.project, c.region));
    let all: Vec<BackendService> = b.gcp.list(&url, None).await?;
    let neg = crate::state::neg_name(&b.k10);
    Ok(pick_backend(&all, neg.as_deref(), &b.k10.namespace, b.k10.service_port).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::from_json;
    use serde_json::json;

    fn bs(name: &str, neg: &str) -> BackendService {
        from_json(json!({"name": name, "backends": [{"group":
            format!("https://compute.googleapis.com/compute/v1/projects/p/zones/z/networkEndpointGroups/{neg}")}]}))
    }

    #[test]
    fn each_kind_is_listed_where_discovery_of_its_group_finds_it() {
        let names = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let off = Discovered::default();
        assert!(Kind::NAMESPACED
            .iter()
            .chain([&Kind::GatewayClass])
            .all(|k| !off.serves(*k)));
        // GKE's networking.gke.io/v1 serves ManagedCertificates without Gateway API: no policies.
        let ingress_only = Discovered {
            gateway: None,
            gke: names(&["managedcertificates", "managedcertificates/status"]),
        };
        assert!(!ingress_only.serves(Kind::HealthCheckPolicy) && !ingress_only.serves(Kind::Gateway));
        // Gateway API switched off after a Gateway-mode install, its policy kinds still served: the
        // policies are still read, so uninstall finds its own.
        let policies_left = Discovered {
            gateway: None,
            gke: names(&["healthcheckpolicies", "gcpgatewaypolicies"]),
        };
        assert!(policies_left.serves(Kind::HealthCheckPolicy) && policies_left.serves(Kind::GcpGatewayPolicy));
        assert!(!policies_left.serves(Kind::GatewayClass));
        let on = Discovered {
            gateway: names(&["gatewayclasses", "gateways", "gateways/status", "httproutes"]),
            gke: names(&["healthcheckpolicies", "gcpgatewaypolicies"]),
        };
        assert!(Kind::NAMESPACED
            .iter()
            .chain([&Kind::GatewayClass])
            .all(|k| on.serves(*k)));
    }

    #[test]
    fn the_gateways_backend_service_is_found_by_its_negs_then_by_name() {
        let all = [
            bs("k8s1-aaaa-kasten-io-gateway-80-bbbb", "k8s1-neg"),
            bs("gkegw1-xxxx-other-web-80-yyyy", "k8s1-other"),
            bs("gkegw1-1234-kasten-io-gateway-80-abcd", "k8s1-neg"),
        ];
        let name = |neg| pick_backend(&all, neg, "kasten-io", 80).map(|b| b.name.as_str());
        assert_eq!(name(Some("k8s1-neg")), Some("gkegw1-1234-kasten-io-gateway-80-abcd"));
        assert_eq!(name(None), Some("gkegw1-1234-kasten-io-gateway-80-abcd"));
        assert_eq!(name(Some("k8s1-other")), Some("gkegw1-xxxx-other-web-80-yyyy"));
        assert_eq!(pick_backend(&all[..2], None, "kasten-io", 80).map(|b| &b.name), None);
    }

    #[test]
    fn conditions_and_addresses_are_read_from_status() {
        let g: DynamicObject = from_json(json!({"metadata": {"name": "g"}, "status": {
            "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted"},
                           {"type": "Programmed", "status": "False", "reason": "Invalid", "message": "no subnet"}],
            "addresses": [{"type": "IPAddress", "value": "10.0.0.9"}]}}));
        let v = gateway_view(&g);
        assert!(!v.ready());
        assert_eq!(v.address().as_deref(), Some("10.0.0.9"));
        assert_eq!(
            describe(v.condition("Programmed"), "Programmed"),
            "Programmed=False (Invalid): no subnet"
        );
        assert_eq!(describe(v.condition("Other"), "Other"), "no Other condition yet");
    }
}

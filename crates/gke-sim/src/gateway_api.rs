//! GKE's Gateway API (FIDELITY.md, issue 11): the CRDs, served once the cluster's Gateway API
//! channel is on (`gcloud container clusters update C --gateway-api=standard`); the GatewayClasses
//! GKE installs then; and a model of GKE's Gateway controller (`networking.gke.io/gateway`) for
//! `gke-l7-rilb` Gateways: status conditions and their reasons, events, the regional load balancer
//! it builds under its own `gkegw1-` names, health checks from `HealthCheckPolicy`, and
//! `GCPGatewayPolicy`'s `allowGlobalAccess`. The data plane, backend health and the NEG readiness
//! gate are the Ingress path's (`controller`, `data_plane`, `readiness`), not copies.

pub mod conditions;
mod gateway;
pub mod names;
mod policies;
pub mod printer;
pub mod routes;
mod validate;

use std::time::Instant;

use serde_json::{json, Value};

pub use validate::validate;

use crate::world::{ResDef, World};

/// The Gateway API group (the OSS CRDs GKE installs).
pub const GROUP: &str = "gateway.networking.k8s.io";
/// `spec.controllerName` of every GatewayClass GKE installs.
pub const CONTROLLER_NAME: &str = "networking.gke.io/gateway";
/// The finalizer GKE's Gateway controller puts on the Gateways it manages.
pub const FINALIZER: &str = "gateway.finalizer.networking.gke.io";
/// The event source of GKE's Gateway controller.
pub const SOURCE: &str = "sc-gateway-controller";
/// The regional internal Application Load Balancer class, the one modelled in full.
pub const RILB: &str = "gke-l7-rilb";
/// The single-cluster GatewayClasses GKE installs when Gateway API is enabled.
pub const CLASSES: &[&str] = &[
    "gke-l7-global-external-managed",
    "gke-l7-regional-external-managed",
    "gke-l7-rilb",
    "gke-l7-gxlb",
];

/// Is this one of the kinds that exist only once Gateway API is enabled?
pub fn gated(rd: &ResDef) -> bool {
    rd.group == GROUP || (rd.group == "networking.gke.io" && rd.version == "v1")
}

/// The cluster's Gateway API channel (`networkConfig.gatewayApiConfig.channel`), if set.
pub fn channel(w: &World) -> Option<&str> {
    w.cluster["networkConfig"]["gatewayApiConfig"]["channel"].as_str()
}

/// Is Gateway API on (its CRDs served)?
pub fn enabled(w: &World) -> bool {
    matches!(channel(w), Some("CHANNEL_STANDARD" | "CHANNEL_EXPERIMENTAL"))
}

/// Set the cluster's channel (the Container API's `desiredGatewayApiConfig`); turning it on
/// installs the GatewayClasses.
pub fn set_channel(w: &mut World, channel: &str) {
    w.cluster["networkConfig"]["gatewayApiConfig"] = json!({"channel": channel});
    if enabled(w) {
        install_classes(w);
    }
    w.touch();
}

fn install_classes(w: &mut World) {
    for class in CLASSES {
        if w.kube_get("GatewayClass", "", class).is_some() {
            continue;
        }
        let gc = json!({
            "apiVersion": format!("{GROUP}/v1"), "kind": "GatewayClass",
            "metadata": {"name": class},
            "spec": {"controllerName": CONTROLLER_NAME},
        });
        let mut gc = w.kube_put(gc);
        let accepted = conditions::cond("Accepted", true, "Accepted", "", 1);
        gc["status"] = json!({"conditions": [accepted]});
        w.kube_put(gc);
    }
}

/// What the CRDs' schema defaults on create: a Gateway's and a GatewayClass's status starts with
/// `Accepted` and `Programmed` (a GatewayClass: `Accepted`) Unknown / `Pending`.
pub fn admit(obj: &mut Value) {
    let types: &[&str] = match obj["kind"].as_str() {
        Some("Gateway") => &["Accepted", "Programmed"],
        Some("GatewayClass") => &["Accepted"],
        _ => return,
    };
    if obj["status"]["conditions"].is_array() {
        return;
    }
    let pending: Vec<Value> = types
        .iter()
        .map(|t| {
            json!({"type": t, "status": "Unknown", "reason": "Pending", "message": "Waiting for controller",
                   "lastTransitionTime": "1970-01-01T00:00:00Z"})
        })
        .collect();
    obj["status"]["conditions"] = json!(pending);
}

/// One pass of GKE's Gateway controller: Gateways (and their Google resources), then the
/// HTTPRoutes' and the policies' status.
pub fn tick(w: &mut World, immediate: bool) {
    if !enabled(w) {
        return;
    }
    for (ns, name) in keys(w, "Gateway") {
        gateway::reconcile(w, &ns, &name, immediate);
    }
    routes::publish_all(w);
    policies::publish_all(w);
}

/// When a Gateway waiting out the programming delay falls due.
pub fn next_due(w: &World) -> impl Iterator<Item = Instant> + '_ {
    let delay = w.cfg.lb_delay;
    w.gateway_memo
        .values()
        .filter_map(move |m| m.first_seen.map(|t| t + delay))
}

/// Does a backend service of a Gateway use the NEG `neg` (so the Ingress controller keeps it)?
pub fn uses_neg(w: &World, neg: &str) -> bool {
    let suffix = format!("/networkEndpointGroups/{neg}");
    w.compute
        .backend_services
        .values()
        .filter(|b| b["name"].as_str().is_some_and(names::is_gateway_name))
        .flat_map(|b| b["backends"].as_array().cloned().unwrap_or_default())
        .any(|b| b["group"].as_str().is_some_and(|g| g.ends_with(&suffix)))
}

/// (namespace, name) of every object of a kind.
pub fn keys(w: &World, kind: &str) -> Vec<(String, String)> {
    w.kube_in_ns(kind, "")
        .iter()
        .map(|o| (meta_str(o, "namespace"), meta_str(o, "name")))
        .collect()
}

pub fn meta_str(o: &Value, field: &str) -> String {
    o["metadata"][field].as_str().unwrap_or_default().to_string()
}

//! The load balancer GKE's ingress controller builds (backend services, health checks, URL maps,
//! target proxies, forwarding rules): read-only, plus backend services' getHealth.

use axum::http::Method;
use axum::response::Response;
use serde_json::{json, Value};

use super::Req;
use crate::google::{google_error, list_response, not_found, ok};
use crate::schema;
use crate::world::World;

pub(super) fn handle(w: &mut World, req: &Req<'_>) -> Response {
    let (project, query) = (req.project, req.query);
    match (req.method, req.segs) {
        (&Method::GET, ["regions", r, kind]) if REGIONAL_KINDS.contains(kind) => {
            let map = regional_map(w, kind);
            let items: Vec<Value> = map
                .iter()
                .filter(|(k, _)| k.starts_with(&format!("{r}/")))
                .map(|(_, v)| strip_private(v))
                .collect();
            let k = format!("compute#{}List", singular(kind));
            list_response(&k, format!("{}/{kind}", w.region_url(r)), items, query)
        }
        (&Method::GET, ["regions", r, kind, n]) if REGIONAL_KINDS.contains(kind) => {
            match regional_map(w, kind).get(&format!("{r}/{n}")) {
                Some(v) => ok(strip_private(v)),
                None => not_found(&format!("projects/{project}/regions/{r}/{kind}/{n}")),
            }
        }
        (&Method::GET, ["global", "forwardingRules"]) => {
            let items: Vec<Value> = w.compute.global_forwarding_rules.values().cloned().collect();
            list_response(
                "compute#forwardingRuleList",
                format!("{}/global/forwardingRules", w.project_url()),
                items,
                query,
            )
        }
        (&Method::POST, ["regions", r, "backendServices", bs, "getHealth"]) => get_health(w, req, r, bs),
        _ => req.unknown(),
    }
}

/// Regional load-balancer collections served read-only (GKE's controller writes them; target
/// proxies: `target_proxies.rs`).
const REGIONAL_KINDS: [&str; 5] = [
    "backendServices",
    "healthChecks",
    "urlMaps",
    "forwardingRules",
    "addresses",
];

fn singular(kind: &str) -> &str {
    match kind {
        "backendServices" => "backendService",
        "healthChecks" => "healthCheck",
        "urlMaps" => "urlMap",
        "forwardingRules" => "forwardingRule",
        "addresses" => "address",
        _ => kind,
    }
}

fn regional_map<'a>(w: &'a World, kind: &str) -> &'a std::collections::BTreeMap<String, Value> {
    match kind {
        "backendServices" => &w.compute.backend_services,
        "healthChecks" => &w.compute.health_checks,
        "urlMaps" => &w.compute.url_maps,
        "forwardingRules" => &w.compute.forwarding_rules,
        _ => &w.compute.addresses,
    }
}

fn strip_private(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        m.retain(|_, x| !x.is_null());
    }
    v
}

/// `regionBackendServices.getHealth`: the health of one NEG's endpoints, computed from the world.
fn get_health(w: &World, req: &Req<'_>, r: &str, bs: &str) -> Response {
    let project = req.project;
    let Some(_) = w.compute.backend_services.get(&format!("{r}/{bs}")) else {
        return not_found(&format!("projects/{project}/regions/{r}/backendServices/{bs}"));
    };
    let b = match req.json() {
        Ok(b) => b,
        Err(e) => return e,
    };
    if let Err(e) = schema::validate(
        "compute",
        "ResourceGroupReference",
        &b,
        "compute.regionBackendServices.getHealth",
    ) {
        return google_error(400, &e, "invalid");
    }
    let group = b["group"].as_str().unwrap_or_default().to_string();
    let neg = w
        .compute
        .negs
        .values()
        .find(|n| {
            n["selfLink"].as_str() == Some(&group)
                || group.ends_with(
                    n["selfLink"]
                        .as_str()
                        .unwrap_or("\u{0}")
                        .split("/compute/v1/")
                        .nth(1)
                        .unwrap_or("\u{0}"),
                )
        })
        .cloned();
    let Some(neg) = neg else {
        return google_error(
            400,
            &format!("Invalid value for field 'resourceGroupReference.group': '{group}'. Unknown backend group."),
            "invalid",
        );
    };
    let ips: Vec<String> = neg["endpoints"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["ipAddress"].as_str().map(str::to_string))
        .collect();
    let zone = neg["zone"]
        .as_str()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let fr_ip = w
        .compute
        .forwarding_rules
        .values()
        .next()
        .and_then(|f| f["IPAddress"].as_str())
        .map(str::to_string);
    let hs: Vec<Value> = crate::controller::backend_health(w, bs)
        .into_iter()
        .filter(|h| ips.contains(&h.0))
        .map(|(ip, port, inst, st)| {
            let instance = format!("{}/instances/{inst}", w.zone_url(&zone));
            let mut v = json!({"ipAddress": ip, "port": port, "instance": instance, "healthState": st});
            if let Some(f) = &fr_ip {
                v["forwardingRuleIp"] = json!(f);
            }
            v
        })
        .collect();
    if hs.is_empty() {
        return ok(json!({"kind": "compute#backendServiceGroupHealth"}));
    }
    ok(json!({"kind": "compute#backendServiceGroupHealth", "healthStatus": hs}))
}

//! GKE's policies: `HealthCheckPolicy` (the health check of a Service's backend service, re-read on
//! every sync, unlike the Ingress path's health check inferred once) and `GCPGatewayPolicy`
//! (`allowGlobalAccess` on the Gateway's forwarding rules); their `Attached` status and events.

use serde_json::{json, Value};

use super::conditions::{carry, cond, is_true};
use super::{meta_str, SOURCE};
use crate::controller::{app_protocol, hc_settings_key};
use crate::world::World;

/// The oldest policy of `kind` in `ns` whose `targetRef` names (`target_kind`, `name`).
fn policy_for(w: &World, kind: &str, ns: &str, target_kind: &str, group: &str, name: &str) -> Option<Value> {
    let mut ps: Vec<Value> = w
        .kube_in_ns(kind, ns)
        .into_iter()
        .filter(|p| {
            let t = &p["spec"]["targetRef"];
            t["kind"] == json!(target_kind) && t["group"].as_str().unwrap_or("") == group && t["name"] == json!(name)
        })
        .collect();
    ps.sort_by_key(|p| meta_str(p, "creationTimestamp"));
    ps.into_iter().next()
}

/// The HealthCheckPolicy of a Service, if any.
pub fn health_check_policy(w: &World, svc: &Value) -> Option<Value> {
    let (ns, name) = (meta_str(svc, "namespace"), meta_str(svc, "name"));
    policy_for(w, "HealthCheckPolicy", &ns, "Service", "", &name)
}

/// Does a GCPGatewayPolicy of the Gateway set `allowGlobalAccess`?
pub fn global_access(w: &World, gw: &Value) -> bool {
    let (ns, name) = (meta_str(gw, "namespace"), meta_str(gw, "name"));
    policy_for(w, "GCPGatewayPolicy", &ns, "Gateway", super::GROUP, &name)
        .is_some_and(|p| p["spec"]["default"]["allowGlobalAccess"] == json!(true))
}

/// The health check of a Service port's backend service: from its HealthCheckPolicy, else HTTP(S)
/// on the serving port with request path `/`; GKE's Gateway defaults 5 s / 5 s / 2 / 2.
pub fn health_check(w: &World, svc: &Value, port: &Value, name: &str) -> Value {
    let policy = health_check_policy(w, svc);
    let d = policy
        .as_ref()
        .map(|p| p["spec"]["default"].clone())
        .unwrap_or_default();
    let typ = d["config"]["type"]
        .as_str()
        .unwrap_or(app_protocol(svc, port))
        .to_string();
    let key = hc_settings_key(&json!({"type": typ}));
    let given = &d["config"][key];
    let mut settings = json!({"portSpecification": "USE_SERVING_PORT", "proxyHeader": "NONE",
                              "requestPath": given["requestPath"].as_str().unwrap_or("/")});
    if let Some(p) = given["port"].as_i64() {
        settings["portSpecification"] = json!("USE_FIXED_PORT");
        settings["port"] = json!(p);
    }
    if let Some(h) = given["host"].as_str() {
        settings["host"] = json!(h);
    }
    let num = |f: &str, default: i64| d[f].as_i64().unwrap_or(default);
    let region = w.region.clone();
    json!({"kind": "compute#healthCheck", "name": name, "type": typ, key: settings,
           "checkIntervalSec": num("checkIntervalSec", 5), "timeoutSec": num("timeoutSec", 5),
           "healthyThreshold": num("healthyThreshold", 2), "unhealthyThreshold": num("unhealthyThreshold", 2),
           "region": w.region_url(&region),
           "selfLink": format!("{}/healthChecks/{name}", w.region_url(&region))})
}

/// Each policy's `Attached` condition: True when its target exists.
pub fn publish_all(w: &mut World) {
    for (kind, target_kind) in [("HealthCheckPolicy", "Service"), ("GCPGatewayPolicy", "Gateway")] {
        for p in w.kube_in_ns(kind, "") {
            let ns = meta_str(&p, "namespace");
            let target = p["spec"]["targetRef"]["name"].as_str().unwrap_or_default();
            let found = w.kube_get(target_kind, &ns, target).is_some();
            let gen = p["metadata"]["generation"].as_i64().unwrap_or(1);
            let c = if found {
                cond("Attached", true, "Attached", "", gen)
            } else {
                let msg = format!("{target_kind} \"{ns}/{target}\" not found");
                cond("Attached", false, "TargetNotFound", &msg, gen)
            };
            let conds = carry(&p["status"]["conditions"], vec![c]);
            if p["status"]["conditions"] == conds {
                continue;
            }
            let was = is_true(&p["status"]["conditions"], "Attached");
            let mut p2 = p.clone();
            p2["status"]["conditions"] = conds;
            let p2 = w.kube_put(p2);
            if found && !was {
                let msg = format!("Application of {kind} \"{ns}/{}\" was a success", meta_str(&p, "name"));
                w.event(&p2, "Normal", "SYNC", &msg, SOURCE);
            }
        }
    }
}

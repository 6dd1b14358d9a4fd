//! The NEG readiness gate `cloud.google.com/load-balancer-neg-ready` (FIDELITY.md, issue 10):
//! GKE injects it into the pods behind an Ingress's NEG; ingress-gce's readiness reflector turns
//! it True once the load balancer sees the pod HEALTHY, or 10 minutes after the pod was created.
//! Until then the pod is not Ready, so a failing health check stalls a rollout.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::controller::{backend_health, labels_match};
use crate::world::{now_rfc3339, World};

/// The condition type (ingress-gce `pkg/neg/types/shared/types.go` `NegReadinessGate`).
pub const NEG_READY: &str = "cloud.google.com/load-balancer-neg-ready";
/// `pkg/neg/readiness/reflector.go` `unreadyTimeout`, counted from the pod's creation.
pub const UNREADY_TIMEOUT: Duration = Duration::from_secs(600);
const SOURCE: &str = "neg-readiness-reflector";

/// The NEG of a Service that backs an Ingress (its `neg-status`), if any selects these labels.
pub fn neg_for(w: &World, ns: &str, labels: &Value) -> Option<String> {
    w.kube_in_ns("Service", ns).into_iter().find_map(|s| {
        let status = s["metadata"]["annotations"]["cloud.google.com/neg-status"].as_str()?;
        if !labels_match(&s["spec"]["selector"], labels) {
            return None;
        }
        let v: Value = serde_json::from_str(status).ok()?;
        let negs = v["network_endpoint_groups"].as_object()?;
        negs.values().next()?.as_str().map(str::to_string)
    })
}

/// GKE's injection: a pod created behind an Ingress's NEG carries the gate, its condition False.
pub fn inject(w: &World, pod: &mut Value) {
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
    let Some(neg) = neg_for(w, &ns, &pod["metadata"]["labels"]) else {
        return;
    };
    pod["spec"]["readinessGates"] = json!([{"conditionType": NEG_READY}]);
    let msg = format!("Waiting for pod to become healthy in at least one of the NEG(s): [{neg}]");
    set_condition(pod, "False", "LoadBalancerNegNotReady", &msg);
}

/// Does the pod carry the gate?
pub fn gated(pod: &Value) -> bool {
    pod["spec"]["readinessGates"]
        .as_array()
        .is_some_and(|g| g.iter().any(|c| c["conditionType"] == json!(NEG_READY)))
}

/// Is the gate (when there is one) True?
pub fn gate_open(pod: &Value) -> bool {
    !gated(pod) || condition(pod).is_some_and(|c| c["status"] == json!("True"))
}

fn condition(pod: &Value) -> Option<&Value> {
    pod["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == json!(NEG_READY))
}

fn set_condition(pod: &mut Value, status: &str, reason: &str, message: &str) {
    let c = json!({"type": NEG_READY, "status": status, "reason": reason, "message": message,
                   "lastProbeTime": null, "lastTransitionTime": now_rfc3339()});
    let conds = &mut pod["status"]["conditions"];
    if !conds.is_array() {
        *conds = json!([]);
    }
    let list = conds.as_array_mut().expect("an array");
    list.retain(|x| x["type"] != json!(NEG_READY));
    list.push(c);
}

/// Seconds since the Unix epoch of an RFC 3339 UTC time (`2026-11-18T10:00:00Z`).
pub fn unix_secs(t: &str) -> Option<i64> {
    let (date, time) = t.trim_end_matches('Z').split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut h = time
        .split(':')
        .map(|x| x.split('.').next().unwrap_or("0").parse::<i64>());
    let (hh, mm, ss) = (h.next()?.ok()?, h.next()?.ok()?, h.next()?.ok()?);
    // days_from_civil (Howard Hinnant)
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64
}

/// When a gated pod that is not yet through times out (seconds since the epoch).
fn deadline(pod: &Value) -> Option<i64> {
    let created = unix_secs(pod["metadata"]["creationTimestamp"].as_str()?)?;
    Some(created + UNREADY_TIMEOUT.as_secs() as i64)
}

/// The reflector: every gated pod whose condition is not True becomes True once its endpoint is
/// HEALTHY in the NEG's backend service, or once the timeout has passed; each change is a Normal
/// event on the pod. Returns the pods whose gate changed.
pub fn reflect(w: &mut World) -> Vec<(String, String)> {
    let mut changed = vec![];
    for pod in w.kube_in_ns("Pod", "") {
        if !gated(&pod) || gate_open(&pod) {
            continue;
        }
        let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
        let Some(neg) = neg_for(w, &ns, &pod["metadata"]["labels"]) else {
            continue;
        };
        let ip = pod["status"]["podIP"].as_str().unwrap_or_default();
        let healthy_in = healthy_in(w, &neg, ip);
        let timed_out = deadline(&pod).is_some_and(|d| now_secs() >= d);
        let (reason, msg) = if let Some(bs) = healthy_in {
            (
                "LoadBalancerNegReady",
                format!(
                    "Pod has become Healthy in NEG \"{neg}\" attached to BackendService \"{bs}\". Marking \
                     condition \"{NEG_READY}\" to True."
                ),
            )
        } else if timed_out {
            (
                "LoadBalancerNegTimeout",
                format!(
                    "Timeout waiting for pod to become healthy in at least one of the NEG(s): [{neg}]. Marking \
                     condition \"{NEG_READY}\" to True."
                ),
            )
        } else {
            continue;
        };
        let mut p = pod.clone();
        set_condition(&mut p, "True", reason, &msg);
        let containers = crate::controller::containers_ready(&p);
        crate::controller::set_pod_ready(&mut p, containers);
        let name = p["metadata"]["name"].as_str().unwrap_or_default().to_string();
        w.kube_put(p.clone());
        w.event(&p, "Normal", reason, &msg, SOURCE);
        changed.push((ns, name));
    }
    changed
}

/// The backend service (the Ingress's, named as the NEG, or a Gateway's) in which the endpoint
/// `ip` of the NEG is HEALTHY, if any.
fn healthy_in(w: &World, neg: &str, ip: &str) -> Option<String> {
    let suffix = format!("/networkEndpointGroups/{neg}");
    let mut names: Vec<String> = w
        .compute
        .backend_services
        .values()
        .filter(|b| {
            let groups = b["backends"].as_array().into_iter().flatten();
            groups.filter_map(|g| g["group"].as_str()).any(|g| g.ends_with(&suffix))
        })
        .filter_map(|b| b["name"].as_str().map(str::to_string))
        .collect();
    names.sort_by_key(|n| n != neg);
    names.into_iter().find(|bs| {
        backend_health(w, bs)
            .iter()
            .any(|(eip, _, _, state)| eip == ip && *state == "HEALTHY")
    })
}

/// When the next gated pod times out (for the controller loop's sleep).
pub fn next_timeout(w: &World) -> Option<Instant> {
    let now = now_secs();
    w.kube_in_ns("Pod", "")
        .iter()
        .filter(|p| gated(p) && !gate_open(p))
        .filter_map(deadline)
        .map(|d| Instant::now() + Duration::from_secs((d - now).max(0) as u64 + 1))
        .min()
}

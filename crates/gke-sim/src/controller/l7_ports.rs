//! The ports of GKE's own `k8s-fw-l7--<uid>` rule besides the NEG target ports, as ingress-gce's
//! firewall controller computes them (`pkg/firewalls/controller.go` `sync()`,
//! `firewalls.go` `buildExpectedFW()`): each backend's BackendConfig `healthCheck.port`
//! (`getCustomHealthCheckPorts`), and the node-port range `30000-32767` (`flags.DefaultNodePortRange`)
//! when some backend of a GCE Ingress is not NEG-enabled (`if !svcPort.NEGEnabled { needNodePort = true }`).
//! An internal Ingress's backends are always NEGs (`maybeEnableNEG`: "L7-ILB and L7 Regional XLB
//! require NEGs"). Only with `--controller-firewall code`: the docs world keeps the NEG ports.

use serde_json::{json, Value};

use super::{backend_config_for, Class};
use crate::world::{ControllerFirewall, World};

/// `flags.DefaultNodePortRange`.
pub const NODE_PORT_RANGE: &str = "30000-32767";

/// The extra ports for one Ingress's backends (`svc_objs`: its Services and ports).
pub fn extra_ports(w: &World, ing: &Value, class: Class, svc_objs: &[(Value, Value)]) -> Vec<String> {
    if w.cfg.controller_firewall != ControllerFirewall::Code {
        return vec![];
    }
    let mut out: Vec<String> = svc_objs
        .iter()
        .filter_map(|(svc, port)| backend_config_for(w, svc, port).ok().flatten())
        .filter_map(|bc| bc["spec"]["healthCheck"]["port"].as_i64())
        .map(|p| p.to_string())
        .collect();
    let non_neg = |svc: &Value| !neg_enabled(svc);
    let default_non_neg = ing["spec"]["defaultBackend"].is_null() && default_backend_non_neg(w);
    if class != Class::Internal && (svc_objs.iter().any(|(s, _)| non_neg(s)) || default_non_neg) {
        out.push(NODE_PORT_RANGE.to_string());
    }
    out
}

/// `cloud.google.com/neg: {"ingress": true}` (`NEGEnabledForIngress`).
fn neg_enabled(svc: &Value) -> bool {
    svc["metadata"]["annotations"]["cloud.google.com/neg"]
        .as_str()
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .is_some_and(|v| v["ingress"] == json!(true))
}

/// GKE's `kube-system/default-http-backend` (a NodePort Service) serves an Ingress without its own
/// default backend; it counts as a non-NEG backend unless it carries the NEG annotation.
fn default_backend_non_neg(w: &World) -> bool {
    w.kube_get("Service", "kube-system", "default-http-backend")
        .is_none_or(|svc| !neg_enabled(svc))
}

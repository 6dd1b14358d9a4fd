//! Gateway API scenarios (issue 11): the cluster's Gateway API channel on, and a `gke-l7-rilb`
//! Gateway made as `kubectl kasten-ilb install --via gateway` makes it (Gateway and HTTPRoute
//! `<release>-ilb`, HealthCheckPolicy `<release>-ilb-health`, the tool's labels), working or broken
//! in one place.

use serde_json::{json, Value};

use super::{healthy_infra, NAMESPACE, RELEASE};
use crate::world::World;

pub const SCENARIOS: &[(&str, &str)] = &[
    (
        "gateway-fresh",
        "fresh, with Gateway API enabled on the cluster (CHANNEL_STANDARD)",
    ),
    (
        "gateway-healthy",
        "Gateway API working end state: proxy-only subnet, firewall tcp:8000, gke-l7-rilb Gateway, HTTPRoute, \
         HealthCheckPolicy",
    ),
    (
        "gateway-no-policy",
        "gateway-healthy without the HealthCheckPolicy: the health check probes `/`",
    ),
    (
        "gateway-wrong-port",
        "gateway-healthy, but the HTTPRoute's backendRef port is 8000, not a Service port",
    ),
    (
        "gateway-missing-tls",
        "gateway-healthy, plus an HTTPS listener whose certificate Secret does not exist",
    ),
    (
        "gateway-no-proxy-subnet",
        "gateway-healthy without the proxy-only subnet: the Gateway is not programmed",
    ),
];

/// Does the scenario start with Gateway API enabled on the cluster?
pub fn gateway_api(scenario: &str) -> bool {
    SCENARIOS.iter().any(|(s, _)| *s == scenario)
}

/// Build a Gateway scenario on top of `fresh`.
pub fn build(w: &mut World, scenario: &str) {
    crate::gateway_api::set_channel(w, "CHANNEL_STANDARD");
    if scenario == "gateway-fresh" {
        return;
    }
    if scenario != "gateway-no-proxy-subnet" {
        healthy_infra(w);
    } else {
        super::firewall(
            w,
            "allow-kasten-gateway-connection",
            json!({"sourceRanges": ["10.120.0.0/23"], "allowed": [{"IPProtocol": "tcp", "ports": ["8000"]}]}),
        );
    }
    let mut gw = gateway();
    if scenario == "gateway-missing-tls" {
        gw["spec"]["listeners"].as_array_mut().unwrap().push(json!({
            "name": "https", "protocol": "HTTPS", "port": 443,
            "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "k10-ilb-tls"}]}}));
    }
    put(w, gw);
    let port = if scenario == "gateway-wrong-port" { 8000 } else { 80 };
    put(w, route(port));
    if scenario != "gateway-no-policy" {
        put(w, health_check_policy());
    }
}

fn put(w: &mut World, mut obj: Value) {
    crate::gateway_api::admit(&mut obj);
    w.kube_put(obj);
}

fn name() -> String {
    format!("{RELEASE}-ilb")
}

/// The object's metadata as the plugin writes it (its managed-by label).
fn metadata(name: &str) -> Value {
    let labels = json!({"app.kubernetes.io/managed-by": "kubectl-kasten-ilb", "app.kubernetes.io/part-of": "k10"});
    json!({"name": name, "namespace": NAMESPACE, "labels": labels})
}

/// The Gateway: class `gke-l7-rilb`, one HTTP listener on port 80.
pub fn gateway() -> Value {
    json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
           "metadata": metadata(&name()),
           "spec": {"gatewayClassName": "gke-l7-rilb",
                    "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}]}})
}

/// The HTTPRoute: `/<release>` (PathPrefix) to Service `gateway` on `port`.
pub fn route(port: i64) -> Value {
    json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
           "metadata": metadata(&name()),
           "spec": {"parentRefs": [{"name": name()}],
                    "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": format!("/{RELEASE}")}}],
                               "backendRefs": [{"name": "gateway", "port": port}]}]}})
}

/// The HealthCheckPolicy: the gateway's readinessProbe (HTTP `/healthz` on 8000).
pub fn health_check_policy() -> Value {
    json!({"apiVersion": "networking.gke.io/v1", "kind": "HealthCheckPolicy",
           "metadata": metadata(&format!("{}-health", name())),
           "spec": {"default": {"config": {"type": "HTTP",
                                            "httpHealthCheck": {"port": 8000, "requestPath": "/healthz"}}},
                    "targetRef": {"group": "", "kind": "Service", "name": "gateway"}}})
}

//! Backends UNHEALTHY although the firewall and the health check let the load balancer in (doctor
//! marks backends SKIP when either fails): a NetworkPolicy drops it. K10's chart admits outside
//! traffic to the gateway with its NetworkPolicy `allow-external`; this is the one command that
//! puts it back as the chart writes it.

use serde_json::json;

use crate::doctor::Facts;

/// The hint: restore `allow-external`, or (no NetworkPolicy involved) where to look next.
pub fn hint(f: &Facts) -> String {
    let ns = &f.namespace;
    let Some(k) = f.k10() else {
        return "see the Firewall and Health check checks: the probed path must answer 200".into();
    };
    let port = k
        .container_port
        .or_else(|| k.target_port.as_i64().map(|p| p as i32))
        .unwrap_or(8000);
    let policy = json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "allow-external", "namespace": ns},
        "spec": {"podSelector": {"matchLabels": {"service": "gateway", "release": k.release}},
            "ingress": [{"from": [], "ports": [{"protocol": "TCP", "port": port}]}], "policyTypes": ["Ingress"]},
    });
    format!(
        "`kubectl -n {ns} apply -f - <<< '{policy}'` (K10's chart's NetworkPolicy that admits the load balancer to \
         the gateway on tcp:{port}, when a NetworkPolicy drops it); if none does, see the Firewall and Health check \
         checks: the probed path must answer 200"
    )
}

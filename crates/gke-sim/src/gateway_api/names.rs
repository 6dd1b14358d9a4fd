//! The names GKE's Gateway controller gives its Google resources (FIDELITY.md, issue 11: seen in
//! third-party captures, not documented): `gkegw1-<4-char cluster hash>-<ns>-<gateway>-<12-char
//! hash>` for the frontend, `gkegw1-<h4>-<ns>-<service>-<port>-<hash12>` for a backend service and
//! its health check, `gkegw1-<h4>-<ns>-gw-serve404-80-<hash12>` for the default backend. NEGs keep
//! the Ingress path's `k8s1-` names (`controller::neg_name`).

use crate::controller::content_hash;
use crate::world::CLUSTER_UID;

fn h4() -> String {
    content_hash(&format!("gkegw1;{CLUSTER_UID}"), 4)
}

fn trimmed(parts: &[&str], budget: usize) -> Vec<String> {
    let mut out: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
    while out.iter().map(String::len).sum::<usize>() > budget {
        let longest = out
            .iter()
            .enumerate()
            .max_by_key(|(_, p)| p.len())
            .map(|(i, _)| i)
            .unwrap_or(0);
        out[longest].pop();
    }
    out
}

/// A frontend resource of a Gateway (`kind`: `fr`, `tp`, `um`, or `fr-https`/`tp-https`).
pub fn frontend(kind: &str, ns: &str, gateway: &str) -> String {
    let p = trimmed(&[ns, gateway], 40);
    let hash = content_hash(&format!("{kind};{ns};{gateway}"), 12);
    format!("gkegw1-{}-{}-{}-{hash}", h4(), p[0], p[1])
}

/// The backend service (and health check) of a Service port.
pub fn backend(ns: &str, svc: &str, port: i64) -> String {
    let port = port.to_string();
    let p = trimmed(&[ns, svc, &port], 37);
    let hash = content_hash(&format!("bs;{ns};{svc};{port}"), 12);
    format!("gkegw1-{}-{}-{}-{}-{hash}", h4(), p[0], p[1], p[2])
}

/// The default backend of a Gateway's URL map (answers 404).
pub fn serve404(ns: &str) -> String {
    backend(ns, "gw-serve404", 80)
}

/// The controller's firewall rule for Google's health-check ranges in this network and region.
pub fn firewall(network: &str, region: &str) -> String {
    format!("gkegw1-{}-l7-{network}-{region}", h4())
}

/// Is this one of the Gateway controller's names?
pub fn is_gateway_name(name: &str) -> bool {
    name.starts_with("gkegw1-")
}

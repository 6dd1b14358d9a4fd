//! The Ingress got an address, and it is internal.

use serde_json::json;

use crate::doctor::{Check, CheckId, Facts};
use crate::state::CLASS_ANNOTATION;

fn is_private(ip: &str) -> bool {
    ip.parse::<ipnet::Ipv4Net>()
        .ok()
        .or_else(|| {
            ip.parse::<std::net::Ipv4Addr>()
                .ok()
                .map(|a| ipnet::Ipv4Net::new(a, 32).expect("/32"))
        })
        .is_some_and(|n| crate::cidr::is_private(&n))
}

/// The name of the Ingress that has address `ip`.
fn external_ingress(f: &Facts, ip: &str) -> String {
    f.ingresses()
        .iter()
        .find(|i| crate::state::ingress_ip(i).as_deref() == Some(ip))
        .and_then(|i| i.metadata.name.clone())
        .unwrap_or_default()
}

pub fn check(f: &Facts) -> Check {
    let id = CheckId::Address;
    if f.ingresses().is_empty() {
        return Check::skip(id, "no Ingress");
    }
    let Some(ip) = f.ip() else {
        return Check::fail(id, "the Ingress has no address yet")
            .hint("see the Controller events and Proxy-only subnet checks; a new Ingress takes a few minutes");
    };
    let c = if is_private(&ip) {
        Check::pass(id, format!("{ip} (internal)"))
    } else {
        Check::fail(
            id,
            format!("{ip} is an EXTERNAL address: the dashboard is reachable from the internet"),
        )
        .hint(format!(
            "make the Ingress internal (GKE then replaces the load balancer): `kubectl -n {} annotate ingress {} \
             {CLASS_ANNOTATION}=gce-internal --overwrite`",
            f.namespace,
            external_ingress(f, &ip)
        ))
    };
    c.evidence(json!({"ip": ip}))
}

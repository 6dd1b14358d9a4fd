//! The load balancer's two kinds of traffic to a pod, judged separately (FIDELITY.md, issue 10):
//! Google's health checkers probe from 35.191.0.0/16 and 130.211.0.0/22, while an internal
//! Application Load Balancer's Envoy proxies carry the requests from the proxy-only subnet. So a
//! blocked proxy range leaves backends HEALTHY and requests fail; blocked health-check ranges make
//! them UNHEALTHY. Also: what ingress-gce puts in its own `k8s-fw-l7--<uid>` rule.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde_json::Value;

use crate::controller::{active_proxy_subnet, classify, firewall_allows, netpol_admits_any, Class};
use crate::world::{ControllerFirewall, World, HC_SOURCE_RANGES};

/// Envoy's local reply when no endpoint is healthy (`router.cc` `sendNoHealthyUpstreamResponse`).
/// That Google's managed Envoy sends this exact body is an inference (FIDELITY.md).
pub const NO_HEALTHY_UPSTREAM: &str = "no healthy upstream";

/// Envoy's local reply when the connection to the chosen endpoint fails. An inference from
/// upstream Envoy, as above.
pub const UPSTREAM_CONNECT_ERROR: &str =
    "upstream connect error or disconnect/reset before headers. reset reason: connection failure";

fn hc_ranges() -> impl Iterator<Item = Ipv4Net> {
    HC_SOURCE_RANGES.iter().map(|r| r.parse().expect("a CIDR"))
}

/// The ACTIVE proxy-only range of the cluster's region and network.
pub fn proxy_range(w: &World) -> Option<Ipv4Net> {
    active_proxy_subnet(w).and_then(|s| s["ipCidrRange"].as_str().and_then(|r| r.parse().ok()))
}

/// Do the health checkers (every address of both ranges) reach `pod` at `ip:port`?
pub fn health_checkers_reach(w: &World, pod: &Value, ip: Ipv4Addr, port: u16) -> bool {
    let tags = [w.node_tag.clone()];
    hc_ranges().all(|src| firewall_allows(w, src, ip, port, &tags)) && netpol_admits_any(w, pod, port)
}

/// Do the load balancer's proxies reach `pod` at `ip:port`? The internal ALB's come from the
/// proxy-only range; the external (GFE) load balancer's from the health-check ranges.
pub fn proxies_reach(w: &World, internal: bool, pod: &Value, ip: Ipv4Addr, port: u16) -> bool {
    let tags = [w.node_tag.clone()];
    let sources: Vec<Ipv4Net> = if internal {
        proxy_range(w).into_iter().collect()
    } else {
        hc_ranges().collect()
    };
    !sources.is_empty()
        && sources.iter().all(|src| firewall_allows(w, *src, ip, port, &tags))
        && netpol_admits_any(w, pod, port)
}

/// The source ranges of `k8s-fw-l7--<uid>`: the health-check ranges, plus (in the `code` world,
/// once a gce-internal Ingress exists) the ACTIVE proxy-only range (`pkg/firewalls` `sync()`,
/// `ILBSubnetSourceRange`; with no such subnet the error is swallowed).
pub fn l7_source_ranges(w: &World) -> Vec<String> {
    let mut out: Vec<String> = HC_SOURCE_RANGES.iter().map(|s| s.to_string()).collect();
    let internal = w
        .kube_in_ns("Ingress", "")
        .iter()
        .any(|i| classify(i) == Class::Internal && i["metadata"]["deletionTimestamp"].is_null());
    if w.cfg.controller_firewall == ControllerFirewall::Code && internal {
        if let Some(r) = proxy_range(w) {
            out.push(r.to_string());
        }
    }
    out.sort();
    out
}

/// Does the stored rule differ from the expected one as ingress-gce compares them (`equal()`:
/// target tags, allowed and source ranges as sets; other fields are ignored)?
pub fn l7_rule_differs(have: &Value, want: &Value) -> bool {
    let set = |v: &Value| -> std::collections::BTreeSet<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string()))
            .collect()
    };
    set(&have["sourceRanges"]) != set(&want["sourceRanges"])
        || set(&have["targetTags"]) != set(&want["targetTags"])
        || set(&have["allowed"][0]["ports"]) != set(&want["allowed"][0]["ports"])
        || have["allowed"].as_array().map(Vec::len) != Some(1)
}

/// The internal ALB's answer when it cannot serve from a pod: `no healthy upstream` when none is
/// HEALTHY, the connection failure when the proxies cannot reach the one it picked; the external
/// load balancer's 502 page otherwise.
pub fn lb_error(internal: bool, any_healthy: bool) -> (u16, String) {
    match (internal, any_healthy) {
        (true, false) => (503, NO_HEALTHY_UPSTREAM.to_string()),
        (true, true) => (503, UPSTREAM_CONNECT_ERROR.to_string()),
        (false, _) => (502, crate::controller::BAD_GATEWAY_HTML.to_string()),
    }
}

//! gke-sim's own reading of VPC firewall rules, on the JSON rules as Compute stores them.
//!
//! Kept apart from the plugin's `kubectl_kasten_ilb::firewall::evaluate` on purpose (two
//! implementations of Google's semantics); `tests/firewall_table.rs` checks that they agree.
//! Google's semantics: enabled INGRESS rules of the network that apply to the VM; the lowest
//! priority number wins, deny beats allow at equal priority; no match means the implied deny.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde_json::{json, Value};

/// The rule that decides, and whether it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub rule: String,
    pub allow: bool,
}

/// Where the traffic goes: the VM's network tags and the destination address.
#[derive(Debug, Clone, Copy)]
pub struct Dest<'a> {
    pub addr: Ipv4Addr,
    pub port: u16,
    pub tags: &'a [String],
}

fn port_matches(entry: &Value, port: u16) -> bool {
    let proto = entry["IPProtocol"].as_str().unwrap_or_default().to_ascii_lowercase();
    if proto != "tcp" && proto != "all" {
        return false;
    }
    let Some(ports) = entry["ports"].as_array() else {
        return true;
    };
    if ports.is_empty() {
        return true;
    }
    ports
        .iter()
        .filter_map(|p| p.as_str())
        .any(|p| match p.split_once('-') {
            Some((a, b)) => a.parse::<u16>().is_ok_and(|a| a <= port) && b.parse::<u16>().is_ok_and(|b| port <= b),
            None => p.parse::<u16>() == Ok(port),
        })
}

fn ranges(v: &Value) -> Vec<Ipv4Net> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str())
        .filter_map(|r| {
            r.parse::<Ipv4Net>()
                .ok()
                .or_else(|| r.parse::<Ipv4Addr>().ok().map(|a| Ipv4Net::new(a, 32).unwrap()))
        })
        .collect()
}

/// Does rule `f` (of network `net`) apply to traffic from every address of `src` to `to`?
fn matches(f: &Value, net: &str, src: Ipv4Net, to: Dest<'_>) -> bool {
    if f["network"] != json!(net)
        || f["disabled"] == json!(true)
        || f["direction"].as_str().unwrap_or("INGRESS") != "INGRESS"
    {
        return false;
    }
    let tt: Vec<&str> = f["targetTags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str())
        .collect();
    if !tt.is_empty() && !tt.iter().any(|t| to.tags.iter().any(|x| x == t)) {
        return false;
    }
    if f["targetServiceAccounts"].as_array().is_some_and(|a| !a.is_empty()) {
        return false;
    }
    let dr = ranges(&f["destinationRanges"]);
    if !dr.is_empty() && !dr.iter().any(|r| r.contains(&to.addr)) {
        return false;
    }
    let sr = ranges(&f["sourceRanges"]);
    let is_deny = is_deny(f);
    let src_match = if is_deny {
        sr.iter().any(|r| r.contains(&src) || src.contains(r))
    } else {
        sr.iter().any(|r| r.contains(&src))
    };
    let entries = if is_deny { &f["denied"] } else { &f["allowed"] };
    src_match
        && entries
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| port_matches(e, to.port))
}

fn is_deny(f: &Value) -> bool {
    f["denied"].as_array().is_some_and(|d| !d.is_empty())
}

/// The deciding rule among `rules` (network URL `net`) for traffic from every address of `src`
/// to `to`; `None` is the implied deny.
pub fn decide<'a>(
    rules: impl IntoIterator<Item = &'a Value>,
    net: &str,
    src: Ipv4Net,
    to: Dest<'_>,
) -> Option<Decision> {
    let mut best: Option<(i64, Decision)> = None;
    for f in rules.into_iter().filter(|f| matches(f, net, src, to)) {
        let prio = f["priority"].as_i64().unwrap_or(1000);
        let allow = !is_deny(f);
        let better = match &best {
            None => true,
            Some((p, d)) => prio < *p || (prio == *p && d.allow && !allow),
        };
        if better {
            let rule = f["name"].as_str().unwrap_or_default().to_string();
            best = Some((prio, Decision { rule, allow }));
        }
    }
    best.map(|(_, d)| d)
}

/// Is traffic from every address of `src` to `to` allowed?
pub fn allows<'a>(rules: impl IntoIterator<Item = &'a Value>, net: &str, src: Ipv4Net, to: Dest<'_>) -> bool {
    decide(rules, net, src, to).is_some_and(|d| d.allow)
}

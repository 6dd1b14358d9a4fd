//! Does the VPC firewall let the proxy-only range reach the gateway's container port?
//!
//! Google's rules: only enabled INGRESS rules of the network count; a rule applies to a VM when
//! its targets match (no target tags or service accounts = every VM); the rule with the lowest
//! priority number wins and, at equal priority, deny beats allow; nothing matching = implied deny.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::gcp::model::{short, Firewall, FirewallRule};

/// Where Google's health checkers probe from: every load balancer's health checks, the internal
/// Application Load Balancer's included (its requests come from the proxy-only range instead).
pub const HEALTH_CHECK_RANGES: [&str; 2] = ["35.191.0.0/16", "130.211.0.0/22"];

/// Who the traffic goes to: the cluster's nodes (tags) and pods (range).
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub node_tags: Vec<String>,
    pub pod_range: Option<Ipv4Net>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed by this rule.
    Allowed(String),
    /// Denied by this (higher-priority or equal-priority deny) rule.
    Denied(String),
    /// No rule matches: the implied deny.
    NoRule,
}

fn ranges(v: &[String]) -> Vec<Ipv4Net> {
    v.iter()
        .filter_map(|r| {
            r.parse::<Ipv4Net>()
                .ok()
                .or_else(|| r.parse::<Ipv4Addr>().ok().map(|a| Ipv4Net::new(a, 32).expect("/32")))
        })
        .collect()
}

pub fn port_matches(rules: &[FirewallRule], port: u16) -> bool {
    rules.iter().any(|r| {
        let proto = r.ip_protocol.to_ascii_lowercase();
        (proto == "tcp" || proto == "all" || proto == "6")
            && (r.ports.is_empty()
                || r.ports.iter().any(|p| match p.split_once('-') {
                    Some((a, b)) => {
                        a.parse::<u16>().is_ok_and(|a| a <= port) && b.parse::<u16>().is_ok_and(|b| port <= b)
                    }
                    None => p.parse::<u16>() == Ok(port),
                }))
    })
}

fn applies_to(f: &Firewall, t: &Target) -> bool {
    if !f.target_service_accounts.is_empty() {
        return false; // we cannot tell the nodes' service account here; do not count on it
    }
    if !f.target_tags.is_empty() && !f.target_tags.iter().any(|x| t.node_tags.contains(x)) {
        return false;
    }
    let dst = ranges(&f.destination_ranges);
    if !dst.is_empty() {
        match &t.pod_range {
            Some(p) => return dst.iter().any(|d| d.contains(p)),
            None => return false,
        }
    }
    true
}

fn same_network(f: &Firewall, network: &str) -> bool {
    short(&f.network) == network
}

/// The verdict for traffic from every address of `src` to `tcp:port` on the cluster.
pub fn evaluate(rules: &[Firewall], network: &str, src: &Ipv4Net, port: u16, t: &Target) -> Verdict {
    let mut best: Option<(i64, bool, String)> = None;
    for f in rules {
        if !same_network(f, network)
            || f.disabled
            || f.direction.as_deref().unwrap_or("INGRESS") != "INGRESS"
            || !applies_to(f, t)
        {
            continue;
        }
        let is_deny = !f.denied.is_empty();
        let sr = ranges(&f.source_ranges);
        let src_match = if is_deny {
            sr.iter().any(|r| r.contains(src) || src.contains(r))
        } else {
            sr.iter().any(|r| r.contains(src))
        };
        if !src_match {
            continue;
        }
        if !port_matches(if is_deny { &f.denied } else { &f.allowed }, port) {
            continue;
        }
        let prio = f.priority.unwrap_or(1000);
        let better = match &best {
            None => true,
            Some((p, allow, _)) => prio < *p || (prio == *p && *allow && is_deny),
        };
        if better {
            best = Some((prio, !is_deny, f.name.clone()));
        }
    }
    match best {
        Some((_, true, n)) => Verdict::Allowed(n),
        Some((_, false, n)) => Verdict::Denied(n),
        None => Verdict::NoRule,
    }
}

/// An enabled INGRESS rule of `network` that applies to the cluster.
fn enabled_on(f: &Firewall, network: &str, t: &Target) -> bool {
    same_network(f, network)
        && !f.disabled
        && f.direction.as_deref().unwrap_or("INGRESS") == "INGRESS"
        && applies_to(f, t)
}

/// Enabled rules that open `port` to the whole internet on the cluster.
pub fn open_to_world(rules: &[Firewall], network: &str, port: u16, t: &Target) -> Vec<String> {
    rules
        .iter()
        .filter(|f| enabled_on(f, network, t))
        .filter(|f| f.source_ranges.iter().any(|r| r == "0.0.0.0/0") && port_matches(&f.allowed, port))
        .map(|f| f.name.clone())
        .collect()
}

/// Rules that would let the proxy range in on a *different* port only (the classic mistake: the
/// Service port 80 instead of the container port 8000).
pub fn wrong_port_rules(rules: &[Firewall], network: &str, src: &Ipv4Net, port: u16) -> Vec<(String, Vec<String>)> {
    rules
        .iter()
        .filter(|f| same_network(f, network) && !f.disabled && f.denied.is_empty())
        .filter(|f| {
            !f.source_ranges.iter().any(|r| r == "0.0.0.0/0")
                && ranges(&f.source_ranges).iter().any(|r| r.contains(src))
        })
        .filter(|f| {
            f.allowed
                .iter()
                .any(|a| a.ip_protocol.eq_ignore_ascii_case("tcp") && !a.ports.is_empty())
        })
        .filter(|f| !port_matches(&f.allowed, port))
        .map(|f| {
            (
                f.name.clone(),
                f.allowed
                    .iter()
                    .flat_map(|a| {
                        if a.ports.is_empty() {
                            vec![a.ip_protocol.clone()]
                        } else {
                            a.ports
                                .iter()
                                .map(|p| format!("{}:{p}", a.ip_protocol.to_lowercase()))
                                .collect()
                        }
                    })
                    .collect(),
            )
        })
        .collect()
}

/// Enabled allow rules that open `port` on the cluster to a source range that `allowed` does not
/// contain: `(rule, [those ranges])`.
pub fn wider_than(
    rules: &[Firewall],
    network: &str,
    port: u16,
    t: &Target,
    allowed: &[Ipv4Net],
) -> Vec<(String, Vec<String>)> {
    rules
        .iter()
        .filter(|f| enabled_on(f, network, t) && port_matches(&f.allowed, port))
        .filter_map(|f| {
            let wide: Vec<String> = f
                .source_ranges
                .iter()
                .filter(|r| {
                    r.parse::<Ipv4Net>()
                        .map_or(true, |n| !allowed.iter().any(|a| a.contains(&n)))
                })
                .cloned()
                .collect();
            (!wide.is_empty()).then(|| (f.name.clone(), wide))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fw(name: &str, src: &str, ports: &[&str], prio: i64, deny: bool) -> Firewall {
        let rule = vec![FirewallRule {
            ip_protocol: "tcp".into(),
            ports: ports.iter().map(|s| s.to_string()).collect(),
        }];
        Firewall {
            name: name.into(),
            network: "https://x/compute/v1/projects/p/global/networks/default".into(),
            source_ranges: vec![src.into()],
            priority: Some(prio),
            allowed: if deny { vec![] } else { rule.clone() },
            denied: if deny { rule } else { vec![] },
            ..Default::default()
        }
    }

    #[test]
    fn priorities_and_denies() {
        let src: Ipv4Net = "10.120.0.0/23".parse().unwrap();
        let t = Target {
            node_tags: vec!["node".into()],
            pod_range: Some("10.52.0.0/14".parse().unwrap()),
        };
        let allow = fw("allow", "10.120.0.0/23", &["8000"], 1000, false);
        assert_eq!(
            evaluate(std::slice::from_ref(&allow), "default", &src, 8000, &t),
            Verdict::Allowed("allow".into())
        );
        assert_eq!(
            evaluate(std::slice::from_ref(&allow), "default", &src, 80, &t),
            Verdict::NoRule
        );
        let deny = fw("deny", "10.0.0.0/8", &[], 900, true);
        assert_eq!(
            evaluate(&[allow.clone(), deny.clone()], "default", &src, 8000, &t),
            Verdict::Denied("deny".into())
        );
        let deny_low = fw("deny-low", "10.0.0.0/8", &[], 2000, true);
        assert_eq!(
            evaluate(&[allow.clone(), deny_low], "default", &src, 8000, &t),
            Verdict::Allowed("allow".into())
        );
        let mut disabled = allow.clone();
        disabled.disabled = true;
        assert_eq!(evaluate(&[disabled], "default", &src, 8000, &t), Verdict::NoRule);
        let mut tagged = allow.clone();
        tagged.target_tags = vec!["other".into()];
        assert_eq!(evaluate(&[tagged], "default", &src, 8000, &t), Verdict::NoRule);
        let range = fw("range", "10.120.0.0/23", &["7000-9000"], 1000, false);
        assert_eq!(
            evaluate(&[range], "default", &src, 8000, &t),
            Verdict::Allowed("range".into())
        );
        let partial = fw("partial", "10.120.0.0/24", &["8000"], 1000, false);
        assert_eq!(evaluate(&[partial], "default", &src, 8000, &t), Verdict::NoRule);
        let wrong = fw("wrong", "10.120.0.0/23", &["80"], 1000, false);
        assert_eq!(
            wrong_port_rules(&[wrong], "default", &src, 8000),
            vec![("wrong".to_string(), vec!["tcp:80".to_string()])]
        );
        let world = fw("world", "0.0.0.0/0", &["8000"], 1000, false);
        assert_eq!(open_to_world(&[world], "default", 8000, &t), vec!["world".to_string()]);
    }
}

//! Firewall rules that open the gateway's container port wider than the load balancer needs (its
//! proxy-only range and Google's health checkers). From the internet (0.0.0.0/0 or any public
//! range): WARN, naming the rule: the pods then answer on plain HTTP, around the load balancer and
//! its TLS. Private ranges wider than those (the default VPC's `default-allow-internal`, GKE's
//! pod-to-pod rule) are the VPC itself: named in the finding, not a warning.

use ipnet::Ipv4Net;
use serde_json::json;

use crate::doctor::{Check, CheckId, Facts};
use crate::firewall::{self, HEALTH_CHECK_RANGES};

/// RFC 1918 and RFC 6598: addresses that only a VPC (or a network connected to it) routes.
const PRIVATE: [&str; 4] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"];

fn nets(v: &[&str]) -> Vec<Ipv4Net> {
    v.iter().filter_map(|r| r.parse().ok()).collect()
}

pub fn check(f: &Facts) -> Check {
    let id = CheckId::OpenFirewall;
    let (Ok(vpc), Some(port)) = (f.vpc.as_ref(), f.k10().and_then(|k| k.container_port)) else {
        return Check::skip(id, "the VPC or the gateway's container port is unknown");
    };
    let t = firewall::Target {
        node_tags: vpc.node_tags.clone(),
        pod_range: f.cluster().pod_range.parse().ok(),
    };
    let mut lb = nets(&HEALTH_CHECK_RANGES);
    lb.extend(f.proxy_range());
    let network = &f.cluster().network;
    let wider = firewall::wider_than(&vpc.firewalls, network, port as u16, &t, &lb);
    let private = nets(&PRIVATE);
    let is_public = |r: &String| {
        r.parse::<Ipv4Net>()
            .map_or(true, |n| !private.iter().any(|p| p.contains(&n)))
    };
    let (public, internal): (Vec<_>, Vec<_>) = wider.iter().partition(|(_, rs)| rs.iter().any(is_public));
    let show = |v: &[&(String, Vec<String>)]| {
        v.iter()
            .map(|(n, rs)| format!("`{n}` ({})", rs.join(", ")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let ev = json!({"containerPort": port, "loadBalancerRanges": lb.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
        "wider": wider});
    let also = match internal.is_empty() {
        true => String::new(),
        false => {
            let names: Vec<String> = internal.iter().map(|(n, _)| format!("`{n}`")).collect();
            format!("; inside the VPC also {}", names.join(", "))
        }
    };
    if public.is_empty() {
        let why = format!("no rule opens tcp:{port} on the pods to the internet{also}");
        return Check::pass(id, why).evidence(ev);
    }
    let first = &public[0].0;
    Check::warn(
        id,
        format!(
            "{} open(s) tcp:{port} on the pods to the internet: the gateway answers plain HTTP there, around the \
             load balancer and its TLS{also}",
            show(&public)
        ),
    )
    .hint(format!(
        "narrow the source ranges of {first} to what needs the port: `gcloud compute firewall-rules update {first} \
         --source-ranges=RANGES --project={}`",
        f.cluster().network_project
    ))
    .evidence(ev)
}

//! A firewall rule lets the proxy-only range reach the gateway's container port on the pods.

use serde_json::json;

use crate::doctor::{Check, CheckId, Facts};
use crate::firewall::{self, Verdict};
use crate::plan;
use crate::state;

pub fn check(f: &Facts) -> Check {
    let id = CheckId::Firewall;
    let (vpc, src, port) = (
        f.vpc.as_ref().ok(),
        f.proxy_range(),
        f.k10().and_then(|k| k.container_port),
    );
    let (v, src, port) = match (vpc, src, port) {
        (Some(v), Some(src), Some(port)) => (v, src, port),
        (_, None, _) => {
            let why = "there is no ACTIVE proxy-only subnet to allow";
            return Check::blocked(id, CheckId::ProxySubnet, why);
        }
        (_, _, None) => return Check::blocked(id, CheckId::K10, "the gateway's container port is unknown"),
        (None, _, _) => return Check::blocked(id, CheckId::ProxySubnet, "the VPC could not be read"),
    };
    let c = f.cluster();
    let t = firewall::Target {
        node_tags: v.node_tags.clone(),
        pod_range: c.pod_range.parse().ok(),
    };
    let world = firewall::open_to_world(&v.firewalls, &c.network, port as u16, &t);
    let wrong = firewall::wrong_port_rules(&v.firewalls, &c.network, &src, port as u16);
    let verdict = firewall::evaluate(&v.firewalls, &c.network, &src, port as u16, &t);
    let ev = json!({
        "proxyRange": src.to_string(), "containerPort": port, "verdict": format!("{verdict:?}"),
        "openToWorld": world, "wrongPort": wrong,
    });
    let check = match verdict {
        Verdict::Allowed(rule) if world.is_empty() => {
            Check::pass(id, format!("`{rule}` lets {src} reach tcp:{port} on the pods"))
        }
        Verdict::Allowed(rule) => Check::warn(
            id,
            format!(
                "`{rule}` lets {src} reach tcp:{port}, but {} open(s) tcp:{port} to 0.0.0.0/0",
                world.join(", ")
            ),
        )
        .hint(format!("restrict the source ranges of {}", world.join(", "))),
        Verdict::Denied(rule) => Check::fail(
            id,
            format!("`{rule}` denies {src} -> tcp:{port} (it outranks every allow rule)"),
        )
        .hint(format!(
            "give an allow rule a lower priority number than `{rule}`, or narrow `{rule}`"
        )),
        Verdict::NoRule => {
            let why = match wrong.first() {
                Some((n, ports)) => format!(
                    "`{n}` allows {} from {src}, but the load balancer connects to the container port tcp:{port}, \
                     not the Service port",
                    ports.join(",")
                ),
                None => format!("no enabled INGRESS rule lets {src} reach tcp:{port} on the pods"),
            };
            Check::fail(id, why).hint(fix(f, src, port))
        }
    };
    check.evidence(ev)
}

/// The one rule that lets the proxies in, with install's ownership marker as its description, so
/// `kubectl kasten-ilb uninstall` removes a rule made from this hint like one install made.
fn fix(f: &Facts, src: ipnet::Ipv4Net, port: i32) -> String {
    let c = f.cluster();
    format!(
        "`gcloud compute firewall-rules create {} --network={} --direction=INGRESS --action=ALLOW --rules=tcp:{port} \
         --source-ranges={src} --destination-ranges={} --project={} --description={}` (or `kubectl kasten-ilb \
         install`)",
        plan::firewall_name(&c.r.cluster, port),
        c.network,
        c.pod_range,
        c.network_project,
        plan::sh_quote(&state::gcp_marker(c)),
    )
}

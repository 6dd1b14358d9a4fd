//! Who can reach the load balancer's address: clients in the VPC in its region; with global access
//! (the forwarding rule's `allowGlobalAccess`), clients in every region of the VPC (WARN, named);
//! and through VPC Network Peering, the peered networks (named).

use std::collections::BTreeSet;

use serde_json::json;

use crate::doctor::{Check, CheckId, Facts};
use crate::gcp::model::short;

pub fn check(f: &Facts) -> Check {
    let id = CheckId::Reach;
    let Some(ip) = f.ip() else {
        return Check::skip(id, "no address yet: nothing is exposed");
    };
    let frs = match &f.security.forwarding_rules {
        Ok(v) => v,
        Err(e) => return Check::skip(id, format!("the forwarding rules could not be listed: {e}")),
    };
    let c = f.cluster();
    let (peers, regions) = (peers(f), regions(f));
    let global: Vec<&str> = frs
        .iter()
        .filter(|r| r.allow_global_access == Some(true))
        .map(|r| r.name.as_str())
        .collect();
    let ev = json!({"address": ip, "network": c.network, "region": c.region, "peerings": peers,
        "globalAccess": global, "regions": regions});
    let peered = match peers.is_empty() {
        true => "; no peered network".to_string(),
        false => format!("; through peering also {}", peers.join(", ")),
    };
    let Some(fr) = global.first() else {
        let why = format!(
            "{ip}: clients in VPC {} in {} only (no global access){peered}",
            c.network, c.region
        );
        return Check::pass(id, why).evidence(ev);
    };
    let all: Vec<&str> = regions.into_iter().collect();
    Check::warn(
        id,
        format!(
            "{ip}: forwarding rule `{fr}` has global access: clients in every region of VPC {} ({}) reach it{peered}",
            c.network,
            all.join(", ")
        ),
    )
    .hint(format!(
        "`gcloud compute forwarding-rules update {fr} --region={} --no-allow-global-access --project={}`",
        c.region, c.r.project
    ))
    .evidence(ev)
}

/// The VPC's ACTIVE peerings: `network (peering `name`)`.
fn peers(f: &Facts) -> Vec<String> {
    let network = f.vpc.as_ref().ok().and_then(|v| v.network.as_ref());
    network
        .map(|n| {
            n.peerings
                .iter()
                .filter(|p| p.state == "ACTIVE")
                .map(|p| format!("{} (peering `{}`)", short(&p.network), p.name))
                .collect()
        })
        .unwrap_or_default()
}

/// The regions where the VPC has subnets.
fn regions(f: &Facts) -> BTreeSet<&str> {
    let vpc = f.vpc.as_ref().ok();
    vpc.map(|v| {
        v.subnets
            .iter()
            .map(|s| short(&s.region))
            .filter(|r| !r.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

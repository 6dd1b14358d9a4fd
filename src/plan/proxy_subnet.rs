//! Step 1: the region's proxy-only subnet (reuse the ACTIVE one, promote a BACKUP, or create one).

use ipnet::Ipv4Net;
use serde_json::json;

use crate::cidr::{self, Taken};
use crate::discover::ClusterInfo;
use crate::error;
use crate::gcp::model::{short, Subnetwork};
use crate::state::{self, Observed, Vpc};

use super::{proxy_subnet_name, sh_quote, Change, Notes, Settings, Step, PROXY_SUBNET};

/// Ranges a new proxy-only subnet must not overlap.
pub fn taken_ranges(seen: &Observed, vpc: &Vpc) -> Vec<Taken> {
    let mut t = vec![];
    for s in &vpc.subnets {
        if let Ok(r) = s.ip_cidr_range.parse() {
            t.push(Taken {
                range: r,
                what: format!("subnet `{}` in {}", s.name, short(&s.region)),
            });
        }
        for sr in &s.secondary_ip_ranges {
            if let Ok(r) = sr.ip_cidr_range.parse() {
                t.push(Taken {
                    range: r,
                    what: format!("secondary range `{}` of subnet `{}`", sr.range_name, s.name),
                });
            }
        }
    }
    let c = &seen.cluster;
    for (r, what) in [
        (&c.pod_range, "the cluster's pod range"),
        (&c.services_range, "the cluster's Service range"),
        (&c.master_range, "the cluster's control-plane range"),
    ] {
        if let Ok(r) = r.parse() {
            t.push(Taken {
                range: r,
                what: what.into(),
            });
        }
    }
    if vpc.auto_mode() {
        t.push(Taken {
            range: cidr::AUTO_MODE_BLOCK.parse().expect("constant"),
            what: "10.128.0.0/9, reserved for the subnets of an auto-mode VPC".into(),
        });
    }
    t
}

/// The proxy-only subnet step, and the range the proxies use.
pub fn step(seen: &Observed, vpc: &Vpc, s: &Settings, notes: &mut Notes) -> anyhow::Result<(Step, Ipv4Net)> {
    let c = &seen.cluster;
    let taken = taken_ranges(seen, vpc);
    // A given range is checked even when it turns out not to be needed.
    let user_range = match &s.proxy_range {
        Some(r) => Some(cidr::validate(r, &taken)?),
        None => None,
    };
    if let Some(active) = vpc.active_proxy_subnet(&c.region) {
        if s.proxy_range.is_some() {
            notes.warnings.push(format!(
                "--proxy-subnet-range is ignored: `{}` ({}) is already the ACTIVE proxy-only subnet, and a region \
                 and VPC can have only one",
                active.name, active.ip_cidr_range
            ));
        }
        return reuse_active(c, active);
    }
    let proxies = vpc.proxy_subnets(&c.region);
    if let Some(backup) = proxies.iter().find(|p| p.role.as_deref() == Some("BACKUP")) {
        return Ok(promote_backup(c, backup));
    }
    let range = match user_range {
        Some(r) => r,
        None => cidr::pick_free(&taken, cidr::DEFAULT_PREFIX).ok_or_else(|| {
            error::environment(
                "no free /23 is left in private address space for a proxy-only subnet",
                "pass a smaller free range with --proxy-subnet-range (a /26 at least)",
            )
        })?,
    };
    Ok((create(c, vpc.auto_mode(), range), range))
}

fn reuse_active(c: &ClusterInfo, a: &Subnetwork) -> anyhow::Result<(Step, Ipv4Net)> {
    let range: Ipv4Net = a.ip_cidr_range.parse().map_err(|_| {
        error::failed(
            format!("subnet `{}` has an unreadable range `{}`", a.name, a.ip_cidr_range),
            "check it with `gcloud compute networks subnets describe`",
        )
    })?;
    let legacy = if a.purpose.as_deref() == Some("INTERNAL_HTTPS_LOAD_BALANCER") {
        " (legacy purpose INTERNAL_HTTPS_LOAD_BALANCER: works, migrate when convenient)"
    } else {
        ""
    };
    let target = format!("{} {}", a.name, a.ip_cidr_range);
    let reason = format!("ACTIVE proxy-only subnet in {}/{}{legacy}", c.region, c.network);
    let step = if state::is_ours_gcp(a.description.as_deref()) {
        PROXY_SUBNET.noop(target, reason)
    } else {
        PROXY_SUBNET.reuse(target, reason)
    };
    Ok((step, range))
}

fn promote_backup(c: &ClusterInfo, backup: &Subnetwork) -> (Step, Ipv4Net) {
    let range = backup
        .ip_cidr_range
        .parse()
        .unwrap_or_else(|_| "0.0.0.0/32".parse().expect("constant"));
    let step = PROXY_SUBNET.update(
        format!("{} {}", backup.name, backup.ip_cidr_range),
        format!(
            "only a BACKUP proxy-only subnet exists in {}/{}: promote it to ACTIVE",
            c.region, c.network
        ),
        format!(
            "gcloud compute networks subnets update {} --role=ACTIVE --region={} --project={}",
            backup.name, c.region, c.network_project
        ),
        Change::PromoteSubnet {
            name: backup.name.clone(),
            body: json!({"role": "ACTIVE", "fingerprint": backup.fingerprint}),
        },
    );
    (step, range)
}

fn create(c: &ClusterInfo, auto_mode: bool, range: Ipv4Net) -> Step {
    let np = &c.network_project;
    let name = proxy_subnet_name(&c.network);
    let body = json!({
        "name": name, "network": format!("projects/{np}/global/networks/{}", c.network),
        "ipCidrRange": range.to_string(), "purpose": "REGIONAL_MANAGED_PROXY", "role": "ACTIVE",
        "description": state::gcp_marker(c),
    });
    let outside = if auto_mode {
        " and is outside the auto-mode block 10.128.0.0/9"
    } else {
        ""
    };
    PROXY_SUBNET.create(
        format!("{name} {range}"),
        format!(
            "no ACTIVE proxy-only subnet in {}/{}; {range} overlaps no subnet or cluster range{outside}",
            c.region, c.network
        ),
        format!(
            "gcloud compute networks subnets create {name} --purpose=REGIONAL_MANAGED_PROXY --role=ACTIVE \
             --region={} --network={} --range={range} --description={} --project={np}",
            c.region,
            c.network,
            sh_quote(&state::gcp_marker(c))
        ),
        Change::CreateSubnet { name, body },
    )
}

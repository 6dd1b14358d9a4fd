//! An ACTIVE proxy-only subnet in the cluster's region and VPC: without it an internal Ingress gets
//! no address.

use serde_json::json;

use crate::doctor::{Check, CheckId, Facts};

pub fn check(f: &Facts) -> Check {
    let id = CheckId::ProxySubnet;
    let c = f.cluster();
    let v = match &f.vpc {
        Ok(v) => v,
        Err(e) => return Check::fail(id, format!("could not read the VPC: {e}")),
    };
    let all = v.proxy_subnets(&c.region);
    let ev = json!(all
        .iter()
        .map(|s| json!({"name": s.name, "range": s.ip_cidr_range, "purpose": s.purpose, "role": s.role}))
        .collect::<Vec<_>>());
    let (region, network) = (&c.region, &c.network);
    let check = if let Some(a) = v.active_proxy_subnet(region) {
        if a.purpose.as_deref() == Some("INTERNAL_HTTPS_LOAD_BALANCER") {
            Check::warn(
                id,
                format!(
                    "`{}` {} is ACTIVE with the legacy purpose INTERNAL_HTTPS_LOAD_BALANCER",
                    a.name, a.ip_cidr_range
                ),
            )
            .hint("it works; Google calls the purpose legacy: plan a move to REGIONAL_MANAGED_PROXY")
        } else {
            Check::pass(
                id,
                format!("`{}` {} is ACTIVE in {region}/{network}", a.name, a.ip_cidr_range),
            )
        }
    } else if let Some(bk) = all.iter().find(|s| s.role.as_deref() == Some("BACKUP")) {
        Check::fail(
            id,
            format!(
                "only a BACKUP proxy-only subnet (`{}` {}) in {region}/{network}: \
                 the load balancer cannot get an address",
                bk.name, bk.ip_cidr_range
            ),
        )
        .hint(format!(
            "promote it: `gcloud compute networks subnets update {} --role=ACTIVE --region={region} --project={}`",
            bk.name, c.network_project
        ))
    } else {
        Check::fail(
            id,
            format!("no ACTIVE proxy-only subnet in {region}/{network}: an internal Ingress gets no address"),
        )
        .hint(missing_hint(f, v))
    };
    check.evidence(ev)
}

/// install, or the exact gcloud with a free /23 of the VPC; on a Shared VPC whose host project
/// does not let the caller create subnets, the gcloud for its network admin.
fn missing_hint(f: &Facts, v: &crate::state::Vpc) -> String {
    let c = f.cluster();
    let (region, network, np) = (&c.region, &c.network, &c.network_project);
    let taken = crate::plan::taken_ranges(&f.seen, v);
    let range = crate::cidr::pick_free(&taken, crate::cidr::DEFAULT_PREFIX)
        .map(|r| r.to_string())
        .unwrap_or_else(|| "RANGE".into());
    let gcloud = format!(
        "gcloud compute networks subnets create proxy-only-{network} --purpose=REGIONAL_MANAGED_PROXY --role=ACTIVE \
         --region={region} --network={network} --range={range} --project={np}"
    );
    let host_denies =
        matches!(&f.denied_host, Some(Ok(h)) if h.missing.iter().any(|p| p == "compute.subnetworks.create"));
    if host_denies {
        return format!(
            "you may not create subnets in Shared VPC host project {np}: ask its network admin to run `{gcloud}` \
             (a free /23), then `kubectl kasten-ilb install -n {}`",
            f.namespace
        );
    }
    if f.k10().is_some_and(|k| k.auth.is_none()) {
        // install refuses to expose K10 without sign-in (see the K10 check), so it is no repair here.
        return format!("`{gcloud}` (a free /23); install creates one too, once K10 has an auth method");
    }
    format!(
        "`kubectl kasten-ilb install -n {}` creates one, or `{gcloud}` (a free /23)",
        f.namespace
    )
}

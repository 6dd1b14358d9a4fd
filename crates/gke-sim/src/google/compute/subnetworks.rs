//! Subnetworks: list, aggregated list, get, insert, patch, delete.

use std::net::Ipv4Addr;

use axum::http::Method;
use axum::response::Response;
use ipnet::Ipv4Net;
use serde_json::{json, Value};

use super::Req;
use crate::google::{
    aggregated, google_error, list_response, net_url_of, not_found, ok, overlaps, regions, rfc1918_or_shared,
};
use crate::schema;
use crate::world::{now_rfc3339, World, AUTO_MODE_BLOCK};

pub(super) fn handle(w: &mut World, req: &Req<'_>) -> Response {
    let (project, query) = (req.project, req.query);
    match (req.method, req.segs) {
        (&Method::GET, ["regions", r, "subnetworks"]) => {
            let items: Vec<Value> = w
                .compute
                .subnetworks
                .iter()
                .filter(|(k, _)| k.starts_with(&format!("{r}/")))
                .map(|(_, v)| v.clone())
                .collect();
            list_response(
                "compute#subnetworkList",
                format!("{}/subnetworks", w.region_url(r)),
                items,
                query,
            )
        }
        (&Method::GET, ["aggregated", "subnetworks"]) => {
            let scopes = regions(w).into_iter().map(|r| format!("regions/{r}")).collect();
            let items = w
                .compute
                .subnetworks
                .iter()
                .map(|(k, v)| {
                    (
                        format!("regions/{}", k.split('/').next().unwrap_or_default()),
                        v.clone(),
                    )
                })
                .collect();
            aggregated(
                "compute#subnetworkAggregatedList",
                "subnetworks",
                w,
                scopes,
                items,
                query,
            )
        }
        (&Method::GET, ["regions", r, "subnetworks", s]) => match w.compute.subnetworks.get(&format!("{r}/{s}")) {
            Some(v) => ok(v),
            None => not_found(&format!("projects/{project}/regions/{r}/subnetworks/{s}")),
        },
        (&Method::POST, ["regions", r, "subnetworks"]) => {
            let b = match req.json() {
                Ok(b) => b,
                Err(e) => return e,
            };
            insert_subnet(w, r, b)
        }
        (&Method::PATCH, ["regions", r, "subnetworks", s]) => {
            let b = match req.json() {
                Ok(b) => b,
                Err(e) => return e,
            };
            patch_subnet(w, r, s, b)
        }
        (&Method::DELETE, ["regions", r, "subnetworks", s]) => delete_subnet(w, r, s),
        _ => req.unknown(),
    }
}

fn insert_subnet(w: &mut World, region: &str, b: Value) -> Response {
    let name = match super::checked_insert(&b, "Subnetwork", "compute.subnetworks.insert") {
        Ok(n) => n,
        Err(r) => return r,
    };
    if w.compute.subnetworks.contains_key(&format!("{region}/{name}")) {
        return google_error(
            409,
            &format!(
                "The resource 'projects/{}/regions/{region}/subnetworks/{name}' already exists",
                w.project
            ),
            "alreadyExists",
        );
    }
    let Some(net_url) = net_url_of(w, b["network"].as_str().unwrap_or_default()) else {
        return google_error(
            404,
            &format!(
                "The resource '{}' was not found",
                b["network"].as_str().unwrap_or_default()
            ),
            "notFound",
        );
    };
    let range_s = b["ipCidrRange"].as_str().unwrap_or_default().to_string();
    let range = match parse_range(&range_s) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let purpose = b["purpose"].as_str().unwrap_or("PRIVATE").to_string();
    let proxy = purpose == "REGIONAL_MANAGED_PROXY"
        || purpose == "GLOBAL_MANAGED_PROXY"
        || purpose == "INTERNAL_HTTPS_LOAD_BALANCER";
    let role = b["role"].as_str().map(str::to_string);
    if let Err(e) = check_role(w, region, &net_url, (&range, &range_s), &purpose, role.as_deref()) {
        return e;
    }
    if let Err(e) = check_overlaps(w, &net_url, (&range, &range_s)) {
        return e;
    }
    let id = w.new_id();
    let url = w.subnet_url(region, &name);
    let mut s = json!({"kind": "compute#subnetwork", "id": id, "creationTimestamp": now_rfc3339(), "name": name,
        "network": net_url, "ipCidrRange": range_s, "region": w.region_url(region), "selfLink": url, "purpose": purpose,
        "stackType": "IPV4_ONLY",
        "fingerprint": crate::world::compute::fingerprint(&id)});
    if let Some(d) = b["description"].as_str() {
        s["description"] = json!(d);
    }
    if proxy {
        if let Some(r) = role {
            s["role"] = json!(r);
        }
        s["state"] = json!("READY");
    } else {
        s["gatewayAddress"] = json!(Ipv4Addr::from(u32::from(range.network()) + 1).to_string());
        s["privateIpGoogleAccess"] = json!(b["privateIpGoogleAccess"].as_bool().unwrap_or(false));
        if b["secondaryIpRanges"].is_array() {
            s["secondaryIpRanges"] = b["secondaryIpRanges"].clone();
        }
    }
    w.compute.subnetworks.insert(format!("{region}/{name}"), s);
    if let Some(n) = w
        .compute
        .networks
        .values_mut()
        .find(|n| n["selfLink"] == json!(net_url))
    {
        if let Some(a) = n["subnetworks"].as_array_mut() {
            a.push(json!(url));
        }
    }
    ok(w.operation(&format!("regions/{region}"), "insert", &url, None))
}

fn patch_subnet(w: &mut World, region: &str, name: &str, b: Value) -> Response {
    if let Err(e) = schema::validate("compute", "Subnetwork", &b, "compute.subnetworks.patch") {
        return google_error(400, &e, "invalid");
    }
    let key = format!("{region}/{name}");
    let Some(cur) = w.compute.subnetworks.get(&key).cloned() else {
        return not_found(&format!("projects/{}/regions/{region}/subnetworks/{name}", w.project));
    };
    // "An up-to-date fingerprint must be provided in order to update the Subnetwork, otherwise the
    // request will fail with error 412 conditionNotMet": a missing one fails like a stale one.
    if b["fingerprint"].as_str() != cur["fingerprint"].as_str() {
        return google_error(412, "Invalid fingerprint.", "conditionNotMet");
    }
    let mut next = cur.clone();
    if let Some(role) = b["role"].as_str() {
        if cur["role"].is_null() {
            return google_error(
                400,
                "Invalid value for field 'resource.role': Role can only be set for proxy-only subnetworks.",
                "invalid",
            );
        }
        if role == "ACTIVE" && cur["role"] != json!("ACTIVE") {
            // Promotion: the current ACTIVE one of the same purpose becomes BACKUP (draining).
            let purpose = cur["purpose"].clone();
            let net = cur["network"].clone();
            for (k, s) in w.compute.subnetworks.iter_mut() {
                if k.starts_with(&format!("{region}/"))
                    && s["purpose"] == purpose
                    && s["network"] == net
                    && s["role"] == json!("ACTIVE")
                {
                    s["role"] = json!("BACKUP");
                    s["state"] = json!("DRAINING");
                }
            }
        }
        next["role"] = json!(role);
    }
    for f in ["description", "privateIpGoogleAccess", "secondaryIpRanges", "logConfig"] {
        if !b[f].is_null() {
            next[f] = b[f].clone();
        }
    }
    next["fingerprint"] = json!(crate::world::compute::fingerprint(&format!(
        "{}{}",
        next["id"], w.resource_version
    )));
    w.resource_version += 1;
    w.compute.subnetworks.insert(key, next);
    let url = w.subnet_url(region, name);
    ok(w.operation(&format!("regions/{region}"), "patch", &url, None))
}

fn delete_subnet(w: &mut World, region: &str, name: &str) -> Response {
    let key = format!("{region}/{name}");
    let Some(cur) = w.compute.subnetworks.get(&key).cloned() else {
        return not_found(&format!("projects/{}/regions/{region}/subnetworks/{name}", w.project));
    };
    let proxy = cur["purpose"] != json!("PRIVATE");
    if proxy && cur["role"] == json!("ACTIVE") {
        let user = w.compute.forwarding_rules.iter().find(|(k, f)| {
            k.starts_with(&format!("{region}/"))
                && f["network"] == cur["network"]
                && f["loadBalancingScheme"] == json!("INTERNAL_MANAGED")
        });
        if let Some((_, f)) = user {
            return google_error(
                400,
                &format!(
                    "The subnetwork resource '{}' is already being used by '{}'",
                    cur["selfLink"].as_str().unwrap_or_default(),
                    f["selfLink"].as_str().unwrap_or_default()
                ),
                "resourceInUseByAnotherResource",
            );
        }
    }
    w.compute.subnetworks.remove(&key);
    let url = w.subnet_url(region, name);
    for n in w.compute.networks.values_mut() {
        if let Some(a) = n["subnetworks"].as_array_mut() {
            a.retain(|s| s != &json!(url));
        }
    }
    ok(w.operation(&format!("regions/{region}"), "delete", &url, None))
}

/// Proxy-only subnets: a /26 or larger range, a role, and one ACTIVE per region and network.
fn check_role(
    w: &World,
    region: &str,
    net_url: &str,
    (range, range_s): (&Ipv4Net, &str),
    purpose: &str,
    role: Option<&str>,
) -> Result<(), Response> {
    let proxy = purpose == "REGIONAL_MANAGED_PROXY"
        || purpose == "GLOBAL_MANAGED_PROXY"
        || purpose == "INTERNAL_HTTPS_LOAD_BALANCER";
    if proxy {
        if range.prefix_len() > 26 {
            return Err(google_error(
                400,
                &format!(
                    "Invalid value for field 'resource.ipCidrRange': '{range_s}'. The \
                proxy-only subnetwork must have a prefix length of /26 or shorter."
                ),
                "invalid",
            ));
        }
        if role.is_none() && purpose != "INTERNAL_HTTPS_LOAD_BALANCER" {
            return Err(google_error(
                400,
                &format!(
                    "Invalid value for field 'resource.role': ''. The role must be \
                specified for subnetworks with purpose {purpose}."
                ),
                "invalid",
            ));
        }
        if role == Some("ACTIVE") || purpose == "INTERNAL_HTTPS_LOAD_BALANCER" {
            let clash = w.compute.subnetworks.iter().find(|(k, s)| {
                let p = s["purpose"].as_str().unwrap_or_default();
                k.starts_with(&format!("{region}/"))
                    && s["network"] == json!(net_url)
                    && s["role"] == json!("ACTIVE")
                    && (p == purpose
                        || (p == "INTERNAL_HTTPS_LOAD_BALANCER" && purpose == "REGIONAL_MANAGED_PROXY")
                        || (p == "REGIONAL_MANAGED_PROXY" && purpose == "INTERNAL_HTTPS_LOAD_BALANCER"))
            });
            if let Some((_, s)) = clash {
                return Err(google_error(
                    400,
                    &format!(
                        "Invalid value for field 'resource.role': 'ACTIVE'. An active proxy-only subnetwork with \
                            purpose {} already exists in region {region} and network '{}': '{}'.",
                        s["purpose"].as_str().unwrap_or_default(),
                        net_url,
                        s["name"].as_str().unwrap_or_default()
                    ),
                    "invalid",
                ));
            }
        }
    } else if role.is_some() {
        return Err(google_error(
            400,
            "Invalid value for field 'resource.role': Role can only be set for proxy-only subnetworks.",
            "invalid",
        ));
    }
    Ok(())
}

/// No overlap with any primary or secondary range of the network, nor with the auto-mode block.
fn check_overlaps(w: &World, net_url: &str, (range, range_s): (&Ipv4Net, &str)) -> Result<(), Response> {
    let range = *range;
    let auto = w
        .compute
        .networks
        .values()
        .find(|n| n["selfLink"] == json!(net_url))
        .is_some_and(|n| n["autoCreateSubnetworks"] == json!(true));
    if auto {
        let block: Ipv4Net = AUTO_MODE_BLOCK.parse().unwrap();
        if overlaps(&block, &range) {
            return Err(google_error(
                400,
                &format!(
                    "Invalid IPCidrRange: {range_s} conflicts with the range {AUTO_MODE_BLOCK} that is \
                    reserved for the subnetworks of auto mode network '{}'.",
                    net_url.rsplit('/').next().unwrap_or_default()
                ),
                "invalid",
            ));
        }
    }
    for (k, s) in &w.compute.subnetworks {
        if s["network"] != json!(net_url) {
            continue;
        }
        let mut rs: Vec<(String, String)> =
            vec![(s["ipCidrRange"].as_str().unwrap_or_default().to_string(), String::new())];
        for sr in s["secondaryIpRanges"].as_array().into_iter().flatten() {
            rs.push((
                sr["ipCidrRange"].as_str().unwrap_or_default().to_string(),
                sr["rangeName"].as_str().unwrap_or_default().to_string(),
            ));
        }
        for (r, rn) in rs {
            if let Ok(other) = r.parse::<Ipv4Net>() {
                if overlaps(&other, &range) {
                    let (sreg, sname) = k.split_once('/').unwrap_or_default();
                    let what = if rn.is_empty() {
                        String::new()
                    } else {
                        format!(" secondary range '{rn}' of")
                    };
                    return Err(google_error(
                        400,
                        &format!(
                            "Invalid IPCidrRange: {range_s} conflicts with{what} \
                        existing subnetwork '{sname}' in region '{sreg}'."
                        ),
                        "invalid",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A subnet's primary range: a valid, normalised, private IPv4 range.
fn parse_range(range_s: &str) -> Result<Ipv4Net, Response> {
    let invalid = |why: &str| {
        let msg = format!(
            "Invalid value for field 'resource.ipCidrRange': '{range_s}'. Invalid IPCidrRange: {range_s} {why}"
        );
        Err(google_error(400, &msg, "invalid"))
    };
    let Ok(range) = range_s.parse::<Ipv4Net>() else {
        return invalid("is not a valid IPv4 range.");
    };
    if range.trunc() != range {
        return invalid("has bits set beyond the prefix length.");
    }
    if !rfc1918_or_shared(&range) {
        return invalid("is not in a valid private IPv4 range.");
    }
    Ok(range)
}

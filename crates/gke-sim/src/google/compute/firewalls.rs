//! Firewall rules: list, get, insert, patch/update, delete.

use std::net::Ipv4Addr;

use axum::http::Method;
use axum::response::Response;
use ipnet::Ipv4Net;
use serde_json::{json, Value};

use super::Req;
use crate::google::{google_error, list_response, net_url_of, not_found, ok};
use crate::schema;
use crate::world::{now_rfc3339, World};

pub(super) fn handle(w: &mut World, req: &Req<'_>) -> Response {
    let (project, query) = (req.project, req.query);
    match (req.method, req.segs) {
        (&Method::GET, ["global", "firewalls"]) => {
            let items: Vec<Value> = w.compute.firewalls.values().cloned().collect();
            list_response(
                "compute#firewallList",
                format!("{}/global/firewalls", w.project_url()),
                items,
                query,
            )
        }
        (&Method::GET, ["global", "firewalls", f]) => match w.compute.firewalls.get(*f) {
            Some(v) => ok(v),
            None => not_found(&format!("projects/{project}/global/firewalls/{f}")),
        },
        (&Method::POST, ["global", "firewalls"]) => {
            let b = match req.json() {
                Ok(b) => b,
                Err(e) => return e,
            };
            insert_firewall(w, b)
        }
        (&Method::PATCH, ["global", "firewalls", f]) | (&Method::PUT, ["global", "firewalls", f]) => {
            let b = match req.json() {
                Ok(b) => b,
                Err(e) => return e,
            };
            if let Err(e) = schema::validate("compute", "Firewall", &b, "compute.firewalls.patch") {
                return google_error(400, &e, "invalid");
            }
            let Some(cur) = w.compute.firewalls.get(*f).cloned() else {
                return not_found(&format!("projects/{project}/global/firewalls/{f}"));
            };
            let mut next = if *req.method == Method::PUT {
                b.clone()
            } else {
                cur.clone()
            };
            if *req.method == Method::PATCH {
                json_patch::merge(&mut next, &b);
            }
            for k in ["id", "selfLink", "creationTimestamp", "kind", "name", "network"] {
                if next.get(k).is_none() || k != "network" {
                    next[k] = cur[k].clone();
                }
            }
            if next["network"].is_null() {
                next["network"] = cur["network"].clone();
            }
            w.compute.firewalls.insert(f.to_string(), next);
            let link = format!("{}/global/firewalls/{f}", w.project_url());
            ok(w.operation("global", "patch", &link, None))
        }
        (&Method::DELETE, ["global", "firewalls", f]) => {
            if w.compute.firewalls.remove(*f).is_none() {
                return not_found(&format!("projects/{project}/global/firewalls/{f}"));
            }
            let link = format!("{}/global/firewalls/{f}", w.project_url());
            ok(w.operation("global", "delete", &link, None))
        }
        _ => req.unknown(),
    }
}

fn insert_firewall(w: &mut World, b: Value) -> Response {
    let name = match super::checked_insert(&b, "Firewall", "compute.firewalls.insert") {
        Ok(n) => n,
        Err(r) => return r,
    };
    if w.compute.firewalls.contains_key(&name) {
        return google_error(
            409,
            &format!(
                "The resource 'projects/{}/global/firewalls/{name}' already exists",
                w.project
            ),
            "alreadyExists",
        );
    }
    let net = b["network"].as_str().unwrap_or("global/networks/default");
    let Some(net_url) = net_url_of(w, net) else {
        return google_error(404, &format!("The resource '{net}' was not found"), "notFound");
    };
    let allowed = b["allowed"].as_array().is_some_and(|a| !a.is_empty());
    let denied = b["denied"].as_array().is_some_and(|a| !a.is_empty());
    if allowed == denied {
        return google_error(
            400,
            "Invalid value for field 'resource': exactly one of 'allowed' or 'denied' must be specified.",
            "invalid",
        );
    }
    if let Err(e) = check_ranges_and_ports(&b) {
        return e;
    }
    let id = w.new_id();
    let mut f = b.clone();
    f["kind"] = json!("compute#firewall");
    f["id"] = json!(id);
    f["network"] = json!(net_url);
    f["creationTimestamp"] = json!(now_rfc3339());
    f["selfLink"] = json!(format!("{}/global/firewalls/{name}", w.project_url()));
    if f["direction"].is_null() {
        f["direction"] = json!("INGRESS");
    }
    if f["priority"].is_null() {
        f["priority"] = json!(1000);
    }
    if f["disabled"].is_null() {
        f["disabled"] = json!(false);
    }
    if f["direction"] == json!("INGRESS")
        && f["sourceRanges"].is_null()
        && f["sourceTags"].is_null()
        && f["sourceServiceAccounts"].is_null()
    {
        f["sourceRanges"] = json!(["0.0.0.0/0"]);
    }
    if f["logConfig"].is_null() {
        f["logConfig"] = json!({"enable": false});
    }
    w.compute.firewalls.insert(name.clone(), f);
    let link = format!("{}/global/firewalls/{name}", w.project_url());
    ok(w.operation("global", "insert", &link, None))
}

/// Every source or destination range is an address or CIDR range; every port a number or range.
fn check_ranges_and_ports(b: &Value) -> Result<(), Response> {
    for r in b["sourceRanges"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(b["destinationRanges"].as_array().into_iter().flatten())
    {
        let s = r.as_str().unwrap_or_default();
        if s.parse::<Ipv4Net>().is_err() && s.parse::<Ipv4Addr>().is_err() {
            return Err(google_error(
                400,
                &format!(
                    "Invalid value for field 'resource.sourceRanges[0]': '{s}'. Must \
                be a CIDR address range that is contained in the network."
                ),
                "invalid",
            ));
        }
    }
    for e in b["allowed"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(b["denied"].as_array().into_iter().flatten())
    {
        for p in e["ports"].as_array().into_iter().flatten() {
            let s = p.as_str().unwrap_or_default();
            let ok = match s.split_once('-') {
                Some((a, c)) => a.parse::<u16>().is_ok() && c.parse::<u16>().is_ok(),
                None => s.parse::<u16>().is_ok(),
            };
            if !ok {
                return Err(google_error(
                    400,
                    &format!(
                        "Invalid value for field 'resource.allowed[0].ports[0]': '{s}'. Invalid port specification."
                    ),
                    "invalid",
                ));
            }
        }
    }
    Ok(())
}

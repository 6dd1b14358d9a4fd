//! The simulated Google APIs: Compute Engine v1 (the resources an internal Ingress touches),
//! Kubernetes Engine v1 (clusters) and Cloud Resource Manager `testIamPermissions`.
//!
//! Request bodies are checked against Google's discovery schemas; lists page (`maxResults`,
//! `pageToken`) and honour `filter`; mutations return real operations (RUNNING, then DONE).

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use ipnet::Ipv4Net;
use serde_json::{json, Value};

use crate::filter::GoogleFilter;
use crate::schema;
use crate::world::{now_rfc3339, World};
use crate::Shared;

mod compute;

use compute::compute;

pub fn google_error(code: u16, message: &str, reason: &str) -> Response {
    let status = match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        412 => "FAILED_PRECONDITION",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        _ => "INTERNAL",
    };
    let body = json!({"error": {"code": code, "message": message, "errors": [{"message": message, "domain": "global", "reason": reason}], "status": status}});
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [("content-type", "application/json; charset=UTF-8")],
        body.to_string(),
    )
        .into_response()
}

/// A 200 with `v` (owned, or borrowed from the world: a read needs no copy of what it shows).
pub(crate) fn ok(v: impl std::borrow::Borrow<Value>) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json; charset=UTF-8")],
        crate::json_bytes(v.borrow()),
    )
        .into_response()
}

fn q(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == key).then(|| crate::urldecode(v))
    })
}

fn not_found(what: &str) -> Response {
    google_error(404, &format!("The resource '{what}' was not found"), "notFound")
}

/// Page a list: `maxResults` (default and cap 500) and an opaque `pageToken`.
fn page(items: Vec<Value>, query: &str) -> Result<(Vec<Value>, Option<String>), Response> {
    let max = q(query, "maxResults")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(500)
        .clamp(1, 500);
    let start = match q(query, "pageToken") {
        Some(t) if !t.is_empty() => match t.strip_prefix("sim-page-").and_then(|n| n.parse::<usize>().ok()) {
            Some(n) => n,
            None => {
                return Err(google_error(
                    400,
                    &format!("Invalid value for field 'pageToken': '{t}'. Supplied page token is not valid."),
                    "invalid",
                ))
            }
        },
        _ => 0,
    };
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(start).take(max).collect();
    let next = (start + max < total).then(|| format!("sim-page-{}", start + max));
    Ok((page, next))
}

fn filtered(items: Vec<Value>, query: &str) -> Result<Vec<Value>, Response> {
    match q(query, "filter") {
        Some(f) if !f.trim().is_empty() => {
            let f = GoogleFilter::parse(&f).map_err(|e| google_error(400, &e, "invalid"))?;
            Ok(items.into_iter().filter(|i| f.matches(i)).collect())
        }
        _ => Ok(items),
    }
}

fn list_response(kind: &str, self_link: String, items: Vec<Value>, query: &str) -> Response {
    let items = match filtered(items, query) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let (items, next) = match page(items, query) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut v = json!({"kind": kind, "id": self_link, "items": items, "selfLink": self_link});
    if let Some(n) = next {
        v["nextPageToken"] = json!(n);
    }
    ok(v)
}

/// Aggregated list: `items` keyed by `regions/R` or `zones/Z`; empty scopes carry a warning.
fn aggregated(
    kind: &str,
    field: &str,
    w: &World,
    scopes: Vec<String>,
    items: Vec<(String, Value)>,
    query: &str,
) -> Response {
    let f = match q(query, "filter") {
        Some(f) if !f.trim().is_empty() => match GoogleFilter::parse(&f) {
            Ok(f) => Some(f),
            Err(e) => return google_error(400, &e, "invalid"),
        },
        _ => None,
    };
    let items: Vec<(String, Value)> = items
        .into_iter()
        .filter(|(_, v)| f.as_ref().is_none_or(|f| f.matches(v)))
        .collect();
    let flat: Vec<Value> = items.iter().map(|(s, v)| json!([s, v])).collect();
    let (pg, next) = match page(flat, query) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut map = serde_json::Map::new();
    for s in &scopes {
        map.insert(s.clone(), json!({"warning": {"code": "NO_RESULTS_ON_PAGE", "message": format!("There are no results for scope '{s}' on this page."), "data": [{"key": "scope", "value": s}]}}));
    }
    for pair in pg {
        let scope = pair[0].as_str().unwrap_or_default().to_string();
        let entry = map.entry(scope).or_insert_with(|| json!({}));
        if entry.get("warning").is_some() {
            *entry = json!({field: []});
        }
        entry[field].as_array_mut().unwrap().push(pair[1].clone());
    }
    let link = format!("{}/aggregated/{field}", w.project_url());
    let mut v = json!({"kind": kind, "id": link, "items": map, "selfLink": link});
    if let Some(n) = next {
        v["nextPageToken"] = json!(n);
    }
    ok(v)
}

fn net_url_of(w: &World, v: &str) -> Option<String> {
    let name = v.rsplit('/').next()?;
    if !w.compute.networks.contains_key(name) {
        return None;
    }
    Some(w.network_url(name))
}

fn rfc1918_or_shared(n: &Ipv4Net) -> bool {
    let allowed: [Ipv4Net; 7] = [
        "10.0.0.0/8".parse().unwrap(),
        "172.16.0.0/12".parse().unwrap(),
        "192.168.0.0/16".parse().unwrap(),
        "100.64.0.0/10".parse().unwrap(),
        "192.0.0.0/24".parse().unwrap(),
        "198.18.0.0/15".parse().unwrap(),
        "240.0.0.0/4".parse().unwrap(),
    ];
    allowed.iter().any(|a| a.contains(n))
}

fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

pub async fn handle(state: Shared, method: Method, path: String, query: String, body: Vec<u8>) -> Response {
    // Operation waits block outside the lock.
    if method == Method::POST && path.ends_with("/wait") && path.contains("/operations/") {
        let key = op_key(path.trim_end_matches("/wait"));
        let done_at = { state.lock().unwrap().compute.operations.get(&key).map(|o| o.done_at) };
        let Some(done_at) = done_at else {
            return not_found(&path);
        };
        let now = Instant::now();
        if done_at > now {
            tokio::time::sleep((done_at - now).min(Duration::from_secs(120))).await;
        }
        let (op, links) = {
            let w = state.lock().unwrap();
            (ok(w.op_view(&key).unwrap()), crate::xpn::links(&w))
        };
        return crate::xpn::rewrite(links, op).await;
    }
    if let Some(rest) = path.strip_prefix("/compute/v1/") {
        let (resp, links) = {
            let mut w = state.lock().unwrap();
            (compute(&mut w, method, rest, &query, &body), crate::xpn::links(&w))
        };
        return crate::xpn::rewrite(links, resp).await;
    }
    let mut w = state.lock().unwrap();
    if let Some(rest) = path.strip_prefix("/crm/v1/") {
        if let Some(r) = crate::xpn::iam_policy(&mut w, rest, &body) {
            return r;
        }
        return crm(&w, rest, &body);
    }
    if let Some(rest) = path.strip_prefix("/v1/") {
        return container(&mut w, method, rest, &query, &body);
    }
    google_error(
        404,
        &format!("The requested URL {path} was not found on this server."),
        "notFound",
    )
}

/// `/compute/v1/projects/p/regions/r/operations/NAME` -> `regions/r/NAME`.
fn op_key(path: &str) -> String {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let i = segs.iter().position(|s| *s == "operations").unwrap_or(0);
    let scope = segs[4..i].join("/");
    format!("{scope}/{}", segs.get(i + 1).unwrap_or(&""))
}

fn crm(w: &World, rest: &str, body: &[u8]) -> Response {
    // projects/{p}:testIamPermissions
    let Some(p) = rest
        .strip_prefix("projects/")
        .and_then(|r| r.strip_suffix(":testIamPermissions"))
    else {
        return google_error(404, "Method not found.", "notFound");
    };
    if let Some(r) = crate::xpn::test_iam(w, p, body) {
        return r;
    }
    if p != w.project && p != w.project_number {
        return google_error(
            403,
            &format!("The caller does not have permission (project {p})"),
            "forbidden",
        );
    }
    let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let granted: Vec<Value> = req["permissions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p.as_str().is_some_and(|p| !w.permission_denied(p)))
        .cloned()
        .collect();
    if granted.is_empty() {
        return ok(json!({}));
    }
    ok(json!({"permissions": granted}))
}

fn regions(w: &World) -> Vec<String> {
    let mut r: Vec<String> = w
        .compute
        .subnetworks
        .keys()
        .map(|k| k.split('/').next().unwrap_or_default().to_string())
        .collect();
    r.sort();
    r.dedup();
    r
}

fn zones(w: &World) -> Vec<String> {
    let mut z: Vec<String> = w.zones.clone();
    for k in w.compute.negs.keys() {
        z.push(k.split('/').next().unwrap_or_default().to_string());
    }
    z.sort();
    z.dedup();
    z
}

// ---------------------------------------------------------------- Kubernetes Engine

fn container(w: &mut World, method: Method, rest: &str, query: &str, body: &[u8]) -> Response {
    let _ = query;
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if segs.len() < 2 || segs[0] != "projects" {
        return google_error(404, "Not Found", "notFound");
    }
    let project = segs[1];
    if project != w.project && project != w.project_number {
        return google_error(
            403,
            &format!("Permission denied on resource project {project}."),
            "forbidden",
        );
    }
    if w.permission_denied("container.clusters.get") {
        return google_error(403, &format!("Required \"container.clusters.get\" permission(s) for \"projects/{project}/locations/{}/clusters/{}\".", w.location, w.cluster_name), "forbidden");
    }
    let loc_ok = |l: &str, w: &World| l == "-" || l == w.location || l == w.region;
    match (&method, &segs[2..]) {
        (&Method::GET, ["locations" | "zones", l, "clusters"]) => {
            let items = if loc_ok(l, w) { vec![w.cluster.clone()] } else { vec![] };
            ok(json!({"clusters": items}))
        }
        (&Method::GET, ["locations" | "zones", l, "clusters", c]) => {
            if *c == w.cluster_name && (*l == w.location) {
                ok(&w.cluster)
            } else {
                google_error(
                    404,
                    &format!("Not found: projects/{project}/locations/{l}/clusters/{c}."),
                    "notFound",
                )
            }
        }
        (&Method::PUT, ["locations" | "zones", l, "clusters", c])
        | (&Method::POST, ["locations" | "zones", l, "clusters", c]) => {
            let c = c.trim_end_matches(":setAddons");
            if c != w.cluster_name || *l != w.location {
                return google_error(
                    404,
                    &format!("Not found: projects/{project}/locations/{l}/clusters/{c}."),
                    "notFound",
                );
            }
            let b: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let (schema_name, method_id) = if c.ends_with(":setAddons") || method == Method::POST {
                (
                    "SetAddonsConfigRequest",
                    "container.projects.locations.clusters.setAddons",
                )
            } else {
                ("UpdateClusterRequest", "container.projects.locations.clusters.update")
            };
            if let Err(e) = schema::validate("container", schema_name, &b, method_id) {
                return google_error(400, &e, "invalid");
            }
            let addons = if b["update"]["desiredAddonsConfig"].is_object() {
                b["update"]["desiredAddonsConfig"].clone()
            } else {
                b["addonsConfig"].clone()
            };
            if let Some(m) = addons.as_object() {
                for (k, v) in m {
                    w.cluster["addonsConfig"][k] = v.clone();
                }
            }
            if let Some(ch) = b["update"]["desiredGatewayApiConfig"]["channel"].as_str() {
                crate::gateway_api::set_channel(w, ch);
            }
            let id = w.new_id();
            let op = format!("operation-{id}");
            let v = json!({"name": op, "zone": w.location, "operationType": "UPDATE_CLUSTER", "status": "DONE",
                "selfLink": format!("{}/v1/projects/{}/zones/{}/operations/{op}", w.base_url, w.project_number, w.location),
                "targetLink": format!("{}/v1/projects/{}/zones/{}/clusters/{}", w.base_url, w.project_number, w.location, w.cluster_name),
                "startTime": now_rfc3339(), "endTime": now_rfc3339(), "location": format!("projects/{}/locations/{}", w.project_number, w.location)});
            w.compute.operations.insert(
                format!("container/{op}"),
                crate::world::Op {
                    value: v.clone(),
                    done_at: Instant::now(),
                },
            );
            ok(v)
        }
        (&Method::GET, ["locations" | "zones", _l, "operations", op]) => {
            match w.compute.operations.get(&format!("container/{op}")) {
                Some(o) => ok(&o.value),
                None => google_error(404, &format!("Not found: operation {op}."), "notFound"),
            }
        }
        _ => google_error(404, "Not Found", "notFound"),
    }
}

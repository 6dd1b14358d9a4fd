//! The simulated Google APIs: Compute Engine v1 (the resources an internal Ingress touches),
//! Kubernetes Engine v1 (clusters) and Cloud Resource Manager `testIamPermissions`.
//!
//! Request bodies are checked against Google's discovery schemas; lists page (`maxResults`,
//! `pageToken`) and honour `filter`; mutations return real operations (RUNNING, then DONE).

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use ipnet::Ipv4Net;
use serde_json::{json, Value};

use crate::filter::GoogleFilter;
use crate::schema;
use crate::world::{now_rfc3339, World, AUTO_MODE_BLOCK};
use crate::Shared;

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

fn ok(v: Value) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json; charset=UTF-8")],
        v.to_string(),
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
        let w = state.lock().unwrap();
        return ok(w.op_view(&key).unwrap());
    }
    let mut w = state.lock().unwrap();
    if let Some(rest) = path.strip_prefix("/compute/v1/") {
        return compute(&mut w, method, rest, &query, &body);
    }
    if let Some(rest) = path.strip_prefix("/crm/v1/") {
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

fn compute(w: &mut World, method: Method, rest: &str, query: &str, body: &[u8]) -> Response {
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if segs.len() < 2 || segs[0] != "projects" {
        return google_error(404, "Not Found", "notFound");
    }
    let project = segs[1];
    if project != w.project {
        return not_found(&format!("projects/{project}"));
    }
    let segs = &segs[2..];
    // Permission check (simulated IAM).
    let (coll, action) = match segs {
        ["global", c, ..] | ["aggregated", c, ..] => (*c, segs.get(3).copied()),
        ["regions", _, c, ..] | ["zones", _, c, ..] => (*c, segs.get(4).copied()),
        _ => ("projects", None),
    };
    let perm_coll = match (segs.first(), coll) {
        (Some(&"regions"), "backendServices") => "regionBackendServices",
        (Some(&"regions"), "healthChecks") => "regionHealthChecks",
        (Some(&"regions"), "urlMaps") => "regionUrlMaps",
        (Some(&"regions"), "targetHttpProxies") => "regionTargetHttpProxies",
        (Some(&"global"), "forwardingRules") => "globalForwardingRules",
        (_, c) => c,
    };
    let named = matches!(
        segs,
        ["global" | "aggregated", _, _, ..] | ["regions" | "zones", _, _, _, ..]
    );
    let verb = match (&method, action) {
        (_, Some("getHealth")) => "get",
        (_, Some("listNetworkEndpoints")) => "listNetworkEndpoints",
        (&Method::GET, _) if named => "get",
        (&Method::GET, _) => "list",
        (&Method::POST, _) => "create",
        (&Method::PATCH | &Method::PUT, _) => "update",
        (&Method::DELETE, _) => "delete",
        _ => "get",
    };
    let perm = format!("compute.{perm_coll}.{verb}");
    if coll != "operations" && w.permission_denied(&perm) {
        return google_error(
            403,
            &format!(
                "Required '{perm}' permission for 'projects/{project}/{}'",
                segs.join("/")
            ),
            "forbidden",
        );
    }
    let body_json = || -> Result<Value, Response> {
        serde_json::from_slice::<Value>(body)
            .map_err(|e| google_error(400, &format!("Invalid JSON payload received. {e}"), "parseError"))
    };
    match (&method, segs) {
        (&Method::GET, ["global", "networks"]) => {
            let items: Vec<Value> = w.compute.networks.values().cloned().collect();
            list_response(
                "compute#networkList",
                format!("{}/global/networks", w.project_url()),
                items,
                query,
            )
        }
        (&Method::GET, ["global", "networks", n]) => match w.compute.networks.get(*n) {
            Some(v) => ok(v.clone()),
            None => not_found(&format!("projects/{project}/global/networks/{n}")),
        },
        // ---- subnetworks
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
            Some(v) => ok(v.clone()),
            None => not_found(&format!("projects/{project}/regions/{r}/subnetworks/{s}")),
        },
        (&Method::POST, ["regions", r, "subnetworks"]) => {
            let b = match body_json() {
                Ok(b) => b,
                Err(e) => return e,
            };
            insert_subnet(w, r, b)
        }
        (&Method::PATCH, ["regions", r, "subnetworks", s]) => {
            let b = match body_json() {
                Ok(b) => b,
                Err(e) => return e,
            };
            patch_subnet(w, r, s, b)
        }
        (&Method::DELETE, ["regions", r, "subnetworks", s]) => delete_subnet(w, r, s),
        // ---- firewalls
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
            Some(v) => ok(v.clone()),
            None => not_found(&format!("projects/{project}/global/firewalls/{f}")),
        },
        (&Method::POST, ["global", "firewalls"]) => {
            let b = match body_json() {
                Ok(b) => b,
                Err(e) => return e,
            };
            insert_firewall(w, b)
        }
        (&Method::PATCH, ["global", "firewalls", f]) | (&Method::PUT, ["global", "firewalls", f]) => {
            let b = match body_json() {
                Ok(b) => b,
                Err(e) => return e,
            };
            if let Err(e) = schema::validate("compute", "Firewall", &b, "compute.firewalls.patch") {
                return google_error(400, &e, "invalid");
            }
            let Some(cur) = w.compute.firewalls.get(*f).cloned() else {
                return not_found(&format!("projects/{project}/global/firewalls/{f}"));
            };
            let mut next = if method == Method::PUT { b.clone() } else { cur.clone() };
            if method == Method::PATCH {
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
        // ---- NEGs
        (&Method::GET, ["aggregated", "networkEndpointGroups"]) => {
            let scopes = zones(w).into_iter().map(|z| format!("zones/{z}")).collect();
            let items = w
                .compute
                .negs
                .iter()
                .map(|(k, v)| {
                    (
                        format!("zones/{}", k.split('/').next().unwrap_or_default()),
                        public_neg(v),
                    )
                })
                .collect();
            aggregated(
                "compute#networkEndpointGroupAggregatedList",
                "networkEndpointGroups",
                w,
                scopes,
                items,
                query,
            )
        }
        (&Method::GET, ["zones", z, "networkEndpointGroups"]) => {
            let items: Vec<Value> = w
                .compute
                .negs
                .iter()
                .filter(|(k, _)| k.starts_with(&format!("{z}/")))
                .map(|(_, v)| public_neg(v))
                .collect();
            list_response(
                "compute#networkEndpointGroupList",
                format!("{}/networkEndpointGroups", w.zone_url(z)),
                items,
                query,
            )
        }
        (&Method::GET, ["zones", z, "networkEndpointGroups", n]) => match w.compute.negs.get(&format!("{z}/{n}")) {
            Some(v) => ok(public_neg(v)),
            None => not_found(&format!("projects/{project}/zones/{z}/networkEndpointGroups/{n}")),
        },
        (&Method::POST, ["zones", z, "networkEndpointGroups", n, "listNetworkEndpoints"]) => {
            let Some(neg) = w.compute.negs.get(&format!("{z}/{n}")).cloned() else {
                return not_found(&format!("projects/{project}/zones/{z}/networkEndpointGroups/{n}"));
            };
            let show = serde_json::from_slice::<Value>(body)
                .map(|b| b["healthStatus"] == json!("SHOW"))
                .unwrap_or(false);
            let region = w.region.clone();
            let health = w
                .compute
                .backend_services
                .keys()
                .find(|k| k.ends_with(&format!("/{n}")))
                .map(|k| k.split('/').nth(1).unwrap_or_default().to_string());
            let states = health
                .as_ref()
                .map(|bs| crate::controller::backend_health(w, bs))
                .unwrap_or_default();
            let items: Vec<Value> = neg["endpoints"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| {
                    let mut item = json!({"networkEndpoint": {"ipAddress": e["ipAddress"], "port": e["port"], "instance": e["instance"]}});
                    if show {
                        let st = states.iter().find(|s| Some(s.0.as_str()) == e["ipAddress"].as_str()).map(|s| s.3).unwrap_or("UNKNOWN");
                        item["healths"] = json!([{"healthState": st,
                            "backendService": {"backendService": format!("{}/backendServices/{n}", w.region_url(&region))},
                            "healthCheck": {"healthCheck": format!("{}/healthChecks/{n}", w.region_url(&region))}}]);
                    }
                    item
                })
                .collect();
            let (items, next) = match page(items, query) {
                Ok(x) => x,
                Err(r) => return r,
            };
            let mut v = json!({"kind": "compute#networkEndpointGroupsListNetworkEndpoints", "items": items});
            if let Some(n) = next {
                v["nextPageToken"] = json!(n);
            }
            ok(v)
        }
        // ---- load balancer pieces
        (&Method::GET, ["regions", r, kind]) if REGIONAL_KINDS.contains(kind) => {
            let map = regional_map(w, kind);
            let items: Vec<Value> = map
                .iter()
                .filter(|(k, _)| k.starts_with(&format!("{r}/")))
                .map(|(_, v)| strip_private(v))
                .collect();
            let k = format!("compute#{}List", singular(kind));
            list_response(&k, format!("{}/{kind}", w.region_url(r)), items, query)
        }
        (&Method::GET, ["regions", r, kind, n]) if REGIONAL_KINDS.contains(kind) => {
            match regional_map(w, kind).get(&format!("{r}/{n}")) {
                Some(v) => ok(strip_private(v)),
                None => not_found(&format!("projects/{project}/regions/{r}/{kind}/{n}")),
            }
        }
        (&Method::GET, ["global", "forwardingRules"]) => {
            let items: Vec<Value> = w.compute.global_forwarding_rules.values().cloned().collect();
            list_response(
                "compute#forwardingRuleList",
                format!("{}/global/forwardingRules", w.project_url()),
                items,
                query,
            )
        }
        (&Method::POST, ["regions", r, "backendServices", bs, "getHealth"]) => {
            let Some(_) = w.compute.backend_services.get(&format!("{r}/{bs}")) else {
                return not_found(&format!("projects/{project}/regions/{r}/backendServices/{bs}"));
            };
            let b = match body_json() {
                Ok(b) => b,
                Err(e) => return e,
            };
            if let Err(e) = schema::validate(
                "compute",
                "ResourceGroupReference",
                &b,
                "compute.regionBackendServices.getHealth",
            ) {
                return google_error(400, &e, "invalid");
            }
            let group = b["group"].as_str().unwrap_or_default().to_string();
            let neg = w
                .compute
                .negs
                .values()
                .find(|n| {
                    n["selfLink"].as_str() == Some(&group)
                        || group.ends_with(
                            n["selfLink"]
                                .as_str()
                                .unwrap_or("\u{0}")
                                .split("/compute/v1/")
                                .nth(1)
                                .unwrap_or("\u{0}"),
                        )
                })
                .cloned();
            let Some(neg) = neg else {
                return google_error(
                    400,
                    &format!(
                        "Invalid value for field 'resourceGroupReference.group': '{group}'. Unknown backend group."
                    ),
                    "invalid",
                );
            };
            let ips: Vec<String> = neg["endpoints"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["ipAddress"].as_str().map(str::to_string))
                .collect();
            let zone = neg["zone"]
                .as_str()
                .unwrap_or_default()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string();
            let fr_ip = w
                .compute
                .forwarding_rules
                .values()
                .next()
                .and_then(|f| f["IPAddress"].as_str())
                .map(str::to_string);
            let hs: Vec<Value> = crate::controller::backend_health(w, bs)
                .into_iter()
                .filter(|h| ips.contains(&h.0))
                .map(|(ip, port, inst, st)| {
                    let mut v = json!({"ipAddress": ip, "port": port, "instance": format!("{}/instances/{inst}", w.zone_url(&zone)), "healthState": st});
                    if let Some(f) = &fr_ip {
                        v["forwardingRuleIp"] = json!(f);
                    }
                    v
                })
                .collect();
            if hs.is_empty() {
                return ok(json!({"kind": "compute#backendServiceGroupHealth"}));
            }
            ok(json!({"kind": "compute#backendServiceGroupHealth", "healthStatus": hs}))
        }
        (&Method::POST, ["regions", r, "addresses"]) => {
            let b = match body_json() {
                Ok(b) => b,
                Err(e) => return e,
            };
            insert_address(w, r, b)
        }
        (&Method::DELETE, ["regions", r, "addresses", a]) => {
            if w.compute.addresses.remove(&format!("{r}/{a}")).is_none() {
                return not_found(&format!("projects/{project}/regions/{r}/addresses/{a}"));
            }
            let link = format!("{}/addresses/{a}", w.region_url(r));
            ok(w.operation(&format!("regions/{r}"), "delete", &link, None))
        }
        (&Method::GET, ["zones", z, "instances", i]) => match w.compute.instances.get(&format!("{z}/{i}")) {
            Some(v) => ok(v.clone()),
            None => not_found(&format!("projects/{project}/zones/{z}/instances/{i}")),
        },
        // ---- operations
        (&Method::GET, [scope @ .., "operations", name]) => {
            let key = format!("{}/{name}", scope.join("/"));
            match w.op_view(&key) {
                Some(v) => ok(v),
                None => not_found(&format!("projects/{project}/{}/operations/{name}", scope.join("/"))),
            }
        }
        (&Method::GET, []) => ok(
            json!({"kind": "compute#project", "name": w.project, "id": w.project_number, "selfLink": w.project_url()}),
        ),
        _ => google_error(
            404,
            &format!(
                "The requested URL /compute/v1/projects/{project}/{} was not found on this server.",
                segs.join("/")
            ),
            "notFound",
        ),
    }
}

/// Regional load-balancer collections served read-only (GKE's controller writes them).
const REGIONAL_KINDS: [&str; 6] = [
    "backendServices",
    "healthChecks",
    "urlMaps",
    "targetHttpProxies",
    "forwardingRules",
    "addresses",
];

fn singular(kind: &str) -> &str {
    match kind {
        "backendServices" => "backendService",
        "healthChecks" => "healthCheck",
        "urlMaps" => "urlMap",
        "targetHttpProxies" => "targetHttpProxy",
        "forwardingRules" => "forwardingRule",
        "addresses" => "address",
        _ => kind,
    }
}

fn regional_map<'a>(w: &'a World, kind: &str) -> &'a std::collections::BTreeMap<String, Value> {
    match kind {
        "backendServices" => &w.compute.backend_services,
        "healthChecks" => &w.compute.health_checks,
        "urlMaps" => &w.compute.url_maps,
        "targetHttpProxies" => &w.compute.target_proxies,
        "forwardingRules" => &w.compute.forwarding_rules,
        _ => &w.compute.addresses,
    }
}

/// NEGs carry their endpoints internally; the API shows only `size`.
fn public_neg(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("endpoints");
    }
    v
}

fn strip_private(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        m.retain(|_, x| !x.is_null());
    }
    v
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

fn insert_subnet(w: &mut World, region: &str, b: Value) -> Response {
    if let Err(e) = schema::validate("compute", "Subnetwork", &b, "compute.subnetworks.insert") {
        return google_error(400, &e, "invalid");
    }
    let name = b["name"].as_str().unwrap_or_default().to_string();
    if !schema::valid_name(&name) {
        return google_error(400, &format!("Invalid value for field 'resource.name': '{name}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{{0,61}}[a-z0-9])?)'"), "invalid");
    }
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
    let Ok(range) = range_s.parse::<Ipv4Net>() else {
        return google_error(400, &format!("Invalid value for field 'resource.ipCidrRange': '{range_s}'. Invalid IPCidrRange: {range_s} is not a valid IPv4 range."), "invalid");
    };
    if range.trunc() != range {
        return google_error(400, &format!("Invalid value for field 'resource.ipCidrRange': '{range_s}'. Invalid IPCidrRange: {range_s} has bits set beyond the prefix length."), "invalid");
    }
    if !rfc1918_or_shared(&range) {
        return google_error(400, &format!("Invalid value for field 'resource.ipCidrRange': '{range_s}'. Invalid IPCidrRange: {range_s} is not in a valid private IPv4 range."), "invalid");
    }
    let purpose = b["purpose"].as_str().unwrap_or("PRIVATE").to_string();
    let proxy = purpose == "REGIONAL_MANAGED_PROXY"
        || purpose == "GLOBAL_MANAGED_PROXY"
        || purpose == "INTERNAL_HTTPS_LOAD_BALANCER";
    let role = b["role"].as_str().map(str::to_string);
    if proxy {
        if range.prefix_len() > 26 {
            return google_error(400, &format!("Invalid value for field 'resource.ipCidrRange': '{range_s}'. The proxy-only subnetwork must have a prefix length of /26 or shorter."), "invalid");
        }
        if role.is_none() && purpose != "INTERNAL_HTTPS_LOAD_BALANCER" {
            return google_error(400, &format!("Invalid value for field 'resource.role': ''. The role must be specified for subnetworks with purpose {purpose}."), "invalid");
        }
        if role.as_deref() == Some("ACTIVE") || purpose == "INTERNAL_HTTPS_LOAD_BALANCER" {
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
                return google_error(
                    400,
                    &format!(
                        "Invalid value for field 'resource.role': 'ACTIVE'. An active proxy-only subnetwork with purpose {} already exists in region {region} and network '{}': '{}'.",
                        s["purpose"].as_str().unwrap_or_default(),
                        net_url,
                        s["name"].as_str().unwrap_or_default()
                    ),
                    "invalid",
                );
            }
        }
    } else if role.is_some() {
        return google_error(
            400,
            "Invalid value for field 'resource.role': Role can only be set for proxy-only subnetworks.",
            "invalid",
        );
    }
    // Overlaps: every primary and secondary range in the network, and the auto-mode block.
    let auto = w
        .compute
        .networks
        .values()
        .find(|n| n["selfLink"] == json!(net_url))
        .is_some_and(|n| n["autoCreateSubnetworks"] == json!(true));
    if auto {
        let block: Ipv4Net = AUTO_MODE_BLOCK.parse().unwrap();
        if overlaps(&block, &range) {
            return google_error(
                400,
                &format!("Invalid IPCidrRange: {range_s} conflicts with the range {AUTO_MODE_BLOCK} that is reserved for the subnetworks of auto mode network '{}'.", net_url.rsplit('/').next().unwrap_or_default()),
                "invalid",
            );
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
                    return google_error(400, &format!("Invalid IPCidrRange: {range_s} conflicts with{what} existing subnetwork '{sname}' in region '{sreg}'."), "invalid");
                }
            }
        }
    }
    let id = w.new_id();
    let url = w.subnet_url(region, &name);
    let mut s = json!({"kind": "compute#subnetwork", "id": id, "creationTimestamp": now_rfc3339(), "name": name, "network": net_url,
        "ipCidrRange": range_s, "region": w.region_url(region), "selfLink": url, "purpose": purpose, "stackType": "IPV4_ONLY",
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
    if let Some(fp) = b["fingerprint"].as_str() {
        if Some(fp) != cur["fingerprint"].as_str() {
            return google_error(412, "Invalid fingerprint.", "conditionNotMet");
        }
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

fn insert_firewall(w: &mut World, b: Value) -> Response {
    if let Err(e) = schema::validate("compute", "Firewall", &b, "compute.firewalls.insert") {
        return google_error(400, &e, "invalid");
    }
    let name = b["name"].as_str().unwrap_or_default().to_string();
    if !schema::valid_name(&name) {
        return google_error(400, &format!("Invalid value for field 'resource.name': '{name}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{{0,61}}[a-z0-9])?)'"), "invalid");
    }
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
    for r in b["sourceRanges"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(b["destinationRanges"].as_array().into_iter().flatten())
    {
        let s = r.as_str().unwrap_or_default();
        if s.parse::<Ipv4Net>().is_err() && s.parse::<Ipv4Addr>().is_err() {
            return google_error(400, &format!("Invalid value for field 'resource.sourceRanges[0]': '{s}'. Must be a CIDR address range that is contained in the network."), "invalid");
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
                return google_error(
                    400,
                    &format!(
                        "Invalid value for field 'resource.allowed[0].ports[0]': '{s}'. Invalid port specification."
                    ),
                    "invalid",
                );
            }
        }
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

fn insert_address(w: &mut World, region: &str, b: Value) -> Response {
    if let Err(e) = schema::validate("compute", "Address", &b, "compute.addresses.insert") {
        return google_error(400, &e, "invalid");
    }
    let name = b["name"].as_str().unwrap_or_default().to_string();
    if !schema::valid_name(&name) {
        return google_error(
            400,
            &format!("Invalid value for field 'resource.name': '{name}'."),
            "invalid",
        );
    }
    if w.compute.addresses.contains_key(&format!("{region}/{name}")) {
        return google_error(
            409,
            &format!(
                "The resource 'projects/{}/regions/{region}/addresses/{name}' already exists",
                w.project
            ),
            "alreadyExists",
        );
    }
    let internal = b["addressType"].as_str() == Some("INTERNAL");
    let ip = match b["address"].as_str() {
        Some(a) => a.to_string(),
        None if internal => w.alloc_internal_ip(),
        None => {
            let n = w.next_ip;
            w.next_ip += 1;
            format!("34.135.{}.{}", n / 250, n % 250 + 2)
        }
    };
    let id = w.new_id();
    let mut a = b.clone();
    a["kind"] = json!("compute#address");
    a["id"] = json!(id);
    a["address"] = json!(ip);
    a["status"] = json!("RESERVED");
    a["region"] = json!(w.region_url(region));
    a["selfLink"] = json!(format!("{}/addresses/{name}", w.region_url(region)));
    a["creationTimestamp"] = json!(now_rfc3339());
    if a["addressType"].is_null() {
        a["addressType"] = json!("EXTERNAL");
    }
    if internal {
        if a["subnetwork"].is_null() {
            let sn = w.cluster["subnetwork"].as_str().unwrap_or("default").to_string();
            a["subnetwork"] = json!(w.subnet_url(region, &sn));
        }
        if a["purpose"].is_null() {
            a["purpose"] = json!("GCE_ENDPOINT");
        }
    }
    let link = a["selfLink"].as_str().unwrap_or_default().to_string();
    w.compute.addresses.insert(format!("{region}/{name}"), a);
    ok(w.operation(&format!("regions/{region}"), "insert", &link, None))
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
                ok(w.cluster.clone())
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
                Some(o) => ok(o.value.clone()),
                None => google_error(404, &format!("Not found: operation {op}."), "notFound"),
            }
        }
        _ => google_error(404, "Not Found", "notFound"),
    }
}

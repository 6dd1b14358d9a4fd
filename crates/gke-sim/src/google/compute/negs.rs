//! Network endpoint groups: aggregated list, list, get, listNetworkEndpoints.

use axum::http::Method;
use axum::response::Response;
use serde_json::{json, Value};

use super::Req;
use crate::google::{aggregated, list_response, not_found, ok, page, zones};
use crate::world::World;

pub(super) fn handle(w: &mut World, req: &Req<'_>) -> Response {
    let (project, query) = (req.project, req.query);
    match (req.method, req.segs) {
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
            list_endpoints(w, req, z, n)
        }
        _ => req.unknown(),
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

/// `networkEndpointGroups.listNetworkEndpoints`, with health states when `healthStatus: SHOW`.
fn list_endpoints(w: &World, req: &Req<'_>, z: &str, n: &str) -> Response {
    let (project, query, body) = (req.project, req.query, req.body);
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
            let mut item =
                json!({"networkEndpoint": {"ipAddress": e["ipAddress"], "port": e["port"], "instance": e["instance"]}});
            if show {
                let st = states
                    .iter()
                    .find(|s| Some(s.0.as_str()) == e["ipAddress"].as_str())
                    .map(|s| s.3)
                    .unwrap_or("UNKNOWN");
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

//! Regional target HTTP and HTTPS proxies: two collections (`regionTargetHttpProxies`,
//! `regionTargetHttpsProxies` in the discovery document), each with list, get and its aggregated
//! list, as `gcloud compute target-http(s)-proxies list|describe --region` reads them. GKE's
//! controller writes both into one store; each collection serves only its own `kind`.

use axum::http::Method;
use axum::response::Response;
use serde_json::Value;

use super::Req;
use crate::google::{aggregated, list_response, not_found, ok, regions};
use crate::world::World;

/// The `kind` of a collection's items (`compute#targetHttpsProxy`); its lists add `List` and
/// `AggregatedList`.
pub(super) fn kind_of(coll: &str) -> Option<&'static str> {
    match coll {
        "targetHttpProxies" => Some("compute#targetHttpProxy"),
        "targetHttpsProxies" => Some("compute#targetHttpsProxy"),
        _ => None,
    }
}

pub(super) fn handle(w: &mut World, req: &Req<'_>, coll: &str) -> Response {
    let Some(kind) = kind_of(coll) else {
        return req.unknown();
    };
    let of_kind = |v: &Value| v["kind"] == kind;
    let (project, query) = (req.project, req.query);
    let proxies = &w.compute.target_proxies;
    match (req.method, req.segs) {
        (&Method::GET, ["regions", r, _]) => {
            let prefix = format!("{r}/");
            let items: Vec<Value> = proxies
                .iter()
                .filter(|(k, v)| k.starts_with(&prefix) && of_kind(v))
                .map(|(_, v)| without_nulls(v))
                .collect();
            list_response(
                &format!("{kind}List"),
                format!("{}/{coll}", w.region_url(r)),
                items,
                query,
            )
        }
        (&Method::GET, ["regions", r, _, n]) => match proxies.get(&format!("{r}/{n}")) {
            Some(v) if of_kind(v) => ok(without_nulls(v)),
            _ => not_found(&format!("projects/{project}/regions/{r}/{coll}/{n}")),
        },
        (&Method::GET, ["aggregated", _]) => {
            let scopes = regions(w).into_iter().map(|r| format!("regions/{r}")).collect();
            let items = proxies
                .iter()
                .filter(|(_, v)| of_kind(v))
                .map(|(k, v)| {
                    (
                        format!("regions/{}", k.split('/').next().unwrap_or_default()),
                        v.clone(),
                    )
                })
                .collect();
            aggregated(&format!("{kind}AggregatedList"), coll, w, scopes, items, query)
        }
        _ => req.unknown(),
    }
}

/// Compute leaves unset fields out (an external proxy has no `region`).
fn without_nulls(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        m.retain(|_, x| !x.is_null());
    }
    v
}

//! Networks (read-only) and the project itself.

use axum::http::Method;
use axum::response::Response;
use serde_json::{json, Value};

use super::Req;
use crate::google::{list_response, not_found, ok};
use crate::world::World;

pub(super) fn handle(w: &mut World, req: &Req<'_>) -> Response {
    let (project, query) = (req.project, req.query);
    match (req.method, req.segs) {
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
            Some(v) => ok(v),
            None => not_found(&format!("projects/{project}/global/networks/{n}")),
        },
        (&Method::GET, []) => ok(
            json!({"kind": "compute#project", "name": w.project, "id": w.project_number, "selfLink": w.project_url()}),
        ),
        _ => req.unknown(),
    }
}

//! VM instances (the cluster's nodes): get.

use axum::http::Method;
use axum::response::Response;

use super::Req;
use crate::google::{not_found, ok};
use crate::world::World;

pub(super) fn handle(w: &mut World, req: &Req<'_>) -> Response {
    let project = req.project;
    match (req.method, req.segs) {
        (&Method::GET, ["zones", z, "instances", i]) => match w.compute.instances.get(&format!("{z}/{i}")) {
            Some(v) => ok(v),
            None => not_found(&format!("projects/{project}/zones/{z}/instances/{i}")),
        },
        _ => req.unknown(),
    }
}

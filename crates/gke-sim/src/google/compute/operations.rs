//! Operations: get (wait is answered outside the world's lock, in `google::handle`).

use axum::http::Method;
use axum::response::Response;

use super::Req;
use crate::google::{not_found, ok};
use crate::world::World;

pub(super) fn handle(w: &mut World, req: &Req<'_>) -> Response {
    let project = req.project;
    match (req.method, req.segs) {
        (&Method::GET, [scope @ .., "operations", name]) => {
            let key = format!("{}/{name}", scope.join("/"));
            match w.op_view(&key) {
                Some(v) => ok(v),
                None => not_found(&format!("projects/{project}/{}/operations/{name}", scope.join("/"))),
            }
        }
        _ => req.unknown(),
    }
}

//! replace (PUT), of an object or its status.

use axum::response::Response;
use serde_json::Value;

use super::{conflict, get, not_found, status, write_back, Target};
use crate::Shared;

pub(super) fn replace(state: &Shared, t: &Target, name: &str, sub: Option<&str>, query: &str, body: &[u8]) -> Response {
    let Ok(mut obj) = serde_json::from_slice::<Value>(body) else {
        return status(
            400,
            "BadRequest",
            "the object provided is unrecognized (must be of type JSON)",
            None,
        );
    };
    let mut w = state.lock().unwrap();
    let Some(cur) = get(&w, t, name) else {
        return not_found(t.rd, name);
    };
    if let Some(rv) = obj["metadata"]["resourceVersion"].as_str() {
        if rv != cur["metadata"]["resourceVersion"].as_str().unwrap_or_default() {
            return conflict(t.rd, name);
        }
    }
    if sub == Some("status") {
        let mut c = cur.clone();
        c["status"] = obj["status"].clone();
        obj = c;
    } else if t.rd.kind != "Namespace" {
        obj["status"] = cur["status"].clone();
    }
    write_back(&mut w, t, obj, query)
}

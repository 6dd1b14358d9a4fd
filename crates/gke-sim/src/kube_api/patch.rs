//! patch (JSON, merge and strategic merge), of an object, its status or its scale.

use axum::response::Response;

use super::{apply_patch, conflict, get, not_found, ok_json, scale_of, write_back, Target};
use crate::Shared;

pub(super) fn patch(
    state: &Shared,
    t: &Target,
    name: &str,
    sub: Option<&str>,
    query: &str,
    ctype: &str,
    body: &[u8],
) -> Response {
    let mut w = state.lock().unwrap();
    let Some(cur) = get(&w, t, name) else {
        return not_found(t.rd, name);
    };
    let patched = if sub == Some("scale") {
        let mut scale = scale_of(&cur);
        match apply_patch(&mut scale, ctype, body, t.rd) {
            Ok(()) => {
                let mut c = cur.clone();
                c["spec"]["replicas"] = scale["spec"]["replicas"].clone();
                c
            }
            Err(r) => return r,
        }
    } else {
        let mut c = cur.clone();
        if let Err(r) = apply_patch(&mut c, ctype, body, t.rd) {
            return r;
        }
        if sub != Some("status") && t.rd.kind != "Event" && t.rd.kind != "Namespace" {
            c["status"] = cur["status"].clone();
        }
        c
    };
    if let Some(rv) = patched["metadata"]["resourceVersion"].as_str() {
        if rv != cur["metadata"]["resourceVersion"].as_str().unwrap_or_default() {
            return conflict(t.rd, name);
        }
    }
    let resp = write_back(&mut w, t, patched, query);
    if sub == Some("scale") {
        let d = get(&w, t, name).unwrap();
        return ok_json(200, &scale_of(&d));
    }
    resp
}

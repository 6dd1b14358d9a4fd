//! delete: at once, or (with finalizers) by setting deletionTimestamp.

use axum::response::Response;
use serde_json::json;

use super::{after_write, get, not_found, ok_json, Target};
use crate::world::now_rfc3339;
use crate::Shared;

pub(super) fn delete(state: &Shared, t: &Target, name: &str) -> Response {
    let mut w = state.lock().unwrap();
    let Some(mut cur) = get(&w, t, name) else {
        return not_found(t.rd, name);
    };
    let has_finalizers = cur["metadata"]["finalizers"].as_array().is_some_and(|f| !f.is_empty());
    if has_finalizers {
        if cur["metadata"]["deletionTimestamp"].is_null() {
            cur["metadata"]["deletionTimestamp"] = json!(now_rfc3339());
            cur["metadata"]["deletionGracePeriodSeconds"] = json!(0);
            cur = w.kube_put(cur);
        }
        return ok_json(200, &cur);
    }
    let ns = t.ns.clone().unwrap_or_default();
    w.kube_delete(t.rd.kind, &ns, name);
    after_write(&mut w);
    let details = json!({"name": name, "group": t.rd.group, "kind": t.rd.plural, "uid": cur["metadata"]["uid"]});
    ok_json(
        200,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}),
    )
}

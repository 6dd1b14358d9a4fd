//! delete: at once, or (with finalizers) by setting deletionTimestamp.

use axum::response::Response;
use serde_json::json;

use serde_json::Value;

use super::{after_write, details, get, not_found, ok_json, resource_label, status, Target};
use crate::world::now_rfc3339;
use crate::Shared;

/// `DeleteOptions.preconditions` (uid, resourceVersion) that the object no longer meets: the API
/// server answers 409 Conflict with this message (apiserver/pkg/registry/generic/registry/store.go).
fn precondition_failed(t: &Target, name: &str, cur: &Value, body: &[u8]) -> Option<Response> {
    let opts: Value = serde_json::from_slice(body).ok()?;
    let pre = &opts["preconditions"];
    for (field, key) in [("UID", "uid"), ("ResourceVersion", "resourceVersion")] {
        let Some(want) = pre[key].as_str() else { continue };
        let have = cur["metadata"][key].as_str().unwrap_or_default();
        if want != have {
            let msg = format!(
                "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: {field} in precondition: \
                 {want}, {field} in object meta: {have}",
                resource_label(t.rd)
            );
            return Some(status(409, "Conflict", &msg, details(t.rd, name)));
        }
    }
    None
}

pub(super) fn delete(state: &Shared, t: &Target, name: &str, body: &[u8]) -> Response {
    let mut w = state.lock().unwrap();
    let Some(mut cur) = get(&w, t, name) else {
        return not_found(t.rd, name);
    };
    if let Some(r) = precondition_failed(t, name, &cur, body) {
        return r;
    }
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

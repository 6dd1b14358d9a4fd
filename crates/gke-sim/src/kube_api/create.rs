//! create (POST on a collection), including SelfSubjectAccessReview.

use axum::response::Response;
use serde_json::{json, Value};

use super::{after_write, details, get, ok_json, query_param, resource_label, status, validate, Target};
use crate::world::World;
use crate::Shared;

pub(super) fn create(state: &Shared, t: &Target, query: &str, body: &[u8]) -> Response {
    let Ok(mut obj) = serde_json::from_slice::<Value>(body) else {
        return status(
            400,
            "BadRequest",
            "the object provided is unrecognized (must be of type JSON)",
            None,
        );
    };
    let mut w = state.lock().unwrap();
    if t.rd.plural == "selfsubjectaccessreviews" {
        return access_review(&w, obj);
    }
    if let Err(r) = place(&mut w, t, &mut obj) {
        return r;
    }
    if obj["kind"].as_str() != Some(t.rd.kind) {
        obj["kind"] = json!(t.rd.kind);
    }
    let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_string();
    if get(&w, t, &name).is_some() {
        return status(
            409,
            "AlreadyExists",
            &format!("{} \"{name}\" already exists", resource_label(t.rd)),
            details(t.rd, &name),
        );
    }
    if let Err(e) = super::names::object_name(t.rd.kind, &name).and_then(|()| validate(&obj, t.rd)) {
        return status(
            422,
            "Invalid",
            &format!("{} \"{name}\" is invalid: {e}", t.rd.kind),
            None,
        );
    }
    if query_param(query, "dryRun").is_some() {
        return ok_json(201, &obj);
    }
    if t.rd.kind == "Service" {
        crate::controller::admit_service(&w, &mut obj);
    }
    crate::gateway_api::admit(&mut obj);
    for k in [
        "resourceVersion",
        "uid",
        "creationTimestamp",
        "generation",
        "deletionTimestamp",
    ] {
        if let Some(m) = obj["metadata"].as_object_mut() {
            m.remove(k);
        }
    }
    let stored = w.kube_put(obj);
    after_write(&mut w);
    let fresh = get(&w, t, &name).unwrap_or(stored);
    ok_json(201, &fresh)
}

/// SelfSubjectAccessReview: allowed unless `verb resource` is in `World::denied_kube`.
fn access_review(w: &World, mut obj: Value) -> Response {
    let ra = &obj["spec"]["resourceAttributes"];
    let res = match ra["subresource"].as_str() {
        Some(s) if !s.is_empty() => format!("{}/{s}", ra["resource"].as_str().unwrap_or_default()),
        _ => ra["resource"].as_str().unwrap_or_default().to_string(),
    };
    let denied = w
        .denied_kube
        .iter()
        .any(|d| d == &format!("{} {res}", ra["verb"].as_str().unwrap_or_default()));
    obj["status"] = json!({"allowed": !denied});
    if denied {
        obj["status"]["reason"] = json!("");
    }
    obj["metadata"]["creationTimestamp"] = Value::Null;
    ok_json(201, &obj)
}

/// Put the object in the request's namespace (which must exist) and give it a name (from
/// `generateName` when it has none).
fn place(w: &mut World, t: &Target, obj: &mut Value) -> Result<(), Response> {
    if let Some(ns) = &t.ns {
        obj["metadata"]["namespace"] = json!(ns);
        if w.kube_get("Namespace", "", ns).is_none() && t.rd.namespaced {
            return Err(status(
                404,
                "NotFound",
                &format!("namespaces \"{ns}\" not found"),
                Some(json!({"name": ns, "kind": "namespaces"})),
            ));
        }
    }
    if obj["metadata"]["name"].as_str().is_none_or(|n| n.is_empty()) {
        match obj["metadata"]["generateName"].as_str() {
            Some(g) => {
                let id = w.new_id();
                obj["metadata"]["name"] = json!(format!("{g}{}", &id[id.len() - 5..]));
            }
            None => {
                return Err(status(
                    422,
                    "Invalid",
                    &format!(
                        "{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
                        t.rd.kind
                    ),
                    None,
                ))
            }
        }
    }
    Ok(())
}

//! `metav1.Condition`s as the Gateway API uses them (types and reasons from
//! kubernetes-sigs/gateway-api `apis/v1`), written so that an unchanged condition keeps its
//! `lastTransitionTime` and an unchanged status is not rewritten.

use serde_json::{json, Value};

use crate::world::now_rfc3339;

/// A condition, True when `ok`.
pub fn cond(typ: &str, ok: bool, reason: &str, message: &str, generation: i64) -> Value {
    json!({"type": typ, "status": if ok { "True" } else { "False" }, "reason": reason, "message": message,
           "observedGeneration": generation, "lastTransitionTime": now_rfc3339()})
}

/// `new`, keeping each condition's `lastTransitionTime` from `old` when its status is the same.
pub fn carry(old: &Value, new: Vec<Value>) -> Value {
    let kept = new
        .into_iter()
        .map(|mut c| {
            let before = old
                .as_array()
                .into_iter()
                .flatten()
                .find(|o| o["type"] == c["type"] && o["status"] == c["status"]);
            if let Some(b) = before {
                c["lastTransitionTime"] = b["lastTransitionTime"].clone();
            }
            c
        })
        .collect();
    Value::Array(kept)
}

/// The condition of a type in a list, if any.
pub fn find<'a>(conditions: &'a Value, typ: &str) -> Option<&'a Value> {
    conditions.as_array()?.iter().find(|c| c["type"] == json!(typ))
}

/// Is the condition of this type True?
pub fn is_true(conditions: &Value, typ: &str) -> bool {
    find(conditions, typ).is_some_and(|c| c["status"] == json!("True"))
}

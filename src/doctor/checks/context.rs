//! The kube context names a GKE cluster doctor could read.

use serde_json::json;

use crate::doctor::{Check, CheckId, Facts};

pub fn check(f: &Facts) -> Check {
    let c = f.cluster();
    Check::pass(CheckId::Context, format!("{} is GKE cluster {}", f.context, c.path())).evidence(json!({
        "context": f.context, "project": c.r.project, "location": c.r.location, "cluster": c.r.cluster,
    }))
}

//! Kubernetes RBAC and IAM allow everything install needs.

use serde_json::{json, Value};

use crate::doctor::{Check, CheckId, Facts};

const ROLES_HINT: &str = "README.md (Permissions) lists the least-privilege roles: roles/compute.networkAdmin + \
     roles/compute.securityAdmin (or a custom role with the permissions above) and namespace RBAC for kasten-io";

pub fn check(f: &Facts) -> Check {
    let id = CheckId::Permissions;
    match (&f.denied_kube, &f.denied_gcp) {
        (Ok(k), Ok(g)) if k.is_empty() && g.is_empty() => Check::pass(
            id,
            format!(
                "Kubernetes RBAC in {} and IAM on {} allow everything install needs",
                f.namespace,
                f.cluster().r.project
            ),
        )
        .evidence(json!({"kubernetesDenied": [], "iamMissing": []})),
        (Ok(k), Ok(g)) => {
            let mut parts = vec![];
            if !k.is_empty() {
                parts.push(format!("Kubernetes denies: {}", k.join(", ")));
            }
            if !g.is_empty() {
                parts.push(format!("IAM lacks: {}", g.join(", ")));
            }
            Check::fail(id, parts.join("; "))
                .hint(ROLES_HINT)
                .evidence(json!({"kubernetesDenied": k, "iamMissing": g}))
        }
        (k, g) => {
            let errs: Vec<String> = [k.as_ref().err(), g.as_ref().err()]
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            Check::warn(id, format!("could not ask: {}", errs.join("; ")))
                .hint("make sure SelfSubjectAccessReview and cloudresourcemanager testIamPermissions are reachable")
                .evidence(Value::Null)
        }
    }
}

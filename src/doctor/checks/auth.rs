//! K10's own sign-in: which method, and whether the chart would refuse to expose K10 without one
//! (its `authEnabled.check`, run only when the chart makes the Ingress: an Ingress made outside the
//! chart, like install's or the recipe's, bypasses it, so doctor runs the same check).

use serde_json::json;

use crate::doctor::{Check, CheckId, Facts};

const CHART_CHECK: &str = "the chart's authEnabled.check (\"Auth is required to expose access to K10.\")";

/// The method as people name it.
pub fn method(auth: &str) -> &str {
    match auth {
        "basic" => "basic (htpasswd)",
        "token" => "token",
        "oidc" => "OIDC",
        other => other,
    }
}

pub fn check(f: &Facts) -> Check {
    let id = CheckId::Auth;
    let Some(k) = f.k10() else {
        return Check::blocked(id, CheckId::K10, "K10 was not found");
    };
    let exposed: Vec<String> = f
        .ingresses()
        .iter()
        .filter_map(|i| i.metadata.name.as_ref().map(|n| format!("ingress/{n}")))
        .collect();
    let ev = json!({"auth": k.auth, "exposedBy": exposed, "chartCheck": "authEnabled.check"});
    let c = match (&k.auth, exposed.is_empty()) {
        (Some(a), _) => Check::pass(
            id,
            format!(
                "{}: the chart's own check (authEnabled.check) would allow exposure",
                method(a)
            ),
        ),
        (None, false) => Check::fail(
            id,
            format!(
                "no authentication, yet {} expose(s) K10: {CHART_CHECK} refuses this, but an Ingress made outside the \
                 chart bypasses it",
                exposed.join(", ")
            ),
        )
        .hint(format!(
            "configure auth: `helm upgrade {} kasten/k10 -n {} --reuse-values --set auth.tokenAuth.enabled=true`",
            k.release, f.namespace
        )),
        (None, true) => Check::warn(
            id,
            format!("no authentication: {CHART_CHECK} would refuse to expose K10, and so does install"),
        )
        .hint("configure auth before exposing K10 (`--set auth.tokenAuth.enabled=true`)"),
    };
    c.evidence(ev)
}

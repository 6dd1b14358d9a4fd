//! K10's gateway runs, with authentication (mandatory once an Ingress exposes it).

use serde_json::json;

use crate::doctor::{Check, CheckId, Facts};

pub fn check(f: &Facts) -> Check {
    let id = CheckId::K10;
    let ns = &f.namespace;
    let Some(k) = f.k10() else {
        let why = f.k10_error.clone().unwrap_or_default();
        return Check::fail(id, why).hint(format!("is K10 installed in `{ns}`? pass its namespace with -n"));
    };
    let exposed = f.ip().is_some();
    let ready = k.ready_pods();
    let ev = json!({
        "release": k.release, "readyPods": ready, "pods": k.pods.len(), "auth": k.auth,
        "servicePort": k.service_port, "targetPort": k.target_port, "containerPort": k.container_port,
    });
    let release = &k.release;
    let c = if ready == 0 {
        Check::fail(
            id,
            format!("release `{release}`: the gateway Deployment has no ready pods"),
        )
        .hint(format!(
            "`kubectl -n {ns} describe deployment gateway` and `kubectl -n {ns} get pods -l service=gateway`"
        ))
    } else if k.auth.is_none() && exposed {
        Check::fail(
            id,
            format!(
                "release `{release}` has NO authentication and is exposed through an Ingress: \
                 anyone who reaches it controls your backups"
            ),
        )
        .hint(
            "configure auth now (e.g. `--set auth.tokenAuth.enabled=true`), or remove the Ingress: \
             `kubectl kasten-ilb uninstall`",
        )
    } else if k.auth.is_none() {
        Check::warn(
            id,
            format!("release `{release}`: {ready} ready gateway pod(s), but no authentication is configured"),
        )
        .hint("configure an auth method before exposing K10 (`helm upgrade ... --set auth.tokenAuth.enabled=true`)")
    } else {
        let auth = k.auth.clone().unwrap_or_default();
        Check::pass(
            id,
            format!("release `{release}`: {ready} ready gateway pod(s), auth: {auth}"),
        )
    };
    c.evidence(ev)
}

//! K10's gateway runs, with authentication (mandatory once an Ingress exposes it).

use serde_json::json;

use crate::discover::K10;
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
        "waitingForLoadBalancer": k.pods.iter().filter(|p| p.waits_for_lb).count(),
        "servicePort": k.service_port, "targetPort": k.target_port, "containerPort": k.container_port,
    });
    let release = &k.release;
    let c = if let Some(c) = no_ready_pods(k, ns) {
        c
    } else if k.auth.is_none() && exposed {
        Check::fail(
            id,
            format!(
                "release `{release}` has NO authentication and is exposed through an Ingress: \
                 anyone who reaches it controls your backups"
            ),
        )
        .hint(format!(
            "remove the exposure now: `{}`; then choose an auth method (no single \
             command can choose it for you), e.g. `helm upgrade {release} kasten/k10 -n {ns} --reuse-values \
             --set auth.tokenAuth.enabled=true`, and install again",
            unexpose(f, ns)
        ))
    } else if let Some(c) = stalled_rollout(k) {
        c
    } else if k.auth.is_none() {
        Check::warn(
            id,
            format!("release `{release}`: {ready} ready gateway pod(s), but no authentication is configured"),
        )
        .hint(format!(
            "configure an auth method before exposing K10: install refuses without one, and no single command can \
             choose it for you (e.g. `helm upgrade {release} kasten/k10 -n {ns} --reuse-values \
             --set auth.tokenAuth.enabled=true`)"
        ))
    } else {
        let auth = k.auth.clone().unwrap_or_default();
        Check::pass(
            id,
            format!("release `{release}`: {ready} ready gateway pod(s), auth: {auth}"),
        )
    };
    c.evidence(ev)
}

const GATE: &str = "the load balancer's readiness gate (cloud.google.com/load-balancer-neg-ready)";
const GATE_CAUSE: &str = "the cause is in the Firewall, Health check or Backend health check: GKE holds a new pod \
                          back until the load balancer sees it HEALTHY (and gives up 10 minutes after the pod was \
                          created)";

/// No ready gateway pod: scaled to 0 (FAIL), held by the readiness gate (WARN: the cause is
/// downstream), or not ready (FAIL).
fn no_ready_pods(k: &K10, ns: &str) -> Option<Check> {
    let (id, release, ready) = (CheckId::K10, &k.release, k.ready_pods());
    let waiting = k.pods.iter().filter(|p| p.waits_for_lb).count();
    let deployment = k.deployment.metadata.name.as_deref().unwrap_or("gateway");
    Some(if k.deployment.spec.replicas == Some(0) {
        Check::fail(
            id,
            format!("release `{release}`: the {deployment} Deployment is scaled to 0 replicas"),
        )
        .hint(format!("`kubectl -n {ns} scale deployment {deployment} --replicas=1`"))
    } else if ready > 0 {
        return None;
    } else if waiting > 0 {
        Check::warn(
            id,
            format!(
                "release `{release}`: {waiting} gateway pod(s) run but wait for {GATE}: the load balancer does not \
                 see them HEALTHY"
            ),
        )
        .hint(GATE_CAUSE)
    } else {
        Check::fail(
            id,
            format!("release `{release}`: the gateway Deployment has no ready pods"),
        )
        .hint(format!(
            "no single command repairs pods without knowing why they are not ready: \
             `kubectl -n {ns} describe deployment {deployment}` and `kubectl -n {ns} get pods -l service=gateway` \
             show it (an image that cannot be pulled, a crash loop, a failing readiness probe, no node with room); \
             decide from that whether K10's Helm values or the cluster's capacity must change"
        ))
    })
}

/// Ready pods, and new ones held by the readiness gate: a stalled rollout.
fn stalled_rollout(k: &K10) -> Option<Check> {
    let waiting = k.pods.iter().filter(|p| p.waits_for_lb).count();
    (waiting > 0).then(|| {
        Check::warn(
            CheckId::K10,
            format!(
                "release `{}`: {} ready gateway pod(s), but {waiting} new pod(s) wait for {GATE}: the rollout is \
                 stalled",
                k.release,
                k.ready_pods()
            ),
        )
        .hint(GATE_CAUSE)
    })
}

/// The command that takes the dashboard off its load balancer: uninstall when install made every
/// front end serving it, else a delete of the first one it did not make (uninstall leaves those).
fn unexpose(f: &Facts, ns: &str) -> String {
    let ours = crate::plan::Frontend::installed(&f.seen);
    let is_ours = |kind: &str, name: &str| ours.iter().any(|o| o.kind() == kind && o.name() == name);
    for i in f.ingresses() {
        let name = i.metadata.name.as_deref().unwrap_or_default();
        if !is_ours("Ingress", name) {
            return format!("kubectl -n {ns} delete ingress {name}");
        }
    }
    if let Some(g) = crate::doctor::checks::gateway::dashboard(&f.seen) {
        let name = g.metadata.name.as_deref().unwrap_or_default();
        if !is_ours("Gateway", name) {
            return format!("kubectl -n {ns} delete gateway {name}");
        }
    }
    format!("kubectl kasten-ilb uninstall -n {ns}")
}

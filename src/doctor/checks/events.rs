//! The ingress controller's Warning events about the Ingresses and Service gateway, explained.

use k8s_openapi::api::core::v1::Event;
use k8s_openapi::api::networking::v1::Ingress;
use serde_json::json;

use crate::doctor::{Check, CheckId, Facts};
use crate::state;

/// Known controller messages: (text in the message, cause, fix).
const KNOWN: &[(&str, &str, &str)] = &[
    (
        "A reserved and active subnetwork is required",
        "no ACTIVE proxy-only subnet in the region and VPC",
        "create one: `kubectl kasten-ilb install` (or `gcloud compute networks subnets create ... \
         --purpose=REGIONAL_MANAGED_PROXY --role=ACTIVE`)",
    ),
    (
        "doesn't translate to an existing static IP",
        "the static IP named in kubernetes.io/ingress.regional-static-ip-name does not exist",
        "reserve it: `gcloud compute addresses create NAME --region REGION --subnet SUBNET`",
    ),
    (
        "must be configured with a static-ip to use both HTTP and HTTPS",
        "HTTP and HTTPS on one internal IP need a static IP",
        "set kubernetes.io/ingress.allow-http: \"false\", or reserve a SHARED_LOADBALANCER_VIP address \
         and name it in the Ingress",
    ),
    (
        "both HTTP and HTTPS are disabled",
        "allow-http is false and there is no TLS",
        "add spec.tls, or remove kubernetes.io/ingress.allow-http: \"false\"",
    ),
    (
        "Could not find TLS certificate",
        "the TLS Secret named in spec.tls does not exist",
        "create it: `kubectl -n kasten-io create secret tls NAME --cert=... --key=...`",
    ),
    (
        "error initializing translator env: secrets",
        "the TLS Secret named in spec.tls does not exist",
        "create it: `kubectl -n kasten-io create secret tls NAME --cert=... --key=...`",
    ),
    (
        "Forwarding rule's subnetwork must have purpose=PRIVATE",
        "the static IP is in the proxy-only subnet; the load balancer's address must come from another subnet",
        "reserve an address in the cluster's subnet and name it in kubernetes.io/ingress.regional-static-ip-name",
    ),
    (
        "IP_IN_USE_BY_ANOTHER_RESOURCE",
        "the static IP is used by another forwarding rule",
        "reserve another address",
    ),
    (
        "Quota '",
        "a project quota is exhausted",
        "request more quota in the Cloud console (IAM & Admin > Quotas)",
    ),
    (
        "quotaExceeded",
        "a project quota is exhausted",
        "request more quota in the Cloud console (IAM & Admin > Quotas)",
    ),
    (
        "expected \"NodePort\" or \"LoadBalancer\" when not using NEGs",
        "Service gateway has no NEG annotation",
        "annotate it: `kubectl -n kasten-io annotate service gateway cloud.google.com/neg='{\"ingress\":true}'`",
    ),
    (
        "could not find service",
        "the Ingress names a Service that does not exist",
        "fix the backend service name in the Ingress",
    ),
    (
        "could not find port",
        "the Ingress names a Service port that does not exist",
        "use port 80 of Service gateway",
    ),
    (
        "BackendConfig",
        "the BackendConfig referenced by the Service is invalid or missing",
        "fix cloud.google.com/backend-config on Service gateway",
    ),
    (
        "Failed to Attach",
        "NEG endpoints cannot be attached (is the cluster VPC-native?)",
        "internal Ingress needs a VPC-native cluster",
    ),
];

/// Known controller messages -> (cause, fix).
pub fn explain_event(msg: &str) -> Option<(&'static str, &'static str)> {
    KNOWN.iter().find(|(k, _, _)| msg.contains(k)).map(|(_, c, f)| (*c, *f))
}

/// Warning events about the gateway Ingresses or Service gateway, oldest first. Matched by
/// `involvedObject.uid` where both sides have one: an earlier object of the same name (deleted and
/// recreated) left events that are not about the current one.
fn warnings<'a>(f: &'a Facts, ingresses: &[&Ingress]) -> Vec<&'a Event> {
    let service_uid = f.k10().and_then(|k| k.service.metadata.uid.clone());
    let about = |e: &Event| {
        let io = &e.involved_object;
        match io.kind.as_deref() {
            Some("Ingress") => ingresses
                .iter()
                .any(|i| i.metadata.name == io.name && state::same_object(e, i.metadata.uid.as_deref())),
            Some("Service") => io.name.as_deref() == Some("gateway") && state::same_object(e, service_uid.as_deref()),
            _ => false,
        }
    };
    let mut evs: Vec<&Event> = f
        .events
        .iter()
        .filter(|e| e.type_.as_deref() == Some("Warning"))
        .filter(|e| about(e))
        .collect();
    evs.sort_by_key(|e| e.last_timestamp.clone().map(|t| t.0));
    evs
}

/// A fix of [`KNOWN`] with the namespace in use (`-n`) and the Ingress's name in its commands.
fn in_namespace(fix: &str, ns: &str, ingress: &str) -> String {
    fix.replace("kubectl -n kasten-io ", &format!("kubectl -n {ns} "))
        .replace(
            "`kubectl kasten-ilb install`",
            &format!("`kubectl kasten-ilb install -n {ns}`"),
        )
        .replace(
            "`kubectl describe ingress`",
            &format!("`kubectl -n {ns} describe ingress {ingress}`"),
        )
}

pub fn check(f: &Facts) -> Check {
    let id = CheckId::Events;
    let ings = f.ingresses();
    if ings.is_empty() {
        return Check::skip(id, "no Ingress");
    }
    let evs = warnings(f, &ings);
    let Some(e) = evs.last() else {
        return Check::pass(id, "no Warning events for the Ingress or Service gateway").evidence(json!([]));
    };
    let msg = e.message.clone().unwrap_or_default();
    let (cause, fix) = explain_event(&msg).unwrap_or((
        "not a known message",
        "see `kubectl describe ingress` and Google's troubleshooting page for GKE Ingress",
    ));
    let name = e.involved_object.name.clone().unwrap_or_default();
    let fix = super::event_fixes::exact(f, &name, &msg).unwrap_or_else(|| in_namespace(fix, &f.namespace, &name));
    let finding = format!(
        "{} {name}: {msg} (cause: {cause})",
        e.reason.clone().unwrap_or_default()
    );
    let c = if f.ip().is_some() {
        Check::warn(id, finding)
    } else {
        Check::fail(id, finding)
    };
    let ev: Vec<_> = evs
        .iter()
        .rev()
        .take(5)
        .map(|e| json!({"reason": e.reason, "object": e.involved_object.name, "message": e.message, "count": e.count}))
        .collect();
    c.hint(fix).evidence(json!(ev))
}

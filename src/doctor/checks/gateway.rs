//! Gateway mode: the Gateway that serves the dashboard is of class gke-l7-rilb, `Accepted` and
//! `Programmed` with an address, and each listener has `ResolvedRefs` (its TLS Secret exists).

use serde_json::json;

use crate::discover::K10;
use crate::doctor::{Check, CheckId, Facts};
use crate::gateway::{self, describe, gateway_view, is_true, route_view, GatewayView, Kind};
use crate::state::Observed;
use crate::verify::Endpoint;

/// Whether doctor checks a Gateway setup: a Gateway serves the dashboard (an HTTPRoute to Service
/// gateway attaches to it) and no Ingress routes to gateway.
pub fn mode(f: &Facts) -> bool {
    gateway_mode(&f.seen)
}

pub fn gateway_mode(seen: &Observed) -> bool {
    seen.gateway_ingresses().is_empty() && (!seen.gateway.dashboard_gateways().is_empty() || seen.gateway.any_ours())
}

/// The dashboard's Gateway (the first a route to gateway attaches to, else install's).
pub fn dashboard(seen: &Observed) -> Option<&kube::api::DynamicObject> {
    let api = &seen.gateway;
    api.dashboard_gateways()
        .into_iter()
        .next()
        .or_else(|| api.gateways.iter().find(|g| gateway::is_ours(g)))
}

/// Where doctor's curl goes in Gateway mode: the Gateway's address, the route's path and host.
pub fn curl_target(seen: &Observed, k: &K10) -> Option<(Endpoint, String)> {
    let ip = gateway_view(dashboard(seen)?).address()?;
    let route = seen.gateway.routes_to_gateway().first().map(|r| route_view(r));
    let path = route
        .as_ref()
        .and_then(|r| r.path())
        .unwrap_or_else(|| k.dashboard_path());
    let path = crate::plan::normalize_path(&path).unwrap_or(path);
    let host = route.and_then(|r| r.spec.hostnames.first().cloned());
    Some((Endpoint { https: false, ip, host }, path))
}

pub fn check(f: &Facts) -> Check {
    let id = CheckId::Gateway;
    let ns = &f.namespace;
    let Some(g) = dashboard(&f.seen) else {
        return Check::fail(id, format!("no Gateway in `{ns}` serves the dashboard"))
            .hint(format!("`kubectl kasten-ilb install -n {ns} --via gateway`"));
    };
    let name = g.metadata.name.clone().unwrap_or_default();
    let v = gateway_view(g);
    let class = g.data["spec"]["gatewayClassName"].as_str().unwrap_or_default();
    let ev = json!({"gateway": name, "class": class, "address": v.address(),
        "conditions": v.status.conditions.iter().map(|c| json!({"type": c.type_, "status": c.status,
            "reason": c.reason})).collect::<Vec<_>>()});
    if class != gateway::CLASS {
        let patch = json!({"spec": {"gatewayClassName": gateway::CLASS}});
        return Check::fail(
            id,
            format!(
                "{name}: class `{class}`, not {} (the regional internal load balancer)",
                gateway::CLASS
            ),
        )
        .hint(format!(
            "`kubectl -n {ns} patch gateway {name} --type=merge -p '{patch}'`"
        ))
        .evidence(ev);
    }
    if let Some(c) = listener_problem(f, &name, &v) {
        return c.evidence(ev);
    }
    if !is_true(v.condition("Accepted")) || !is_true(v.condition("Programmed")) {
        let why = [
            describe(v.condition("Accepted"), "Accepted"),
            describe(v.condition("Programmed"), "Programmed"),
        ];
        return Check::fail(id, format!("{name}: {}", why.join("; ")))
            .hint(format!(
                "`kubectl -n {ns} describe gateway {name}` shows the controller's events"
            ))
            .evidence(ev);
    }
    match v.address() {
        Some(ip) => Check::pass(id, format!("{name}: Accepted, Programmed at {ip} ({})", gateway::CLASS)),
        None => Check::fail(id, format!("{name}: Programmed but no address in its status"))
            .hint(format!("`kubectl -n {ns} describe gateway {name}`")),
    }
    .evidence(ev)
}

/// A listener whose references do not resolve (InvalidCertificateRef: its TLS Secret is missing).
fn listener_problem(f: &Facts, name: &str, v: &GatewayView) -> Option<Check> {
    let ns = &f.namespace;
    let (l, c) = v.status.listeners.iter().find_map(|l| {
        let c = gateway::find(&l.conditions, "ResolvedRefs")?;
        (c.status == "False").then_some((l, c))
    })?;
    let g = f.seen.gateway.get(Kind::Gateway, name)?;
    let listener = g.data["spec"]["listeners"]
        .as_array()?
        .iter()
        .find(|x| x["name"] == l.name.as_str())?;
    let secret = listener["tls"]["certificateRefs"][0]["name"]
        .as_str()
        .unwrap_or("SECRET");
    let finding = format!(
        "{name}: listener `{}` ResolvedRefs=False ({}): {}",
        l.name, c.reason, c.message
    );
    let hint = if c.reason == "InvalidCertificateRef" {
        format!("`kubectl -n {ns} create secret tls {secret} --cert=tls.crt --key=tls.key` (your certificate and key)")
    } else {
        format!("`kubectl -n {ns} describe gateway {name}`")
    };
    Some(Check::fail(CheckId::Gateway, finding).hint(hint))
}

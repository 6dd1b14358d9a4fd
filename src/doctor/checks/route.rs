//! Gateway mode: the HTTPRoute to Service gateway is Accepted by its parent Gateway and its
//! backend resolves (`ResolvedRefs`: Service gateway on a port it serves).

use serde_json::json;

use crate::doctor::{Check, CheckId, Facts};
use crate::gateway::{self, route_view, RouteView};

pub fn check(f: &Facts) -> Check {
    let id = CheckId::Route;
    let ns = &f.namespace;
    let routes = f.seen.gateway.routes_to_gateway();
    let Some(r) = routes.first() else {
        return Check::fail(id, format!("no HTTPRoute in `{ns}` routes to Service gateway"))
            .hint(format!("`kubectl kasten-ilb install -n {ns} --via gateway`"));
    };
    let name = r.metadata.name.clone().unwrap_or_default();
    let v = route_view(r);
    let ev = json!({"route": name, "path": v.path(), "parents": v.status.parents.iter()
        .map(|p| json!({"gateway": p.parent_ref.name, "conditions": p.conditions.iter()
            .map(|c| json!({"type": c.type_, "status": c.status, "reason": c.reason})).collect::<Vec<_>>()}))
        .collect::<Vec<_>>()});
    problem(f, &name, &v)
        .unwrap_or_else(|| {
            let parents: Vec<&str> = v.spec.parent_refs.iter().map(|p| p.name.as_str()).collect();
            Check::pass(
                id,
                format!(
                    "{name}: {} -> gateway:{}, Accepted by {}",
                    v.path().unwrap_or_else(|| "/".into()),
                    v.backends().first().and_then(|b| b.port).unwrap_or_default(),
                    parents.join(", ")
                ),
            )
        })
        .evidence(ev)
}

/// The first thing wrong with the route, with the command that repairs it.
fn problem(f: &Facts, name: &str, v: &RouteView) -> Option<Check> {
    let id = CheckId::Route;
    let ns = &f.namespace;
    if let Some(c) = wrong_port(f, name, v) {
        return Some(c);
    }
    for t in ["Accepted", "ResolvedRefs"] {
        let bad = v.status.parents.iter().find_map(|p| {
            let c = gateway::find(&p.conditions, t)?;
            (c.status == "False").then_some((p, c))
        });
        if let Some((p, c)) = bad {
            let finding = format!(
                "{name}: parent {} {t}=False ({}): {}",
                p.parent_ref.name, c.reason, c.message
            );
            return Some(Check::fail(id, finding).hint(route_hint(f, name, &c.reason)));
        }
    }
    if v.status.parents.is_empty() {
        return Some(
            Check::fail(
                id,
                format!("{name}: no Gateway has accepted it yet (no parents in its status)"),
            )
            .hint(format!("`kubectl -n {ns} describe httproute {name}`")),
        );
    }
    None
}

/// A backendRef to gateway on a port Service gateway does not serve: the JSON patch that fixes it.
fn wrong_port(f: &Facts, name: &str, v: &RouteView) -> Option<Check> {
    let port = f.k10().map(|k| k.service_port).unwrap_or(80);
    let backends = v.backends();
    let (i, b) = backends
        .iter()
        .enumerate()
        .find(|(_, b)| b.name == "gateway" && b.port != Some(port.into()))?;
    let patch = json!([{"op": "replace", "path": format!("/spec/rules/0/backendRefs/{i}/port"), "value": port}]);
    let finding = format!(
        "{name}: backendRef gateway:{} is not a port of Service gateway (it serves {port}){}",
        b.port.unwrap_or_default(),
        condition_text(v, "ResolvedRefs")
    );
    Some(Check::fail(CheckId::Route, finding).hint(format!(
        "`kubectl -n {} patch httproute {name} --type=json -p '{patch}'`",
        f.namespace
    )))
}

fn condition_text(v: &RouteView, t: &str) -> String {
    v.status
        .parents
        .iter()
        .find_map(|p| gateway::find(&p.conditions, t))
        .filter(|c| c.status == "False")
        .map(|c| format!(" ({t}=False, {})", c.reason))
        .unwrap_or_default()
}

/// NoMatchingParent: attach it to the dashboard's Gateway; anything else: describe it.
fn route_hint(f: &Facts, name: &str, reason: &str) -> String {
    let ns = &f.namespace;
    let gw = super::gateway::dashboard(&f.seen).and_then(|g| g.metadata.name.clone());
    match (reason, gw) {
        ("NoMatchingParent", Some(gw)) => {
            let patch = json!({"spec": {"parentRefs": [{"name": gw}]}});
            format!("`kubectl -n {ns} patch httproute {name} --type=merge -p '{patch}'`")
        }
        _ => format!("`kubectl -n {ns} describe httproute {name}`"),
    }
}

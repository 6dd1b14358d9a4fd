//! HTTPRoutes: which Gateway listeners accept them (`Accepted`: `NoMatchingParent`,
//! `NotAllowedByListeners`), whether their backends resolve (`ResolvedRefs`: `BackendNotFound`,
//! `InvalidKind`, `RefNotPermitted`), their `status.parents`, and the URL-map rules they become.

use serde_json::{json, Value};

use super::conditions::{carry, cond};
use super::{meta_str, CLASSES, CONTROLLER_NAME, GROUP};
use crate::world::World;

/// Does this parentRef of a route in `route_ns` name the Gateway?
fn refers_to(pref: &Value, route_ns: &str, gw: &Value) -> bool {
    let kind = pref["kind"].as_str().unwrap_or("Gateway");
    let group = pref["group"].as_str().unwrap_or(GROUP);
    let ns = pref["namespace"].as_str().unwrap_or(route_ns);
    kind == "Gateway" && group == GROUP && ns == meta_str(gw, "namespace") && pref["name"] == gw["metadata"]["name"]
}

/// Does the listener admit routes from `route_ns` (`allowedRoutes`; `Selector` is taken as yes)?
fn allows(listener: &Value, gw_ns: &str, route_ns: &str) -> bool {
    let from = listener["allowedRoutes"]["namespaces"]["from"]
        .as_str()
        .unwrap_or("Same");
    let kinds_ok = listener["allowedRoutes"]["kinds"]
        .as_array()
        .is_none_or(|ks| ks.is_empty() || ks.iter().any(|k| k["kind"] == json!("HTTPRoute")));
    kinds_ok && (from != "Same" || gw_ns == route_ns)
}

/// The listeners of `gw` that accept `route` through `pref`, or the `Accepted` False reason and
/// message.
pub fn accepting(gw: &Value, route: &Value, pref: &Value) -> Result<Vec<String>, (&'static str, String)> {
    let route_ns = meta_str(route, "namespace");
    let gw_ns = meta_str(gw, "namespace");
    let listeners: Vec<&Value> = gw["spec"]["listeners"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|l| pref["sectionName"].as_str().is_none_or(|s| l["name"] == json!(s)))
        .filter(|l| pref["port"].as_i64().is_none_or(|p| l["port"].as_i64() == Some(p)))
        .collect();
    if listeners.is_empty() {
        return Err(("NoMatchingParent", "No listeners match this parent ref".into()));
    }
    let ok: Vec<String> = listeners
        .iter()
        .filter(|l| allows(l, &gw_ns, &route_ns))
        .filter_map(|l| l["name"].as_str().map(str::to_string))
        .collect();
    if ok.is_empty() {
        let msg = format!(
            "No listener of Gateway \"{gw_ns}/{}\" allows routes from namespace \"{route_ns}\"",
            meta_str(gw, "name")
        );
        return Err(("NotAllowedByListeners", msg));
    }
    Ok(ok)
}

/// A backendRef resolved to its Service and the Service's port, or the `ResolvedRefs` False
/// reason and message.
pub fn resolve(w: &World, route_ns: &str, b: &Value) -> Result<(Value, Value), (&'static str, String)> {
    let kind = b["kind"].as_str().unwrap_or("Service");
    let group = b["group"].as_str().unwrap_or("");
    if kind != "Service" || !group.is_empty() {
        return Err(("InvalidKind", format!("Unsupported backend kind \"{group}/{kind}\"")));
    }
    let name = b["name"].as_str().unwrap_or_default();
    if b["namespace"].as_str().is_some_and(|n| n != route_ns) {
        let msg = format!(
            "Reference to Service \"{}/{name}\" is not permitted",
            b["namespace"].as_str().unwrap_or_default()
        );
        return Err(("RefNotPermitted", msg));
    }
    let Some(svc) = w.kube_get("Service", route_ns, name).cloned() else {
        return Err(("BackendNotFound", format!("Service \"{route_ns}/{name}\" not found")));
    };
    let port = svc["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["port"] == b["port"])
        .cloned();
    match port {
        Some(p) => Ok((svc, p)),
        None => Err((
            "BackendNotFound",
            format!("Service \"{route_ns}/{name}\" has no port {}", b["port"]),
        )),
    }
}

fn backend_refs(route: &Value) -> impl Iterator<Item = &Value> {
    let rules = route["spec"]["rules"].as_array().into_iter().flatten();
    rules.flat_map(|r| r["backendRefs"].as_array().into_iter().flatten())
}

/// The first backendRef of the route that does not resolve: the `ResolvedRefs` False reason and message.
pub fn unresolved(w: &World, route: &Value) -> Option<(&'static str, String)> {
    let ns = meta_str(route, "namespace");
    backend_refs(route).find_map(|b| resolve(w, &ns, b).err())
}

/// The route's `ResolvedRefs` condition.
fn resolved_refs(w: &World, route: &Value) -> Value {
    let gen = route["metadata"]["generation"].as_i64().unwrap_or(1);
    match unresolved(w, route) {
        Some((reason, msg)) => cond("ResolvedRefs", false, reason, &msg, gen),
        None => cond("ResolvedRefs", true, "ResolvedRefs", "", gen),
    }
}

/// The HTTPRoutes a Gateway has accepted, each with the names of the accepting listeners.
pub fn attached(w: &World, gw: &Value) -> Vec<(Value, Vec<String>)> {
    let mut out = vec![];
    for route in w.kube_in_ns("HTTPRoute", "") {
        let ns = meta_str(&route, "namespace");
        let mut names: Vec<String> = vec![];
        for pref in route["spec"]["parentRefs"].as_array().into_iter().flatten() {
            if refers_to(pref, &ns, gw) {
                names.extend(accepting(gw, &route, pref).unwrap_or_default());
            }
        }
        if !names.is_empty() {
            out.push((route, names));
        }
    }
    out
}

/// The Gateway a parentRef names, when GKE's controller manages it.
fn managed_parent(w: &World, route_ns: &str, pref: &Value) -> Option<Value> {
    let ns = pref["namespace"].as_str().unwrap_or(route_ns);
    let gw = w.kube_get("Gateway", ns, pref["name"].as_str()?)?;
    let class = gw["spec"]["gatewayClassName"].as_str().unwrap_or_default();
    (CLASSES.contains(&class) && refers_to(pref, route_ns, gw)).then(|| gw.clone())
}

/// Write every HTTPRoute's `status.parents` entries for GKE-managed Gateways (others' kept).
pub fn publish_all(w: &mut World) {
    for route in w.kube_in_ns("HTTPRoute", "") {
        let ns = meta_str(&route, "namespace");
        let gen = route["metadata"]["generation"].as_i64().unwrap_or(1);
        let resolved = resolved_refs(w, &route);
        let old = route["status"]["parents"].as_array().cloned().unwrap_or_default();
        let mut parents: Vec<Value> = old
            .iter()
            .filter(|p| p["controllerName"] != json!(CONTROLLER_NAME))
            .cloned()
            .collect();
        for pref in route["spec"]["parentRefs"].as_array().into_iter().flatten() {
            let Some(gw) = managed_parent(w, &ns, pref) else {
                continue;
            };
            let accepted = match accepting(&gw, &route, pref) {
                Ok(_) => cond("Accepted", true, "Accepted", "", gen),
                Err((reason, msg)) => cond("Accepted", false, reason, &msg, gen),
            };
            let before = old
                .iter()
                .find(|p| p["parentRef"] == *pref && p["controllerName"] == json!(CONTROLLER_NAME));
            let conds = carry(
                &before.map(|b| b["conditions"].clone()).unwrap_or_default(),
                vec![accepted, resolved.clone()],
            );
            parents.push(json!({"parentRef": pref, "controllerName": CONTROLLER_NAME, "conditions": conds}));
        }
        if route["status"]["parents"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            != parents.as_slice()
        {
            let mut r2 = route.clone();
            r2["status"]["parents"] = json!(parents);
            w.kube_put(r2);
        }
    }
}

/// URL-map paths for one HTTPRoute match (`PathPrefix` as two rules, like an Ingress `Prefix`).
pub fn url_paths(m: &Value) -> Vec<String> {
    let typ = m["path"]["type"].as_str().unwrap_or("PathPrefix");
    let value = m["path"]["value"].as_str().unwrap_or("/");
    match typ {
        "Exact" => vec![value.to_string()],
        "PathPrefix" => {
            let base = value.trim_end_matches('/');
            if base.is_empty() {
                vec!["/*".into()]
            } else {
                vec![base.to_string(), format!("{base}/*")]
            }
        }
        _ => vec![],
    }
}

/// One routing rule: hostnames, URL-map paths, and the (Service, Service port) it goes to.
pub type Rule = (Vec<String>, Vec<String>, (Value, Value));

/// The route's rules, each with its first resolvable backend.
pub fn rules(w: &World, route: &Value) -> Vec<Rule> {
    let ns = meta_str(route, "namespace");
    let hosts: Vec<String> = match route["spec"]["hostnames"].as_array() {
        Some(h) if !h.is_empty() => h.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        _ => vec!["*".into()],
    };
    let mut out = vec![];
    for rule in route["spec"]["rules"].as_array().into_iter().flatten() {
        let backend = rule["backendRefs"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|b| resolve(w, &ns, b).ok());
        let Some(backend) = backend else { continue };
        let default_match = [json!({"path": {"type": "PathPrefix", "value": "/"}})];
        let matches = rule["matches"]
            .as_array()
            .map(Vec::as_slice)
            .filter(|m| !m.is_empty())
            .unwrap_or(&default_match);
        let paths: Vec<String> = matches.iter().flat_map(url_paths).collect();
        out.push((hosts.clone(), paths, backend));
    }
    out
}

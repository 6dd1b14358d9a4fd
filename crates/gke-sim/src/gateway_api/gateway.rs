//! A `gke-l7-rilb` Gateway: finalizer, listeners, address, the regional internal Application Load
//! Balancer (`lb`), status (`Accepted`, `Programmed`, listeners, addresses), events, and garbage
//! collection on delete.

mod lb;

use std::time::Instant;

use serde_json::{json, Value};

use super::conditions::{carry, cond, is_true};
use super::{meta_str, routes, FINALIZER, GROUP, RILB, SOURCE};
use crate::controller::{active_proxy_subnet, invalid_target};
use crate::world::World;

type Key = (String, String);

/// One listener's verdict: its status entry and whether it can be programmed.
struct Listener {
    name: String,
    ok: bool,
    conditions: Vec<Value>,
}

/// Why a Gateway is not programmed: (`Accepted` ok, its reason, `Programmed` reason, message).
struct Failure {
    accepted: bool,
    accepted_reason: &'static str,
    reason: &'static str,
    message: String,
}

pub(super) fn reconcile(w: &mut World, ns: &str, name: &str, immediate: bool) {
    let key = (ns.to_string(), name.to_string());
    let Some(gw) = w.kube_get("Gateway", ns, name).cloned() else {
        w.gateway_memo.remove(&key);
        return;
    };
    if gw["spec"]["gatewayClassName"] != json!(RILB) {
        return;
    }
    if !gw["metadata"]["deletionTimestamp"].is_null() {
        finalize(w, &key, gw);
        return;
    }
    let gw = ensure_finalizer(w, gw);
    let now = Instant::now();
    let first = *w
        .gateway_memo
        .entry(key.clone())
        .or_default()
        .first_seen
        .get_or_insert(now);
    if !immediate && now < first + w.cfg.lb_delay {
        return;
    }
    sync(w, &key, &gw);
}

fn ensure_finalizer(w: &mut World, mut gw: Value) -> Value {
    let has = gw["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| f.contains(&json!(FINALIZER)));
    if has {
        return gw;
    }
    match gw["metadata"]["finalizers"].as_array_mut() {
        Some(f) => f.push(json!(FINALIZER)),
        None => gw["metadata"]["finalizers"] = json!([FINALIZER]),
    }
    w.kube_put(gw)
}

/// Delete the Gateway's Google resources, then let the Gateway go.
fn finalize(w: &mut World, key: &Key, mut gw: Value) {
    lb::garbage_collect(w, &key.0, &key.1);
    w.gateway_memo.remove(key);
    if let Some(f) = gw["metadata"]["finalizers"].as_array_mut() {
        f.retain(|x| x != &json!(FINALIZER));
    }
    if gw["metadata"]["finalizers"].as_array().is_none_or(|f| f.is_empty()) {
        w.kube_delete("Gateway", &key.0, &key.1);
    } else {
        w.kube_put(gw);
    }
}

fn sync(w: &mut World, key: &Key, gw: &Value) {
    let listeners = listeners(w, gw);
    let attached = routes::attached(w, gw);
    let valid: Vec<String> = listeners.iter().filter(|l| l.ok).map(|l| l.name.clone()).collect();
    let result = check(w, key, gw, &listeners).and_then(|()| address(w, key, gw));
    match result {
        Err(f) => {
            warn(w, key, gw, &f.message);
            write_status(w, gw, &listeners, &attached, Err(f));
        }
        Ok(ip) => {
            let annotations = lb::build(w, key, gw, &valid, &attached, &ip);
            route_warnings(w, key, gw, &attached);
            let was = is_true(&gw["status"]["conditions"], "Programmed");
            let gw = annotate(w, gw, annotations);
            write_status(w, &gw, &listeners, &attached, Ok(ip.clone()));
            let memo = w.gateway_memo.entry(key.clone()).or_default();
            memo.ip = Some(ip);
            memo.last_warning = None;
            if !was {
                let now = w.kube_get("Gateway", &key.0, &key.1).cloned().unwrap_or_default();
                let msg = format!("SYNC on {}/{} was a success", key.0, key.1);
                w.event(&now, "Normal", "SYNC", &msg, SOURCE);
            }
        }
    }
}

/// Listeners that can be built, and the proxy-only subnet the class needs.
fn check(w: &World, key: &Key, gw: &Value, listeners: &[Listener]) -> Result<(), Failure> {
    if !listeners.iter().any(|l| l.ok) {
        let message = format!("Gateway \"{}/{}\" has no valid listener", key.0, key.1);
        return Err(Failure {
            accepted: false,
            accepted_reason: "ListenersNotValid",
            reason: "Invalid",
            message,
        });
    }
    if active_proxy_subnet(w).is_none() {
        let tp = super::names::frontend("tp", &key.0, &key.1);
        let tp_url = format!("{}/targetHttpProxies/{tp}", w.region_url(&w.region));
        let message = format!(
            "generic::invalid_argument: error ensuring load balancer: Insert: {}",
            invalid_target(&tp_url)
        );
        let _ = gw;
        return Err(Failure {
            accepted: true,
            accepted_reason: "Accepted",
            reason: "NoResources",
            message,
        });
    }
    Ok(())
}

/// The Gateway's address: a `NamedAddress` (a regional static internal address), an `IPAddress`,
/// the one it had, or a new one from the cluster's subnet.
fn address(w: &mut World, key: &Key, gw: &Value) -> Result<String, Failure> {
    let region = w.region.clone();
    if let Some(a) = gw["spec"]["addresses"].as_array().and_then(|a| a.first()) {
        let value = a["value"].as_str().unwrap_or_default();
        if a["type"].as_str().unwrap_or("IPAddress") == "IPAddress" {
            return Ok(value.to_string());
        }
        return match w.compute.addresses.get(&format!("{region}/{value}")) {
            Some(addr) => Ok(addr["address"].as_str().unwrap_or_default().to_string()),
            None => Err(Failure {
                accepted: true,
                accepted_reason: "Accepted",
                reason: "AddressNotUsable",
                message: format!("NamedAddress \"{value}\" was not found in region {region}"),
            }),
        };
    }
    if let Some(ip) = w.gateway_memo.get(key).and_then(|m| m.ip.clone()) {
        return Ok(ip);
    }
    Ok(w.alloc_internal_ip())
}

/// Each listener's conditions: protocol HTTP or HTTPS; an HTTPS listener's Secrets must exist.
fn listeners(w: &World, gw: &Value) -> Vec<Listener> {
    let ns = meta_str(gw, "namespace");
    let gen = gw["metadata"]["generation"].as_i64().unwrap_or(1);
    let mut out = vec![];
    for l in gw["spec"]["listeners"].as_array().into_iter().flatten() {
        let name = l["name"].as_str().unwrap_or_default().to_string();
        let protocol = l["protocol"].as_str().unwrap_or_default();
        let (accepted, resolved) = match protocol {
            "HTTP" => (Ok(()), Ok(())),
            "HTTPS" => (Ok(()), certificates(w, &ns, l)),
            other => (Err(format!("Unsupported protocol \"{other}\"")), Ok(())),
        };
        let ok = accepted.is_ok() && resolved.is_ok();
        let conditions = vec![
            match &accepted {
                Ok(()) => cond("Accepted", true, "Accepted", "", gen),
                Err(m) => cond("Accepted", false, "UnsupportedProtocol", m, gen),
            },
            match &resolved {
                Ok(()) => cond("ResolvedRefs", true, "ResolvedRefs", "", gen),
                Err(m) => cond("ResolvedRefs", false, "InvalidCertificateRef", m, gen),
            },
        ];
        out.push(Listener { name, ok, conditions });
    }
    out
}

/// An HTTPS listener's certificate Secrets (or GKE's pre-shared certificates option).
fn certificates(w: &World, ns: &str, l: &Value) -> Result<(), String> {
    let refs = l["tls"]["certificateRefs"].as_array().cloned().unwrap_or_default();
    if refs.is_empty() && l["tls"]["options"]["networking.gke.io/pre-shared-certs"].is_null() {
        return Err("No certificate reference on an HTTPS listener".into());
    }
    for r in refs {
        let name = r["name"].as_str().unwrap_or_default();
        let rns = r["namespace"].as_str().unwrap_or(ns);
        if w.kube_get("Secret", rns, name).is_none() {
            return Err(format!("Secret \"{rns}/{name}\" not found"));
        }
    }
    Ok(())
}

/// Warn once per distinct message (Warning `SYNC`, as the controller reports a failed sync).
fn warn(w: &mut World, key: &Key, gw: &Value, msg: &str) {
    let memo = w.gateway_memo.entry(key.clone()).or_default();
    if memo.last_warning.as_deref() == Some(msg) {
        return;
    }
    memo.last_warning = Some(msg.to_string());
    let full = format!("failed to sync Gateway \"{}/{}\": {msg}", key.0, key.1);
    w.event(gw, "Warning", "SYNC", &full, SOURCE);
}

/// A Warning `SYNC` on the Gateway, once, for each attached HTTPRoute with a backend that does not
/// resolve (GKE's translation error `GWCER104`).
fn route_warnings(w: &mut World, key: &Key, gw: &Value, attached: &[(Value, Vec<String>)]) {
    for (route, _) in attached {
        let Some((_, err)) = routes::unresolved(w, route) else {
            continue;
        };
        let (rns, rname) = (meta_str(route, "namespace"), meta_str(route, "name"));
        let msg = format!(
            "failed to translate Gateway \"{}/{}\": Error GWCER104: HTTPRoute \"{rns}/{rname}\" is misconfigured, \
             err: {err}",
            key.0, key.1
        );
        let seen = w
            .kube_in_ns("Event", &key.0)
            .iter()
            .any(|e| e["involvedObject"]["uid"] == gw["metadata"]["uid"] && e["message"] == json!(msg));
        if !seen {
            w.event(gw, "Warning", "SYNC", &msg, SOURCE);
        }
    }
}

fn annotate(w: &mut World, gw: &Value, annotations: Vec<(String, String)>) -> Value {
    let mut g2 = gw.clone();
    for (k, v) in annotations {
        g2["metadata"]["annotations"][k] = json!(v);
    }
    if g2 == *gw {
        return g2;
    }
    w.kube_put(g2)
}

fn write_status(
    w: &mut World,
    gw: &Value,
    ls: &[Listener],
    attached: &[(Value, Vec<String>)],
    r: Result<String, Failure>,
) {
    let gen = gw["metadata"]["generation"].as_i64().unwrap_or(1);
    let old = &gw["status"];
    let (conds, addresses) = match &r {
        Ok(ip) => {
            let partial = ls.iter().any(|l| !l.ok);
            let accepted_reason = if partial { "ListenersNotValid" } else { "Accepted" };
            let c = vec![
                cond("Accepted", true, accepted_reason, "", gen),
                cond("Programmed", true, "Programmed", "", gen),
            ];
            (c, json!([{"type": "IPAddress", "value": ip}]))
        }
        Err(f) => {
            let a = cond(
                "Accepted",
                f.accepted,
                f.accepted_reason,
                if f.accepted { "" } else { &f.message },
                gen,
            );
            (vec![a, cond("Programmed", false, f.reason, &f.message, gen)], json!([]))
        }
    };
    let listeners: Vec<Value> = ls
        .iter()
        .map(|l| listener_status(l, &old["listeners"], attached, r.is_ok(), gen))
        .collect();
    let mut status = json!({"conditions": carry(&old["conditions"], conds), "listeners": listeners});
    if addresses.as_array().is_some_and(|a| !a.is_empty()) {
        status["addresses"] = addresses;
    }
    if *old != status {
        let mut g2 = gw.clone();
        g2["status"] = status;
        w.kube_put(g2);
    }
}

fn listener_status(l: &Listener, old: &Value, attached: &[(Value, Vec<String>)], programmed: bool, gen: i64) -> Value {
    let n = attached.iter().filter(|(_, names)| names.contains(&l.name)).count();
    let mut conds = l.conditions.clone();
    conds.push(match (l.ok, programmed) {
        (true, true) => cond("Programmed", true, "Programmed", "", gen),
        (false, _) => cond("Programmed", false, "Invalid", "The listener is invalid", gen),
        (true, false) => cond("Programmed", false, "Pending", "The Gateway is not programmed", gen),
    });
    let before = old
        .as_array()
        .into_iter()
        .flatten()
        .find(|o| o["name"] == json!(l.name));
    let conds = carry(&before.map(|b| b["conditions"].clone()).unwrap_or_default(), conds);
    json!({"name": l.name, "supportedKinds": [{"group": GROUP, "kind": "HTTPRoute"}], "attachedRoutes": n,
           "conditions": conds})
}

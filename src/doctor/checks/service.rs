//! Service gateway: NEG-enabled (`cloud.google.com/neg`), with a valid BackendConfig if it names one.

use serde_json::{json, Value};

use crate::discover::K10;
use crate::doctor::{Check, CheckId, Facts};
use crate::state::{self, APP_PROTOCOLS, BACKEND_CONFIG, NEG_ANNOTATION};

pub fn check(f: &Facts) -> Check {
    let id = CheckId::Service;
    let ns = &f.namespace;
    let Some(k) = f.k10() else {
        return Check::blocked(id, CheckId::K10, "K10 not found");
    };
    let neg_raw = k.annotation(NEG_ANNOTATION);
    let neg_ok = neg_raw
        .as_ref()
        .and_then(|v| serde_json::from_str::<Value>(v).ok())
        .is_some_and(|v| v["ingress"] == json!(true));
    let status = state::neg_name(k);
    let mut ev = json!({
        "neg": neg_raw, "negStatus": k.annotation(state::NEG_STATUS), "backendConfig": k.annotation(BACKEND_CONFIG),
        "appProtocols": k.annotation(APP_PROTOCOLS), "gatewayServes": k.gateway_protocol(),
    });
    if let Some(bc) = &f.backend_config {
        if backend_config_named(k) {
            ev["backendConfigSpec"] = bc["spec"].clone();
        }
    }
    let check = if !neg_ok {
        Check::fail(
            id,
            format!("no {NEG_ANNOTATION}: {{\"ingress\":true}}: internal Ingress needs NEG backends"),
        )
        .hint(format!(
            "`kubectl -n {ns} annotate service gateway {NEG_ANNOTATION}='{{\"ingress\":true}}'`"
        ))
    } else if let Some(c) = protocol_mismatch(k, ns) {
        c
    } else if let Some(pb) = backend_config_problem(k, f.backend_config.as_ref()) {
        Check::fail(id, pb).hint(format!(
            "fix or remove {BACKEND_CONFIG} on Service gateway \
             (`kubectl kasten-ilb install -n {ns} --health-check backendconfig` writes a valid one)"
        ))
    } else if status.is_none() && !f.ingresses().is_empty() {
        Check::warn(
            id,
            "NEG annotation present, but the NEG controller has not written neg-status yet",
        )
        .hint(format!(
            "wait a minute; if it stays, check `kubectl -n {} describe service gateway` for NEG events",
            f.namespace
        ))
    } else {
        let neg = status.map(|s| format!(", NEG {s}")).unwrap_or_default();
        Check::pass(id, format!("NEG enabled{neg}"))
    };
    check.evidence(ev)
}

/// The load balancer must speak the protocol the gateway serves: HTTPS when the chart's
/// `secrets.tlsSecret` makes the gateway serve TLS on its port (readinessProbe `scheme: HTTPS`).
pub fn protocol_mismatch(k: &K10, ns: &str) -> Option<Check> {
    let id = CheckId::Service;
    let (serves, speaks) = (k.gateway_protocol(), k.lb_protocol());
    if serves == speaks {
        return None;
    }
    let port = k.service_port_name.as_deref().unwrap_or("http");
    Some(if serves == "HTTPS" {
        let value = crate::plan::app_protocols(k)
            .ok()
            .flatten()
            .unwrap_or_else(|| format!("{{\"{port}\":\"HTTPS\"}}"));
        Check::fail(
            id,
            format!(
                "the gateway serves HTTPS (readinessProbe scheme HTTPS) but the load balancer speaks HTTP to it \
                 (no {APP_PROTOCOLS} HTTPS for port `{port}`): backends stay unhealthy and requests fail"
            ),
        )
        .hint(format!(
            "`kubectl -n {ns} annotate service gateway {APP_PROTOCOLS}='{value}' --overwrite`"
        ))
    } else {
        Check::fail(
            id,
            format!(
                "{APP_PROTOCOLS} makes the load balancer speak HTTPS to port `{port}`, but the gateway serves \
                 plain HTTP (readinessProbe scheme HTTP)"
            ),
        )
        .hint(format!("`kubectl -n {ns} annotate service gateway {APP_PROTOCOLS}-`"))
    })
}

fn backend_config_named(k: &K10) -> bool {
    k.annotation(BACKEND_CONFIG)
        .is_some_and(|raw| state::backend_config_ref(&raw, k.service_port_name.as_deref(), k.service_port).is_ok())
}

/// What is wrong with the BackendConfig the Service names (None: none named, or it is fine).
fn backend_config_problem(k: &K10, bc: Option<&Value>) -> Option<String> {
    let raw = k.annotation(BACKEND_CONFIG)?;
    if let Err(e) = state::backend_config_ref(&raw, k.service_port_name.as_deref(), k.service_port) {
        return Some(e);
    }
    let Some(bc) = bc else {
        return Some(format!(
            "the BackendConfig named in {BACKEND_CONFIG} ({raw}) does not exist"
        ));
    };
    let hc = &bc["spec"]["healthCheck"];
    match (hc["timeoutSec"].as_i64(), hc["checkIntervalSec"].as_i64()) {
        (Some(t), Some(i)) if t > i => Some(format!(
            "BackendConfig healthCheck timeoutSec {t} > checkIntervalSec {i}"
        )),
        _ => None,
    }
}

//! The health check GKE made (or will make) probes a path K10's gateway answers 200, on the port
//! it serves.

use serde_json::{json, Value};

use crate::discover::K10;
use crate::doctor::{Check, CheckId, Facts};
use crate::gcp::model::HealthCheck;
use crate::plan;

/// What GKE will probe: path, port, protocol, and where it takes them from.
struct Prediction {
    path: String,
    port: i64,
    /// The BackendConfig's `type`, else the app protocol of the Service port (GKE's default).
    protocol: String,
    source: &'static str,
}

fn predict(k: &K10, backend_config: Option<&Value>) -> Prediction {
    let port = k.container_port.unwrap_or(0);
    let bc_hc = backend_config
        .map(|bc| bc["spec"]["healthCheck"].clone())
        .filter(|h| h.is_object());
    let protocol = bc_hc
        .as_ref()
        .and_then(|h| h["type"].as_str())
        .map(|t| if t == "HTTP2" { "HTTPS" } else { t })
        .unwrap_or(k.lb_protocol())
        .to_string();
    // GKE copies the probe only when its scheme matches the Service port's app protocol.
    let scheme_matches = k
        .probe
        .as_ref()
        .is_some_and(|p| p.scheme.eq_ignore_ascii_case(k.lb_protocol()));
    match &bc_hc {
        Some(h) if h["requestPath"].is_string() => Prediction {
            path: h["requestPath"].as_str().unwrap_or("/").to_string(),
            port: h["port"].as_i64().unwrap_or(i64::from(port)),
            protocol,
            source: "the BackendConfig",
        },
        _ if k.declared && plan::probe_usable(k, port) && scheme_matches => Prediction {
            path: k.probe.as_ref().map(|p| p.path.clone()).unwrap_or_else(|| "/".into()),
            port: i64::from(port),
            protocol,
            source: "the readinessProbe (containerPort declared)",
        },
        _ if k.declared && plan::probe_usable(k, port) => Prediction {
            path: "/".to_string(),
            port: i64::from(port),
            protocol,
            source: "GKE's default (the probe's scheme differs from the Service port's app protocol, so it is ignored)",
        },
        _ => Prediction {
            path: "/".to_string(),
            port: i64::from(port),
            protocol,
            source: "GKE's default (no declared containerPort matches the targetPort, so the probe is ignored)",
        },
    }
}

/// A health check in another protocol than the gateway serves: it never passes (an HTTP check
/// on a TLS port, or HTTPS on plain HTTP).
fn wrong_protocol(f: &Facts, k: &K10, protocol: &str, what: String) -> Option<Check> {
    let serves = k.gateway_protocol();
    if protocol == serves {
        return None;
    }
    let finding = format!("{what} is {protocol}, but the gateway serves {serves}: backends stay unhealthy");
    let hint = if f.backend_config.is_some() {
        let ns = &f.namespace;
        format!(
            "set healthCheck.type: {serves} in the BackendConfig (`kubectl kasten-ilb install -n {ns}` writes its \
             own so)"
        )
    } else if serves == "HTTPS" {
        let value = plan::app_protocols(k)
            .ok()
            .flatten()
            .unwrap_or_else(|| r#"{"http":"HTTPS"}"#.into());
        format!(
            "GKE takes the check's protocol from the Service port's app protocol: `kubectl -n {} annotate service \
             gateway {}='{value}' --overwrite`",
            f.namespace,
            crate::state::APP_PROTOCOLS
        )
    } else {
        format!(
            "`kubectl -n {} annotate service gateway {}-`",
            f.namespace,
            crate::state::APP_PROTOCOLS
        )
    };
    Some(Check::fail(CheckId::HealthCheck, finding).hint(hint))
}

/// A path the gateway answers 200: its readiness probe's, or one under the release prefix.
fn good_path(k: &K10, p: &str) -> bool {
    p != "/" && (Some(p) == k.probe.as_ref().map(|p| p.path.as_str()) || p.starts_with(&k.dashboard_path()))
}

pub fn check(f: &Facts) -> Check {
    let id = CheckId::HealthCheck;
    let Some(k) = f.k10() else {
        return Check::blocked(id, CheckId::K10, "K10 not found");
    };
    let pred = predict(k, f.backend_config.as_ref());
    let actual = f.hc.as_ref().map(|h| {
        let hh = h.settings();
        json!({"name": h.name, "type": h.kind, "path": hh.request_path, "port": hh.port,
               "portSpecification": hh.port_specification})
    });
    let ev = json!({"predicted": {"path": pred.path, "port": pred.port, "type": pred.protocol, "source": pred.source},
                    "actual": actual});
    let protocol = match &f.hc {
        None => wrong_protocol(f, k, &pred.protocol, "the health check GKE will make".into()),
        Some(h) => {
            let kind = match h.kind.as_str() {
                "HTTP2" | "HTTPS" => "HTTPS",
                _ => "HTTP",
            };
            wrong_protocol(f, k, kind, format!("`{}`", h.name))
        }
    };
    match (&f.hc, protocol) {
        (_, Some(c)) => c,
        (None, None) => predicted(f, k, &pred),
        (Some(h), None) => existing(k, &pred, h, &f.namespace),
    }
    .evidence(ev)
}

/// No health check yet: judge what GKE will make.
fn predicted(f: &Facts, k: &K10, pred: &Prediction) -> Check {
    let id = CheckId::HealthCheck;
    let (path, source) = (&pred.path, pred.source);
    if good_path(k, path) {
        return Check::pass(id, format!("GKE will probe {path} on :{} (from {source})", pred.port));
    }
    let finding = format!("GKE would probe `{path}`, which K10's gateway answers 404 ({source})");
    let c = if f.ingresses().is_empty() {
        Check::warn(id, finding)
    } else {
        Check::fail(id, finding)
    };
    let (ns, port) = (&f.namespace, k.container_port.unwrap_or(0));
    c.hint(format!(
        "declare the container port: `kubectl kasten-ilb install -n {ns}` (step Health check), or \
         `kubectl -n {ns} patch \
         deployment gateway --type=json -p '[{{\"op\":\"add\",\"path\":\"/spec/template/spec/containers/0/ports\",\
         \"value\":[{{\"containerPort\":{port}}}]}}]'` before the Ingress exists"
    ))
}

/// The health check GKE made: judge its port and path.
fn existing(k: &K10, pred: &Prediction, h: &HealthCheck, ns: &str) -> Check {
    let id = CheckId::HealthCheck;
    let port = k.container_port.unwrap_or(0);
    let hh = h.settings();
    let actual = hh.request_path.clone().unwrap_or_else(|| "/".into());
    let fixed_port = hh
        .port
        .filter(|_| hh.port_specification.as_deref() == Some("USE_FIXED_PORT"));
    let name = &h.name;
    if let Some(fp) = fixed_port.filter(|fp| *fp != i64::from(port)) {
        Check::fail(
            id,
            format!("`{name}` probes port {fp} but only {port} is served (and admitted by K10's NetworkPolicies)"),
        )
        .hint(format!("set healthCheck.port: {port} in the BackendConfig"))
    } else if good_path(k, &actual) {
        Check::pass(id, format!("`{name}` probes {actual} on the serving port"))
    } else if good_path(k, &pred.path) {
        Check::fail(
            id,
            format!(
                "`{name}` probes `{actual}` (404) though the pods now allow {}: the health check was created \
                 before the containerPort was declared, and GKE never re-reads the probe",
                pred.path
            ),
        )
        .hint(format!(
            "`kubectl kasten-ilb install -n {ns}` adds a BackendConfig that sets the path (or delete and recreate \
             the Ingress)"
        ))
    } else {
        Check::fail(
            id,
            format!("`{name}` probes `{actual}`, which K10's gateway answers 404"),
        )
        .hint(format!(
            "`kubectl kasten-ilb install -n {ns}` (it adds the containerPort or a BackendConfig)"
        ))
    }
}

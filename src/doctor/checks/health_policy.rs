//! Gateway mode: a HealthCheckPolicy targets Service gateway with the readinessProbe's path and
//! scheme; without one GKE's health check probes `/`, which K10's gateway answers 404.

use serde_json::json;

use crate::doctor::{Check, CheckId, Facts};

pub fn check(f: &Facts) -> Check {
    let id = CheckId::HealthPolicy;
    let ns = &f.namespace;
    let Some(k) = f.k10() else {
        return Check::blocked(id, CheckId::K10, "K10 not found");
    };
    let (want_path, want_type) = match &k.probe {
        Some(p) => (p.path.clone(), if p.scheme == "HTTPS" { "HTTPS" } else { "HTTP" }),
        None => ("/healthz".to_string(), k.gateway_protocol()),
    };
    let install = format!("`kubectl kasten-ilb install -n {ns} --via gateway`");
    let Some(pol) = f.seen.gateway.policies_for_gateway_service().into_iter().next() else {
        return Check::fail(
            id,
            format!(
                "no HealthCheckPolicy targets Service gateway: GKE's health check probes `/`, which K10's gateway \
                 answers 404 (the readinessProbe says {want_type} {want_path})"
            ),
        )
        .hint(install);
    };
    let name = pol.metadata.name.clone().unwrap_or_default();
    let cfg = &pol.data["spec"]["default"]["config"];
    let kind = cfg["type"].as_str().unwrap_or("HTTP");
    let path = cfg[field_of(kind)]["requestPath"].as_str().unwrap_or("/");
    let ev = json!({"policy": name, "type": kind, "requestPath": path, "port": cfg[field_of(kind)]["port"]});
    if kind == want_type && path == want_path {
        return applied(f, &name, kind, path).evidence(ev);
    }
    mismatch(f, &name, cfg, (want_type, &want_path)).evidence(ev)
}

/// The config field of a health check type.
fn field_of(kind: &str) -> &'static str {
    if kind == "HTTPS" {
        "httpsHealthCheck"
    } else {
        "httpHealthCheck"
    }
}

/// The policy probes something else than the readinessProbe: the merge patch that fixes it
/// (keeping its port; the other protocol's block removed).
fn mismatch(f: &Facts, name: &str, cfg: &serde_json::Value, (want_type, want_path): (&str, &str)) -> Check {
    let kind = cfg["type"].as_str().unwrap_or("HTTP");
    let (field, wfield) = (field_of(kind), field_of(want_type));
    let path = cfg[field]["requestPath"].as_str().unwrap_or("/");
    let mut config = json!({"type": want_type, wfield: {"requestPath": want_path}});
    if let Some(port) = cfg[field]["port"].as_i64() {
        config[wfield]["port"] = json!(port);
    }
    if wfield != field {
        config[field] = serde_json::Value::Null;
    }
    let patch = json!({"spec": {"default": {"config": config}}});
    Check::fail(
        CheckId::HealthPolicy,
        format!("{name}: probes {kind} {path}, but the gateway is ready on {want_type} {want_path}"),
    )
    .hint(format!(
        "`kubectl -n {} patch healthcheckpolicy {name} --type=merge -p '{patch}'`",
        f.namespace
    ))
}

/// The policy is right: has GKE applied it to the load balancer's health check yet?
fn applied(f: &Facts, name: &str, kind: &str, path: &str) -> Check {
    let id = CheckId::HealthPolicy;
    let ok = format!("{name}: {kind} {path} on Service gateway, as the readinessProbe");
    let Some(hc) = &f.hc else {
        return Check::pass(id, ok);
    };
    let got = hc.settings().request_path.clone().unwrap_or_else(|| "/".into());
    if hc.kind == kind && got == path {
        return Check::pass(id, format!("{ok}; health check `{}` probes it", hc.name));
    }
    Check::warn(
        id,
        format!(
            "{ok}, but health check `{}` still probes {} {got} (GKE has not applied it yet)",
            hc.name, hc.kind
        ),
    )
    .hint(format!(
        "`kubectl -n {} describe healthcheckpolicy {name}` shows GKE's status",
        f.namespace
    ))
}

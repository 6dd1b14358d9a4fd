//! Step 3: a passing load-balancer health check, by declaring the container port (GKE then copies
//! the readinessProbe) or by a BackendConfig that sets the check explicitly.

use kube::api::DynamicObject;
use serde_json::{json, Value};

use crate::cli::HealthCheckMode;
use crate::discover::K10;
use crate::error;
use crate::gcp::model::HealthCheck;
use crate::render;
use crate::state::{MANAGED_BY_LABEL, MANAGER};

use super::{backend_config_name, probe_usable, Change, Step, HEALTH_CHECK};

/// The path the load balancer's health check probes, when it is not the one wanted and no
/// BackendConfig overrides it (GKE never re-reads the readinessProbe).
pub fn wrong_path(k: &K10, hc: Option<&HealthCheck>, bc: Option<&DynamicObject>) -> Option<String> {
    let h = hc?;
    let path = h.settings().request_path.clone().unwrap_or_else(|| "/".into());
    let expected = k
        .probe
        .as_ref()
        .map(|p| p.path.clone())
        .unwrap_or_else(|| k.dashboard_path());
    (path != expected && bc.is_none()).then_some(path)
}

/// `auto` resolved: patch the Deployment when its probe is usable and nothing is stale.
pub fn strategy(
    k: &K10,
    hc: Option<&HealthCheck>,
    bc: Option<&DynamicObject>,
    mode: HealthCheckMode,
    port: i32,
) -> anyhow::Result<HealthCheckMode> {
    Ok(match mode {
        HealthCheckMode::Auto if wrong_path(k, hc, bc).is_some() || !probe_usable(k, port) => {
            HealthCheckMode::Backendconfig
        }
        HealthCheckMode::Auto => HealthCheckMode::PatchDeployment,
        HealthCheckMode::PatchDeployment if !probe_usable(k, port) => {
            return Err(error::usage(
                format!(
                    "--health-check patch-deployment cannot work: the gateway's readinessProbe is not an HTTP GET \
                     on port {port}, so GKE would still probe `/`"
                ),
                "use --health-check backendconfig (or auto)",
            ))
        }
        m => m,
    })
}

pub fn step(
    k: &K10,
    hc: Option<&HealthCheck>,
    bc: Option<&DynamicObject>,
    strategy: HealthCheckMode,
    port: i32,
) -> anyhow::Result<Step> {
    if strategy == HealthCheckMode::PatchDeployment {
        container_port(k, port)
    } else {
        Ok(backend_config(k, wrong_path(k, hc, bc), bc, port))
    }
}

fn container_port(k: &K10, port: i32) -> anyhow::Result<Step> {
    let target = format!("deployment/gateway containerPort {port}");
    let probe_path = k.probe.as_ref().map(|p| p.path.as_str()).unwrap_or("/");
    if k.declared && k.pods.iter().all(|p| p.declares_port) {
        return Ok(HEALTH_CHECK.noop(
            target,
            format!("containerPort {port} is declared: GKE infers the readinessProbe path {probe_path}"),
        ));
    }
    let (patch, diff) = render::container_port_patch(k, port)?;
    let command = format!(
        "kubectl -n {} patch deployment gateway --type=json -p '{}'",
        k.namespace,
        serde_json::to_string(&patch)?
    );
    let reason = format!(
        "the chart declares no containerPort, so GKE would probe `/` (404); with it, GKE copies the readinessProbe \
         {probe_path}"
    );
    Ok(HEALTH_CHECK
        .update(target, reason, command, Change::PatchDeployment { patch })
        .with_diff(diff))
}

/// The BackendConfig's spec: a check of `path` on the container port, in the gateway's protocol
/// (`HTTPS` when it serves TLS).
pub fn backend_config_spec(path: &str, port: i32, protocol: &str) -> Value {
    json!({"healthCheck": {"type": protocol, "requestPath": path, "port": port, "checkIntervalSec": 15,
        "timeoutSec": 5, "healthyThreshold": 1, "unhealthyThreshold": 2}})
}

fn backend_config(k: &K10, wrong: Option<String>, bc: Option<&DynamicObject>, port: i32) -> Step {
    let ns = &k.namespace;
    let name = backend_config_name(&k.release);
    let path = match &k.probe {
        Some(p) if probe_usable(k, port) => p.path.clone(),
        _ => k.dashboard_path(),
    };
    let spec = backend_config_spec(&path, port, k.gateway_protocol());
    let body = json!({"apiVersion": "cloud.google.com/v1", "kind": "BackendConfig",
        "metadata": {"name": name, "namespace": ns, "labels": {MANAGED_BY_LABEL: MANAGER}}, "spec": spec});
    let current = bc.map(|o| &o.data["spec"]);
    let target = format!("backendconfig/{name} {path} :{port}");
    let command = format!("kubectl -n {ns} apply -f backendconfig.yaml   # see --dry-run -o yaml");
    let change = |exists| Change::BackendConfig {
        name: name.clone(),
        body: body.clone(),
        exists,
    };
    match current {
        Some(cur) if *cur == spec => {
            HEALTH_CHECK.noop(target, format!("BackendConfig `{name}` checks {path} on port {port}"))
        }
        Some(_) => HEALTH_CHECK.update(
            target,
            format!("BackendConfig `{name}` differs from the wanted health check ({path} on port {port})"),
            command,
            change(true),
        ),
        None => {
            let why = match &wrong {
                Some(p) => format!(
                    "the load balancer's health check probes `{p}` and GKE never re-reads the probe: a \
                     BackendConfig overrides it"
                ),
                None => {
                    "the readinessProbe cannot be used by GKE; a BackendConfig sets the health check explicitly".into()
                }
            };
            HEALTH_CHECK.create(target, why, command, change(false))
        }
    }
}

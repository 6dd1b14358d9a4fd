//! Gateway mode (`--via gateway`): Gateway API on the cluster, the shared proxy-only subnet and
//! firewall steps, then the Gateway, its HTTPRoute, the HealthCheckPolicy on Service `gateway`
//! and (for `--global-access`) a GCPGatewayPolicy. One function per step, each pure.

use serde_json::{json, Value};

use crate::cli::{PlanArgs, Via};
use crate::error;
use crate::gateway::{self, is_ours, Kind};
use crate::render::gateway as body;
use crate::state::{self, Observed, Vpc};

use super::{firewall, frontend, preconditions, proxy_subnet, Change, Frontend, Notes, Plan, Settings, Step, StepKind};

pub const GATEWAY_API: StepKind = StepKind {
    id: "gateway-api",
    title: "Gateway API",
};
pub const HEALTH_POLICY: StepKind = StepKind {
    id: "health-check-policy",
    title: "HealthCheckPolicy",
};
pub const GATEWAY: StepKind = StepKind {
    id: "gateway",
    title: "Gateway",
};
pub const ROUTE: StepKind = StepKind {
    id: "http-route",
    title: "HTTPRoute",
};
pub const GATEWAY_POLICY: StepKind = StepKind {
    id: "gateway-policy",
    title: "GCPGatewayPolicy",
};

/// What only Gateway mode takes from the command line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    pub via: Via,
    pub global_access: bool,
}

impl Options {
    pub fn from_args(a: &PlanArgs) -> anyhow::Result<Options> {
        if a.global_access && a.via != Via::Gateway {
            return Err(error::usage(
                "--global-access needs --via gateway (an internal Ingress cannot allow global access)",
                "add --via gateway",
            ));
        }
        Ok(Options {
            via: a.via,
            global_access: a.global_access,
        })
    }
}

/// The Gateway's name: `--ingress-name`, else the Gateway that already serves the dashboard
/// (adopted, as an Ingress is), else `<release>-ilb` (as the Ingress's).
pub fn gateway_name(seen: &Observed, s: &Settings) -> String {
    let existing = || seen.gateway.dashboard_gateways().first()?.metadata.name.clone();
    s.ingress_name
        .clone()
        .or_else(existing)
        .unwrap_or_else(|| format!("{}-ilb", seen.k10.release))
}

/// The HTTPRoute's name: the one that already routes to gateway through this Gateway, else the Gateway's.
fn route_name(seen: &Observed, gateway: &str) -> String {
    let attached = |r: &&kube::api::DynamicObject| {
        gateway::route_view(r)
            .spec
            .parent_refs
            .iter()
            .any(|p| p.name == gateway)
    };
    let routes = seen.gateway.routes_to_gateway();
    let found = routes.into_iter().find(attached).and_then(|r| r.metadata.name.clone());
    found.unwrap_or_else(|| gateway.to_string())
}

/// The HealthCheckPolicy's name: the one that already targets Service gateway, else `<gateway>-health`.
fn policy_name(seen: &Observed, gateway: &str) -> String {
    let existing = seen
        .gateway
        .policies_for_gateway_service()
        .first()
        .and_then(|p| p.metadata.name.clone());
    existing.unwrap_or_else(|| body::health_policy_name(gateway))
}

/// The plan in Gateway mode: preconditions, then one function per step, in the order applied.
pub fn compute(seen: &Observed, vpc: &Vpc, s: &Settings, o: &Options) -> anyhow::Result<Plan> {
    // `--self-signed` serves the Secret install makes, like `--tls-secret` (the TLS step is plan::tls's).
    let s = &Settings {
        tls_secret: s.certificate_secret(&seen.k10.release),
        ..s.clone()
    };
    let port = preconditions(seen, s)?;
    let mut notes = Notes::default();
    let api = enable(seen);
    let (subnet, proxy_range) = proxy_subnet::step(seen, vpc, s, &mut notes)?;
    let firewall = firewall::step(seen, vpc, proxy_range, port, &mut notes);
    let name = gateway_name(seen, s);
    let path = frontend::dashboard_path(&seen.k10, s.path.as_deref())?;
    if s.tls_secret.is_some() && s.host.is_none() {
        return Err(error::usage(
            "--tls-secret needs --host (the certificate's host name)",
            "pass --host k10.example.internal",
        ));
    }
    let mut steps = vec![api, subnet, firewall];
    steps.push(health_policy(seen, &policy_name(seen, &name), port)?);
    steps.push(gateway_step(seen, &name, s)?);
    steps.push(route(seen, &name, &path, s)?);
    if let Some(p) = gcp_policy(seen, &name, o)? {
        steps.push(p);
    }
    Ok(Plan {
        steps,
        proxy_range,
        container_port: port,
        frontend: Frontend::Gateway { name },
        path,
        strategy: s.health_check,
        warnings: notes.warnings,
        https: s.tls_secret.is_some(),
        certificate: s.tls_secret.clone(),
        host: s.host.clone(),
    })
}

/// Step 1: Gateway API on the cluster (`--gateway-api=standard`), asked for like every step.
pub fn enable(seen: &Observed) -> Step {
    let c = &seen.cluster;
    let target = format!("cluster {}", c.r.cluster);
    match gateway::channel(c) {
        Some(ch) => GATEWAY_API.noop(
            target,
            format!("enabled ({ch}): the cluster serves the gke-l7-rilb class"),
        ),
        None => GATEWAY_API.create(
            target,
            "Gateway API is off on the cluster: GKE installs the Gateway API CRDs and the gke-l7-* classes \
             (a cluster update, no node changes)",
            gateway::enable_command(c),
            Change::EnableGatewayApi {
                body: body::enable_body(c),
            },
        ),
    }
}

/// Whether `want` is contained in `have`: every field `want` sets has the same value there (the
/// API server may add defaults such as `group`, `kind` or `weight`).
pub fn contains(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => w.iter().all(|(k, v)| h.get(k).is_some_and(|x| contains(x, v))),
        (Value::Array(h), Value::Array(w)) => h.len() == w.len() && h.iter().zip(w).all(|(x, y)| contains(x, y)),
        _ => have == want,
    }
}

/// One object step: Create when absent, NoOp when its spec holds the wanted one, Update (a merge
/// patch of the spec, field by field in the diff) when install's own differs; someone else's is
/// refused.
fn object(kind: StepKind, seen: &Observed, desired: Value, why: String) -> anyhow::Result<Step> {
    let gk = Kind::of(&desired).expect("rendered manifests name their kind");
    let name = desired["metadata"]["name"].as_str().unwrap_or_default().to_string();
    let ns = &seen.k10.namespace;
    let target = gk.resource(&name);
    let file = format!("{}.yaml", gk.name().to_lowercase());
    let Some(cur) = seen.gateway.get(gk, &name) else {
        let cmd = format!("kubectl -n {ns} create -f {file}   # see --dry-run -o yaml");
        return Ok(kind.create(target, why, cmd, Change::CreateObject { body: desired }));
    };
    let same = state::going_away(&cur.metadata).is_none() && contains(&cur.data["spec"], &desired["spec"]);
    match (is_ours(cur), same) {
        (true, true) => return Ok(kind.noop(target, "exists as wanted")),
        (false, true) => {
            return Ok(kind.reuse(
                target,
                format!("adopted: `{name}` (not made by this tool) is as wanted"),
            ));
        }
        _ => {}
    }
    let changed = super::fields::changes("spec", &cur.data["spec"], &desired["spec"]);
    let patch = json!({"spec": desired["spec"]});
    Ok(kind
        .update(
            target.clone(),
            if is_ours(cur) {
                format!(
                    "differs from the wanted one in {} field(s), listed below",
                    changed.len()
                )
            } else {
                format!(
                    "adopts `{name}` (not made by this tool): {} field(s) to fix, listed below; uninstall leaves it",
                    changed.len()
                )
            },
            format!("kubectl -n {ns} patch {target} --type=merge -p '{patch}'"),
            Change::PatchObject { body: desired, patch },
        )
        .with_diff(format!(
            "{target}:\n{}",
            changed.iter().map(|c| format!("  {c}")).collect::<Vec<_>>().join("\n")
        )))
}

/// HealthCheckPolicy `name` on Service gateway: the readinessProbe's path and scheme.
pub fn health_policy(seen: &Observed, name: &str, port: i32) -> anyhow::Result<Step> {
    let want = body::health_policy_body(&seen.k10, name, port);
    let cfg = &want["spec"]["default"]["config"];
    let path = cfg["httpHealthCheck"]["requestPath"]
        .as_str()
        .or(cfg["httpsHealthCheck"]["requestPath"].as_str())
        .unwrap_or("/")
        .to_string();
    let why = format!(
        "{} {path} on port {port}, as the readinessProbe: without it GKE's check probes `/` (404); no Deployment \
         change",
        cfg["type"].as_str().unwrap_or("HTTP")
    );
    object(HEALTH_POLICY, seen, want, why)
}

pub fn gateway_step(seen: &Observed, name: &str, s: &Settings) -> anyhow::Result<Step> {
    let want = body::gateway_body(&seen.k10, name, s);
    let mut why = "class gke-l7-rilb (regional internal Application Load Balancer), HTTP listener".to_string();
    if let Some(t) = &s.tls_secret {
        why.push_str(&format!(", HTTPS listener with Secret `{t}`"));
    }
    if let Some(ip) = &s.static_ip {
        why.push_str(&format!(", address `{ip}`"));
    }
    object(GATEWAY, seen, want, why)
}

pub fn route(seen: &Observed, gateway: &str, path: &str, s: &Settings) -> anyhow::Result<Step> {
    let name = route_name(seen, gateway);
    let want = body::route_body(&seen.k10, &name, gateway, path, s);
    let prefix = want["spec"]["rules"][0]["matches"][0]["path"]["value"].clone();
    let why = format!(
        "PathPrefix {} -> Service gateway:{} through gateway/{gateway}",
        prefix.as_str().unwrap_or("/"),
        seen.k10.service_port
    );
    object(ROUTE, seen, want, why)
}

/// GCPGatewayPolicy allowGlobalAccess: with `--global-access`, or kept when install made one.
pub fn gcp_policy(seen: &Observed, gateway: &str, o: &Options) -> anyhow::Result<Option<Step>> {
    let ours = seen.gateway.get(Kind::GcpGatewayPolicy, gateway).is_some_and(is_ours);
    if !o.global_access && !ours {
        return Ok(None);
    }
    let mut want = body::gcp_policy_body(&seen.k10, gateway);
    want["spec"]["default"]["allowGlobalAccess"] = json!(o.global_access);
    let why = if o.global_access {
        "allowGlobalAccess: clients in every region of the VPC reach the address"
    } else {
        "allowGlobalAccess off: only clients in the load balancer's region"
    };
    object(GATEWAY_POLICY, seen, want, why.into()).map(Some)
}

/// Said in Ingress mode's plan when the cluster already serves Gateway API.
pub fn recommendation(seen: &Observed) -> Option<String> {
    let ch = gateway::channel(&seen.cluster)?;
    Some(format!(
        "Gateway API is enabled on this cluster ({ch}): `--via gateway` is available and recommended (GKE Ingress \
         is in maintenance mode; a HealthCheckPolicy replaces the Deployment patch); `kubectl kasten-ilb migrate \
         --to gateway` moves an existing setup"
    ))
}

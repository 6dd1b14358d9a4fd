//! The install plan: each step Create / Update / Reuse / NoOp with its reason and the equivalent
//! gcloud or kubectl command, computed from desired vs observed state. Nothing here writes, and
//! nothing here holds a client: [`compute`] is a pure function of plain data
//! ([`Observed`], [`Vpc`], the health check and the BackendConfig, and the [`Settings`]).

mod fields;
mod firewall;
mod frontend;
pub mod gateway;
#[cfg(test)]
mod gateway_tests;
mod health_check;
mod preconditions;
mod proxy_subnet;
mod service;
#[cfg(test)]
mod tests;
pub mod tls;

use ipnet::Ipv4Net;
use kube::api::DynamicObject;
use serde::Serialize;
use serde_json::Value;

use crate::cidr;
use crate::cli::HealthCheckMode;
use crate::error;
use crate::gcp::model::HealthCheck;
use crate::state::{Observed, Vpc};

pub use frontend::Frontend;
pub use preconditions::{preconditions, probe_usable, version_ok};
pub use proxy_subnet::taken_ranges;
pub use service::app_protocols;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Action {
    Create,
    Update,
    Reuse,
    NoOp,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Action::Create => "Create",
            Action::Update => "Update",
            Action::Reuse => "Reuse",
            Action::NoOp => "NoOp",
        })
    }
}

#[derive(Debug, Clone)]
pub enum Change {
    None,
    CreateSubnet {
        name: String,
        body: Value,
    },
    PromoteSubnet {
        name: String,
        body: Value,
    },
    CreateFirewall {
        name: String,
        body: Value,
    },
    UpdateFirewall {
        name: String,
        body: Value,
    },
    PatchDeployment {
        patch: Value,
    },
    BackendConfig {
        name: String,
        body: Value,
        exists: bool,
    },
    AnnotateService {
        patch: Value,
    },
    /// Create the front end (`plan.frontend`) from its manifest.
    CreateFrontend {
        body: Value,
    },
    /// Merge-patch the existing front end.
    UpdateFrontend {
        patch: Value,
    },
    /// Turn Gateway API on (Container API `clusters.update`, then its operation).
    EnableGatewayApi {
        body: Value,
    },
    /// Create a Gateway API object or GKE policy (the manifest names its kind).
    CreateObject {
        body: Value,
    },
    /// Merge-patch one (`body`: the wanted manifest, for its kind and name).
    PatchObject {
        body: Value,
        patch: Value,
    },
    /// Make (or, `replace`, remake) the self-signed certificate's Secret; the key is made at apply
    /// time and never appears in a plan or manifest.
    TlsSecret {
        name: String,
        host: String,
        replace: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Step {
    /// Stable id (`proxy-subnet`, `firewall`, `health-check`, `service`, `ingress`).
    pub id: &'static str,
    pub title: &'static str,
    pub action: Action,
    pub target: String,
    pub reason: String,
    pub command: Option<String>,
    pub change: Change,
    /// What the change does to an existing object, shown before it is applied.
    pub diff: Option<String>,
}

/// One kind of step (its stable id and title), and the constructors of its four actions.
#[derive(Debug, Clone, Copy)]
pub struct StepKind {
    pub id: &'static str,
    pub title: &'static str,
}

pub const PROXY_SUBNET: StepKind = StepKind {
    id: "proxy-subnet",
    title: "Proxy-only subnet",
};
pub const FIREWALL: StepKind = StepKind {
    id: "firewall",
    title: "Firewall rule",
};
pub const HEALTH_CHECK: StepKind = StepKind {
    id: "health-check",
    title: "Health check",
};
pub const SERVICE: StepKind = StepKind {
    id: "service",
    title: "Service annotations",
};
pub const INGRESS: StepKind = StepKind {
    id: "ingress",
    title: "Ingress",
};

impl StepKind {
    fn step(self, action: Action, target: String, reason: String) -> Step {
        Step {
            id: self.id,
            title: self.title,
            action,
            target,
            reason,
            command: None,
            change: Change::None,
            diff: None,
        }
    }
    /// Already in place, and install's own.
    pub fn noop(self, target: impl Into<String>, reason: impl Into<String>) -> Step {
        self.step(Action::NoOp, target.into(), reason.into())
    }
    /// Already in place, made by someone else: used as it is.
    pub fn reuse(self, target: impl Into<String>, reason: impl Into<String>) -> Step {
        self.step(Action::Reuse, target.into(), reason.into())
    }
    pub fn create(self, target: impl Into<String>, reason: impl Into<String>, command: String, change: Change) -> Step {
        Step {
            command: Some(command),
            change,
            ..self.step(Action::Create, target.into(), reason.into())
        }
    }
    pub fn update(self, target: impl Into<String>, reason: impl Into<String>, command: String, change: Change) -> Step {
        Step {
            command: Some(command),
            change,
            ..self.step(Action::Update, target.into(), reason.into())
        }
    }
}

impl Step {
    pub fn with_diff(self, diff: String) -> Step {
        Step {
            diff: Some(diff),
            ..self
        }
    }
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub proxy_range: Ipv4Net,
    pub container_port: i32,
    /// How the gateway is exposed (the Ingress today).
    pub frontend: Frontend,
    pub path: String,
    pub strategy: HealthCheckMode,
    pub warnings: Vec<String>,
    /// HTTPS only (TLS without a static IP: GKE cannot serve both on one internal IP).
    pub https: bool,
    pub host: Option<String>,
    /// The `kubernetes.io/tls` Secret the front end serves (`--tls-secret`, or `--self-signed`'s).
    pub certificate: Option<String>,
}

impl Plan {
    pub fn is_noop(&self) -> bool {
        self.steps
            .iter()
            .all(|s| matches!(s.action, Action::NoOp | Action::Reuse))
    }
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The dashboard's URL once the load balancer has `ip`.
    pub fn url(&self, ip: &str) -> String {
        let scheme = if self.https { "https" } else { "http" };
        match &self.host {
            Some(h) => format!("{scheme}://{h}{} (address {ip})", self.path),
            None => format!("{scheme}://{ip}{}", self.path),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub health_check: HealthCheckMode,
    pub ingress_name: Option<String>,
    pub path: Option<String>,
    pub static_ip: Option<String>,
    pub host: Option<String>,
    pub tls_secret: Option<String>,
    pub proxy_range: Option<String>,
    pub allow_unauthenticated: bool,
    /// `--self-signed`: install makes the certificate (see [`tls`]).
    pub self_signed: bool,
    /// `--https-only`: no HTTP even with a static IP.
    pub no_http: bool,
}

impl Settings {
    /// From the command line, checking first what needs no network (range syntax and size, path).
    pub fn from_args(a: &crate::cli::PlanArgs) -> anyhow::Result<Settings> {
        if let Some(r) = &a.proxy_subnet_range {
            cidr::validate(r, &[])?;
        }
        if let Some(path) = &a.path {
            normalize_path(path)?;
        }
        crate::validate::plan_args(a).map_err(crate::validate::Rejected::into_error)?;
        Ok(Settings {
            health_check: a.health_check,
            ingress_name: a.ingress_name.clone(),
            path: a.path.clone(),
            static_ip: a.static_ip.clone(),
            host: a.host.clone(),
            tls_secret: a.tls_secret.clone(),
            proxy_range: a.proxy_subnet_range.clone(),
            allow_unauthenticated: a.allow_unauthenticated,
            self_signed: a.self_signed,
            no_http: a.https_only,
        })
    }

    /// HTTPS only: TLS with `--https-only`, or without a static IP (GKE serves both on one
    /// internal IP only with one).
    pub fn https_only(&self) -> bool {
        self.has_certificate() && (self.static_ip.is_none() || self.no_http)
    }

    /// A certificate is asked for (`--tls-secret` or `--self-signed`).
    pub fn has_certificate(&self) -> bool {
        self.tls_secret.is_some() || self.self_signed
    }

    /// The `kubernetes.io/tls` Secret the front end serves, for K10 release `release`.
    pub fn certificate_secret(&self, release: &str) -> Option<String> {
        match (&self.tls_secret, self.self_signed) {
            (Some(t), _) => Some(t.clone()),
            (None, true) => Some(tls::self_signed_name(release)),
            (None, false) => None,
        }
    }
}

/// Quote a value for a POSIX shell command line.
pub fn sh_quote(v: &str) -> String {
    if !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || "/:._-=,@".contains(c)) {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', "'\\''"))
    }
}

pub fn proxy_subnet_name(network: &str) -> String {
    let n: String = format!("proxy-only-{network}").chars().take(63).collect();
    n.trim_end_matches('-').to_string()
}

pub fn firewall_name(cluster: &str, port: i32) -> String {
    let base: String = format!("kasten-ilb-{cluster}").chars().take(45).collect();
    format!("{}-proxy-to-{port}", base.trim_end_matches('-'))
}

pub fn backend_config_name(release: &str) -> String {
    format!("{release}-gateway-ilb")
}

pub fn normalize_path(p: &str) -> anyhow::Result<String> {
    let t = p.trim();
    if t.is_empty() || t.contains(['*', ' ', '?', '#']) {
        return Err(error::usage(
            format!("--path `{p}` is not a URL path prefix"),
            "use e.g. --path /k10/",
        ));
    }
    let inner = t.trim_matches('/');
    Ok(if inner.is_empty() {
        "/".into()
    } else {
        format!("/{inner}/")
    })
}

/// What a step function adds besides its step.
#[derive(Debug, Default)]
pub struct Notes {
    pub warnings: Vec<String>,
}

/// The plan: preconditions, then one function per step, in the order they are applied.
pub fn compute(
    seen: &Observed,
    vpc: &Vpc,
    hc: Option<&HealthCheck>,
    bc: Option<&DynamicObject>,
    s: &Settings,
) -> anyhow::Result<Plan> {
    let port = preconditions(seen, s)?;
    let mut notes = Notes::default();
    let (subnet, proxy_range) = proxy_subnet::step(seen, vpc, s, &mut notes)?;
    let firewall = firewall::step(seen, vpc, proxy_range, port, &mut notes);
    let strategy = health_check::strategy(&seen.k10, hc, bc, s.health_check, port)?;
    let health = health_check::step(&seen.k10, hc, bc, strategy, port)?;
    let service = service::step(&seen.k10, strategy)?;
    let (frontend, path) = frontend::choose(seen, s)?;
    let exposed = frontend::step(seen, &frontend, &path, s, &mut notes)?;
    notes.warnings.extend(gateway::recommendation(seen));
    if s.https_only() && s.static_ip.is_none() {
        notes.warnings.push(
            "HTTPS only: GKE serves HTTP and HTTPS on one internal IP only with a static IP (--static-ip)".into(),
        );
    }
    Ok(Plan {
        steps: vec![subnet, firewall, health, service, exposed],
        proxy_range,
        container_port: port,
        frontend,
        path,
        strategy,
        warnings: notes.warnings,
        https: s.https_only(),
        host: s.host.clone(),
        certificate: s.certificate_secret(&seen.k10.release),
    })
}

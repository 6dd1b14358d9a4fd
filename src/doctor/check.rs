//! What a check is: a typed id, an outcome, a finding, and (for WARN and FAIL) one repair hint.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use serde_json::Value;

/// The checks, in the order doctor runs and prints them. Serialised to the ids of doctor's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CheckId {
    Context,
    Cluster,
    Permissions,
    K10,
    ProxySubnet,
    Firewall,
    Service,
    HealthCheck,
    Ingress,
    Events,
    Address,
    Negs,
    Backends,
    E2e,
    GatewayApi,
    HealthPolicy,
    Gateway,
    Route,
    // Security (issue 16).
    Https,
    Certificate,
    Reach,
    OpenFirewall,
    Auth,
}

impl CheckId {
    /// The id in doctor's output (`hint (proxy-subnet): ...`, JSON `"id"`).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::Context => "context",
            CheckId::Cluster => "cluster",
            CheckId::Permissions => "permissions",
            CheckId::K10 => "k10",
            CheckId::ProxySubnet => "proxy-subnet",
            CheckId::Firewall => "firewall",
            CheckId::Service => "service",
            CheckId::HealthCheck => "health-check",
            CheckId::Ingress => "ingress",
            CheckId::Events => "events",
            CheckId::Address => "address",
            CheckId::Negs => "negs",
            CheckId::Backends => "backends",
            CheckId::E2e => "e2e",
            CheckId::GatewayApi => "gateway-api",
            CheckId::HealthPolicy => "health-check-policy",
            CheckId::Gateway => "gateway",
            CheckId::Route => "http-route",
            CheckId::Https => "https",
            CheckId::Certificate => "certificate",
            CheckId::Reach => "reach",
            CheckId::OpenFirewall => "open-firewall",
            CheckId::Auth => "auth",
        }
    }

    /// The title in doctor's table.
    pub fn title(self) -> &'static str {
        match self {
            CheckId::Context => "Kube context",
            CheckId::Cluster => "Cluster",
            CheckId::Permissions => "Permissions",
            CheckId::K10 => "K10",
            CheckId::ProxySubnet => "Proxy-only subnet",
            CheckId::Firewall => "Firewall",
            CheckId::Service => "Service gateway",
            CheckId::HealthCheck => "Health check",
            CheckId::Ingress => "Ingress",
            CheckId::Events => "Controller events",
            CheckId::Address => "Address",
            CheckId::Negs => "NEGs",
            CheckId::Backends => "Backend health",
            CheckId::E2e => "In-cluster curl",
            CheckId::GatewayApi => "Gateway API",
            CheckId::HealthPolicy => "HealthCheckPolicy",
            CheckId::Gateway => "Gateway",
            CheckId::Route => "HTTPRoute",
            CheckId::Https => "HTTPS",
            CheckId::Certificate => "Certificate",
            CheckId::Reach => "Who can reach it",
            CheckId::OpenFirewall => "Open firewall",
            CheckId::Auth => "K10 auth",
        }
    }

    /// The checks this one depends on: a FAIL (or blocked SKIP) there turns a FAIL here into a SKIP
    /// that names the root cause, so each broken world shows one FAIL where the fix is.
    pub fn depends_on(self) -> &'static [CheckId] {
        use CheckId::*;
        match self {
            Firewall => &[Cluster, ProxySubnet],
            HealthCheck => &[Cluster, K10],
            Address => &[Cluster, ProxySubnet, Ingress, Events],
            Negs => &[Cluster, K10, Service, Ingress, Gateway, Route],
            Backends => &[Cluster, K10, Firewall, Service, HealthCheck, Negs, HealthPolicy],
            E2e => &[
                Cluster,
                K10,
                ProxySubnet,
                Firewall,
                Service,
                HealthCheck,
                Ingress,
                Address,
                Negs,
                Backends,
                GatewayApi,
                HealthPolicy,
                Gateway,
                Route,
            ],
            Auth => &[K10],
            _ => gateway_depends_on(self),
        }
    }
}

/// Gateway mode's dependencies (Address, NEGs, backends and curl hang off the Gateway there).
fn gateway_depends_on(id: CheckId) -> &'static [CheckId] {
    use CheckId::*;
    match id {
        Gateway => &[Cluster, GatewayApi, ProxySubnet],
        Route => &[GatewayApi, Gateway],
        HealthPolicy => &[GatewayApi, K10],
        _ => &[],
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CheckId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Warn,
    Fail,
    /// Not checked: `blocked_by` names the failing check that explains why, when one does.
    Skip {
        blocked_by: Option<CheckId>,
    },
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Warn => "WARN",
            Outcome::Fail => "FAIL",
            Outcome::Skip { .. } => "SKIP",
        }
    }

    /// Outcomes of the same kind (a blocked SKIP counts as a SKIP).
    pub fn same_kind(self, other: Outcome) -> bool {
        self.label() == other.label()
    }
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.label())
    }
}

/// One line of doctor's report.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub id: CheckId,
    pub result: Outcome,
    /// What was found (for a blocked SKIP, without the `blocked by ...: ` prefix; see [`Check::text`]).
    pub finding: String,
    pub hint: Option<String>,
    pub evidence: Value,
}

impl Check {
    fn new(id: CheckId, result: Outcome, finding: impl Into<String>) -> Check {
        Check {
            id,
            result,
            finding: finding.into(),
            hint: None,
            evidence: Value::Null,
        }
    }

    pub fn pass(id: CheckId, finding: impl Into<String>) -> Check {
        Check::new(id, Outcome::Pass, finding)
    }

    pub fn warn(id: CheckId, finding: impl Into<String>) -> Check {
        Check::new(id, Outcome::Warn, finding)
    }

    pub fn fail(id: CheckId, finding: impl Into<String>) -> Check {
        Check::new(id, Outcome::Fail, finding)
    }

    /// Not checked, for a reason that is not another check's failure.
    pub fn skip(id: CheckId, why: impl Into<String>) -> Check {
        Check::new(id, Outcome::Skip { blocked_by: None }, why)
    }

    /// Not checked because check `by` failed.
    pub fn blocked(id: CheckId, by: CheckId, why: impl Into<String>) -> Check {
        Check::new(id, Outcome::Skip { blocked_by: Some(by) }, why)
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Check {
        self.hint = Some(hint.into());
        self
    }

    pub fn evidence(mut self, evidence: Value) -> Check {
        self.evidence = evidence;
        self
    }

    pub fn title(&self) -> &'static str {
        self.id.title()
    }

    /// The finding as printed: a blocked SKIP names its root cause first.
    pub fn text(&self) -> String {
        match self.result {
            Outcome::Skip { blocked_by: Some(by) } => format!("blocked by {by}: {}", self.finding),
            _ => self.finding.clone(),
        }
    }

    pub fn is_fail(&self) -> bool {
        self.result == Outcome::Fail
    }
}

impl Serialize for Check {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Check", 6)?;
        st.serialize_field("id", &self.id)?;
        st.serialize_field("title", self.title())?;
        st.serialize_field("result", &self.result)?;
        st.serialize_field("finding", &self.text())?;
        st.serialize_field("hint", &self.hint)?;
        st.serialize_field("evidence", &self.evidence)?;
        st.end()
    }
}

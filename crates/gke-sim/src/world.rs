//! The simulated world: one GKE project with its VPC, one cluster and the cluster's Kubernetes objects.
//!
//! Everything is plain JSON (`serde_json::Value`) shaped as Google and Kubernetes shape it, so the
//! HTTP layer can hand objects out unchanged and apply JSON/merge patches to them directly.
//!
//! Resources and their constructors live here and in the modules below; the world knows nothing
//! of scenarios (which build worlds) or of the controllers (which change them).

pub mod compute;
pub mod firewall;
pub mod kube;
pub mod resources;
pub mod time;
pub mod xpn;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

pub use compute::{Compute, Op, AUTO_MODE_BLOCK, AUTO_SUBNETS, HC_SOURCE_RANGES};
pub use kube::uuid_like;
pub use resources::{res_by_kind, res_by_plural, ResDef, RESOURCES};
pub use time::{event_nanos, now_rfc3339, rfc3339};

/// Tunables of the simulation.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub scenario: String,
    pub latency: Duration,
    pub error_rate: f64,
    pub seed: u64,
    /// How long the ingress controller takes before it acts on a new or changed Ingress.
    pub lb_delay: Duration,
    /// How long a Compute operation stays PENDING/RUNNING.
    pub op_delay: Duration,
    /// Apply the Nth write (1-based; Lease writes not counted), then hold its response open until
    /// the client goes away, and say so (see `hold`).
    pub hold_write: Option<usize>,
    /// Whether the ingress controller opens its own firewall rule to the proxy-only range
    /// (FIDELITY.md, "The controller's own firewall rule"). Scenarios and tests may change it on
    /// a live world (`w.cfg.controller_firewall`).
    pub controller_firewall: ControllerFirewall,
}

/// What ingress-gce's firewall controller puts in `k8s-fw-l7--<uid>` for a gce-internal Ingress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ControllerFirewall {
    /// As `pkg/firewalls` does: the health-check ranges and the ACTIVE proxy-only range.
    Code,
    /// As the how-to page says: the health-check ranges only; the user opens the proxy range.
    #[default]
    Docs,
}

impl std::str::FromStr for ControllerFirewall {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "code" => Ok(ControllerFirewall::Code),
            "docs" => Ok(ControllerFirewall::Docs),
            _ => Err(format!("expected `code` or `docs`, got {s:?}")),
        }
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            scenario: "fresh".into(),
            latency: Duration::ZERO,
            error_rate: 0.0,
            seed: 1,
            lb_delay: Duration::from_millis(1500),
            op_delay: Duration::from_millis(200),
            hold_write: None,
            controller_firewall: ControllerFirewall::default(),
        }
    }
}

/// One request as the simulator saw it (for read-only assertions and benchmarks).
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    /// When it arrived, since the simulator started.
    pub at: Duration,
}

/// Everything the ingress controller model remembers about one Ingress.
#[derive(Debug, Clone, Default)]
pub struct IngressMemo {
    pub first_seen: Option<Instant>,
    pub generation_seen: i64,
    pub synced_generation: i64,
    pub last_warning: Option<String>,
    pub ip: Option<String>,
    pub deleting_since: Option<Instant>,
}

pub struct World {
    pub cfg: SimConfig,
    pub base_url: String,
    pub project: String,
    pub project_number: String,
    pub cluster_name: String,
    pub location: String,
    pub region: String,
    pub zones: Vec<String>,
    pub network: String,
    pub node_tag: String,
    pub cluster: Value,
    pub compute: Compute,
    /// resource key -> (namespace, name) -> object
    pub kube: BTreeMap<String, BTreeMap<(String, String), Value>>,
    pub resource_version: u64,
    pub next_id: u64,
    pub rng: u64,
    pub log: Vec<LoggedRequest>,
    pub ingress_memo: BTreeMap<(String, String), IngressMemo>,
    /// The Gateway controller's memory of each Gateway (`gateway_api`), in the same shape.
    pub gateway_memo: BTreeMap<(String, String), IngressMemo>,
    /// Compute permissions the caller does NOT have (403 on use; testIamPermissions omits them).
    pub denied_permissions: Vec<String>,
    /// Kubernetes verbs the caller may not use, as `verb resource` (e.g. `patch deployments`).
    pub denied_kube: Vec<String>,
    /// Images (container image names) that contain a `curl` binary.
    pub images_with_curl: Vec<String>,
    pub access_token: String,
    pub next_ip: u32,
    pub started: Instant,
    /// One-shot failures for tests: (method, path substring, HTTP status); the first matching
    /// request gets that status once.
    pub inject_once: Vec<(String, String, u16)>,
    /// When set, the controllers do nothing (tests freeze the world to break one thing).
    pub controllers_paused: bool,
    /// Recent changes for watches: (resourceVersion, resource key, event type, object).
    pub changes: std::collections::VecDeque<(u64, String, &'static str, Value)>,
    /// Poked by every write, so the controllers wake up only when there is something to do.
    pub changed: Arc<tokio::sync::Notify>,
    /// How many passes the controller loop has made (`controller::run`).
    pub controller_passes: u64,
    /// Writes counted towards `SimConfig::hold_write`.
    pub writes_seen: usize,
    /// The write being held open (`METHOD PATH`), once it is.
    pub holding: Option<String>,
    /// Shared VPC: the host project that owns the network (`None`: the project owns it).
    pub shared_vpc: Option<xpn::SharedVpc>,
}

pub const CLUSTER_UID: &str = "3f9c1a27b5d04e6f";
pub const KUBE_SYSTEM_UID: &str = "6a0f5c3e-9a54-4c1e-8d2f-2b7f3c91e0aa";

impl World {
    /// An empty world: the project, cluster and objects come from a scenario
    /// (`scenario::build`).
    pub fn new(cfg: SimConfig, base_url: String) -> World {
        let rng = cfg.seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        World {
            cfg,
            base_url,
            project: "kasten-demo".into(),
            project_number: "482915736014".into(),
            cluster_name: "kasten-demo".into(),
            location: "us-central1-a".into(),
            region: "us-central1".into(),
            zones: vec!["us-central1-a".into(), "us-central1-b".into(), "us-central1-c".into()],
            network: "default".into(),
            node_tag: "gke-kasten-demo-5e1d9b2c-node".into(),
            cluster: Value::Null,
            compute: Compute::default(),
            kube: BTreeMap::new(),
            resource_version: 1000,
            next_id: 4_211_570_000_000_000_000,
            rng,
            log: Vec::new(),
            ingress_memo: BTreeMap::new(),
            gateway_memo: BTreeMap::new(),
            denied_permissions: Vec::new(),
            denied_kube: Vec::new(),
            images_with_curl: vec!["catalog".into(), "controllermanager".into(), "kanister-tools".into()],
            access_token: String::new(),
            next_ip: 100,
            started: Instant::now(),
            changes: Default::default(),
            controllers_paused: false,
            inject_once: Vec::new(),
            changed: Arc::new(tokio::sync::Notify::new()),
            controller_passes: 0,
            writes_seen: 0,
            holding: None,
            shared_vpc: None,
        }
    }

    /// Wake the controllers: something changed.
    pub fn touch(&self) {
        self.changed.notify_one();
    }

    // ---------- ids, urls ----------

    pub fn new_id(&mut self) -> String {
        self.next_id += 7919;
        self.next_id.to_string()
    }

    pub fn next_rv(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    /// A deterministic pseudo-random number in [0, 1).
    pub fn rand(&mut self) -> f64 {
        xorshift(&mut self.rng)
    }

    pub fn compute_base(&self) -> String {
        format!("{}/compute/v1", self.base_url)
    }
    pub fn project_url(&self) -> String {
        format!("{}/projects/{}", self.compute_base(), self.project)
    }
    pub fn network_url(&self, name: &str) -> String {
        format!("{}/global/networks/{}", self.project_url(), name)
    }
    pub fn region_url(&self, region: &str) -> String {
        format!("{}/regions/{}", self.project_url(), region)
    }
    pub fn zone_url(&self, zone: &str) -> String {
        format!("{}/zones/{}", self.project_url(), zone)
    }
    pub fn subnet_url(&self, region: &str, name: &str) -> String {
        format!("{}/subnetworks/{}", self.region_url(region), name)
    }
    /// A digest of the whole world (Kubernetes objects except Events, and every Compute and
    /// Container resource): equal digests mean nothing was changed.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for (k, m) in &self.kube {
            if k == "events." {
                continue;
            }
            for ((ns, n), v) in m {
                h.update(format!("{k}/{ns}/{n}={v}\n").as_bytes());
            }
        }
        let c = &self.compute;
        for (name, map) in [
            ("net", &c.networks),
            ("sub", &c.subnetworks),
            ("fw", &c.firewalls),
            ("neg", &c.negs),
            ("bs", &c.backend_services),
            ("hc", &c.health_checks),
            ("um", &c.url_maps),
            ("tp", &c.target_proxies),
            ("fr", &c.forwarding_rules),
            ("addr", &c.addresses),
            ("gfr", &c.global_forwarding_rules),
        ] {
            for (k, v) in map {
                h.update(format!("{name}/{k}={v}\n").as_bytes());
            }
        }
        h.update(self.cluster.to_string().as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn permission_denied(&self, perm: &str) -> bool {
        self.denied_permissions.iter().any(|p| p == perm)
    }
}

/// The next number in [0, 1) of a xorshift sequence whose (non-zero) state is `x`.
pub fn xorshift(x: &mut u64) -> f64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    (*x >> 11) as f64 / (1u64 << 53) as f64
}

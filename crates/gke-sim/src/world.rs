//! The simulated world: one GKE project with its VPC, one cluster and the cluster's Kubernetes objects.
//!
//! Everything is plain JSON (`serde_json::Value`) shaped as Google and Kubernetes shape it, so the
//! HTTP layer can hand objects out unchanged and apply JSON/merge patches to them directly.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ipnet::Ipv4Net;
use serde_json::{json, Value};

/// The resource kinds the simulated Kubernetes API serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResDef {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short: &'static [&'static str],
}

impl ResDef {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
    /// Key of this resource in the store: `plural.group`.
    pub fn key(&self) -> String {
        format!("{}.{}", self.plural, self.group)
    }
}

pub const RESOURCES: &[ResDef] = &[
    ResDef {
        group: "",
        version: "v1",
        plural: "namespaces",
        kind: "Namespace",
        namespaced: false,
        short: &["ns"],
    },
    ResDef {
        group: "",
        version: "v1",
        plural: "nodes",
        kind: "Node",
        namespaced: false,
        short: &["no"],
    },
    ResDef {
        group: "",
        version: "v1",
        plural: "pods",
        kind: "Pod",
        namespaced: true,
        short: &["po"],
    },
    ResDef {
        group: "",
        version: "v1",
        plural: "services",
        kind: "Service",
        namespaced: true,
        short: &["svc"],
    },
    ResDef {
        group: "",
        version: "v1",
        plural: "endpoints",
        kind: "Endpoints",
        namespaced: true,
        short: &["ep"],
    },
    ResDef {
        group: "",
        version: "v1",
        plural: "events",
        kind: "Event",
        namespaced: true,
        short: &["ev"],
    },
    ResDef {
        group: "",
        version: "v1",
        plural: "configmaps",
        kind: "ConfigMap",
        namespaced: true,
        short: &["cm"],
    },
    ResDef {
        group: "",
        version: "v1",
        plural: "secrets",
        kind: "Secret",
        namespaced: true,
        short: &[],
    },
    ResDef {
        group: "",
        version: "v1",
        plural: "serviceaccounts",
        kind: "ServiceAccount",
        namespaced: true,
        short: &["sa"],
    },
    ResDef {
        group: "apps",
        version: "v1",
        plural: "deployments",
        kind: "Deployment",
        namespaced: true,
        short: &["deploy"],
    },
    ResDef {
        group: "networking.k8s.io",
        version: "v1",
        plural: "ingresses",
        kind: "Ingress",
        namespaced: true,
        short: &["ing"],
    },
    ResDef {
        group: "networking.k8s.io",
        version: "v1",
        plural: "networkpolicies",
        kind: "NetworkPolicy",
        namespaced: true,
        short: &["netpol"],
    },
    ResDef {
        group: "networking.k8s.io",
        version: "v1",
        plural: "ingressclasses",
        kind: "IngressClass",
        namespaced: false,
        short: &[],
    },
    ResDef {
        group: "discovery.k8s.io",
        version: "v1",
        plural: "endpointslices",
        kind: "EndpointSlice",
        namespaced: true,
        short: &[],
    },
    ResDef {
        group: "cloud.google.com",
        version: "v1",
        plural: "backendconfigs",
        kind: "BackendConfig",
        namespaced: true,
        short: &["bc"],
    },
    ResDef {
        group: "networking.gke.io",
        version: "v1beta1",
        plural: "frontendconfigs",
        kind: "FrontendConfig",
        namespaced: true,
        short: &[],
    },
    ResDef {
        group: "authorization.k8s.io",
        version: "v1",
        plural: "selfsubjectaccessreviews",
        kind: "SelfSubjectAccessReview",
        namespaced: false,
        short: &[],
    },
];

pub fn res_by_plural(group: &str, plural: &str) -> Option<&'static ResDef> {
    RESOURCES.iter().find(|r| r.group == group && r.plural == plural)
}

pub fn res_by_kind(kind: &str) -> Option<&'static ResDef> {
    RESOURCES.iter().find(|r| r.kind == kind)
}

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
        }
    }
}

/// A pending Compute or Container operation.
#[derive(Debug, Clone)]
pub struct Op {
    pub value: Value,
    pub done_at: Instant,
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

#[derive(Debug, Default)]
pub struct Compute {
    pub networks: BTreeMap<String, Value>,
    /// key: region/name
    pub subnetworks: BTreeMap<String, Value>,
    pub firewalls: BTreeMap<String, Value>,
    /// key: zone/name
    pub negs: BTreeMap<String, Value>,
    /// key: region/name
    pub backend_services: BTreeMap<String, Value>,
    pub health_checks: BTreeMap<String, Value>,
    pub url_maps: BTreeMap<String, Value>,
    pub target_proxies: BTreeMap<String, Value>,
    pub forwarding_rules: BTreeMap<String, Value>,
    pub addresses: BTreeMap<String, Value>,
    /// global (external) forwarding rules, key: name
    pub global_forwarding_rules: BTreeMap<String, Value>,
    /// key: zone/name
    pub instances: BTreeMap<String, Value>,
    /// key: scope/name where scope is `global`, `regions/R`, `zones/Z`
    pub operations: BTreeMap<String, Op>,
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
}

pub const CLUSTER_UID: &str = "3f9c1a27b5d04e6f";
pub const KUBE_SYSTEM_UID: &str = "6a0f5c3e-9a54-4c1e-8d2f-2b7f3c91e0aa";
pub const HC_SOURCE_RANGES: [&str; 2] = ["130.211.0.0/22", "35.191.0.0/16"];

/// Google's standard per-region ranges of an auto-mode VPC (a representative subset).
pub const AUTO_SUBNETS: &[(&str, &str)] = &[
    ("us-central1", "10.128.0.0/20"),
    ("europe-west1", "10.132.0.0/20"),
    ("us-west1", "10.138.0.0/20"),
    ("asia-east1", "10.140.0.0/20"),
    ("us-east1", "10.142.0.0/20"),
    ("asia-northeast1", "10.146.0.0/20"),
    ("asia-southeast1", "10.148.0.0/20"),
    ("us-east4", "10.150.0.0/20"),
    ("australia-southeast1", "10.152.0.0/20"),
    ("europe-west2", "10.154.0.0/20"),
    ("europe-west3", "10.156.0.0/20"),
    ("southamerica-east1", "10.158.0.0/20"),
    ("asia-south1", "10.160.0.0/20"),
    ("northamerica-northeast1", "10.162.0.0/20"),
    ("europe-west4", "10.164.0.0/20"),
    ("europe-north1", "10.166.0.0/20"),
    ("us-west2", "10.168.0.0/20"),
    ("asia-east2", "10.170.0.0/20"),
    ("europe-west6", "10.172.0.0/20"),
    ("asia-northeast2", "10.174.0.0/20"),
];

pub const AUTO_MODE_BLOCK: &str = "10.128.0.0/9";

pub fn rfc3339(offset_secs: i64) -> String {
    // A fixed epoch keeps snapshots stable; ages are computed by clients from these.
    let base = 1_795_000_000i64 + offset_secs; // 2026-11-18
    let secs = base.rem_euclid(86_400);
    let days = base.div_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Current wall-clock time as RFC 3339 (used for new objects and events).
pub fn now_rfc3339() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64;
    rfc3339(now - 1_795_000_000)
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl World {
    pub fn new(cfg: SimConfig, base_url: String) -> World {
        let rng = cfg.seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut w = World {
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
            denied_permissions: Vec::new(),
            denied_kube: Vec::new(),
            images_with_curl: vec!["catalog".into(), "controllermanager".into(), "kanister-tools".into()],
            access_token: String::new(),
            next_ip: 100,
            started: Instant::now(),
            changes: Default::default(),
            controllers_paused: false,
            inject_once: Vec::new(),
        };
        crate::scenario::build(&mut w);
        w
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
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
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

    // ---------- Kubernetes store ----------

    pub fn kube_list(&self, rd: &ResDef) -> Vec<&Value> {
        self.kube
            .get(&rd.key())
            .map(|m| m.values().collect())
            .unwrap_or_default()
    }

    pub fn kube_get(&self, kind: &str, ns: &str, name: &str) -> Option<&Value> {
        let rd = res_by_kind(kind)?;
        let ns = if rd.namespaced { ns } else { "" };
        self.kube.get(&rd.key())?.get(&(ns.to_string(), name.to_string()))
    }

    pub fn kube_get_mut(&mut self, kind: &str, ns: &str, name: &str) -> Option<&mut Value> {
        let rd = res_by_kind(kind)?;
        let ns = if rd.namespaced { ns } else { "" };
        self.kube
            .get_mut(&rd.key())?
            .get_mut(&(ns.to_string(), name.to_string()))
    }

    /// Objects of a kind in a namespace ("" = all namespaces).
    pub fn kube_in_ns(&self, kind: &str, ns: &str) -> Vec<Value> {
        let Some(rd) = res_by_kind(kind) else { return vec![] };
        self.kube
            .get(&rd.key())
            .map(|m| {
                m.iter()
                    .filter(|((n, _), _)| ns.is_empty() || n == ns)
                    .map(|(_, v)| v.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Store an object, filling in the server-set metadata fields. Returns the stored object.
    pub fn kube_put(&mut self, mut obj: Value) -> Value {
        let kind = obj["kind"].as_str().unwrap_or_default().to_string();
        let rd = res_by_kind(&kind).unwrap_or_else(|| panic!("unknown kind {kind}"));
        let ns = if rd.namespaced {
            obj["metadata"]["namespace"].as_str().unwrap_or("default").to_string()
        } else {
            String::new()
        };
        let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_string();
        if obj["apiVersion"].is_null() {
            obj["apiVersion"] = json!(rd.api_version());
        }
        if rd.namespaced {
            obj["metadata"]["namespace"] = json!(ns);
        }
        let existing = self
            .kube
            .get(&rd.key())
            .and_then(|m| m.get(&(ns.clone(), name.clone())))
            .cloned();
        let meta = &mut obj["metadata"];
        match &existing {
            Some(old) => {
                meta["uid"] = old["metadata"]["uid"].clone();
                meta["creationTimestamp"] = old["metadata"]["creationTimestamp"].clone();
                let old_gen = old["metadata"]["generation"].as_i64().unwrap_or(1);
                let spec_changed = old.get("spec") != obj.get("spec");
                obj["metadata"]["generation"] = json!(if spec_changed { old_gen + 1 } else { old_gen });
            }
            None => {
                if meta["uid"].is_null() {
                    let n = self.new_id();
                    obj["metadata"]["uid"] = json!(uuid_like(&n));
                }
                if obj["metadata"]["creationTimestamp"].is_null() {
                    obj["metadata"]["creationTimestamp"] = json!(now_rfc3339());
                }
                obj["metadata"]["generation"] = json!(1);
            }
        }
        let rv = self.next_rv();
        obj["metadata"]["resourceVersion"] = json!(rv);
        self.kube.entry(rd.key()).or_default().insert((ns, name), obj.clone());
        self.record_change(
            rd.key(),
            if existing.is_some() { "MODIFIED" } else { "ADDED" },
            obj.clone(),
        );
        obj
    }

    pub fn record_change(&mut self, key: String, typ: &'static str, obj: Value) {
        self.changes.push_back((self.resource_version, key, typ, obj));
        while self.changes.len() > 20_000 {
            self.changes.pop_front();
        }
    }

    pub fn kube_delete(&mut self, kind: &str, ns: &str, name: &str) -> Option<Value> {
        let rd = res_by_kind(kind)?;
        let ns = if rd.namespaced { ns } else { "" };
        self.resource_version += 1;
        let mut gone = self
            .kube
            .get_mut(&rd.key())?
            .remove(&(ns.to_string(), name.to_string()))?;
        gone["metadata"]["resourceVersion"] = json!(self.resource_version.to_string());
        self.record_change(rd.key(), "DELETED", gone.clone());
        Some(gone)
    }

    /// Record a Kubernetes Event about an object, merging repeats as the API server's event
    /// correlator does (same reason and message: count + 1).
    pub fn event(&mut self, involved: &Value, type_: &str, reason: &str, message: &str, source: &str) {
        let ns = involved["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        let oname = involved["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let kind = involved["kind"].as_str().unwrap_or_default().to_string();
        let now = now_rfc3339();
        let existing = self.kube_in_ns("Event", &ns).into_iter().find(|e| {
            e["involvedObject"]["name"] == json!(oname)
                && e["involvedObject"]["kind"] == json!(kind)
                && e["reason"] == json!(reason)
                && e["message"] == json!(message)
        });
        if let Some(mut e) = existing {
            e["count"] = json!(e["count"].as_i64().unwrap_or(1) + 1);
            e["lastTimestamp"] = json!(now);
            self.kube_put(e);
            return;
        }
        let suffix = format!("{:x}", self.next_id.wrapping_mul(2_654_435_761) & 0xffff_ffff_ffff);
        self.next_id += 1;
        let ev = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": format!("{oname}.{suffix}"), "namespace": ns},
            "involvedObject": {
                "apiVersion": involved["apiVersion"], "kind": kind, "name": oname, "namespace": ns,
                "uid": involved["metadata"]["uid"], "resourceVersion": involved["metadata"]["resourceVersion"],
            },
            "reason": reason,
            "message": message,
            "type": type_,
            "source": {"component": source},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "reportingComponent": source,
            "reportingInstance": "",
        });
        self.kube_put(ev);
    }

    // ---------- Compute helpers ----------

    pub fn alloc_internal_ip(&mut self) -> String {
        // The cluster's node subnet (10.128.0.0/20 in us-central1); node IPs use .2-.9.
        let base = self.node_subnet_range();
        let ip = u32::from(base.network()) + self.next_ip;
        self.next_ip += 1;
        std::net::Ipv4Addr::from(ip).to_string()
    }

    pub fn node_subnet_range(&self) -> Ipv4Net {
        let key = format!(
            "{}/{}",
            self.region,
            self.cluster["subnetwork"].as_str().unwrap_or(&self.network)
        );
        self.compute
            .subnetworks
            .get(&key)
            .and_then(|s| s["ipCidrRange"].as_str())
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| "10.128.0.0/20".parse().unwrap())
    }

    pub fn pod_range(&self) -> String {
        self.cluster["clusterIpv4Cidr"]
            .as_str()
            .unwrap_or("10.52.0.0/14")
            .to_string()
    }

    pub fn http_lb_enabled(&self) -> bool {
        !self.cluster["addonsConfig"]["httpLoadBalancing"]["disabled"]
            .as_bool()
            .unwrap_or(false)
    }

    pub fn vpc_native(&self) -> bool {
        self.cluster["ipAllocationPolicy"]["useIpAliases"]
            .as_bool()
            .unwrap_or(false)
    }

    /// Record a finished or pending operation and return it.
    pub fn operation(&mut self, scope: &str, op_type: &str, target_link: &str, error: Option<Value>) -> Value {
        let id = self.new_id();
        let name = format!(
            "operation-{}-{}",
            1_795_000_000_000u64 + self.next_id % 1_000_000,
            &id[id.len() - 8..]
        );
        let delay = self.cfg.op_delay;
        let mut v = json!({
            "kind": "compute#operation",
            "id": id,
            "name": name,
            "operationType": op_type,
            "targetLink": target_link,
            "targetId": self.new_id(),
            "status": if delay.is_zero() { "DONE" } else { "RUNNING" },
            "user": "kasten-ilb-sim@kasten-demo.iam.gserviceaccount.com",
            "progress": 0,
            "insertTime": now_rfc3339(),
            "startTime": now_rfc3339(),
            "selfLink": format!("{}/{}/operations/{}", self.project_url(), scope, name),
        });
        if let Some(rest) = scope.strip_prefix("regions/") {
            v["region"] = json!(self.region_url(rest));
        } else if let Some(rest) = scope.strip_prefix("zones/") {
            v["zone"] = json!(self.zone_url(rest));
        }
        if let Some(err) = error {
            v["error"] = err;
        }
        self.compute.operations.insert(
            format!("{scope}/{name}"),
            Op {
                value: v.clone(),
                done_at: Instant::now() + delay,
            },
        );
        v
    }

    pub fn op_view(&self, key: &str) -> Option<Value> {
        let op = self.compute.operations.get(key)?;
        let mut v = op.value.clone();
        if Instant::now() >= op.done_at {
            v["status"] = json!("DONE");
            v["progress"] = json!(100);
            v["endTime"] = v["startTime"].clone();
        }
        Some(v)
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

pub fn uuid_like(seed: &str) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(seed.as_bytes());
    let x: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

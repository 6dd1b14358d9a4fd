//! Compute resources: the store, operations, and the constructors scenarios and tests use.

use std::collections::BTreeMap;
use std::time::Instant;

use ipnet::Ipv4Net;
use serde_json::{json, Value};

use super::{now_rfc3339, rfc3339, World};

/// A pending Compute or Container operation.
#[derive(Debug, Clone)]
pub struct Op {
    pub value: Value,
    pub done_at: Instant,
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
    /// Regional SSL certificates (`regionSslCertificates`), key: region/name; `privateKey` kept, never served.
    pub ssl_certificates: BTreeMap<String, Value>,
    /// global (external) forwarding rules, key: name
    pub global_forwarding_rules: BTreeMap<String, Value>,
    /// key: zone/name
    pub instances: BTreeMap<String, Value>,
    /// key: scope/name where scope is `global`, `regions/R`, `zones/Z`
    pub operations: BTreeMap<String, Op>,
}

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

impl World {
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
}

/// Add a subnetwork of the world's network (a PRIVATE subnet; the node subnet gets the pod range).
pub fn subnet(w: &mut World, region: &str, name: &str, range: &str) -> String {
    let url = w.subnet_url(region, name);
    let id = w.new_id();
    let mut s = json!({
        "kind": "compute#subnetwork", "id": id, "name": name, "selfLink": url,
        "network": w.network_url(&w.network.clone()), "ipCidrRange": range,
        "gatewayAddress": gateway_of(range), "region": w.region_url(region),
        "privateIpGoogleAccess": false, "purpose": "PRIVATE", "stackType": "IPV4_ONLY",
        "fingerprint": fingerprint(&id), "creationTimestamp": rfc3339(-86_400 * 30),
    });
    if region == w.region && (name == "default" || name.starts_with("corp-")) {
        s["secondaryIpRanges"] = json!([
            {"rangeName": "gke-kasten-demo-pods-5e1d9b2c", "ipCidrRange": "10.52.0.0/14"},
        ]);
        s["privateIpGoogleAccess"] = json!(true);
    }
    w.compute.subnetworks.insert(format!("{region}/{name}"), s);
    url
}

pub fn proxy_subnet(w: &mut World, name: &str, range: &str, purpose: &str, role: &str) {
    let region = w.region.clone();
    subnet(w, &region, name, range);
    let s = w.compute.subnetworks.get_mut(&format!("{region}/{name}")).unwrap();
    s["purpose"] = json!(purpose);
    if purpose != "INTERNAL_HTTPS_LOAD_BALANCER" || role == "ACTIVE" {
        s["role"] = json!(role);
    }
    s["state"] = json!("READY");
    s.as_object_mut().unwrap().remove("gatewayAddress");
    s.as_object_mut().unwrap().remove("privateIpGoogleAccess");
}

fn gateway_of(range: &str) -> String {
    let net: ipnet::Ipv4Net = range.parse().unwrap();
    std::net::Ipv4Addr::from(u32::from(net.network()) + 1).to_string()
}

/// A Compute-style fingerprint derived from `seed`.
pub fn fingerprint(seed: &str) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(seed.as_bytes());
    let raw: Vec<u8> = h.iter().take(8).copied().collect();
    base64ish(&raw)
}

fn base64ish(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut s = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            s.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    while !s.len().is_multiple_of(4) {
        s.push('=');
    }
    s
}

pub fn firewall(w: &mut World, name: &str, fields: Value) {
    let id = w.new_id();
    let mut f = json!({
        "kind": "compute#firewall", "id": id, "name": name, "network": w.network_url(&w.network.clone()),
        "priority": 1000, "direction": "INGRESS", "disabled": false,
        "logConfig": {"enable": false}, "selfLink": format!("{}/global/firewalls/{}", w.project_url(), name),
        "creationTimestamp": rfc3339(-86_400 * 20),
    });
    for (k, v) in fields.as_object().unwrap() {
        f[k] = v.clone();
    }
    w.compute.firewalls.insert(name.to_string(), f);
}

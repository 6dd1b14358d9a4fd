//! Plain-data worlds for table tests, built in one line: `Observed::healthy().without_auth()`,
//! `Vpc::healthy().without_proxy_subnet()`. The healthy world mirrors gke-sim's `healthy` scenario
//! (cluster `kasten-demo` in us-central1-a, the default auto-mode VPC, K10 with basic auth and a
//! declared containerPort 8000, a proxy-only subnet 10.120.0.0/23 with its firewall rule, and the
//! recipe Ingress `k10-ingress` at 10.128.0.100), without a simulator and without clients.

#![allow(dead_code)] // a library of worlds: each test uses the few it needs

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Service};
use k8s_openapi::api::networking::v1::Ingress;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::discover::{ClusterInfo, ClusterRef, PodInfo, Probe, K10};
use crate::gcp::model::{
    Backend, BackendService, Cluster, Firewall, HealthCheck, HealthStatus, HttpHealthCheck, Network,
    NetworkEndpointGroup, Subnetwork,
};
use crate::state::{Observed, Vpc, BACKEND_CONFIG, CLASS_ANNOTATION, NEG_ANNOTATION, NEG_STATUS};

pub const PROJECT: &str = "kasten-demo";
pub const LOCATION: &str = "us-central1-a";
pub const REGION: &str = "us-central1";
pub const CLUSTER: &str = "kasten-demo";
pub const NETWORK: &str = "default";
pub const NAMESPACE: &str = "kasten-io";
pub const CONTEXT: &str = "gke_kasten-demo_us-central1-a_kasten-demo";
pub const VERSION: &str = "1.33.5-gke.1308000";
pub const POD_RANGE: &str = "10.52.0.0/14";
pub const PROXY_RANGE: &str = "10.120.0.0/23";
pub const NODE_TAG: &str = "gke-kasten-demo-5e1d9b2c-node";
pub const ZONES: [&str; 3] = ["us-central1-a", "us-central1-b", "us-central1-c"];
/// The NEG, backend service and health check name GKE gives the gateway's port 80.
pub const NEG: &str = "k8s1-3f9c1a27-kasten-io-gateway-80-5944df77";
pub const INGRESS_IP: &str = "10.128.0.100";
const COMPUTE: &str = "https://compute.googleapis.com/compute/v1/projects/kasten-demo";

/// Deserialize a fixture written as JSON (panics on a typo: fixtures are test code).
pub fn from_json<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("fixture json")
}

fn node_name(i: usize) -> String {
    let ids = ["0c5f2a1b-x7k2", "7d3e9f40-m3q9", "a1b2c3d4-t8w4"];
    format!("gke-kasten-demo-default-pool-{}", ids[i % 3])
}

/// The three nodes, one per zone, with zone labels and GCE provider IDs.
pub fn nodes() -> Vec<Node> {
    ZONES
        .iter()
        .enumerate()
        .map(|(i, z)| {
            from_json(json!({
                "metadata": {"name": node_name(i), "labels": {"topology.kubernetes.io/zone": z}},
                "spec": {"providerID": format!("gce://{PROJECT}/{z}/{}", node_name(i))},
            }))
        })
        .collect()
}

/// The cluster as discovery resolves it: VPC-native, HttpLoadBalancing on, GKE 1.33.
pub fn cluster() -> ClusterInfo {
    let raw: Cluster = from_json(json!({
        "name": CLUSTER, "location": LOCATION, "network": NETWORK, "subnetwork": "default",
        "networkConfig": {"network": format!("projects/{PROJECT}/global/networks/{NETWORK}"),
                          "subnetwork": format!("projects/{PROJECT}/regions/{REGION}/subnetworks/default")},
        "ipAllocationPolicy": {"useIpAliases": true, "clusterIpv4CidrBlock": POD_RANGE,
                               "servicesIpv4CidrBlock": "34.118.224.0/20"},
        "clusterIpv4Cidr": POD_RANGE, "servicesIpv4Cidr": "34.118.224.0/20",
        "currentMasterVersion": VERSION, "locations": ZONES,
    }));
    ClusterInfo {
        r: ClusterRef {
            project: PROJECT.into(),
            location: LOCATION.into(),
            cluster: CLUSTER.into(),
        },
        region: REGION.into(),
        network_project: PROJECT.into(),
        network: NETWORK.into(),
        subnetwork: "default".into(),
        pod_range: POD_RANGE.into(),
        services_range: "34.118.224.0/20".into(),
        master_range: String::new(),
        vpc_native: true,
        http_lb: true,
        version: VERSION.into(),
        raw,
    }
}

/// `cloud.google.com/neg-status` as the NEG controller writes it for one zone.
pub fn neg_status(zones: &[&str]) -> String {
    json!({"network_endpoint_groups": {"80": NEG}, "zones": zones}).to_string()
}

/// Service `gateway`: port 80 (`http`) -> 8000, NEG-enabled, with neg-status for every zone with
/// nodes (GKE makes a NEG in each, empty where no gateway pod runs).
pub fn gateway_service() -> Service {
    from_json(json!({
        "metadata": {"name": "gateway", "namespace": NAMESPACE, "annotations": {
            NEG_ANNOTATION: "{\"ingress\":true}",
            NEG_STATUS: neg_status(&ZONES),
        }},
        "spec": {"type": "ClusterIP", "selector": {"service": "gateway"},
                 "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8000}]},
    }))
}

fn gateway_deployment() -> Deployment {
    from_json(json!({
        "metadata": {"name": "gateway", "namespace": NAMESPACE, "labels": {"release": "k10", "service": "gateway"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"service": "gateway"}}, "template": {
            "metadata": {"labels": {"service": "gateway"}},
            "spec": {"containers": [{"name": "gateway", "ports": [{"containerPort": 8000, "protocol": "TCP"}],
                "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8000, "scheme": "HTTP"}}}]},
        }},
    }))
}

/// The gateway pod `n` (0-based), ready, on the node of zone `n + 1` (us-central1-b first).
pub fn gateway_pod(n: usize, ready: bool) -> PodInfo {
    PodInfo {
        name: format!("gateway-6d8f9c7b5-{n:05}"),
        ready,
        ip: format!("10.52.1.{}", 10 + n),
        node: node_name(n + 1),
        declares_port: true,
        waits_for_lb: false,
    }
}

/// K10 as discovery reads it from the healthy scenario.
pub fn k10() -> K10 {
    K10 {
        namespace: NAMESPACE.into(),
        release: "k10".into(),
        service: gateway_service(),
        service_port: 80,
        service_port_name: Some("http".into()),
        target_port: json!(8000),
        container_port: Some(8000),
        container_name: "gateway".into(),
        container_index: 0,
        declared: true,
        probe: Some(Probe {
            path: "/healthz".into(),
            port: json!(8000),
            scheme: "HTTP".into(),
            has_host: false,
        }),
        deployment: gateway_deployment(),
        pods: vec![gateway_pod(0, true)],
        auth: Some("basic".into()),
        curl_candidates: vec![("catalog-svc-19xh3b65kf-7tu7j".into(), "catalog-svc".into())],
        prefix_path: Some("/k10".into()),
        chart: None,
    }
}

/// The recipe's Ingress: `k10-ingress`, class gce-internal, Prefix `/k10/` -> gateway:80, with an
/// internal address.
pub fn ingress() -> Ingress {
    from_json(json!({
        "metadata": {"name": "k10-ingress", "namespace": NAMESPACE,
                     "annotations": {CLASS_ANNOTATION: "gce-internal"}},
        "spec": {"rules": [{"http": {"paths": [{"path": "/k10/", "pathType": "Prefix",
                 "backend": {"service": {"name": "gateway", "port": {"number": 80}}}}]}}]},
        "status": {"loadBalancer": {"ingress": [{"ip": INGRESS_IP}]}},
    }))
}

fn edit<T: serde::Serialize + DeserializeOwned>(t: &T, f: impl FnOnce(&mut Value)) -> T {
    let mut v = serde_json::to_value(t).expect("fixture to json");
    f(&mut v);
    from_json(v)
}

/// One-line variations of an Ingress.
pub trait IngressFixture: Sized {
    fn named(self, name: &str) -> Self;
    /// `kubernetes.io/ingress.class` (None removes it).
    fn with_class(self, class: Option<&str>) -> Self;
    fn with_class_name(self, name: &str) -> Self;
    /// The first path and its pathType.
    fn with_path(self, path: &str, path_type: &str) -> Self;
    /// The first path's backend port, e.g. `json!({"number": 8080})` or `json!({"name": "web"})`.
    fn with_backend_port(self, port: Value) -> Self;
    fn with_backend_service(self, name: &str) -> Self;
    /// The address in status (None: no address yet).
    fn with_ip(self, ip: Option<&str>) -> Self;
    fn with_annotation(self, key: &str, value: &str) -> Self;
}

impl IngressFixture for Ingress {
    fn named(self, name: &str) -> Self {
        edit(&self, |v| v["metadata"]["name"] = json!(name))
    }
    fn with_class(self, class: Option<&str>) -> Self {
        edit(&self, |v| match class {
            Some(c) => v["metadata"]["annotations"][CLASS_ANNOTATION] = json!(c),
            None => {
                v["metadata"]["annotations"]
                    .as_object_mut()
                    .map(|a| a.remove(CLASS_ANNOTATION));
            }
        })
    }
    fn with_class_name(self, name: &str) -> Self {
        edit(&self, |v| v["spec"]["ingressClassName"] = json!(name))
    }
    fn with_path(self, path: &str, path_type: &str) -> Self {
        edit(&self, |v| {
            let p = &mut v["spec"]["rules"][0]["http"]["paths"][0];
            p["path"] = json!(path);
            p["pathType"] = json!(path_type);
        })
    }
    fn with_backend_port(self, port: Value) -> Self {
        edit(&self, |v| {
            v["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"] = port
        })
    }
    fn with_backend_service(self, name: &str) -> Self {
        edit(&self, |v| {
            v["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] = json!(name)
        })
    }
    fn with_ip(self, ip: Option<&str>) -> Self {
        edit(&self, |v| {
            v["status"] = match ip {
                Some(ip) => json!({"loadBalancer": {"ingress": [{"ip": ip}]}}),
                None => json!({"loadBalancer": {}}),
            }
        })
    }
    fn with_annotation(self, key: &str, value: &str) -> Self {
        edit(&self, |v| v["metadata"]["annotations"][key] = json!(value))
    }
}

impl Observed {
    /// gke-sim's `healthy` scenario, as discovery observes it.
    pub fn healthy() -> Observed {
        Observed {
            cluster: cluster(),
            k10: k10(),
            nodes: nodes(),
            ingresses: vec![ingress()],
            gateway: Default::default(),
        }
    }

    /// Before install: K10 as the chart leaves it (no containerPort, no neg-status), no Ingress.
    pub fn fresh() -> Observed {
        Observed::healthy()
            .without_ingresses()
            .without_container_port()
            .without_service_annotation(NEG_STATUS)
    }

    pub fn without_auth(mut self) -> Self {
        self.k10.auth = None;
        self
    }
    pub fn with_auth(mut self, auth: &str) -> Self {
        self.k10.auth = Some(auth.into());
        self
    }
    pub fn without_ingresses(mut self) -> Self {
        self.ingresses.clear();
        self
    }
    /// Replace the Ingresses with this one.
    pub fn with_ingress(mut self, i: Ingress) -> Self {
        self.ingresses = vec![i];
        self
    }
    /// Add an Ingress beside the ones there.
    pub fn and_ingress(mut self, i: Ingress) -> Self {
        self.ingresses.push(i);
        self
    }
    /// `n` gateway pods, the first `ready` of them ready.
    pub fn with_pods(mut self, n: usize, ready: usize) -> Self {
        self.k10.pods = (0..n).map(|i| gateway_pod(i, i < ready)).collect();
        self
    }
    /// The chart's gateway: targetPort 8000 without a declared containerPort (GKE ignores the probe).
    pub fn without_container_port(mut self) -> Self {
        self.k10.declared = false;
        self.k10.pods.iter_mut().for_each(|p| p.declares_port = false);
        self
    }
    /// A targetPort name no container declares: the container port is unknown.
    pub fn with_unknown_container_port(mut self) -> Self {
        self.k10.target_port = json!("web");
        self.k10.container_port = None;
        self.k10.declared = false;
        self
    }
    pub fn with_container_port(mut self, port: i32) -> Self {
        self.k10.container_port = Some(port);
        self.k10.target_port = json!(port);
        self
    }
    pub fn with_probe(mut self, probe: Option<Probe>) -> Self {
        self.k10.probe = probe;
        self
    }
    pub fn with_probe_path(mut self, path: &str) -> Self {
        if let Some(p) = self.k10.probe.as_mut() {
            p.path = path.into();
        }
        self
    }
    /// A release of another name: the chart's `PREFIX_PATH` follows it (`/<release>`).
    pub fn with_release(mut self, release: &str) -> Self {
        self.k10.release = release.into();
        self.k10.prefix_path = Some(format!("/{release}"));
        self
    }
    /// The gateway's `PREFIX_PATH` (None: no ConfigMap `k10-gateway`, as on 6.x charts).
    pub fn with_prefix_path(mut self, prefix: Option<&str>) -> Self {
        self.k10.prefix_path = prefix.map(str::to_string);
        self
    }
    /// The chart's `secrets.tlsSecret`: the gateway serves HTTPS and its probe says `scheme: HTTPS`.
    pub fn with_https_gateway(mut self) -> Self {
        if let Some(p) = self.k10.probe.as_mut() {
            p.scheme = "HTTPS".into();
        }
        self
    }
    /// The `helm.sh/chart` label of the release (`k10-6.0.12`).
    pub fn with_chart(mut self, chart: &str) -> Self {
        self.k10.chart = Some(chart.into());
        self
    }
    pub fn with_service_annotation(mut self, key: &str, value: &str) -> Self {
        let a = self
            .k10
            .service
            .metadata
            .annotations
            .get_or_insert_with(Default::default);
        a.insert(key.into(), value.into());
        self
    }
    pub fn without_service_annotation(mut self, key: &str) -> Self {
        if let Some(a) = self.k10.service.metadata.annotations.as_mut() {
            a.remove(key);
        }
        self
    }
    /// `cloud.google.com/backend-config` on Service gateway.
    pub fn with_backend_config(self, raw: &str) -> Self {
        self.with_service_annotation(BACKEND_CONFIG, raw)
    }
    pub fn not_vpc_native(mut self) -> Self {
        self.cluster.vpc_native = false;
        self
    }
    pub fn without_http_lb(mut self) -> Self {
        self.cluster.http_lb = false;
        self
    }
    pub fn with_version(mut self, v: &str) -> Self {
        self.cluster.version = v.into();
        self
    }
    /// A Shared VPC: the network lives in a host project.
    pub fn with_network_project(mut self, project: &str) -> Self {
        self.cluster.network_project = project.into();
        self
    }
    pub fn with_network(mut self, network: &str) -> Self {
        self.cluster.network = network.into();
        self
    }
    pub fn with_region(mut self, region: &str) -> Self {
        self.cluster.region = region.into();
        self
    }
    pub fn with_pod_range(mut self, range: &str) -> Self {
        self.cluster.pod_range = range.into();
        self
    }
}

/// A firewall rule of the default network from the fields gke-sim's scenarios write
/// (`sourceRanges`, `allowed`, `denied`, `priority`, `targetTags`, ...).
pub fn firewall(name: &str, fields: Value) -> Firewall {
    let mut v = json!({
        "name": name, "network": format!("{COMPUTE}/global/networks/{NETWORK}"),
        "direction": "INGRESS", "priority": 1000,
        "selfLink": format!("{COMPUTE}/global/firewalls/{name}"),
    });
    for (k, x) in fields.as_object().into_iter().flatten() {
        v[k] = x.clone();
    }
    from_json(v)
}

/// The rule the recipe creates: the proxy-only range to tcp:8000.
pub fn gateway_firewall() -> Firewall {
    firewall(
        "allow-kasten-gateway-connection",
        json!({"sourceRanges": [PROXY_RANGE], "allowed": [{"IPProtocol": "tcp", "ports": ["8000"]}]}),
    )
}

/// GKE's own rule for its load balancers' health checkers, as the controller writes it once an
/// Ingress exists (`k8s-fw-l7--<uid>`: the health-check ranges to the NEG target port).
pub fn l7_firewall() -> Firewall {
    l7_firewall_for(8000)
}

/// GKE's `k8s-fw-l7--<uid>` rule for a NEG target port.
pub fn l7_firewall_for(port: i32) -> Firewall {
    firewall(
        "k8s-fw-l7--3f9c1a27b5d04e6f",
        json!({"sourceRanges": ["130.211.0.0/22", "35.191.0.0/16"], "targetTags": [NODE_TAG],
               "allowed": [{"IPProtocol": "tcp", "ports": [port.to_string()]}], "description": "GCE L7 firewall rule"}),
    )
}

/// The default network's rules and GKE's own rules for the cluster (none admits the proxies to 8000
/// from 10.120.0.0/23: `default-allow-internal` covers only 10.128.0.0/9).
pub fn default_firewalls() -> Vec<Firewall> {
    let all = json!([{"IPProtocol": "tcp", "ports": ["0-65535"]}, {"IPProtocol": "udp", "ports": ["0-65535"]},
                     {"IPProtocol": "icmp"}]);
    let tcp = |p: &str| json!([{"IPProtocol": "tcp", "ports": [p]}]);
    vec![
        firewall(
            "default-allow-internal",
            json!({"sourceRanges": ["10.128.0.0/9"], "allowed": all, "priority": 65534}),
        ),
        firewall(
            "default-allow-ssh",
            json!({"sourceRanges": ["0.0.0.0/0"], "allowed": tcp("22"), "priority": 65534}),
        ),
        firewall(
            "default-allow-rdp",
            json!({"sourceRanges": ["0.0.0.0/0"], "allowed": tcp("3389"), "priority": 65534}),
        ),
        firewall(
            "gke-kasten-demo-5e1d9b2c-all",
            json!({"sourceRanges": [POD_RANGE], "allowed": [{"IPProtocol": "tcp"}, {"IPProtocol": "udp"}],
                   "targetTags": [NODE_TAG]}),
        ),
        firewall(
            "gke-kasten-demo-5e1d9b2c-exkubelet",
            json!({"sourceRanges": ["0.0.0.0/0"], "denied": tcp("10255"), "targetTags": [NODE_TAG]}),
        ),
    ]
}

/// A subnet of the default network.
pub fn subnet(region: &str, name: &str, range: &str) -> Subnetwork {
    from_json(json!({
        "name": name, "ipCidrRange": range, "purpose": "PRIVATE",
        "network": format!("{COMPUTE}/global/networks/{NETWORK}"),
        "region": format!("{COMPUTE}/regions/{region}"),
        "selfLink": format!("{COMPUTE}/regions/{region}/subnetworks/{name}"),
    }))
}

/// A proxy-only subnet in us-central1 with this purpose and role.
pub fn proxy_subnet(name: &str, range: &str, purpose: &str, role: &str) -> Subnetwork {
    Subnetwork {
        purpose: Some(purpose.into()),
        role: Some(role.into()),
        state: Some("READY".into()),
        ..subnet(REGION, name, range)
    }
}

impl Vpc {
    /// The default auto-mode VPC with the recipe's proxy-only subnet and firewall rule.
    pub fn healthy() -> Vpc {
        Vpc::fresh()
            .with_proxy_subnet(proxy_subnet(
                "proxy-only-subnet",
                PROXY_RANGE,
                "REGIONAL_MANAGED_PROXY",
                "ACTIVE",
            ))
            .with_firewall(gateway_firewall())
            .with_firewall(l7_firewall())
    }

    /// The default auto-mode VPC before install: no proxy-only subnet, no rule for the proxies.
    pub fn fresh() -> Vpc {
        Vpc {
            network: Some(Network {
                name: NETWORK.into(),
                self_link: format!("{COMPUTE}/global/networks/{NETWORK}"),
                auto_create_subnetworks: Some(true),
                ..Default::default()
            }),
            subnets: vec![
                subnet("us-central1", "default", "10.128.0.0/20"),
                subnet("us-east1", "default", "10.142.0.0/20"),
                subnet("europe-west1", "default", "10.132.0.0/20"),
            ],
            firewalls: default_firewalls(),
            node_tags: vec![NODE_TAG.into()],
        }
    }

    pub fn without_proxy_subnet(mut self) -> Self {
        self.subnets.retain(|s| s.purpose.as_deref() == Some("PRIVATE"));
        self
    }
    pub fn with_proxy_subnet(mut self, s: Subnetwork) -> Self {
        self.subnets.push(s);
        self
    }
    pub fn with_subnet(mut self, s: Subnetwork) -> Self {
        self.subnets.push(s);
        self
    }
    pub fn with_firewall(mut self, f: Firewall) -> Self {
        self.firewalls.push(f);
        self
    }
    pub fn without_firewall(mut self, name: &str) -> Self {
        self.firewalls.retain(|f| f.name != name);
        self
    }
    pub fn without_firewalls(mut self) -> Self {
        self.firewalls.clear();
        self
    }
    pub fn without_node_tags(mut self) -> Self {
        self.node_tags.clear();
        self
    }
    pub fn custom_mode(mut self) -> Self {
        if let Some(n) = self.network.as_mut() {
            n.auto_create_subnetworks = Some(false);
        }
        self
    }
    pub fn without_network(mut self) -> Self {
        self.network = None;
        self
    }
}

/// The health check GKE made for the gateway's NEG: HTTP on the serving port, path `path`.
pub fn health_check(path: &str) -> HealthCheck {
    HealthCheck {
        name: NEG.into(),
        kind: "HTTP".into(),
        http_health_check: HttpHealthCheck {
            port: Some(80),
            port_specification: Some("USE_SERVING_PORT".into()),
            request_path: Some(path.into()),
            host: None,
        },
        check_interval_sec: Some(15),
        timeout_sec: Some(15),
        ..Default::default()
    }
}

/// The health check GKE makes for an HTTPS backend (app protocol HTTPS): `httpsHealthCheck`.
pub fn https_health_check(path: &str) -> HealthCheck {
    let h = health_check(path);
    HealthCheck {
        kind: "HTTPS".into(),
        https_health_check: h.http_health_check.clone(),
        http_health_check: HttpHealthCheck::default(),
        ..h
    }
}

/// A health check that probes a fixed port.
pub fn health_check_fixed_port(path: &str, port: i64) -> HealthCheck {
    let mut h = health_check(path);
    h.http_health_check.port = Some(port);
    h.http_health_check.port_specification = Some("USE_FIXED_PORT".into());
    h
}

fn neg_url(zone: &str) -> String {
    format!("{COMPUTE}/zones/{zone}/networkEndpointGroups/{NEG}")
}

/// The regional backend service GKE made, with one backend per NEG zone.
pub fn backend_service(zones: &[&str]) -> BackendService {
    BackendService {
        name: NEG.into(),
        self_link: format!("{COMPUTE}/regions/{REGION}/backendServices/{NEG}"),
        backends: zones.iter().map(|z| Backend { group: neg_url(z) }).collect(),
        health_checks: vec![format!("{COMPUTE}/regions/{REGION}/healthChecks/{NEG}")],
    }
}

/// A NEG in `zone` with `size` endpoints.
pub fn neg(zone: &str, size: u64) -> NetworkEndpointGroup {
    NetworkEndpointGroup {
        name: NEG.into(),
        zone: format!("{COMPUTE}/zones/{zone}"),
        size,
        self_link: neg_url(zone),
        network_endpoint_type: "GCE_VM_IP_PORT".into(),
    }
}

/// The healthy world's NEGs: one endpoint in us-central1-b, where the gateway pod runs, and the
/// empty NEGs GKE keeps in the other zones with nodes.
pub fn negs() -> Vec<NetworkEndpointGroup> {
    vec![neg(ZONES[0], 0), neg(ZONES[1], 1), neg(ZONES[2], 0)]
}

/// The system default backend's NEG in `zone` (kube-system/default-http-backend, port 80).
pub fn default_backend_neg(zone: &str, size: u64) -> NetworkEndpointGroup {
    let name = "k8s1-3f9c1a27-kube-system-default-http-backend-80-2b8c5e71";
    NetworkEndpointGroup {
        name: name.into(),
        zone: format!("{COMPUTE}/zones/{zone}"),
        size,
        self_link: format!("{COMPUTE}/zones/{zone}/networkEndpointGroups/{name}"),
        network_endpoint_type: "GCE_VM_IP_PORT".into(),
    }
}

/// getHealth per NEG, as Compute answers it: one endpoint per state in us-central1-b; the empty
/// NEGs of the other zones have no `healthStatus` at all (e.g. `&["HEALTHY"]`).
pub fn health(states: &[&str]) -> Vec<(String, Vec<HealthStatus>)> {
    let statuses = states
        .iter()
        .enumerate()
        .map(|(i, s)| HealthStatus {
            ip_address: format!("10.52.1.{}", 10 + i),
            port: Some(8000),
            instance: format!("{COMPUTE}/zones/{}/instances/{}", ZONES[1], node_name(1)),
            health_state: s.to_string(),
        })
        .collect();
    vec![
        (neg_url(ZONES[0]), vec![]),
        (neg_url(ZONES[1]), statuses),
        (neg_url(ZONES[2]), vec![]),
    ]
}

/// A BackendConfig object as read from the cluster (`spec.healthCheck` given).
pub fn backend_config(name: &str, health_check: Value) -> Value {
    json!({
        "apiVersion": "cloud.google.com/v1", "kind": "BackendConfig",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"healthCheck": health_check},
    })
}

/// A Warning event about an object (kind `Ingress` or `Service`).
pub fn warning_event(kind: &str, name: &str, reason: &str, message: &str) -> k8s_openapi::api::core::v1::Event {
    from_json(json!({
        "metadata": {"name": format!("{name}.{reason}"), "namespace": NAMESPACE},
        "involvedObject": {"kind": kind, "name": name, "namespace": NAMESPACE},
        "type": "Warning", "reason": reason, "message": message, "count": 1,
        "lastTimestamp": "2026-01-01T00:00:00Z",
    }))
}

/// What curl printed from the catalog pod: the dashboard page (`code`, body with K10's title).
pub fn page(code: u16, body: &str) -> crate::verify::CurlResult {
    crate::verify::CurlResult {
        pod: "catalog-svc-19xh3b65kf-7tu7j".into(),
        code,
        body: body.into(),
        challenge: None,
    }
}

pub const K10_PAGE: &str = "<html><head><title>Kasten</title></head></html>";

impl crate::doctor::Facts {
    /// Everything doctor reads from gke-sim's `healthy` scenario: every check passes.
    pub fn healthy() -> Self {
        crate::doctor::Facts {
            context: CONTEXT.into(),
            namespace: NAMESPACE.into(),
            seen: Observed::healthy(),
            k10_error: None,
            vpc: Ok(Vpc::healthy()),
            denied_kube: Ok(vec![]),
            denied_gcp: Ok(vec![]),
            denied_host: None,
            events: vec![],
            hc: Some(health_check("/healthz")),
            bs: Some(backend_service(&ZONES)),
            negs: Ok(negs()),
            health: Ok(health(&["HEALTHY"])),
            backend_config: None,
            curl: Some(Ok((page(200, K10_PAGE), page(200, K10_PAGE)))),
            security: Default::default(),
        }
    }

    /// Before install: K10 as the chart leaves it, the default VPC, no load balancer yet.
    pub fn fresh() -> Self {
        crate::doctor::Facts {
            seen: Observed::fresh(),
            vpc: Ok(Vpc::fresh()),
            hc: None,
            bs: None,
            negs: Ok(vec![]),
            health: Ok(vec![]),
            curl: None,
            ..Self::healthy()
        }
    }

    pub fn with_observed(self, seen: Observed) -> Self {
        crate::doctor::Facts { seen, ..self }
    }
    /// Change what discovery observed, in one line: `.observed(|o| o.without_auth())`.
    pub fn observed(self, f: impl FnOnce(Observed) -> Observed) -> Self {
        let seen = f(self.seen.clone());
        self.with_observed(seen)
    }
    pub fn with_vpc(self, vpc: Vpc) -> Self {
        crate::doctor::Facts { vpc: Ok(vpc), ..self }
    }
    /// K10 not found (discovery's error text).
    pub fn without_k10(self) -> Self {
        let msg = "K10's Service `gateway` is not in namespace `kasten-io`";
        crate::doctor::Facts {
            k10_error: Some(msg.into()),
            ..self
        }
    }
    pub fn with_health_check(self, hc: Option<HealthCheck>) -> Self {
        crate::doctor::Facts { hc, ..self }
    }
    pub fn with_health(self, states: &[&str]) -> Self {
        crate::doctor::Facts {
            health: Ok(health(states)),
            ..self
        }
    }
    pub fn with_negs(self, negs: Vec<NetworkEndpointGroup>) -> Self {
        crate::doctor::Facts { negs: Ok(negs), ..self }
    }
    pub fn with_event(mut self, e: k8s_openapi::api::core::v1::Event) -> Self {
        self.events.push(e);
        self
    }
    pub fn with_curl(self, curl: Option<crate::doctor::observe::Curl>) -> Self {
        crate::doctor::Facts { curl, ..self }
    }
    /// The BackendConfig `name` with this `spec.healthCheck`, named on Service gateway by default.
    pub fn with_backend_config(self, name: &str, health_check: Value) -> Self {
        let raw = json!({"default": name}).to_string();
        crate::doctor::Facts {
            backend_config: Some(backend_config(name, health_check)),
            ..self.observed(|o| o.with_backend_config(&raw))
        }
    }
}

// ---------------------------------------------------------------- Gateway mode

pub const GATEWAY_IP: &str = "10.128.0.101";

/// A Gateway API object as the cluster returns it (install's labels; `status` as given).
pub fn gateway_object(body: Value, status: Value) -> kube::api::DynamicObject {
    let mut b = body;
    b["status"] = status;
    b["metadata"]["uid"] = json!(format!("uid-{}", b["metadata"]["name"].as_str().unwrap_or_default()));
    from_json(b)
}

fn condition(t: &str, status: &str, reason: &str, message: &str) -> Value {
    json!({"type": t, "status": status, "reason": reason, "message": message})
}

/// Gateway `k10-ilb` Accepted, Programmed at [`GATEWAY_IP`], its HTTP listener resolved.
pub fn programmed_gateway() -> kube::api::DynamicObject {
    let s = crate::plan::Settings::from_args(&crate::cli::PlanArgs::default()).expect("defaults");
    let body = crate::render::gateway::gateway_body(&k10(), "k10-ilb", &s);
    gateway_object(
        body,
        json!({"conditions": [condition("Accepted", "True", "Accepted", ""),
                              condition("Programmed", "True", "Programmed", "")],
               "addresses": [{"type": "IPAddress", "value": GATEWAY_IP}],
               "listeners": [{"name": "http", "conditions": [condition("ResolvedRefs", "True", "ResolvedRefs", "")]}]}),
    )
}

/// HTTPRoute `k10-ilb`: /k10 -> gateway:80, accepted by Gateway k10-ilb.
pub fn accepted_route() -> kube::api::DynamicObject {
    let s = crate::plan::Settings::from_args(&crate::cli::PlanArgs::default()).expect("defaults");
    let body = crate::render::gateway::route_body(&k10(), "k10-ilb", "k10-ilb", "/k10/", &s);
    gateway_object(
        body,
        json!({"parents": [{"parentRef": {"name": "k10-ilb"}, "controllerName": "networking.gke.io/gateway",
            "conditions": [condition("Accepted", "True", "Accepted", ""),
                           condition("ResolvedRefs", "True", "ResolvedRefs", "")]}]}),
    )
}

/// HealthCheckPolicy `k10-ilb-health`: HTTP /healthz on 8000, on Service gateway.
pub fn health_policy() -> kube::api::DynamicObject {
    gateway_object(
        crate::render::gateway::health_policy_body(&k10(), "k10-ilb-health", 8000),
        Value::Null,
    )
}

pub fn gateway_class() -> kube::api::DynamicObject {
    from_json(
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
        "metadata": {"name": "gke-l7-rilb"}, "spec": {"controllerName": "networking.gke.io/gateway"}}),
    )
}

impl Observed {
    /// Gateway API enabled (CHANNEL_STANDARD) and its classes served; no Gateway yet.
    pub fn with_gateway_api(mut self) -> Self {
        self.cluster.raw.network_config.gateway_api_config.channel = "CHANNEL_STANDARD".into();
        self.gateway.served = true;
        self.gateway.classes = vec![gateway_class()];
        self
    }

    /// install --via gateway done: no Ingress, the Gateway, route and policy in place and working.
    pub fn gateway_installed() -> Observed {
        let mut o = Observed::healthy().without_ingresses().with_gateway_api();
        o.gateway.gateways = vec![programmed_gateway()];
        o.gateway.routes = vec![accepted_route()];
        o.gateway.health_policies = vec![health_policy()];
        o
    }

    /// Edit one Gateway API object (by kind and name) as JSON.
    pub fn edit_gateway_object(mut self, kind: crate::gateway::Kind, name: &str, f: impl FnOnce(&mut Value)) -> Self {
        let list = match kind {
            crate::gateway::Kind::GatewayClass => &mut self.gateway.classes,
            crate::gateway::Kind::Gateway => &mut self.gateway.gateways,
            crate::gateway::Kind::HttpRoute => &mut self.gateway.routes,
            crate::gateway::Kind::HealthCheckPolicy => &mut self.gateway.health_policies,
            crate::gateway::Kind::GcpGatewayPolicy => &mut self.gateway.gcp_policies,
        };
        if let Some(o) = list.iter_mut().find(|o| o.metadata.name.as_deref() == Some(name)) {
            *o = edit(o, f);
        }
        self
    }
}

impl crate::doctor::Facts {
    /// A working Gateway setup, as doctor reads it.
    pub fn gateway_healthy() -> Self {
        crate::doctor::Facts {
            seen: Observed::gateway_installed(),
            ..Self::healthy()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthy_world_is_consistent() {
        let o = Observed::healthy();
        assert_eq!(o.gateway_ingresses().len(), 1);
        assert_eq!(crate::state::ingress_ip(&o.ingresses[0]).as_deref(), Some(INGRESS_IP));
        assert_eq!(crate::state::neg_name(&o.k10).as_deref(), Some(NEG));
        assert_eq!(o.node_zones().len(), 3);
        assert_eq!(o.k10.ready_pods(), 1);
        let v = Vpc::healthy();
        assert_eq!(
            v.active_proxy_subnet(REGION).map(|s| s.name.as_str()),
            Some("proxy-only-subnet")
        );
        assert!(Vpc::healthy().without_proxy_subnet().proxy_subnets(REGION).is_empty());
        assert!(v.auto_mode());
    }

    #[test]
    fn variations_change_one_thing() {
        assert!(Observed::healthy().without_auth().k10.auth.is_none());
        assert!(Observed::healthy().without_ingresses().gateway_ingresses().is_empty());
        let i = ingress().with_backend_service("other");
        assert!(Observed::healthy().with_ingress(i).gateway_ingresses().is_empty());
        let i = ingress().with_ip(None).with_class(None);
        assert_eq!(crate::state::ingress_ip(&i), None);
        assert!(i.metadata.annotations.unwrap_or_default().is_empty());
        assert_eq!(Observed::healthy().with_pods(3, 2).k10.ready_pods(), 2);
        assert!(crate::state::neg_name(&Observed::fresh().k10).is_none());
        let v = Vpc::healthy().without_firewall("allow-kasten-gateway-connection");
        assert_eq!(v.firewalls.len(), default_firewalls().len() + 1, "and GKE's k8s-fw-l7");
    }
}

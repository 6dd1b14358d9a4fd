//! Scenarios: the starting states of the simulated project.
//!
//! `fresh` is the starting point of the manual recipe (K10 installed, nothing exposed); `healthy` is
//! the recipe's working end state. The others each break exactly one link of the chain.

mod chart;
mod gateway;
mod security;
mod shared_vpc;

use serde_json::{json, Value};

use crate::world::{rfc3339, SimConfig, World, AUTO_SUBNETS, CLUSTER_UID, KUBE_SYSTEM_UID};
// The constructors live on the world; tests reach them here too.
pub use crate::world::compute::{fingerprint, firewall, proxy_subnet, subnet};

pub const SCENARIOS: &[(&str, &str)] = &[
    (
        "fresh",
        "K10 installed with basic auth; no proxy-only subnet, firewall rule or Ingress (the recipe's start)",
    ),
    (
        "healthy",
        "the recipe's working end state: proxy-only subnet, firewall tcp:8000, containerPort, internal Ingress",
    ),
    (
        "no-proxy-subnet",
        "the recipe without its first step: firewall, containerPort and Ingress, but no proxy-only subnet",
    ),
    (
        "backup-proxy-subnet",
        "fresh, with only a BACKUP proxy-only subnet in the region",
    ),
    (
        "legacy-proxy-subnet",
        "fresh, with an ACTIVE proxy-only subnet of the legacy purpose INTERNAL_HTTPS_LOAD_BALANCER",
    ),
    (
        "existing-proxy-subnet",
        "fresh, with an ACTIVE proxy-only subnet 10.100.0.0/23 that someone else made",
    ),
    (
        "firewall-port-80",
        "healthy, but the firewall rule allows tcp:80 (the Service port) instead of tcp:8000",
    ),
    (
        "no-proxy-rule",
        "healthy, but without the user's firewall rule for the proxy-only range (works only if the \
         controller opens it: --controller-firewall code)",
    ),
    (
        "hc-denied",
        "healthy, plus a deny rule (priority 900) for Google's health-check ranges: backends UNHEALTHY",
    ),
    (
        "hc-on-root",
        "healthy, but the Ingress was created before the containerPort was added: the health check probes `/`",
    ),
    (
        "external-ingress",
        "healthy, but the Ingress has no class annotation: an external, internet-facing load balancer",
    ),
    (
        "ingress-class-name",
        "healthy, but the Ingress sets only spec.ingressClassName: GKE ignores it silently",
    ),
    (
        "exact-path",
        "healthy, but the Ingress path is ImplementationSpecific `/k10/`: only the exact path is routed",
    ),
    (
        "no-auth",
        "fresh, but K10 was installed without an authentication method",
    ),
    (
        "routes-based",
        "fresh, but the cluster is routes-based (not VPC-native)",
    ),
    ("no-http-lb", "fresh, but the HttpLoadBalancing add-on is disabled"),
    ("no-curl", "fresh, but no K10 image has curl"),
    (
        "gateway-not-ready",
        "fresh, but the gateway Deployment has no ready pods",
    ),
    (
        "custom-vpc",
        "fresh, in a custom-mode VPC `corp-vpc` with its own subnets (nothing reserved for auto mode)",
    ),
    (
        "scale",
        "fresh, plus 5,000 firewall rules, 1,000 subnets and 200 NEGs in other regions",
    ),
    (
        "https-gateway",
        "fresh, but the chart set secrets.tlsSecret: the gateway serves only HTTPS on 8000, probes scheme HTTPS",
    ),
    (
        "shared-vpc",
        "fresh, on a Shared VPC: `corp-vpc` belongs to host project kasten-net-host; you and GKE may change it",
    ),
    (
        "shared-vpc-no-fw-permission",
        "shared-vpc, but neither you nor GKE's service agent may write subnets or firewall rules in the host \
         project (XPN events; a second token is its network admin)",
    ),
    (
        "backup-release",
        "fresh, but K10 is release `backup` (PREFIX_PATH /backup) with token auth and a \"Veeam Kasten\" page",
    ),
    // Issue 16: doctor's security checks (scenario/security.rs).
    (
        "tls-expired",
        "healthy, served HTTPS only for k10.corp.internal with a certificate that expired 3 days ago",
    ),
    (
        "tls-expiring",
        "healthy, served HTTPS only for k10.corp.internal with a certificate that expires in 5 days",
    ),
    (
        "tls-wrong-name",
        "healthy, served HTTPS only for k10.corp.internal with a certificate for other.corp.internal",
    ),
    (
        "tls-good",
        "healthy, served HTTPS only for k10.corp.internal with a certificate valid 300 more days",
    ),
    (
        "tls-regional-cert",
        "healthy, served HTTPS only with regional SSL certificate k10-regional (pre-shared-cert), expiring in 10 days",
    ),
    ("open-firewall", "healthy, plus a rule that opens tcp:8000 to 0.0.0.0/0"),
    (
        "peered-vpc",
        "healthy, and VPC default is peered with network shared of project shared-services",
    ),
    (
        "global-access",
        "healthy, and someone turned on global access on the load balancer's forwarding rule",
    ),
];

/// Every scenario with its description (the Gateway API ones are in `scenario/gateway.rs`).
pub fn all_scenarios() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    SCENARIOS.iter().chain(gateway::SCENARIOS)
}

pub const K10_SERVICES: &[&str] = &[
    "aggregatedapis",
    "auth",
    "catalog",
    "controllermanager",
    "crypto",
    "dashboardbff",
    "executor",
    "frontend",
    "jobs",
    "kanister",
    "logging",
    "metering",
    "state",
];
pub const K10_VERSION: &str = "8.0.1";
pub const NAMESPACE: &str = "kasten-io";
pub const RELEASE: &str = "k10";

/// A world in the state `cfg.scenario` names.
pub fn world(cfg: SimConfig, base_url: String) -> World {
    let mut w = World::new(cfg, base_url);
    build(&mut w);
    w
}

/// Put the scenario `w.cfg.scenario` into an empty world.
pub fn build(w: &mut World) {
    let scenario = w.cfg.scenario.clone();
    let custom_vpc = matches!(
        scenario.as_str(),
        "custom-vpc" | "shared-vpc" | "shared-vpc-no-fw-permission"
    );
    if custom_vpc {
        w.network = "corp-vpc".into();
    }
    base_project(w, custom_vpc);
    base_cluster(w);
    crate::default_backend::install(w);
    k10(w);
    match scenario.as_str() {
        "fresh" | "custom-vpc" => {}
        "shared-vpc" => shared_vpc::build(w, true),
        "shared-vpc-no-fw-permission" => shared_vpc::build(w, false),
        "healthy" => healthy(w),
        "no-proxy-subnet" => {
            // The recipe without its first step: firewall, containerPort and Ingress, no subnet.
            firewall(
                w,
                "allow-kasten-gateway-connection",
                json!({"sourceRanges": ["10.120.0.0/23"], "allowed": [{"IPProtocol": "tcp", "ports": ["8000"]}]}),
            );
            add_container_port(w);
            recipe_ingress(w, "Prefix", Some("gce-internal"), None);
        }
        "backup-proxy-subnet" => {
            proxy_subnet(
                w,
                "proxy-only-backup",
                "10.120.0.0/23",
                "REGIONAL_MANAGED_PROXY",
                "BACKUP",
            );
        }
        "legacy-proxy-subnet" => {
            proxy_subnet(
                w,
                "legacy-ilb-subnet",
                "10.120.0.0/23",
                "INTERNAL_HTTPS_LOAD_BALANCER",
                "ACTIVE",
            );
        }
        "existing-proxy-subnet" => {
            proxy_subnet(
                w,
                "team-proxy-only",
                "10.100.0.0/23",
                "REGIONAL_MANAGED_PROXY",
                "ACTIVE",
            );
        }
        "firewall-port-80" => {
            healthy(w);
            w.compute.firewalls.get_mut("allow-kasten-gateway-connection").unwrap()["allowed"] =
                json!([{"IPProtocol": "tcp", "ports": ["80"]}]);
        }
        "no-proxy-rule" => {
            healthy(w);
            w.compute.firewalls.remove("allow-kasten-gateway-connection");
        }
        "hc-denied" => {
            healthy(w);
            firewall(
                w,
                "deny-health-checks",
                json!({"sourceRanges": crate::world::HC_SOURCE_RANGES, "denied": [{"IPProtocol": "tcp"}],
                       "priority": 900}),
            );
        }
        "hc-on-root" => {
            // The recipe done in the wrong order: the Ingress (and so the health check) came first.
            healthy_infra(w);
            recipe_ingress(w, "Prefix", Some("gce-internal"), None);
            crate::controller::settle(w);
            add_container_port(w);
            crate::controller::settle(w);
        }
        "external-ingress" => {
            healthy_infra(w);
            add_container_port(w);
            recipe_ingress(w, "Prefix", None, None);
        }
        "ingress-class-name" => {
            healthy_infra(w);
            add_container_port(w);
            recipe_ingress(w, "Prefix", None, Some("gce-internal"));
        }
        "exact-path" => {
            healthy_infra(w);
            add_container_port(w);
            recipe_ingress(w, "ImplementationSpecific", Some("gce-internal"), None);
        }
        "no-auth" => remove_auth(w),
        "routes-based" => {
            w.cluster["ipAllocationPolicy"] = json!({"useIpAliases": false});
            w.cluster["clusterIpv4Cidr"] = json!("10.40.0.0/14");
        }
        "no-http-lb" => {
            w.cluster["addonsConfig"]["httpLoadBalancing"] = json!({"disabled": true});
            crate::default_backend::remove(w);
        }
        "no-curl" => w.images_with_curl.clear(),
        "gateway-not-ready" => {
            if let Some(d) = w.kube_get_mut("Deployment", NAMESPACE, "gateway") {
                d["metadata"]["annotations"]["sim.kasten-ilb/not-ready"] = json!("true");
            }
        }
        "scale" => scale(w),
        name if security::build(w, name) => {}
        "https-gateway" => chart::https_gateway(w),
        "backup-release" => {
            chart::token_auth(w);
            chart::title(w, "Veeam Kasten");
            chart::rename_release(w, "backup");
        }
        s if gateway::gateway_api(s) => gateway::build(w, s),
        other => panic!(
            "unknown scenario {other:?} (known: {})",
            all_scenarios().map(|s| s.0).collect::<Vec<_>>().join(", ")
        ),
    }
    crate::controller::settle(w);
}

fn base_project(w: &mut World, custom: bool) {
    let net_url = w.network_url(&w.network.clone());
    let net_id = w.new_id();
    let mut subnet_urls = vec![];
    if custom {
        for (region, range, name) in [
            ("us-central1", "10.10.0.0/20", "corp-us-central1"),
            ("us-east1", "10.20.0.0/20", "corp-us-east1"),
            ("europe-west1", "10.30.0.0/20", "corp-europe-west1"),
        ] {
            subnet_urls.push(subnet(w, region, name, range));
        }
    } else {
        for (region, range) in AUTO_SUBNETS {
            subnet_urls.push(subnet(w, region, "default", range));
        }
    }
    let network = w.network.clone();
    w.compute.networks.insert(
        network.clone(),
        json!({
            "kind": "compute#network", "id": net_id, "name": network, "selfLink": net_url,
            "autoCreateSubnetworks": !custom, "subnetworks": subnet_urls,
            "routingConfig": {"routingMode": "REGIONAL"}, "networkFirewallPolicyEnforcementOrder": "AFTER_CLASSIC_FIREWALL",
            "creationTimestamp": rfc3339(-86_400 * 30),
        }),
    );
    // The default network's firewall rules, and GKE's own rules for the cluster.
    let all = json!([{"IPProtocol": "tcp", "ports": ["0-65535"]}, {"IPProtocol": "udp", "ports": ["0-65535"]}, {"IPProtocol": "icmp"}]);
    let internal = if custom { "10.0.0.0/8" } else { "10.128.0.0/9" };
    let prefix = if custom { "corp" } else { "default" };
    firewall(
        w,
        &format!("{prefix}-allow-internal"),
        json!({"sourceRanges": [internal], "allowed": all, "priority": 65534}),
    );
    firewall(
        w,
        &format!("{prefix}-allow-ssh"),
        json!({"sourceRanges": ["0.0.0.0/0"], "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}], "priority": 65534}),
    );
    firewall(
        w,
        &format!("{prefix}-allow-icmp"),
        json!({"sourceRanges": ["0.0.0.0/0"], "allowed": [{"IPProtocol": "icmp"}], "priority": 65534}),
    );
    firewall(
        w,
        &format!("{prefix}-allow-rdp"),
        json!({"sourceRanges": ["0.0.0.0/0"], "allowed": [{"IPProtocol": "tcp", "ports": ["3389"]}], "priority": 65534}),
    );
    let tag = w.node_tag.clone();
    firewall(
        w,
        "gke-kasten-demo-5e1d9b2c-all",
        json!({"sourceRanges": ["10.52.0.0/14"], "allowed": [{"IPProtocol": "tcp"}, {"IPProtocol": "udp"}, {"IPProtocol": "icmp"}, {"IPProtocol": "esp"}, {"IPProtocol": "ah"}, {"IPProtocol": "sctp"}], "targetTags": [tag]}),
    );
    firewall(
        w,
        "gke-kasten-demo-5e1d9b2c-vms",
        json!({"sourceRanges": [internal], "allowed": [{"IPProtocol": "tcp", "ports": ["1-65535"]}, {"IPProtocol": "udp", "ports": ["1-65535"]}, {"IPProtocol": "icmp"}], "targetTags": [tag]}),
    );
    firewall(
        w,
        "gke-kasten-demo-5e1d9b2c-inkubelet",
        json!({"sourceRanges": ["10.52.0.0/14"], "sourceTags": [tag], "allowed": [{"IPProtocol": "tcp", "ports": ["10255"]}], "targetTags": [tag], "priority": 999}),
    );
    firewall(
        w,
        "gke-kasten-demo-5e1d9b2c-exkubelet",
        json!({"sourceRanges": ["0.0.0.0/0"], "denied": [{"IPProtocol": "tcp", "ports": ["10255"]}], "targetTags": [tag]}),
    );
}

fn base_cluster(w: &mut World) {
    let net = w.network.clone();
    let subnet_name = if net == "default" {
        "default".to_string()
    } else {
        format!("corp-{}", w.region)
    };
    w.cluster = json!({
        "name": w.cluster_name, "location": w.location, "zone": w.location,
        "locations": w.zones,
        "endpoint": "127.0.0.1",
        "selfLink": format!("{}/v1/projects/{}/zones/{}/clusters/{}", w.base_url, w.project_number, w.location, w.cluster_name),
        "id": CLUSTER_UID.to_string() + "b1c24f7e8a904c1d9e2a5b7c3d4e5f60",
        "status": "RUNNING",
        "initialClusterVersion": "1.33.5-gke.1308000",
        "currentMasterVersion": "1.33.5-gke.1308000",
        "currentNodeVersion": "1.33.5-gke.1308000",
        "currentNodeCount": 3,
        "network": net, "subnetwork": subnet_name,
        "networkConfig": {
            "network": format!("projects/{}/global/networks/{}", w.project, net),
            "subnetwork": format!("projects/{}/regions/{}/subnetworks/{}", w.project, w.region, subnet_name),
            "datapathProvider": "LEGACY_DATAPATH",
            "defaultSnatStatus": {},
        },
        "clusterIpv4Cidr": "10.52.0.0/14",
        "servicesIpv4Cidr": "34.118.224.0/20",
        "ipAllocationPolicy": {
            "useIpAliases": true,
            "clusterIpv4Cidr": "10.52.0.0/14", "clusterIpv4CidrBlock": "10.52.0.0/14",
            "clusterSecondaryRangeName": "gke-kasten-demo-pods-5e1d9b2c",
            "servicesIpv4Cidr": "34.118.224.0/20", "servicesIpv4CidrBlock": "34.118.224.0/20",
            "stackType": "IPV4",
            "podCidrOverprovisionConfig": {},
        },
        "addonsConfig": {
            "httpLoadBalancing": {},
            "horizontalPodAutoscaling": {},
            "networkPolicyConfig": {"disabled": true},
            "gcePersistentDiskCsiDriverConfig": {"enabled": true},
        },
        "nodePools": [{
            "name": "default-pool", "status": "RUNNING", "version": "1.33.5-gke.1308000", "initialNodeCount": 1,
            "locations": w.zones,
            "config": {"machineType": "e2-standard-4", "diskSizeGb": 100, "imageType": "COS_CONTAINERD",
                        "oauthScopes": ["https://www.googleapis.com/auth/cloud-platform"]},
        }],
        "releaseChannel": {"channel": "REGULAR"},
        "createTime": rfc3339(-86_400 * 10),
        "masterAuth": {"clusterCaCertificate": ""},
        "loggingService": "logging.googleapis.com/kubernetes",
        "monitoringService": "monitoring.googleapis.com/kubernetes",
    });

    // Kubernetes side: namespaces, nodes, the ingress-uid ConfigMap.
    for (ns, uid) in [
        ("default", None),
        ("kube-system", Some(KUBE_SYSTEM_UID)),
        ("kube-public", None),
        (NAMESPACE, None),
    ] {
        let mut o = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
                            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
        if let Some(u) = uid {
            o["metadata"]["uid"] = json!(u);
        }
        w.kube_put(o);
    }
    w.kube_put(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ingress-uid", "namespace": "kube-system"},
                      "data": {"uid": CLUSTER_UID, "provider-uid": CLUSTER_UID}}),
    );
    for (i, zone) in w.zones.clone().iter().enumerate() {
        let suffix = ["x7k2", "m3q9", "t8w4"][i % 3];
        let name = format!(
            "gke-kasten-demo-default-pool-{}-{}",
            ["0c5f2a1b", "7d3e9f40", "a1b2c3d4"][i % 3],
            suffix
        );
        let ip = format!("10.128.0.{}", i + 2);
        w.kube_put(json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {
                "kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone, "topology.kubernetes.io/region": w.region,
                "cloud.google.com/gke-nodepool": "default-pool", "node.kubernetes.io/instance-type": "e2-standard-4",
                "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}},
            "spec": {"providerID": format!("gce://{}/{}/{}", w.project, zone, name), "podCIDR": format!("10.52.{i}.0/24")},
            "status": {
                "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
                "nodeInfo": {"kubeletVersion": "v1.33.5-gke.1308000", "containerRuntimeVersion": "containerd://1.7.28", "osImage": "Container-Optimized OS from Google", "kernelVersion": "6.6.97+", "operatingSystem": "linux", "architecture": "amd64", "machineID": "", "systemUUID": "", "bootID": "", "kubeProxyVersion": ""},
                "capacity": {"cpu": "4", "memory": "16375744Ki", "pods": "110"},
                "allocatable": {"cpu": "3920m", "memory": "13154752Ki", "pods": "110"},
            },
        }));
        let iid = w.new_id();
        let inst = json!({
            "kind": "compute#instance", "id": iid, "name": name, "zone": w.zone_url(zone), "status": "RUNNING",
            "machineType": format!("{}/machineTypes/e2-standard-4", w.zone_url(zone)),
            "tags": {"items": [w.node_tag.clone()], "fingerprint": fingerprint(&iid)},
            "networkInterfaces": [{"network": w.network_url(&w.network.clone()), "networkIP": ip, "name": "nic0",
                                    "aliasIpRanges": [{"ipCidrRange": format!("10.52.{i}.0/24"), "subnetworkRangeName": "gke-kasten-demo-pods-5e1d9b2c"}]}],
            "selfLink": format!("{}/instances/{}", w.zone_url(zone), name),
        });
        w.compute.instances.insert(format!("{zone}/{name}"), inst);
    }
}

fn helm_labels(component: Option<&str>) -> Value {
    let mut l = json!({
        "heritage": "Helm", "helm.sh/chart": format!("k10-{K10_VERSION}"), "app.kubernetes.io/name": "k10",
        "app.kubernetes.io/instance": RELEASE, "app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/version": K10_VERSION,
        "app": "k10", "release": RELEASE,
    });
    if let Some(c) = component {
        l["component"] = json!(c);
    }
    l
}

fn k10(w: &mut World) {
    // The generic <svc>-svc Deployments and Services of the chart.
    for svc in K10_SERVICES {
        let dname = format!("{svc}-svc");
        let mut labels = helm_labels(Some(svc));
        labels["run"] = json!(dname);
        let sel = json!({"app": "k10", "release": RELEASE, "component": svc, "run": dname});
        let mut containers = vec![json!({
            "name": dname, "image": format!("gcr.io/kasten-images/{svc}:{K10_VERSION}"),
            "ports": [{"containerPort": 8000, "protocol": "TCP"}],
            "readinessProbe": {"httpGet": {"path": "/v0/healthz", "port": 8000, "scheme": "HTTP"}, "initialDelaySeconds": 3, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
            "livenessProbe": {"httpGet": {"path": "/v0/healthz", "port": 8000, "scheme": "HTTP"}, "initialDelaySeconds": 300, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
            "env": [{"name": "VERSION", "value": K10_VERSION}, {"name": "K10_RELEASE_NAME", "value": RELEASE}],
            "resources": {"requests": {"cpu": "10m", "memory": "40Mi"}},
            "imagePullPolicy": "Always",
        })];
        let mut volumes = vec![];
        if *svc == "catalog" {
            containers.push(json!({"name": "kanister-sidecar", "image": format!("gcr.io/kasten-images/kanister-tools:{K10_VERSION}"), "imagePullPolicy": "Always"}));
        }
        if ["auth", "dashboardbff", "controllermanager"].contains(svc) {
            volumes.push(
                json!({"name": "k10-basic-auth", "secret": {"secretName": "k10-basic-auth", "defaultMode": 420}}),
            );
            containers[0]["volumeMounts"] = json!([{"name": "k10-basic-auth", "mountPath": "/var/run/secrets/kasten.io/k10-basic-auth", "readOnly": true}]);
        }
        deployment(
            w,
            &dname,
            labels.clone(),
            sel.clone(),
            json!(containers),
            json!(volumes),
        );
        service(
            w,
            &dname,
            labels,
            sel,
            json!([{"name": "http", "port": 8000, "protocol": "TCP", "targetPort": 8000}]),
        );
    }
    // The gateway: no containerPort, readinessProbe on 8000.
    let mut glabels = helm_labels(Some("gateway"));
    glabels["service"] = json!("gateway");
    let gsel = json!({"service": "gateway"});
    deployment(
        w,
        "gateway",
        glabels.clone(),
        gsel.clone(),
        json!([{
            "name": "gateway", "image": format!("gcr.io/kasten-images/gateway:{K10_VERSION}"),
            "env": [{"name": "VERSION", "value": K10_VERSION}],
            "envFrom": [{"configMapRef": {"name": "k10-gateway"}}],
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8000, "scheme": "HTTP"}, "initialDelaySeconds": 2, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
            "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8000, "scheme": "HTTP"}, "initialDelaySeconds": 15, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
            "resources": {"requests": {"cpu": "200m", "memory": "300Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
            "imagePullPolicy": "Always",
        }]),
        json!([]),
    );
    service(
        w,
        "gateway",
        glabels,
        gsel,
        json!([{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8000}]),
    );
    chart::gateway_config_map(w);
    // prometheus-server
    let plabels =
        json!({"app": "prometheus", "component": "server", "release": RELEASE, "app.kubernetes.io/managed-by": "Helm"});
    let psel = json!({"app": "prometheus", "component": "server", "release": RELEASE});
    deployment(
        w,
        "prometheus-server",
        plabels.clone(),
        psel.clone(),
        json!([{"name": "prometheus-server", "image": "gcr.io/kasten-images/prometheus:3.5.0", "ports": [{"containerPort": 9090}],
                "readinessProbe": {"httpGet": {"path": "/k10/prometheus/-/ready", "port": 9090}}}]),
        json!([]),
    );
    service(
        w,
        "prometheus-server",
        plabels,
        psel,
        json!([{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 9090}]),
    );

    // Auth: basic auth Secret (the htpasswd value is a placeholder, not a credential).
    w.kube_put(json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "k10-basic-auth", "namespace": NAMESPACE, "labels": helm_labels(None)},
        "data": {"auth": "c2ltdWxhdGVkOiRhcHIxJHBsYWNlaG9sZGVy"}}));
    w.kube_put(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "k10-k10", "namespace": NAMESPACE, "labels": helm_labels(None)}}));

    // NetworkPolicies as the chart lays them out.
    let rl = json!({"release": RELEASE});
    netpol(
        w,
        "default-deny",
        json!({"podSelector": {}, "policyTypes": ["Ingress"]}),
    );
    netpol(
        w,
        "allow-external",
        json!({"podSelector": {"matchLabels": {"service": "gateway", "release": RELEASE}},
        "ingress": [{"from": [], "ports": [{"protocol": "TCP", "port": 8000}]}], "policyTypes": ["Ingress"]}),
    );
    netpol(
        w,
        "access-k10-services",
        json!({"podSelector": {"matchLabels": rl},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"access-k10-services": "allowed"}}}], "ports": [{"protocol": "TCP", "port": 8000}]}], "policyTypes": ["Ingress"]}),
    );
    netpol(
        w,
        "cross-services-allow",
        json!({"podSelector": {"matchLabels": rl},
        "ingress": [{"from": [{"podSelector": {"matchLabels": rl}}], "ports": [{"protocol": "TCP", "port": 8000}]}], "policyTypes": ["Ingress"]}),
    );
}

fn netpol(w: &mut World, name: &str, spec: Value) {
    w.kube_put(json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": helm_labels(None)}, "spec": spec}));
}

fn deployment(w: &mut World, name: &str, labels: Value, selector: Value, containers: Value, volumes: Value) {
    let mut tpl_labels = selector.clone();
    for (k, v) in labels.as_object().unwrap() {
        tpl_labels[k] = v.clone();
    }
    let mut spec = json!({"containers": containers, "restartPolicy": "Always", "serviceAccountName": "k10-k10",
                          "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst"});
    if volumes.as_array().is_some_and(|v| !v.is_empty()) {
        spec["volumes"] = volumes;
    }
    w.kube_put(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels,
                     "annotations": {"deployment.kubernetes.io/revision": "1", "meta.helm.sh/release-name": RELEASE, "meta.helm.sh/release-namespace": NAMESPACE}},
        "spec": {"replicas": 1, "selector": {"matchLabels": selector}, "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                 "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
                 "template": {"metadata": {"labels": tpl_labels}, "spec": spec}},
    }));
}

fn service(w: &mut World, name: &str, labels: Value, selector: Value, ports: Value) {
    let n: u32 = name.bytes().map(u32::from).sum();
    let mut svc = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels,
                     "annotations": {"meta.helm.sh/release-name": RELEASE, "meta.helm.sh/release-namespace": NAMESPACE}},
        "spec": {"type": "ClusterIP", "selector": selector, "ports": ports, "clusterIP": format!("34.118.{}.{}", 224 + (n % 16), n % 250 + 2),
                 "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"},
        "status": {"loadBalancer": {}},
    });
    svc["spec"]["clusterIPs"] = json!([svc["spec"]["clusterIP"]]);
    crate::controller::admit_service(w, &mut svc);
    w.kube_put(svc);
}

fn remove_auth(w: &mut World) {
    w.kube_delete("Secret", NAMESPACE, "k10-basic-auth");
    for svc in ["auth-svc", "dashboardbff-svc", "controllermanager-svc"] {
        if let Some(mut d) = w.kube_get("Deployment", NAMESPACE, svc).cloned() {
            let spec = &mut d["spec"]["template"]["spec"];
            spec.as_object_mut().unwrap().remove("volumes");
            spec["containers"][0].as_object_mut().unwrap().remove("volumeMounts");
            w.kube_put(d);
        }
    }
}

/// The manual recipe's GCP side: proxy-only subnet and firewall rule.
fn healthy_infra(w: &mut World) {
    proxy_subnet(
        w,
        "proxy-only-subnet",
        "10.120.0.0/23",
        "REGIONAL_MANAGED_PROXY",
        "ACTIVE",
    );
    firewall(
        w,
        "allow-kasten-gateway-connection",
        json!({"sourceRanges": ["10.120.0.0/23"], "allowed": [{"IPProtocol": "tcp", "ports": ["8000"]}]}),
    );
}

pub fn add_container_port(w: &mut World) {
    let mut d = w.kube_get("Deployment", NAMESPACE, "gateway").cloned().unwrap();
    d["spec"]["template"]["spec"]["containers"][0]["ports"] = json!([{"containerPort": 8000, "protocol": "TCP"}]);
    w.kube_put(d);
    crate::controller::sync_pods(w);
}

fn recipe_ingress(w: &mut World, path_type: &str, class: Option<&str>, class_name: Option<&str>) {
    let mut ing = json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "k10-ingress", "namespace": NAMESPACE, "annotations": {}},
        "spec": {"rules": [{"http": {"paths": [{"path": "/k10/", "pathType": path_type,
                   "backend": {"service": {"name": "gateway", "port": {"number": 80}}}}]}}]},
    });
    if let Some(c) = class {
        ing["metadata"]["annotations"]["kubernetes.io/ingress.class"] = json!(c);
    }
    if let Some(c) = class_name {
        ing["spec"]["ingressClassName"] = json!(c);
    }
    w.kube_put(ing);
    crate::controller::settle(w);
}

fn healthy(w: &mut World) {
    healthy_infra(w);
    add_container_port(w);
    recipe_ingress(w, "Prefix", Some("gce-internal"), None);
}

fn scale(w: &mut World) {
    let regions: Vec<String> = AUTO_SUBNETS.iter().map(|(r, _)| r.to_string()).collect();
    for i in 0..1000u32 {
        let region = &regions[(i as usize % (regions.len() - 1)) + 1];
        let range = format!("172.{}.{}.0/24", 16 + (i / 256), i % 256);
        subnet(w, region, &format!("team-subnet-{i:04}"), &range);
    }
    for i in 0..5000u32 {
        firewall(
            w,
            &format!("team-rule-{i:05}"),
            json!({"sourceRanges": [format!("192.168.{}.0/24", i % 256)],
            "allowed": [{"IPProtocol": "tcp", "ports": [format!("{}", 10000 + i)]}], "targetTags": [format!("team-{}", i % 50)]}),
        );
    }
    let zones: Vec<String> = regions.iter().skip(1).map(|r| format!("{r}-b")).collect();
    for i in 0..200usize {
        let zone = &zones[i % zones.len()];
        let name = format!(
            "k8s1-0badc0de-team-app{i:03}-80-{:08x}",
            i * 2_654_435_761 % 0xffff_ffff
        );
        let url = format!("{}/networkEndpointGroups/{}", w.zone_url(zone), name);
        let id = w.new_id();
        w.compute.negs.insert(format!("{zone}/{name}"), json!({"kind": "compute#networkEndpointGroup", "id": id, "name": name,
            "zone": w.zone_url(zone), "networkEndpointType": "GCE_VM_IP_PORT", "size": 2, "defaultPort": 8080, "selfLink": url,
            "network": w.network_url("default"), "description": "{\"cluster-uid\":\"0badc0de\"}", "creationTimestamp": rfc3339(-3600)}));
    }
}

//! The install plan: each step Create / Update / Reuse / NoOp with its reason and the equivalent
//! gcloud or kubectl command, computed from desired vs observed state. Nothing here writes.

use ipnet::Ipv4Net;
use kube::api::DynamicObject;
use serde::Serialize;
use serde_json::{json, Value};

use crate::cidr::{self, Taken};
use crate::cli::HealthCheckMode;
use crate::discover::K10;
use crate::error;
use crate::firewall::{self, Verdict};
use crate::gcp::model::{short, HealthCheck};
use crate::state::{
    self, Base, Vpc, ADDED_ANNOTATIONS, ADDED_PORT, BACKEND_CONFIG, CLASS_ANNOTATION, MANAGED_BY_LABEL, MANAGER,
    NEG_ANNOTATION, STATIC_IP,
};

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
    CreateSubnet { name: String, body: Value },
    PromoteSubnet { name: String, body: Value },
    CreateFirewall { name: String, body: Value },
    UpdateFirewall { name: String, body: Value },
    PatchDeployment { patch: Value },
    BackendConfig { name: String, body: Value, exists: bool },
    AnnotateService { patch: Value },
    CreateIngress { body: Value },
    UpdateIngress { name: String, patch: Value },
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

#[derive(Debug, Clone)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub proxy_range: Ipv4Net,
    pub container_port: i32,
    pub ingress_name: String,
    pub path: String,
    pub strategy: HealthCheckMode,
    pub warnings: Vec<String>,
    /// HTTPS only (TLS without a static IP: GKE cannot serve both on one internal IP).
    pub https: bool,
    pub host: Option<String>,
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
        Ok(Settings {
            health_check: a.health_check,
            ingress_name: a.ingress_name.clone(),
            path: a.path.clone(),
            static_ip: a.static_ip.clone(),
            host: a.host.clone(),
            tls_secret: a.tls_secret.clone(),
            proxy_range: a.proxy_subnet_range.clone(),
            allow_unauthenticated: a.allow_unauthenticated,
        })
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

/// `1.33.5-gke.1308000` >= `1.16.5-gke.10`?
pub fn version_ok(v: &str) -> bool {
    let nums: Vec<u64> = v
        .split(['.', '-'])
        .filter_map(|p| p.trim_start_matches("gke").parse().ok())
        .collect();
    let want = [1u64, 16, 5, 10];
    for (i, w) in want.iter().enumerate() {
        let have = nums.get(i).copied().unwrap_or(0);
        if have != *w {
            return have > *w;
        }
    }
    false // equal to 1.16.5-gke.10: must be *later*
}

/// Ranges a new proxy-only subnet must not overlap.
pub fn taken_ranges(b: &Base, vpc: &Vpc) -> Vec<Taken> {
    let mut t = vec![];
    for s in &vpc.subnets {
        if let Ok(r) = s.ip_cidr_range.parse() {
            t.push(Taken {
                range: r,
                what: format!("subnet `{}` in {}", s.name, short(&s.region)),
            });
        }
        for sr in &s.secondary_ip_ranges {
            if let Ok(r) = sr.ip_cidr_range.parse() {
                t.push(Taken {
                    range: r,
                    what: format!("secondary range `{}` of subnet `{}`", sr.range_name, s.name),
                });
            }
        }
    }
    for (r, what) in [
        (&b.cluster.pod_range, "the cluster's pod range"),
        (&b.cluster.services_range, "the cluster's Service range"),
        (&b.cluster.master_range, "the cluster's control-plane range"),
    ] {
        if let Ok(r) = r.parse() {
            t.push(Taken {
                range: r,
                what: what.into(),
            });
        }
    }
    if vpc.auto_mode() {
        t.push(Taken {
            range: cidr::AUTO_MODE_BLOCK.parse().expect("constant"),
            what: "10.128.0.0/9, reserved for the subnets of an auto-mode VPC".into(),
        });
    }
    t
}

/// Checks that stop install before anything changes.
pub fn preconditions(b: &Base, s: &Settings) -> anyhow::Result<i32> {
    let c = &b.cluster;
    if !c.vpc_native {
        return Err(error::environment(
            format!("cluster `{}` is routes-based, not VPC-native: GKE internal Ingress needs NEGs, which need alias IPs", c.r.cluster),
            "create a VPC-native cluster (`gcloud container clusters create ... --enable-ip-alias`); an existing cluster cannot be converted",
        ));
    }
    if !c.http_lb {
        return Err(error::environment(
            format!("the HttpLoadBalancing add-on is disabled on cluster `{}`: no controller would act on the Ingress", c.r.cluster),
            format!("enable it: `gcloud container clusters update {} --location {} --update-addons=HttpLoadBalancing=ENABLED`", c.r.cluster, c.r.location),
        ));
    }
    if !version_ok(&c.version) {
        return Err(error::environment(
            format!(
                "cluster version {} is too old: internal Ingress needs GKE later than 1.16.5-gke.10",
                c.version
            ),
            format!(
                "upgrade the control plane: `gcloud container clusters upgrade {} --location {} --master`",
                c.r.cluster, c.r.location
            ),
        ));
    }
    let k = &b.k10;
    if k.auth.is_none() && !s.allow_unauthenticated {
        return Err(error::environment(
            format!("K10 release `{}` in `{}` has no authentication configured: exposing it would give anyone in the VPC full control of your backups", k.release, k.namespace),
            "configure an auth method (e.g. `helm upgrade k10 kasten/k10 -n kasten-io --reuse-values --set auth.tokenAuth.enabled=true`), or pass --allow-unauthenticated if you accept the risk (the K10 chart itself refuses to render an Ingress without auth)",
        ));
    }
    if k.service_port != 80 && k.service_port_name.as_deref() != Some("http") {
        return Err(error::environment(
            format!(
                "Service `gateway` in `{}` has no port 80 (it serves port {}): this is not the layout of the K10 chart",
                k.namespace, k.service_port
            ),
            "restore the chart's Service (`helm upgrade --reuse-values`), or check that -n points at K10",
        ));
    }
    let Some(port) = k.container_port else {
        return Err(error::environment(
            format!("Service `gateway` targets port `{}`, but no container of the gateway pods declares a port of that name", k.target_port.as_str().unwrap_or_default()),
            "GKE cannot resolve a named targetPort the pods do not declare (its NEGs stay empty): set the Service's targetPort to the number (8000), or declare the named port in the Deployment",
        ));
    };
    if k.ready_pods() == 0 {
        return Err(error::environment(
            format!("the gateway Deployment in `{}` has no ready pods", k.namespace),
            format!("fix K10 first: `kubectl -n {} get pods -l service=gateway` and `kubectl -n {} describe deployment gateway`", k.namespace, k.namespace),
        ));
    }
    Ok(port)
}

/// Does the readinessProbe let GKE infer a passing health check once the port is declared?
pub fn probe_usable(k: &K10, port: i32) -> bool {
    match &k.probe {
        Some(p) => {
            p.scheme == "HTTP"
                && !p.has_host
                && (p.port.as_i64() == Some(i64::from(port)) || (p.port.is_string() && p.port == k.target_port))
        }
        None => false,
    }
}

pub fn compute(
    b: &Base,
    vpc: &Vpc,
    hc: Option<&HealthCheck>,
    bc: Option<&DynamicObject>,
    s: &Settings,
) -> anyhow::Result<Plan> {
    let port = preconditions(b, s)?;
    let c = &b.cluster;
    let k = &b.k10;
    let mut steps = vec![];
    let mut warnings = vec![];
    let np = &c.network_project;

    // ---- 1. proxy-only subnet
    let taken = taken_ranges(b, vpc);
    let user_range = match &s.proxy_range {
        Some(r) => Some(cidr::validate(r, &taken)?),
        None => None,
    };
    let proxies = vpc.proxy_subnets(&c.region);
    let active = vpc.active_proxy_subnet(&c.region);
    let proxy_range: Ipv4Net;
    if let Some(a) = active {
        proxy_range = a.ip_cidr_range.parse().map_err(|_| {
            error::failed(
                format!("subnet `{}` has an unreadable range `{}`", a.name, a.ip_cidr_range),
                "check it with `gcloud compute networks subnets describe`",
            )
        })?;
        let legacy = a.purpose.as_deref() == Some("INTERNAL_HTTPS_LOAD_BALANCER");
        if s.proxy_range.is_some() {
            warnings.push(format!("--proxy-subnet-range is ignored: `{}` ({}) is already the ACTIVE proxy-only subnet, and a region and VPC can have only one", a.name, a.ip_cidr_range));
        }
        steps.push(Step {
            id: "proxy-subnet",
            title: "Proxy-only subnet",
            action: if state::is_ours_gcp(a.description.as_deref()) {
                Action::NoOp
            } else {
                Action::Reuse
            },
            target: format!("{} {}", a.name, a.ip_cidr_range),
            reason: format!(
                "ACTIVE proxy-only subnet in {}/{}{}",
                c.region,
                c.network,
                if legacy {
                    " (legacy purpose INTERNAL_HTTPS_LOAD_BALANCER: works, migrate when convenient)"
                } else {
                    ""
                }
            ),
            command: None,
            change: Change::None,
            diff: None,
        });
    } else if let Some(backup) = proxies.iter().find(|p| p.role.as_deref() == Some("BACKUP")) {
        proxy_range = backup
            .ip_cidr_range
            .parse()
            .unwrap_or_else(|_| "0.0.0.0/32".parse().expect("constant"));
        steps.push(Step {
            id: "proxy-subnet",
            title: "Proxy-only subnet",
            action: Action::Update,
            target: format!("{} {}", backup.name, backup.ip_cidr_range),
            reason: format!(
                "only a BACKUP proxy-only subnet exists in {}/{}: promote it to ACTIVE",
                c.region, c.network
            ),
            command: Some(format!(
                "gcloud compute networks subnets update {} --role=ACTIVE --region={} --project={np}",
                backup.name, c.region
            )),
            change: Change::PromoteSubnet {
                name: backup.name.clone(),
                body: json!({"role": "ACTIVE", "fingerprint": backup.fingerprint}),
            },
            diff: None,
        });
    } else {
        let range = match user_range {
            Some(r) => r,
            None => cidr::pick_free(&taken, cidr::DEFAULT_PREFIX).ok_or_else(|| {
                error::environment(
                    "no free /23 is left in private address space for a proxy-only subnet",
                    "pass a smaller free range with --proxy-subnet-range (a /26 at least)",
                )
            })?,
        };
        proxy_range = range;
        let name = proxy_subnet_name(&c.network);
        let body = json!({
            "name": name, "network": format!("projects/{np}/global/networks/{}", c.network), "ipCidrRange": range.to_string(),
            "purpose": "REGIONAL_MANAGED_PROXY", "role": "ACTIVE", "description": state::gcp_marker(c),
        });
        steps.push(Step {
            id: "proxy-subnet",
            title: "Proxy-only subnet",
            action: Action::Create,
            target: format!("{name} {range}"),
            reason: format!(
                "no ACTIVE proxy-only subnet in {}/{}; {range} overlaps no subnet or cluster range{}",
                c.region,
                c.network,
                if vpc.auto_mode() { " and is outside the auto-mode block 10.128.0.0/9" } else { "" }
            ),
            command: Some(format!(
                "gcloud compute networks subnets create {name} --purpose=REGIONAL_MANAGED_PROXY --role=ACTIVE --region={} --network={} --range={range} --description={} --project={np}",
                c.region,
                c.network,
                sh_quote(&state::gcp_marker(c))
            )),
            change: Change::CreateSubnet { name, body },
            diff: None,
        });
    }

    // ---- 2. firewall
    let pod_range: Option<Ipv4Net> = c.pod_range.parse().ok();
    let target = firewall::Target {
        node_tags: vpc.node_tags.clone(),
        pod_range,
    };
    let fw_name = firewall_name(&c.r.cluster, port);
    let desired_fw = json!({
        "name": fw_name, "network": format!("projects/{np}/global/networks/{}", c.network), "direction": "INGRESS", "priority": 1000,
        "sourceRanges": [proxy_range.to_string()], "destinationRanges": [c.pod_range],
        "allowed": [{"IPProtocol": "tcp", "ports": [port.to_string()]}], "description": state::gcp_marker(c),
    });
    let fw_cmd = format!(
        "gcloud compute firewall-rules create {fw_name} --network={} --direction=INGRESS --action=ALLOW --rules=tcp:{port} --source-ranges={proxy_range} --destination-ranges={} --description={} --project={np}",
        c.network,
        c.pod_range,
        sh_quote(&state::gcp_marker(c))
    );
    let ours = vpc.firewalls.iter().find(|f| f.name == fw_name);
    match firewall::evaluate(&vpc.firewalls, &c.network, &proxy_range, port as u16, &target) {
        Verdict::Allowed(rule) => steps.push(Step {
            id: "firewall",
            title: "Firewall rule",
            action: if ours.is_some_and(|o| o.name == rule) {
                Action::NoOp
            } else {
                Action::Reuse
            },
            target: rule.clone(),
            reason: format!("`{rule}` already lets {proxy_range} reach tcp:{port} on the cluster"),
            command: None,
            change: Change::None,
            diff: None,
        }),
        verdict => {
            if let Verdict::Denied(d) = &verdict {
                warnings.push(format!("firewall rule `{d}` denies {proxy_range} -> tcp:{port}; the new rule needs a priority number below it to win (it gets 1000: check `gcloud compute firewall-rules describe {d}`)"));
            }
            match ours {
                Some(o) => steps.push(Step {
                    id: "firewall",
                    title: "Firewall rule",
                    action: Action::Update,
                    target: fw_name.clone(),
                    reason: format!("`{fw_name}` exists but does not allow {proxy_range} -> tcp:{port}{}", if o.disabled { " (it is disabled)" } else { "" }),
                    command: Some(format!("gcloud compute firewall-rules update {fw_name} --no-disabled --rules=tcp:{port} --source-ranges={proxy_range} --project={np}")),
                    change: Change::UpdateFirewall { name: fw_name.clone(), body: json!({"disabled": false, "sourceRanges": [proxy_range.to_string()], "destinationRanges": [c.pod_range], "allowed": [{"IPProtocol": "tcp", "ports": [port.to_string()]}]}) },
                    diff: None,
                }),
                None => {
                    let wrong = firewall::wrong_port_rules(&vpc.firewalls, &c.network, &proxy_range, port as u16);
                    let extra = wrong.first().map(|(n, p)| format!(" (`{n}` allows {} only: the container port is {port}, not the Service port)", p.join(","))).unwrap_or_default();
                    steps.push(Step {
                        id: "firewall",
                        title: "Firewall rule",
                        action: Action::Create,
                        target: fw_name.clone(),
                        reason: format!("nothing lets {proxy_range} reach the gateway's container port tcp:{port}{extra}; scoped to the pod range {}", c.pod_range),
                        command: Some(fw_cmd),
                        change: Change::CreateFirewall { name: fw_name.clone(), body: desired_fw },
                        diff: None,
                    });
                }
            }
        }
    }

    // ---- 3. health check
    let ns = &k.namespace;
    let hc_wrong = hc.and_then(|h| {
        let path = h.http_health_check.request_path.clone().unwrap_or_else(|| "/".into());
        let expected = k
            .probe
            .as_ref()
            .map(|p| p.path.clone())
            .unwrap_or_else(|| format!("/{}/", k.release));
        (path != expected && bc.is_none()).then_some(path)
    });
    let strategy = match s.health_check {
        HealthCheckMode::Auto => {
            if hc_wrong.is_some() || !probe_usable(k, port) {
                HealthCheckMode::Backendconfig
            } else {
                HealthCheckMode::PatchDeployment
            }
        }
        HealthCheckMode::PatchDeployment if !probe_usable(k, port) => {
            return Err(error::usage(
                format!("--health-check patch-deployment cannot work: the gateway's readinessProbe is not an HTTP GET on port {port}, so GKE would still probe `/`"),
                "use --health-check backendconfig (or auto)",
            ))
        }
        m => m,
    };
    if strategy == HealthCheckMode::PatchDeployment {
        if k.declared && k.pods.iter().all(|p| p.declares_port) {
            steps.push(Step {
                id: "health-check",
                title: "Health check",
                action: Action::NoOp,
                target: format!("deployment/gateway containerPort {port}"),
                reason: format!(
                    "containerPort {port} is declared: GKE infers the readinessProbe path {}",
                    k.probe.as_ref().map(|p| p.path.as_str()).unwrap_or("/")
                ),
                command: None,
                change: Change::None,
                diff: None,
            });
        } else {
            let (patch, diff) = container_port_patch(k, port)?;
            steps.push(Step {
                id: "health-check",
                title: "Health check",
                action: Action::Update,
                target: format!("deployment/gateway containerPort {port}"),
                reason: format!(
                    "the chart declares no containerPort, so GKE would probe `/` (404); with it, GKE copies the readinessProbe {}",
                    k.probe.as_ref().map(|p| p.path.as_str()).unwrap_or("/")
                ),
                command: Some(format!("kubectl -n {ns} patch deployment gateway --type=json -p '{}'", serde_json::to_string(&patch)?)),
                change: Change::PatchDeployment { patch },
                diff: Some(diff),
            });
        }
    } else {
        let name = backend_config_name(&k.release);
        let path = match &k.probe {
            Some(p) if probe_usable(k, port) => p.path.clone(),
            _ => format!("/{}/", k.release),
        };
        let spec = json!({"healthCheck": {"type": "HTTP", "requestPath": path, "port": port, "checkIntervalSec": 15, "timeoutSec": 5, "healthyThreshold": 1, "unhealthyThreshold": 2}});
        let body = json!({"apiVersion": "cloud.google.com/v1", "kind": "BackendConfig",
            "metadata": {"name": name, "namespace": ns, "labels": {MANAGED_BY_LABEL: MANAGER}}, "spec": spec});
        let current_spec = bc.map(|o| o.data["spec"].clone());
        let why = match &hc_wrong {
            Some(p) => format!("the load balancer's health check probes `{p}` and GKE never re-reads the probe: a BackendConfig overrides it"),
            None => "the readinessProbe cannot be used by GKE; a BackendConfig sets the health check explicitly".into(),
        };
        let (action, reason) = match &current_spec {
            Some(cur) if *cur == spec => (
                Action::NoOp,
                format!("BackendConfig `{name}` checks {path} on port {port}"),
            ),
            Some(_) => (
                Action::Update,
                format!("BackendConfig `{name}` differs from the wanted health check ({path} on port {port})"),
            ),
            None => (Action::Create, why),
        };
        steps.push(Step {
            id: "health-check",
            title: "Health check",
            action,
            target: format!("backendconfig/{name} {path} :{port}"),
            reason,
            command: (action != Action::NoOp)
                .then(|| format!("kubectl -n {ns} apply -f backendconfig.yaml   # see --dry-run -o yaml")),
            change: if action == Action::NoOp {
                Change::None
            } else {
                Change::BackendConfig {
                    name: name.clone(),
                    body,
                    exists: current_spec.is_some(),
                }
            },
            diff: None,
        });
    }

    // ---- 4. Service annotations
    let mut ann = serde_json::Map::new();
    let mut added = vec![];
    let neg_ok = k
        .annotation(NEG_ANNOTATION)
        .and_then(|v| serde_json::from_str::<Value>(&v).ok())
        .is_some_and(|v| v["ingress"] == json!(true));
    if !neg_ok {
        ann.insert(NEG_ANNOTATION.into(), json!("{\"ingress\":true}"));
        added.push(NEG_ANNOTATION);
    }
    if strategy == HealthCheckMode::Backendconfig {
        let want = format!("{{\"default\":\"{}\"}}", backend_config_name(&k.release));
        match k.annotation(BACKEND_CONFIG) {
            Some(cur) if cur == want => {}
            Some(cur) => {
                return Err(error::usage(
                    format!("Service `gateway` already names a BackendConfig ({BACKEND_CONFIG}: {cur}) that install did not create"),
                    "use --health-check patch-deployment, or fix the health check in that BackendConfig",
                ))
            }
            None => {
                ann.insert(BACKEND_CONFIG.into(), json!(want));
                added.push(BACKEND_CONFIG);
            }
        }
    }
    if ann.is_empty() {
        steps.push(Step {
            id: "service",
            title: "Service annotations",
            action: Action::NoOp,
            target: "service/gateway".into(),
            reason: format!("{NEG_ANNOTATION} is {{\"ingress\":true}} (container-native load balancing)"),
            command: None,
            change: Change::None,
            diff: None,
        });
    } else {
        let mut prev: Vec<String> = k
            .annotation(ADDED_ANNOTATIONS)
            .map(|v| v.split(',').map(str::to_string).collect())
            .unwrap_or_default();
        for a in &added {
            if !prev.iter().any(|p| p == a) {
                prev.push(a.to_string());
            }
        }
        ann.insert(ADDED_ANNOTATIONS.into(), json!(prev.join(",")));
        let shown: Vec<String> = added
            .iter()
            .map(|a| format!("{a}={}", ann[*a].as_str().unwrap_or_default()))
            .collect();
        steps.push(Step {
            id: "service",
            title: "Service annotations",
            action: Action::Update,
            target: "service/gateway".into(),
            reason: format!(
                "internal Ingress needs NEG backends{}",
                if added.contains(&BACKEND_CONFIG) {
                    " and the BackendConfig reference"
                } else {
                    ""
                }
            ),
            command: Some(format!(
                "kubectl -n {ns} annotate service gateway {}",
                shown.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(" ")
            )),
            change: Change::AnnotateService {
                patch: json!({"metadata": {"annotations": ann}}),
            },
            diff: None,
        });
    }

    // ---- 5. Ingress
    let ingress_name = s.ingress_name.clone().unwrap_or_else(|| format!("{}-ilb", k.release));
    let path = normalize_path(s.path.as_deref().unwrap_or(&format!("/{}/", k.release)))?;
    if s.tls_secret.is_some() && s.host.is_none() {
        return Err(error::usage(
            "--tls-secret needs --host (the certificate's host name)",
            "pass --host k10.example.internal",
        ));
    }
    let desired = ingress_body(k, &ingress_name, &path, s);
    let existing = b
        .ingresses
        .iter()
        .find(|i| i.metadata.name.as_deref() == Some(&ingress_name));
    for other in b.gateway_ingresses() {
        let n = other.metadata.name.clone().unwrap_or_default();
        if n != ingress_name {
            let class = other
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(CLASS_ANNOTATION))
                .cloned()
                .unwrap_or_else(|| "none: external!".into());
            warnings.push(format!(
                "Ingress `{n}` (class {class}) also routes to Service gateway; `kubectl kasten-ilb doctor` checks it"
            ));
        }
    }
    match existing {
        None => steps.push(Step {
            id: "ingress",
            title: "Ingress",
            action: Action::Create,
            target: format!("ingress/{ingress_name} {path} -> gateway:{}", k.service_port),
            reason: format!("class gce-internal (internal Application Load Balancer), pathType Prefix so everything under {path} routes"),
            command: Some(format!("kubectl -n {ns} create -f ingress.yaml   # see --dry-run -o yaml")),
            change: Change::CreateIngress { body: desired },
            diff: None,
        }),
        Some(i) => {
            let owned = i.metadata.labels.as_ref().and_then(|l| l.get(MANAGED_BY_LABEL)).is_some_and(|v| v == MANAGER);
            if !owned {
                return Err(error::usage(
                    format!("Ingress `{ingress_name}` already exists in `{ns}` and was not created by kubectl-kasten-ilb"),
                    "choose another name with --ingress-name, or run `kubectl kasten-ilb doctor` to check the existing one",
                ));
            }
            let cur = serde_json::to_value(i)?;
            let same_spec = cur["spec"] == desired["spec"];
            let same_ann = desired["metadata"]["annotations"].as_object().into_iter().flatten().all(|(k2, v)| cur["metadata"]["annotations"][k2] == *v);
            if same_spec && same_ann {
                steps.push(Step {
                    id: "ingress",
                    title: "Ingress",
                    action: Action::NoOp,
                    target: format!("ingress/{ingress_name} {path} -> gateway:{}", k.service_port),
                    reason: "exists as wanted".into(),
                    command: None,
                    change: Change::None,
                    diff: None,
                });
            } else {
                steps.push(Step {
                    id: "ingress",
                    title: "Ingress",
                    action: Action::Update,
                    target: format!("ingress/{ingress_name}"),
                    reason: "differs from the wanted rule".into(),
                    command: Some(format!("kubectl -n {ns} apply -f ingress.yaml")),
                    change: Change::UpdateIngress { name: ingress_name.clone(), patch: json!({"metadata": {"annotations": desired["metadata"]["annotations"]}, "spec": desired["spec"]}) },
                    diff: None,
                });
            }
        }
    }
    let https = s.tls_secret.is_some() && s.static_ip.is_none();
    if https {
        warnings.push(
            "HTTPS only: GKE serves HTTP and HTTPS on one internal IP only with a static IP (--static-ip)".into(),
        );
    }
    Ok(Plan {
        steps,
        proxy_range,
        container_port: port,
        ingress_name,
        path,
        strategy,
        warnings,
        https,
        host: s.host.clone(),
    })
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

pub fn ingress_body(k: &K10, name: &str, path: &str, s: &Settings) -> Value {
    let mut ann = serde_json::Map::new();
    ann.insert(CLASS_ANNOTATION.into(), json!("gce-internal"));
    if let Some(ip) = &s.static_ip {
        ann.insert(STATIC_IP.into(), json!(ip));
    }
    if s.tls_secret.is_some() && s.static_ip.is_none() {
        // HTTP and HTTPS on one internal IP needs a static IP: serve HTTPS only.
        ann.insert("kubernetes.io/ingress.allow-http".into(), json!("false"));
    }
    let mut rule = json!({"http": {"paths": [{"path": path, "pathType": "Prefix",
        "backend": {"service": {"name": "gateway", "port": {"number": k.service_port}}}}]}});
    if let Some(h) = &s.host {
        rule["host"] = json!(h);
    }
    let mut spec = json!({"rules": [rule]});
    if let Some(t) = &s.tls_secret {
        spec["tls"] = json!([{"hosts": [s.host.clone().unwrap_or_default()], "secretName": t}]);
    }
    json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": name, "namespace": k.namespace, "labels": {MANAGED_BY_LABEL: MANAGER, "app.kubernetes.io/part-of": "k10"}, "annotations": ann},
        "spec": spec,
    })
}

/// The JSON patch that declares the container port (with `test` guards), and its diff.
pub fn container_port_patch(k: &K10, port: i32) -> anyhow::Result<(Value, String)> {
    let dj = serde_json::to_value(&k.deployment)?;
    let i = k.container_index;
    let base = format!("/spec/template/spec/containers/{i}");
    let mut ops = vec![json!({"op": "test", "path": format!("{base}/name"), "value": k.container_name})];
    let mut port_obj = json!({"containerPort": port, "protocol": "TCP"});
    if let Some(n) = k.target_port.as_str() {
        port_obj["name"] = json!(n);
    }
    if dj["spec"]["template"]["spec"]["containers"][i]["ports"].is_array() {
        ops.push(json!({"op": "add", "path": format!("{base}/ports/-"), "value": port_obj}));
    } else {
        ops.push(json!({"op": "add", "path": format!("{base}/ports"), "value": [port_obj]}));
    }
    if dj["metadata"]["annotations"].is_object() {
        ops.push(json!({"op": "add", "path": format!("/metadata/annotations/{}", ADDED_PORT.replace('~', "~0").replace('/', "~1")), "value": format!("{}:{port}", k.container_name)}));
    } else {
        ops.push(json!({"op": "add", "path": "/metadata/annotations", "value": {ADDED_PORT: format!("{}:{port}", k.container_name)}}));
    }
    let diff = format!(
        "deployment/gateway, container {} (spec.template.spec.containers[{i}]):\n+  ports:\n+  - containerPort: {port}\n+    protocol: TCP\n",
        k.container_name
    );
    Ok((json!(ops), diff))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(version_ok("1.33.5-gke.1308000"));
        assert!(version_ok("1.16.5-gke.11"));
        assert!(!version_ok("1.16.5-gke.10"));
        assert!(!version_ok("1.15.12-gke.20"));
        assert!(version_ok("1.17.0-gke.1"));
    }

    #[test]
    fn names_fit_google_limits() {
        assert_eq!(proxy_subnet_name("default"), "proxy-only-default");
        let long = firewall_name(&"c".repeat(60), 8000);
        assert!(long.len() <= 63, "{long}");
        assert_eq!(
            firewall_name("kasten-demo", 8000),
            "kasten-ilb-kasten-demo-proxy-to-8000"
        );
    }

    #[test]
    fn paths() {
        assert_eq!(normalize_path("k10").unwrap(), "/k10/");
        assert_eq!(normalize_path("/k10/").unwrap(), "/k10/");
        assert_eq!(normalize_path("/").unwrap(), "/");
        assert!(normalize_path("/k10/*").is_err());
    }
}

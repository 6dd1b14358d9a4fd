//! `doctor`: check every link of the chain, read-only, and say which one is broken and how to fix
//! it. Reads happen in two concurrent rounds; the checks themselves are pure functions of what was
//! read, so every check runs even after another failed (dependent ones are SKIPPED with the reason).

use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use k8s_openapi::api::core::v1::Event;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{ListParams, PostParams};
use kube::Api;
use serde::Serialize;
use serde_json::{json, Value};

use crate::cli::{DoctorArgs, Global, Output};
use crate::discover::{self, K10};
use crate::error::exit;
use crate::firewall::{self, Verdict};
use crate::gcp::model::{short, BackendService, GroupHealth, HealthCheck, HealthStatus, NetworkEndpointGroup};
use crate::plan::{self, version_ok};
use crate::printer::{Printer, Tone};
use crate::state::{self, ingress_ip, Base, Vpc, BACKEND_CONFIG, CLASS_ANNOTATION, NEG_ANNOTATION};
use crate::verify::{self, CurlResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Outcome {
    Pass,
    Warn,
    Fail,
    Skip,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub id: &'static str,
    pub title: &'static str,
    pub result: Outcome,
    pub finding: String,
    pub hint: Option<String>,
    pub evidence: Value,
}

fn check(
    id: &'static str,
    title: &'static str,
    result: Outcome,
    finding: impl Into<String>,
    hint: Option<String>,
    evidence: Value,
) -> Check {
    Check {
        id,
        title,
        result,
        finding: finding.into(),
        hint,
        evidence,
    }
}

fn skip(id: &'static str, title: &'static str, why: impl Into<String>) -> Check {
    check(id, title, Outcome::Skip, why, None, Value::Null)
}

/// Kubernetes verbs install needs: (verb, group, resource, subresource).
const KUBE_NEEDS: &[(&str, &str, &str, &str)] = &[
    ("list", "apps", "deployments", ""),
    ("patch", "apps", "deployments", ""),
    ("patch", "", "services", ""),
    ("list", "", "pods", ""),
    ("create", "", "pods", "exec"),
    ("list", "", "events", ""),
    ("create", "networking.k8s.io", "ingresses", ""),
    ("patch", "networking.k8s.io", "ingresses", ""),
    ("create", "cloud.google.com", "backendconfigs", ""),
];

/// IAM permissions install needs on the project.
pub const GCP_NEEDS: &[&str] = &[
    "container.clusters.get",
    "compute.networks.get",
    "compute.subnetworks.list",
    "compute.subnetworks.create",
    "compute.subnetworks.update",
    "compute.firewalls.list",
    "compute.firewalls.create",
    "compute.networkEndpointGroups.list",
    "compute.regionBackendServices.get",
    "compute.regionHealthChecks.get",
    "compute.instances.get",
];

/// Everything doctor read.
struct Facts {
    base: Base,
    k10: Result<K10, String>,
    vpc: Result<Vpc, String>,
    denied_kube: Result<Vec<String>, String>,
    denied_gcp: Result<Vec<String>, String>,
    events: Vec<Event>,
    hc: Option<HealthCheck>,
    bs: Option<BackendService>,
    negs: Result<Vec<NetworkEndpointGroup>, String>,
    health: Result<Vec<(String, Vec<HealthStatus>)>, String>,
    backend_config: Option<Value>,
    curl: Option<Result<(CurlResult, CurlResult), String>>,
}

pub async fn run(g: &Global, a: &DoctorArgs, p: &Printer) -> anyhow::Result<u8> {
    let facts = gather(g, a, p).await?;
    let checks = evaluate(&facts);
    let fails = checks.iter().filter(|c| c.result == Outcome::Fail).count();
    let count = |o: Outcome| checks.iter().filter(|c| c.result == o).count();
    match a.output {
        Output::Table => {
            p.out(&render_table(p, &checks));
            let hints: Vec<String> = checks
                .iter()
                .filter(|c| matches!(c.result, Outcome::Fail | Outcome::Warn))
                .filter_map(|c| c.hint.as_ref().map(|h| format!("hint ({}): {h}", c.id)))
                .collect();
            if !hints.is_empty() {
                p.out(&format!("\n{}", hints.join("\n")));
            }
            p.out(&format!(
                "\nSummary: {} PASS, {} WARN, {} FAIL, {} SKIP",
                count(Outcome::Pass),
                count(Outcome::Warn),
                count(Outcome::Fail),
                count(Outcome::Skip)
            ));
        }
        out => {
            let doc = json!({
                "schemaVersion": 1,
                "context": facts.base.kube.context,
                "cluster": facts.base.cluster.path(),
                "namespace": facts.base.kube.namespace,
                "summary": {"pass": count(Outcome::Pass), "warn": count(Outcome::Warn), "fail": count(Outcome::Fail), "skip": count(Outcome::Skip)},
                "checks": checks,
            });
            p.out(&if out == Output::Json {
                serde_json::to_string_pretty(&doc)?
            } else {
                serde_yaml::to_string(&doc)?
            });
        }
    }
    Ok(if fails > 0 { exit::FAILED } else { exit::OK })
}

pub fn render_table(p: &Printer, checks: &[Check]) -> String {
    let rows = checks
        .iter()
        .map(|c| {
            let tone = match c.result {
                Outcome::Pass => Tone::Good,
                Outcome::Warn => Tone::Warn,
                Outcome::Fail => Tone::Bad,
                Outcome::Skip => Tone::Dim,
            };
            let r = serde_json::to_value(c.result)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            vec![
                (c.title.to_string(), Tone::Plain),
                (r, tone),
                (c.finding.clone(), Tone::Plain),
            ]
        })
        .collect();
    p.table(&["Check", "Result", "Finding"], rows)
}

/// Read everything (concurrently, two rounds). Errors that stop doctor from running at all (no
/// context, no credentials, no cluster) are returned; the rest become check findings.
async fn gather(g: &Global, a: &DoctorArgs, p: &Printer) -> anyhow::Result<Facts> {
    let kube = crate::kube::connect(g, p).await?;
    let gcp = crate::gcp::Gcp::new(p)?;
    let nodes_api: Api<k8s_openapi::api::core::v1::Node> = Api::all(kube.client.clone());
    let ing_api: Api<Ingress> = kube.api();
    let ev_api: Api<Event> = kube.api();
    let lp = ListParams::default();
    let project_guess = g
        .project
        .clone()
        .or_else(|| discover::parse_context(&kube.context).map(|c| c.project));
    // Round 1: the cluster, K10, nodes, ingresses, events, permissions.
    let (cluster, k10, nodes, ings, events, denied_kube, denied_gcp) = tokio::join!(
        discover::cluster(g, &kube, &gcp),
        discover::k10(&kube),
        kube.retry("list nodes", || nodes_api.list(&lp)),
        kube.retry("list ingresses", || ing_api.list(&lp)),
        kube.retry("list events", || ev_api.list(&lp)),
        denied_kube(&kube),
        denied_gcp(&gcp, project_guess.as_deref()),
    );
    let cluster = cluster?;
    let nodes = nodes
        .map_err(|e| crate::kube::explain(e, "listing nodes", &kube.server))?
        .items;
    let ingresses = ings.map(|l| l.items).unwrap_or_default();
    let events = events.map(|l| l.items).unwrap_or_default();
    let k10 = k10.map_err(|e| format!("{e:#}"));
    let base_k10 = match &k10 {
        Ok(k) => k.clone(),
        Err(_) => placeholder_k10(&kube.namespace),
    };
    let base = Base {
        kube,
        gcp,
        seen: state::Observed {
            cluster,
            k10: base_k10,
            nodes,
            ingresses,
        },
    };
    let denied_gcp = match denied_gcp {
        Ok(d) => Ok(d),
        Err(_) if project_guess.as_deref() != Some(&base.cluster.r.project) => {
            denied_gcp_for(&base.gcp, &base.cluster.r.project).await
        }
        Err(e) => Err(e),
    };

    // Round 2: the VPC, the load balancer's pieces, and the in-cluster check.
    let neg = k10.as_ref().ok().and_then(state::neg_name);
    let ip = base.gateway_ingresses().iter().find_map(|i| ingress_ip(i));
    let c = &base.cluster;
    // base.k10 is K10 as read, or a placeholder without neg-status when K10 was not found.
    let hc_fut = state::health_check(&base);
    let bs_fut = async {
        match &neg {
            Some(n) => base
                .gcp
                .get_opt::<BackendService>(
                    &base
                        .gcp
                        .compute_url(&format!("{}/regions/{}/backendServices/{n}", c.r.project, c.region)),
                )
                .await
                .ok()
                .flatten(),
            None => None,
        }
    };
    let negs_fut = async {
        match &neg {
            Some(n) => verify::negs(&base, n).await.map_err(|e| format!("{e:#}")),
            None => Ok(vec![]),
        }
    };
    let health_fut = async {
        let Some(n) = &neg else { return Ok(vec![]) };
        let zones = k10
            .as_ref()
            .ok()
            .and_then(|k| k.annotation(state::NEG_STATUS))
            .and_then(|s| serde_json::from_str::<Value>(&s).ok())
            .map(|v| v["zones"].clone())
            .unwrap_or(Value::Null);
        let groups: Vec<String> = zones
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|z| z.as_str())
            .map(|z| {
                base.gcp
                    .compute_url(&format!("{}/zones/{z}/networkEndpointGroups/{n}", c.r.project))
            })
            .collect();
        let url = base.gcp.compute_url(&format!(
            "{}/regions/{}/backendServices/{n}/getHealth",
            c.r.project, c.region
        ));
        let futs = groups.iter().map(|gr| {
            let body = json!({"group": gr});
            let url = url.clone();
            let gcp = &base.gcp;
            async move {
                let v = gcp.call(reqwest::Method::POST, &url, Some(&body), true).await?;
                let h: GroupHealth = serde_json::from_value(v)?;
                anyhow::Ok((gr.clone(), h.health_status))
            }
        });
        futures::future::try_join_all(futs).await.map_err(|e| format!("{e:#}"))
    };
    let bc_fut = async {
        let name = k10.as_ref().ok().and_then(|k| {
            state::backend_config_ref(
                &k.annotation(BACKEND_CONFIG)?,
                k.service_port_name.as_deref(),
                k.service_port,
            )
            .ok()
        });
        match name {
            Some(n) => state::backend_config(&base, &n)
                .await
                .ok()
                .flatten()
                .map(|o| serde_json::to_value(o).unwrap_or(Value::Null)),
            None => None,
        }
    };
    let curl_fut = async {
        if a.no_exec || k10.is_err() {
            return None;
        }
        let ip = ip.clone()?;
        let release = k10.as_ref().map(|k| k.release.clone()).unwrap_or_default();
        let path = base
            .gateway_ingresses()
            .iter()
            .find_map(|i| {
                serde_json::to_value(i).ok()?["spec"]["rules"][0]["http"]["paths"][0]["path"]
                    .as_str()
                    .map(str::to_string)
            })
            .unwrap_or_else(|| format!("/{release}/"));
        let path = plan::normalize_path(&path).unwrap_or(path);
        let candidates = verify::curl_candidates(&base, a.probe_pod.as_deref());
        let ep = base
            .gateway_ingresses()
            .iter()
            .find(|i| ingress_ip(i).is_some())
            .map(|i| verify::Endpoint::of(i, &ip))?;
        for cand in candidates {
            let page = verify::curl(&base, &cand, &ep, &path).await;
            match page {
                Ok(Ok(pg)) => {
                    let deep = verify::curl(&base, &cand, &ep, &format!("{path}dashboard/")).await;
                    return Some(match deep {
                        Ok(Ok(dp)) => Ok((pg, dp)),
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(e) => Err(format!("{e:#}")),
                    });
                }
                Ok(Err(verify::CurlError::NoCurl { .. })) => continue,
                Ok(Err(e)) => return Some(Err(e.to_string())),
                Err(e) => return Some(Err(format!("{e:#}"))),
            }
        }
        Some(Err(match &a.probe_pod {
            Some(pp) => format!("--probe-pod {pp} has no curl"),
            None => "no K10 pod with curl found".to_string(),
        }))
    };
    let (vpc, hc, bs, negs, health, backend_config, curl) = tokio::join!(
        state::vpc(&base),
        hc_fut,
        bs_fut,
        negs_fut,
        health_fut,
        bc_fut,
        curl_fut
    );
    Ok(Facts {
        k10,
        vpc: vpc.map_err(|e| format!("{e:#}")),
        denied_kube,
        denied_gcp,
        events,
        hc,
        bs,
        negs,
        health,
        backend_config,
        curl,
        base,
    })
}

fn placeholder_k10(ns: &str) -> K10 {
    K10 {
        namespace: ns.to_string(),
        release: "k10".into(),
        service: Default::default(),
        service_port: 80,
        service_port_name: None,
        target_port: json!(8000),
        container_port: None,
        container_name: "gateway".into(),
        container_index: 0,
        declared: false,
        probe: None,
        deployment: Default::default(),
        pods: vec![],
        auth: None,
        curl_candidates: vec![],
    }
}

async fn denied_kube(kube: &crate::kube::Kube) -> Result<Vec<String>, String> {
    let api: Api<SelfSubjectAccessReview> = Api::all(kube.client.clone());
    let futs = KUBE_NEEDS.iter().map(|(verb, group, res, sub)| {
        let api = api.clone();
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    namespace: Some(kube.namespace.clone()),
                    verb: Some(verb.to_string()),
                    group: Some(group.to_string()),
                    resource: Some(res.to_string()),
                    subresource: (!sub.is_empty()).then(|| sub.to_string()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        async move {
            let pp = PostParams::default();
            let r = kube
                .retry("selfsubjectaccessreview", || api.create(&pp, &review))
                .await
                .map_err(|e| crate::kube::short_kube_error(&e))?;
            let allowed = r.status.map(|s| s.allowed).unwrap_or(false);
            let name = if sub.is_empty() {
                format!("{verb} {res}")
            } else {
                format!("{verb} {res}/{sub}")
            };
            Ok::<_, String>((!allowed).then_some(name))
        }
    });
    let all = futures::future::try_join_all(futs).await?;
    Ok(all.into_iter().flatten().collect())
}

async fn denied_gcp(gcp: &crate::gcp::Gcp, project: Option<&str>) -> Result<Vec<String>, String> {
    match project {
        Some(p) => denied_gcp_for(gcp, p).await,
        None => Err("project not known yet".into()),
    }
}

async fn denied_gcp_for(gcp: &crate::gcp::Gcp, project: &str) -> Result<Vec<String>, String> {
    let url = format!("{}v1/projects/{project}:testIamPermissions", gcp.crm);
    let v = gcp
        .call(
            reqwest::Method::POST,
            &url,
            Some(&json!({"permissions": GCP_NEEDS})),
            true,
        )
        .await
        .map_err(|e| format!("{e:#}"))?;
    let granted: Vec<&str> = v["permissions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str())
        .collect();
    Ok(GCP_NEEDS
        .iter()
        .filter(|p| !granted.contains(p))
        .map(|p| p.to_string())
        .collect())
}

/// Known controller messages -> (cause, fix).
pub fn explain_event(msg: &str) -> Option<(&'static str, &'static str)> {
    let table: &[(&str, &str, &str)] = &[
        ("A reserved and active subnetwork is required", "no ACTIVE proxy-only subnet in the region and VPC", "create one: `kubectl kasten-ilb install` (or `gcloud compute networks subnets create ... --purpose=REGIONAL_MANAGED_PROXY --role=ACTIVE`)"),
        ("doesn't translate to an existing static IP", "the static IP named in kubernetes.io/ingress.regional-static-ip-name does not exist", "reserve it: `gcloud compute addresses create NAME --region REGION --subnet SUBNET`"),
        ("must be configured with a static-ip to use both HTTP and HTTPS", "HTTP and HTTPS on one internal IP need a static IP", "set kubernetes.io/ingress.allow-http: \"false\", or reserve a SHARED_LOADBALANCER_VIP address and name it in the Ingress"),
        ("both HTTP and HTTPS are disabled", "allow-http is false and there is no TLS", "add spec.tls, or remove kubernetes.io/ingress.allow-http: \"false\""),
        ("Could not find TLS certificate", "the TLS Secret named in spec.tls does not exist", "create it: `kubectl -n kasten-io create secret tls NAME --cert=... --key=...`"),
        ("IP_IN_USE_BY_ANOTHER_RESOURCE", "the static IP is used by another forwarding rule", "reserve another address"),
        ("Quota '", "a project quota is exhausted", "request more quota in the Cloud console (IAM & Admin > Quotas)"),
        ("quotaExceeded", "a project quota is exhausted", "request more quota in the Cloud console (IAM & Admin > Quotas)"),
        ("expected \"NodePort\" or \"LoadBalancer\" when not using NEGs", "Service gateway has no NEG annotation", "annotate it: `kubectl -n kasten-io annotate service gateway cloud.google.com/neg='{\"ingress\":true}'`"),
        ("could not find service", "the Ingress names a Service that does not exist", "fix the backend service name in the Ingress"),
        ("could not find port", "the Ingress names a Service port that does not exist", "use port 80 of Service gateway"),
        ("BackendConfig", "the BackendConfig referenced by the Service is invalid or missing", "fix cloud.google.com/backend-config on Service gateway"),
        ("Failed to Attach", "NEG endpoints cannot be attached (is the cluster VPC-native?)", "internal Ingress needs a VPC-native cluster"),
    ];
    table.iter().find(|(k, _, _)| msg.contains(k)).map(|(_, c, f)| (*c, *f))
}

/// Which checks each check depends on: a FAIL (or blocked SKIP) upstream turns a FAIL here into a
/// SKIP that names the root cause, so each broken world shows one FAIL where the fix is.
const DEPENDS: &[(&str, &[&str])] = &[
    ("firewall", &["cluster", "proxy-subnet"]),
    ("health-check", &["cluster", "k10"]),
    ("address", &["cluster", "proxy-subnet", "ingress", "events"]),
    ("negs", &["cluster", "k10", "service", "ingress"]),
    (
        "backends",
        &["cluster", "k10", "firewall", "service", "health-check", "negs"],
    ),
    (
        "e2e",
        &[
            "cluster",
            "k10",
            "proxy-subnet",
            "firewall",
            "service",
            "health-check",
            "ingress",
            "address",
            "negs",
            "backends",
        ],
    ),
];

fn root_causes(mut checks: Vec<Check>) -> Vec<Check> {
    for i in 0..checks.len() {
        let id = checks[i].id;
        // Controller warnings explained by a failing upstream check are evidence, not a new cause.
        if id == "events" && checks[i].result == Outcome::Fail {
            let up = checks[..i]
                .iter()
                .find(|c| {
                    c.result == Outcome::Fail && ["cluster", "proxy-subnet", "service", "ingress"].contains(&c.id)
                })
                .map(|c| c.id);
            if let Some(up) = up {
                checks[i].result = Outcome::Warn;
                checks[i].finding = format!("{} (explained by {up})", checks[i].finding);
            }
        }
        let Some((_, deps)) = DEPENDS.iter().find(|(d, _)| *d == id) else {
            continue;
        };
        if checks[i].result != Outcome::Fail {
            continue;
        }
        let blocker = checks[..i].iter().find(|c| {
            deps.contains(&c.id)
                && (c.result == Outcome::Fail || (c.result == Outcome::Skip && c.finding.starts_with("blocked by")))
        });
        let root = blocker.map(|b| {
            if b.result == Outcome::Skip {
                b.finding
                    .trim_start_matches("blocked by ")
                    .split(':')
                    .next()
                    .unwrap_or(b.id)
                    .to_string()
            } else {
                b.id.to_string()
            }
        });
        if let Some(root) = root {
            checks[i].result = Outcome::Skip;
            checks[i].finding = format!("blocked by {root}: {}", checks[i].finding);
            checks[i].hint = None;
        }
    }
    checks
}

fn evaluate(f: &Facts) -> Vec<Check> {
    root_causes(evaluate_raw(f))
}

fn evaluate_raw(f: &Facts) -> Vec<Check> {
    let b = &f.base;
    let c = &b.cluster;
    let ns = &b.kube.namespace;
    let mut out = vec![];

    // 1. context
    out.push(check(
        "context",
        "Kube context",
        Outcome::Pass,
        format!("{} is GKE cluster {}", b.kube.context, c.path()),
        None,
        json!({"context": b.kube.context, "project": c.r.project, "location": c.r.location, "cluster": c.r.cluster}),
    ));

    // 2. cluster
    let mut problems = vec![];
    if !c.vpc_native {
        problems.push("not VPC-native (routes-based): NEGs cannot work".to_string());
    }
    if !c.http_lb {
        problems.push("the HttpLoadBalancing add-on is disabled: nothing acts on Ingresses".to_string());
    }
    if !version_ok(&c.version) {
        problems.push(format!("version {} is not later than 1.16.5-gke.10", c.version));
    }
    let ev = json!({"vpcNative": c.vpc_native, "httpLoadBalancing": c.http_lb, "version": c.version, "network": format!("projects/{}/global/networks/{}", c.network_project, c.network), "region": c.region});
    out.push(if problems.is_empty() {
        check("cluster", "Cluster", Outcome::Pass, format!("VPC-native, HttpLoadBalancing on, GKE {}", c.version), None, ev)
    } else {
        let hint = if !c.http_lb {
            format!("`gcloud container clusters update {} --location {} --update-addons=HttpLoadBalancing=ENABLED`", c.r.cluster, c.r.location)
        } else if !c.vpc_native {
            "internal Ingress needs a VPC-native cluster: create one with --enable-ip-alias (a cluster cannot be converted)".into()
        } else {
            format!("`gcloud container clusters upgrade {} --location {} --master`", c.r.cluster, c.r.location)
        };
        check("cluster", "Cluster", Outcome::Fail, problems.join("; "), Some(hint), ev)
    });

    // 3. permissions
    out.push(match (&f.denied_kube, &f.denied_gcp) {
        (Ok(k), Ok(g)) if k.is_empty() && g.is_empty() => check("permissions", "Permissions", Outcome::Pass, format!("Kubernetes RBAC in {ns} and IAM on {} allow everything install needs", c.r.project), None, json!({"kubernetesDenied": [], "iamMissing": []})),
        (Ok(k), Ok(g)) => {
            let mut parts = vec![];
            if !k.is_empty() {
                parts.push(format!("Kubernetes denies: {}", k.join(", ")));
            }
            if !g.is_empty() {
                parts.push(format!("IAM lacks: {}", g.join(", ")));
            }
            check("permissions", "Permissions", Outcome::Fail, parts.join("; "), Some("README.md (Permissions) lists the least-privilege roles: roles/compute.networkAdmin + roles/compute.securityAdmin (or a custom role with the permissions above) and namespace RBAC for kasten-io".into()), json!({"kubernetesDenied": k, "iamMissing": g}))
        }
        (k, g) => check("permissions", "Permissions", Outcome::Warn, format!("could not ask: {}", [k.as_ref().err(), g.as_ref().err()].into_iter().flatten().cloned().collect::<Vec<_>>().join("; ")), Some("make sure SelfSubjectAccessReview and cloudresourcemanager testIamPermissions are reachable".into()), Value::Null),
    });

    // 4. K10
    let ings = b.gateway_ingresses();
    let exposed = ings.iter().any(|i| ingress_ip(i).is_some());
    let k10 = match &f.k10 {
        Ok(k) => Some(k),
        Err(e) => {
            out.push(check(
                "k10",
                "K10",
                Outcome::Fail,
                e.clone(),
                Some(format!("is K10 installed in `{ns}`? pass its namespace with -n")),
                Value::Null,
            ));
            None
        }
    };
    if let Some(k) = k10 {
        let ready = k.ready_pods();
        let ev = json!({"release": k.release, "readyPods": ready, "pods": k.pods.len(), "auth": k.auth, "servicePort": k.service_port, "targetPort": k.target_port, "containerPort": k.container_port});
        out.push(if ready == 0 {
            check("k10", "K10", Outcome::Fail, format!("release `{}`: the gateway Deployment has no ready pods", k.release), Some(format!("`kubectl -n {ns} describe deployment gateway` and `kubectl -n {ns} get pods -l service=gateway`")), ev)
        } else if k.auth.is_none() && exposed {
            check("k10", "K10", Outcome::Fail, format!("release `{}` has NO authentication and is exposed through an Ingress: anyone who reaches it controls your backups", k.release), Some("configure auth now (e.g. `--set auth.tokenAuth.enabled=true`), or remove the Ingress: `kubectl kasten-ilb uninstall`".into()), ev)
        } else if k.auth.is_none() {
            check("k10", "K10", Outcome::Warn, format!("release `{}`: {ready} ready gateway pod(s), but no authentication is configured", k.release), Some("configure an auth method before exposing K10 (`helm upgrade ... --set auth.tokenAuth.enabled=true`)".into()), ev)
        } else {
            check("k10", "K10", Outcome::Pass, format!("release `{}`: {ready} ready gateway pod(s), auth: {}", k.release, k.auth.clone().unwrap_or_default()), None, ev)
        });
    }

    // 5. proxy-only subnet
    let vpc = f.vpc.as_ref().ok();
    let mut proxy_range = None;
    match vpc {
        None => out.push(check(
            "proxy-subnet",
            "Proxy-only subnet",
            Outcome::Fail,
            format!(
                "could not read the VPC: {}",
                f.vpc.as_ref().err().cloned().unwrap_or_default()
            ),
            None,
            Value::Null,
        )),
        Some(v) => {
            let all = v.proxy_subnets(&c.region);
            let ev = json!(all
                .iter()
                .map(|s| json!({"name": s.name, "range": s.ip_cidr_range, "purpose": s.purpose, "role": s.role}))
                .collect::<Vec<_>>());
            match v.active_proxy_subnet(&c.region) {
                Some(a) => {
                    proxy_range = a.ip_cidr_range.parse::<ipnet::Ipv4Net>().ok();
                    if a.purpose.as_deref() == Some("INTERNAL_HTTPS_LOAD_BALANCER") {
                        out.push(check("proxy-subnet", "Proxy-only subnet", Outcome::Warn, format!("`{}` {} is ACTIVE with the legacy purpose INTERNAL_HTTPS_LOAD_BALANCER", a.name, a.ip_cidr_range), Some("it works; Google calls the purpose legacy: plan a move to REGIONAL_MANAGED_PROXY".into()), ev));
                    } else {
                        out.push(check("proxy-subnet", "Proxy-only subnet", Outcome::Pass, format!("`{}` {} is ACTIVE in {}/{}", a.name, a.ip_cidr_range, c.region, c.network), None, ev));
                    }
                }
                None => match all.iter().find(|s| s.role.as_deref() == Some("BACKUP")) {
                    Some(bk) => out.push(check(
                        "proxy-subnet",
                        "Proxy-only subnet",
                        Outcome::Fail,
                        format!("only a BACKUP proxy-only subnet (`{}` {}) in {}/{}: the load balancer cannot get an address", bk.name, bk.ip_cidr_range, c.region, c.network),
                        Some(format!("promote it: `gcloud compute networks subnets update {} --role=ACTIVE --region={} --project={}`", bk.name, c.region, c.network_project)),
                        ev,
                    )),
                    None => out.push(check(
                        "proxy-subnet",
                        "Proxy-only subnet",
                        Outcome::Fail,
                        format!("no ACTIVE proxy-only subnet in {}/{}: an internal Ingress gets no address", c.region, c.network),
                        Some(format!("`kubectl kasten-ilb install` creates one, or `gcloud compute networks subnets create proxy-only-{} --purpose=REGIONAL_MANAGED_PROXY --role=ACTIVE --region={} --network={} --range=RANGE` (a free /23)", c.network, c.region, c.network)),
                        ev,
                    )),
                },
            }
        }
    }

    // 6. firewall
    let port = k10.and_then(|k| k.container_port);
    match (vpc, proxy_range, port) {
        (Some(v), Some(src), Some(port)) => {
            let t = firewall::Target {
                node_tags: v.node_tags.clone(),
                pod_range: c.pod_range.parse().ok(),
            };
            let world = firewall::open_to_world(&v.firewalls, &c.network, port as u16, &t);
            let wrong = firewall::wrong_port_rules(&v.firewalls, &c.network, &src, port as u16);
            let verdict = firewall::evaluate(&v.firewalls, &c.network, &src, port as u16, &t);
            let ev = json!({"proxyRange": src.to_string(), "containerPort": port, "verdict": format!("{verdict:?}"), "openToWorld": world, "wrongPort": wrong});
            let fix = format!(
                "`gcloud compute firewall-rules create {} --network={} --direction=INGRESS --action=ALLOW --rules=tcp:{port} --source-ranges={src} --destination-ranges={} --project={}` (or `kubectl kasten-ilb install`)",
                plan::firewall_name(&c.r.cluster, port),
                c.network,
                c.pod_range,
                c.network_project
            );
            out.push(match verdict {
                Verdict::Allowed(rule) if world.is_empty() => check("firewall", "Firewall", Outcome::Pass, format!("`{rule}` lets {src} reach tcp:{port} on the pods"), None, ev),
                Verdict::Allowed(rule) => check("firewall", "Firewall", Outcome::Warn, format!("`{rule}` lets {src} reach tcp:{port}, but {} open(s) tcp:{port} to 0.0.0.0/0", world.join(", ")), Some(format!("restrict the source ranges of {}", world.join(", "))), ev),
                Verdict::Denied(rule) => check("firewall", "Firewall", Outcome::Fail, format!("`{rule}` denies {src} -> tcp:{port} (it outranks every allow rule)"), Some(format!("give an allow rule a lower priority number than `{rule}`, or narrow `{rule}`")), ev),
                Verdict::NoRule => {
                    let why = match wrong.first() {
                        Some((n, ports)) => format!("`{n}` allows {} from {src}, but the load balancer connects to the container port tcp:{port}, not the Service port", ports.join(",")),
                        None => format!("no enabled INGRESS rule lets {src} reach tcp:{port} on the pods"),
                    };
                    check("firewall", "Firewall", Outcome::Fail, why, Some(fix), ev)
                }
            });
        }
        (_, None, _) => out.push(skip(
            "firewall",
            "Firewall",
            "blocked by proxy-subnet: there is no ACTIVE proxy-only subnet to allow",
        )),
        (_, _, None) => out.push(skip(
            "firewall",
            "Firewall",
            "blocked by k10: the gateway's container port is unknown",
        )),
        (None, _, _) => out.push(skip(
            "firewall",
            "Firewall",
            "blocked by proxy-subnet: the VPC could not be read",
        )),
    }

    // 7. Service annotations, BackendConfig
    match k10 {
        None => out.push(skip("service", "Service gateway", "blocked by k10: K10 not found")),
        Some(k) => {
            let neg_raw = k.annotation(NEG_ANNOTATION);
            let neg_ok = neg_raw
                .as_ref()
                .and_then(|v| serde_json::from_str::<Value>(v).ok())
                .is_some_and(|v| v["ingress"] == json!(true));
            let status = state::neg_name(k);
            let bc_raw = k.annotation(BACKEND_CONFIG);
            let mut ev = json!({"neg": neg_raw, "negStatus": k.annotation(state::NEG_STATUS), "backendConfig": bc_raw});
            let bc_problem = match &bc_raw {
                None => None,
                Some(raw) => match state::backend_config_ref(raw, k.service_port_name.as_deref(), k.service_port) {
                    Err(e) => Some(e),
                    Ok(_) => match &f.backend_config {
                        None => Some(format!(
                            "the BackendConfig named in {BACKEND_CONFIG} ({raw}) does not exist"
                        )),
                        Some(bc) => {
                            ev["backendConfigSpec"] = bc["spec"].clone();
                            let hc = &bc["spec"]["healthCheck"];
                            match (hc["timeoutSec"].as_i64(), hc["checkIntervalSec"].as_i64()) {
                                (Some(t), Some(i)) if t > i => Some(format!(
                                    "BackendConfig healthCheck timeoutSec {t} > checkIntervalSec {i}"
                                )),
                                _ => None,
                            }
                        }
                    },
                },
            };
            out.push(if !neg_ok {
                check("service", "Service gateway", Outcome::Fail, format!("no {NEG_ANNOTATION}: {{\"ingress\":true}}: internal Ingress needs NEG backends"), Some(format!("`kubectl -n {ns} annotate service gateway {NEG_ANNOTATION}='{{\"ingress\":true}}'`")), ev)
            } else if let Some(pb) = bc_problem {
                check("service", "Service gateway", Outcome::Fail, pb, Some(format!("fix or remove {BACKEND_CONFIG} on Service gateway (`kubectl kasten-ilb install --health-check backendconfig` writes a valid one)")), ev)
            } else if status.is_none() && !ings.is_empty() {
                check("service", "Service gateway", Outcome::Warn, "NEG annotation present, but the NEG controller has not written neg-status yet", Some("wait a minute; if it stays, check `kubectl -n kasten-io describe service gateway` for NEG events".into()), ev)
            } else {
                check("service", "Service gateway", Outcome::Pass, format!("NEG enabled{}", status.map(|s| format!(", NEG {s}")).unwrap_or_default()), None, ev)
            });
        }
    }

    // 8. health check: predicted vs actual
    match k10 {
        None => out.push(skip("health-check", "Health check", "blocked by k10: K10 not found")),
        Some(k) => {
            let port = k.container_port.unwrap_or(0);
            let bc_hc = f
                .backend_config
                .as_ref()
                .map(|bc| bc["spec"]["healthCheck"].clone())
                .filter(|h| h.is_object());
            let probe_path = k.probe.as_ref().map(|p| p.path.clone());
            let (pred_path, pred_port, source) = match &bc_hc {
                Some(h) if h["requestPath"].is_string() => (
                    h["requestPath"].as_str().unwrap_or("/").to_string(),
                    h["port"].as_i64().unwrap_or(i64::from(port)),
                    "the BackendConfig",
                ),
                _ if k.declared && plan::probe_usable(k, port) => (
                    probe_path.clone().unwrap_or_else(|| "/".into()),
                    i64::from(port),
                    "the readinessProbe (containerPort declared)",
                ),
                _ => (
                    "/".to_string(),
                    i64::from(port),
                    "GKE's default (no declared containerPort matches the targetPort, so the probe is ignored)",
                ),
            };
            let good_path =
                |p: &str| p != "/" && (Some(p) == probe_path.as_deref() || p.starts_with(&format!("/{}/", k.release)));
            let ev = json!({"predicted": {"path": pred_path, "port": pred_port, "source": source}, "actual": f.hc.as_ref().map(|h| json!({"name": h.name, "path": h.http_health_check.request_path, "port": h.http_health_check.port, "portSpecification": h.http_health_check.port_specification}))});
            out.push(match &f.hc {
                None if good_path(&pred_path) => check("health-check", "Health check", Outcome::Pass, format!("GKE will probe {pred_path} on :{pred_port} (from {source})"), None, ev),
                None => check(
                    "health-check",
                    "Health check",
                    if ings.is_empty() { Outcome::Warn } else { Outcome::Fail },
                    format!("GKE would probe `{pred_path}`, which K10's gateway answers 404 ({source})"),
                    Some(format!("declare the container port: `kubectl kasten-ilb install` (step Health check), or `kubectl -n {ns} patch deployment gateway --type=json -p '[{{\"op\":\"add\",\"path\":\"/spec/template/spec/containers/0/ports\",\"value\":[{{\"containerPort\":{port}}}]}}]'` before the Ingress exists")),
                    ev,
                ),
                Some(h) => {
                    let actual = h.http_health_check.request_path.clone().unwrap_or_else(|| "/".into());
                    let fixed_port = h.http_health_check.port.filter(|_| h.http_health_check.port_specification.as_deref() == Some("USE_FIXED_PORT"));
                    if fixed_port.is_some_and(|fp| fp != i64::from(port)) {
                        check("health-check", "Health check", Outcome::Fail, format!("`{}` probes port {} but only {port} is served (and admitted by K10's NetworkPolicies)", h.name, fixed_port.unwrap_or(0)), Some(format!("set healthCheck.port: {port} in the BackendConfig")), ev)
                    } else if good_path(&actual) {
                        check("health-check", "Health check", Outcome::Pass, format!("`{}` probes {actual} on the serving port", h.name), None, ev)
                    } else if good_path(&pred_path) {
                        check(
                            "health-check",
                            "Health check",
                            Outcome::Fail,
                            format!("`{}` probes `{actual}` (404) though the pods now allow {pred_path}: the health check was created before the containerPort was declared, and GKE never re-reads the probe", h.name),
                            Some("`kubectl kasten-ilb install` adds a BackendConfig that sets the path (or delete and recreate the Ingress)".into()),
                            ev,
                        )
                    } else {
                        check("health-check", "Health check", Outcome::Fail, format!("`{}` probes `{actual}`, which K10's gateway answers 404", h.name), Some("`kubectl kasten-ilb install` (it adds the containerPort or a BackendConfig)".into()), ev)
                    }
                }
            });
        }
    }

    // 9. Ingress
    let all_ings: Vec<&Ingress> = ings.clone();
    if all_ings.is_empty() {
        out.push(check(
            "ingress",
            "Ingress",
            Outcome::Fail,
            format!("no Ingress in `{ns}` routes to Service gateway"),
            Some("`kubectl kasten-ilb install`".into()),
            Value::Null,
        ));
    } else {
        let mut worst = Outcome::Pass;
        let mut findings = vec![];
        let mut hint = None;
        for i in &all_ings {
            let j = serde_json::to_value(i).unwrap_or(Value::Null);
            let name = i.metadata.name.clone().unwrap_or_default();
            let class = j["metadata"]["annotations"][CLASS_ANNOTATION].as_str();
            let class_name = j["spec"]["ingressClassName"].as_str();
            let mut bad = |o: Outcome, msg: String, h: String| {
                if o == Outcome::Fail || worst == Outcome::Pass {
                    worst = o;
                }
                findings.push(format!("{name}: {msg}"));
                hint.get_or_insert(h);
            };
            match (class, class_name) {
                (Some("gce-internal"), _) => {}
                (Some("gce") | None, None) => bad(Outcome::Fail, "SECURITY: no gce-internal class: this is an EXTERNAL, internet-facing load balancer".into(), format!("`kubectl -n {ns} annotate ingress {name} {CLASS_ANNOTATION}=gce-internal --overwrite` (GKE then replaces the load balancer), or `kubectl kasten-ilb uninstall` and install")),
                (None, Some(cn)) => bad(Outcome::Fail, format!("only spec.ingressClassName ({cn}) is set: GKE ignores it silently"), format!("set the annotation: `kubectl -n {ns} annotate ingress {name} {CLASS_ANNOTATION}=gce-internal`")),
                (Some(other), _) => bad(Outcome::Warn, format!("class `{other}` is not GKE's"), "this Ingress is served by another controller, not a GKE internal load balancer".into()),
            }
            for r in j["spec"]["rules"].as_array().into_iter().flatten() {
                for pth in r["http"]["paths"].as_array().into_iter().flatten() {
                    let path = pth["path"].as_str().unwrap_or("/");
                    if pth["pathType"] == "ImplementationSpecific" && !path.ends_with('*') && path != "/" {
                        bad(Outcome::Fail, format!("path `{path}` is ImplementationSpecific without `*`: GKE routes only that exact path, so the dashboard's assets and API calls 404"), format!("use pathType: Prefix for {path} (`kubectl kasten-ilb install` creates such an Ingress)"));
                    }
                    if pth["backend"]["service"]["name"] == "gateway" {
                        let port = &pth["backend"]["service"]["port"];
                        let ok = k10.is_some_and(|k| {
                            port["number"].as_i64() == Some(i64::from(k.service_port))
                                || port["name"].as_str() == k.service_port_name.as_deref()
                        });
                        if !ok && k10.is_some() {
                            bad(
                                Outcome::Fail,
                                format!(
                                    "backend port {} is not a port of Service gateway",
                                    if port["number"].is_null() {
                                        port["name"].clone()
                                    } else {
                                        port["number"].clone()
                                    }
                                ),
                                "route to gateway port 80".into(),
                            );
                        }
                    }
                }
            }
        }
        let names: Vec<String> = all_ings
            .iter()
            .map(|i| i.metadata.name.clone().unwrap_or_default())
            .collect();
        out.push(if findings.is_empty() {
            check(
                "ingress",
                "Ingress",
                Outcome::Pass,
                format!("{}: class gce-internal, Prefix path to gateway", names.join(", ")),
                None,
                json!({"ingresses": names}),
            )
        } else {
            check(
                "ingress",
                "Ingress",
                worst,
                findings.join("; "),
                hint,
                json!({"ingresses": names}),
            )
        });
    }

    // 10. controller events
    let mut evs: Vec<&Event> = f
        .events
        .iter()
        .filter(|e| e.type_.as_deref() == Some("Warning"))
        .filter(|e| {
            let io = &e.involved_object;
            (io.kind.as_deref() == Some("Ingress")
                && names_of(&all_ings).contains(&io.name.clone().unwrap_or_default()))
                || (io.kind.as_deref() == Some("Service") && io.name.as_deref() == Some("gateway"))
        })
        .collect();
    evs.sort_by_key(|e| e.last_timestamp.clone().map(|t| t.0));
    let has_address = all_ings.iter().any(|i| ingress_ip(i).is_some());
    if all_ings.is_empty() {
        out.push(skip("events", "Controller events", "no Ingress"));
    } else if let Some(e) = evs.last() {
        let msg = e.message.clone().unwrap_or_default();
        let (cause, fix) = explain_event(&msg)
            .map(|(c, f)| (c.to_string(), f.to_string()))
            .unwrap_or_else(|| {
                (
                    "not a known message".into(),
                    "see `kubectl describe ingress` and Google's troubleshooting page for GKE Ingress".into(),
                )
            });
        out.push(check(
            "events",
            "Controller events",
            if has_address { Outcome::Warn } else { Outcome::Fail },
            format!("{} {}: {msg} (cause: {cause})", e.reason.clone().unwrap_or_default(), e.involved_object.name.clone().unwrap_or_default()),
            Some(fix),
            json!(evs.iter().rev().take(5).map(|e| json!({"reason": e.reason, "object": e.involved_object.name, "message": e.message, "count": e.count})).collect::<Vec<_>>()),
        ));
    } else {
        out.push(check(
            "events",
            "Controller events",
            Outcome::Pass,
            "no Warning events for the Ingress or Service gateway",
            None,
            json!([]),
        ));
    }

    // 11. address
    let ip = all_ings.iter().find_map(|i| ingress_ip(i));
    match &ip {
        _ if all_ings.is_empty() => out.push(skip("address", "Address", "no Ingress")),
        None => out.push(check(
            "address",
            "Address",
            Outcome::Fail,
            "the Ingress has no address yet",
            Some("see the Controller events and Proxy-only subnet checks; a new Ingress takes a few minutes".into()),
            Value::Null,
        )),
        Some(ip) => {
            let private = ip
                .parse::<ipnet::Ipv4Net>()
                .ok()
                .or_else(|| {
                    ip.parse::<std::net::Ipv4Addr>()
                        .ok()
                        .map(|a| ipnet::Ipv4Net::new(a, 32).expect("/32"))
                })
                .is_some_and(|n| crate::cidr::is_private(&n));
            out.push(if private {
                check(
                    "address",
                    "Address",
                    Outcome::Pass,
                    format!("{ip} (internal)"),
                    None,
                    json!({"ip": ip}),
                )
            } else {
                check(
                    "address",
                    "Address",
                    Outcome::Fail,
                    format!("{ip} is an EXTERNAL address: the dashboard is reachable from the internet"),
                    Some(format!(
                        "make the Ingress internal: annotation {CLASS_ANNOTATION}: gce-internal"
                    )),
                    json!({"ip": ip}),
                )
            });
        }
    }

    // 12. NEGs
    match (k10, &f.negs) {
        (None, _) => out.push(skip("negs", "NEGs", "blocked by k10: K10 not found")),
        (Some(k), _) if state::neg_name(k).is_none() => {
            out.push(skip("negs", "NEGs", "no NEG yet (Service gateway has no neg-status)"))
        }
        (_, Err(e)) => out.push(check(
            "negs",
            "NEGs",
            Outcome::Fail,
            format!("cannot list NEGs: {e}"),
            None,
            Value::Null,
        )),
        (Some(_), Ok(negs)) => {
            let want = verify::ready_per_zone(b);
            let ev = json!(negs
                .iter()
                .map(|g| json!({"name": g.name, "zone": short(&g.zone), "size": g.size}))
                .collect::<Vec<_>>());
            out.push(match verify::neg_mismatch(negs, &want) {
                None => check("negs", "NEGs", Outcome::Pass, negs.iter().map(|g| format!("{} {}", short(&g.zone), g.size)).collect::<Vec<_>>().join(", "), None, ev),
                Some(m) => check("negs", "NEGs", Outcome::Fail, m, Some(format!("check the targetPort of Service gateway and its NEG events: `kubectl -n {ns} describe service gateway`")), ev),
            });
        }
    }

    // 13. backend health
    match &f.health {
        _ if f.bs.is_none() && f.hc.is_none() => out.push(skip("backends", "Backend health", "no backend service yet")),
        Err(e) => out.push(check(
            "backends",
            "Backend health",
            Outcome::Fail,
            format!("getHealth failed: {e}"),
            None,
            Value::Null,
        )),
        Ok(h) => {
            let (healthy, total) = verify::healthy_count(h);
            let bad: Vec<String> = h
                .iter()
                .flat_map(|(_, s)| s)
                .filter(|s| s.health_state != "HEALTHY")
                .map(|s| format!("{}:{}", s.ip_address, s.port.unwrap_or(0)))
                .collect();
            let ev = json!({"healthy": healthy, "total": total, "unhealthy": bad});
            out.push(if total == 0 {
                check("backends", "Backend health", Outcome::Fail, "no endpoints have a health status", Some("see the NEGs check".into()), ev)
            } else if healthy == total {
                check("backends", "Backend health", Outcome::Pass, format!("{healthy}/{total} HEALTHY"), None, ev)
            } else {
                check("backends", "Backend health", Outcome::Fail, format!("{healthy}/{total} HEALTHY (UNHEALTHY: {})", bad.join(", ")), Some("see the Firewall and Health check checks: the proxies must reach the container port and the probed path must answer 200".into()), ev)
            });
        }
    }

    // 14. end to end
    match &f.curl {
        None if ip.is_none() => out.push(skip("e2e", "In-cluster curl", "no address")),
        None => out.push(skip("e2e", "In-cluster curl", "skipped (--no-exec)")),
        Some(Err(e)) if e.contains("no K10 pod with curl") || e.contains("has no curl") => out.push(check(
            "e2e",
            "In-cluster curl",
            Outcome::Warn,
            e.clone(),
            Some("pass --probe-pod POD (a pod with curl in the namespace)".into()),
            Value::Null,
        )),
        Some(Err(e)) => out.push(check(
            "e2e",
            "In-cluster curl",
            Outcome::Fail,
            e.clone(),
            Some("see the checks above".into()),
            Value::Null,
        )),
        Some(Ok((page, deep))) => {
            let ev = json!({"pod": page.pod, "pageStatus": page.code, "deepStatus": deep.code});
            out.push(match verify::judge(page, deep) {
                Ok(m) => check("e2e", "In-cluster curl", Outcome::Pass, m, None, ev),
                Err(m) => check(
                    "e2e",
                    "In-cluster curl",
                    Outcome::Fail,
                    m.to_string(),
                    Some("see the checks above".into()),
                    ev,
                ),
            });
        }
    }
    out
}

fn names_of(ings: &[&Ingress]) -> Vec<String> {
    ings.iter()
        .map(|i| i.metadata.name.clone().unwrap_or_default())
        .collect()
}

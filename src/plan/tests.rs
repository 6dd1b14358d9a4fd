//! Table tests of the plan's steps on plain data (no simulator, no clients).

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

// ---------------------------------------------------------------- helpers

use k8s_openapi::api::networking::v1::Ingress;
use serde_json::json;

use crate::fixtures::{self, from_json, proxy_subnet, IngressFixture, PROXY_RANGE};
use crate::state::{ADDED_ANNOTATIONS, APP_PROTOCOLS, BACKEND_CONFIG, MANAGED_BY_LABEL, MANAGER, NEG_ANNOTATION};

fn settings() -> Settings {
    Settings {
        health_check: HealthCheckMode::Auto,
        ingress_name: None,
        path: None,
        static_ip: None,
        host: None,
        tls_secret: None,
        proxy_range: None,
        allow_unauthenticated: false,
        self_signed: false,
        no_http: false,
    }
}

/// One world: what was observed, and the settings.
#[derive(Clone)]
struct World {
    seen: Observed,
    vpc: Vpc,
    hc: Option<HealthCheck>,
    bc: Option<DynamicObject>,
    s: Settings,
}

impl World {
    /// K10 installed, the recipe's proxy-only subnet and rule there, nothing of install's yet.
    fn healthy() -> World {
        World {
            seen: Observed::healthy(),
            vpc: Vpc::healthy(),
            hc: None,
            bc: None,
            s: settings(),
        }
    }
    /// Before anything: K10 as the chart leaves it, an empty default VPC.
    fn fresh() -> World {
        World {
            seen: Observed::fresh(),
            vpc: Vpc::fresh(),
            ..World::healthy()
        }
    }
    fn seen(self, f: impl FnOnce(Observed) -> Observed) -> World {
        World {
            seen: f(self.seen),
            ..self
        }
    }
    fn vpc(self, f: impl FnOnce(Vpc) -> Vpc) -> World {
        World {
            vpc: f(self.vpc),
            ..self
        }
    }
    fn s(mut self, f: impl FnOnce(&mut Settings)) -> World {
        f(&mut self.s);
        self
    }
    fn hc(self, path: &str) -> World {
        World {
            hc: Some(fixtures::health_check(path)),
            ..self
        }
    }
    fn bc(self, path: &str, port: i32) -> World {
        let name = backend_config_name(&self.seen.k10.release);
        let spec = health_check::backend_config_spec(path, port, "HTTP");
        let obj = fixtures::backend_config(&name, spec["healthCheck"].clone());
        World {
            bc: Some(from_json(obj)),
            ..self
        }
    }
    fn plan(&self) -> anyhow::Result<Plan> {
        compute(&self.seen, &self.vpc, self.hc.as_ref(), self.bc.as_ref(), &self.s)
    }
}

/// What a case expects of one step: its action, and words in its target and reason (or command).
struct Want {
    action: Action,
    target: &'static str,
    says: &'static str,
}

fn want(action: Action, target: &'static str, says: &'static str) -> Result<Want, &'static str> {
    Ok(Want { action, target, says })
}

/// Run a table of cases against one step; `Err(words)` expects compute to fail saying `words`.
fn check(step: StepKind, cases: Vec<(&str, World, Result<Want, &'static str>)>) {
    for (name, world, expected) in cases {
        let got = world.plan();
        match (got, expected) {
            (Ok(plan), Ok(w)) => {
                let s = plan
                    .step(step.id)
                    .unwrap_or_else(|| panic!("{name}: no step {}", step.id));
                assert_eq!(s.action, w.action, "{name}: {s:#?}");
                assert!(s.target.contains(w.target), "{name}: target {:?}", s.target);
                let text = format!("{} {}", s.reason, s.command.clone().unwrap_or_default());
                assert!(text.contains(w.says), "{name}: {text:?} does not say {:?}", w.says);
                let writes = matches!(s.action, Action::Create | Action::Update);
                assert_eq!(
                    writes,
                    s.command.is_some(),
                    "{name}: a write has a command, only a write"
                );
                assert_eq!(
                    writes,
                    !matches!(s.change, Change::None),
                    "{name}: change {:?}",
                    s.change
                );
            }
            (Err(e), Err(words)) => {
                let text = format!(
                    "{e:#} {}",
                    error::find(&e).and_then(|c| c.hint.clone()).unwrap_or_default()
                );
                assert!(text.contains(words), "{name}: {text:?} does not say {words:?}");
            }
            (Ok(plan), Err(words)) => panic!("{name}: expected an error saying {words:?}, got {:#?}", plan.steps),
            (Err(e), Ok(_)) => panic!("{name}: unexpected error {e:#}"),
        }
    }
}

fn ours(mut i: Ingress) -> Ingress {
    i.metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert(MANAGED_BY_LABEL.into(), MANAGER.into());
    i
}

/// The Ingress install would make for the healthy world (and the settings), as read back.
fn installed_ingress(s: &Settings) -> Ingress {
    let k = Observed::healthy().k10;
    from_json(crate::render::ingress_body(&k, "k10-ilb", "/k10/", s))
}

fn ours_gcp(mut sn: crate::gcp::model::Subnetwork) -> crate::gcp::model::Subnetwork {
    sn.description = Some("Created by kubectl-kasten-ilb for K10 on cluster x.".into());
    sn
}

// ---------------------------------------------------------------- tables

#[test]
fn preconditions_table() {
    use Action::*;
    let narrow_service = |mut o: Observed| {
        o.k10.service_port = 8080;
        o.k10.service_port_name = Some("web".into());
        o
    };
    check(
        INGRESS,
        vec![
            (
                "healthy",
                World::healthy(),
                want(Reuse, "ingress/k10-ingress", "adopted"),
            ),
            (
                "routes-based",
                World::healthy().seen(Observed::not_vpc_native),
                Err("routes-based"),
            ),
            (
                "no HttpLoadBalancing",
                World::healthy().seen(Observed::without_http_lb),
                Err("HttpLoadBalancing"),
            ),
            (
                "GKE 1.16.5-gke.10",
                World::healthy().seen(|o| o.with_version("1.16.5-gke.10")),
                Err("too old"),
            ),
            (
                "no auth",
                World::healthy().seen(Observed::without_auth),
                Err("--allow-unauthenticated"),
            ),
            (
                "no auth, accepted",
                World::healthy()
                    .seen(Observed::without_auth)
                    .s(|s| s.allow_unauthenticated = true),
                want(Reuse, "ingress/k10-ingress", "adopted"),
            ),
            (
                "not port 80",
                World::healthy().seen(narrow_service),
                Err("has no port 80"),
            ),
            (
                "port http, not 80",
                World::healthy().seen(|o| {
                    let mut o = narrow_service(o).without_ingresses();
                    o.k10.service_port_name = Some("http".into());
                    o
                }),
                want(Create, "gateway:8080", "gce-internal"),
            ),
            (
                "port http, not 80: the adopted Ingress gets the port",
                World::healthy().seen(|o| {
                    let mut o = narrow_service(o);
                    o.k10.service_port_name = Some("http".into());
                    o
                }),
                want(Update, "ingress/k10-ingress", "port 8080 of Service gateway"),
            ),
            (
                "named targetPort undeclared",
                World::healthy().seen(Observed::with_unknown_container_port),
                Err("`web`"),
            ),
            (
                "no ready pod",
                World::healthy().seen(|o| o.with_pods(2, 0)),
                Err("no ready pods"),
            ),
        ],
    );
}

#[test]
fn proxy_subnet_table() {
    use Action::*;
    let legacy = proxy_subnet("legacy", PROXY_RANGE, "INTERNAL_HTTPS_LOAD_BALANCER", "ACTIVE");
    let backup = proxy_subnet("spare", "10.121.0.0/23", "REGIONAL_MANAGED_PROXY", "BACKUP");
    let ours = ours_gcp(proxy_subnet(
        "proxy-only-default",
        PROXY_RANGE,
        "REGIONAL_MANAGED_PROXY",
        "ACTIVE",
    ));
    let mut elsewhere = proxy_subnet("east", "10.122.0.0/23", "REGIONAL_MANAGED_PROXY", "ACTIVE");
    elsewhere.region = elsewhere.region.replace("us-central1", "us-east1");
    check(
        PROXY_SUBNET,
        vec![
            (
                "recipe's ACTIVE subnet",
                World::healthy(),
                want(Reuse, "proxy-only-subnet 10.120.0.0/23", "ACTIVE"),
            ),
            (
                "install's ACTIVE subnet",
                World::fresh().vpc(|v| v.with_proxy_subnet(ours)),
                want(NoOp, "", "ACTIVE"),
            ),
            (
                "legacy purpose",
                World::fresh().vpc(|v| v.with_proxy_subnet(legacy)),
                want(Reuse, "legacy", "migrate"),
            ),
            (
                "only a BACKUP",
                World::fresh().vpc(|v| v.with_proxy_subnet(backup.clone())),
                want(Update, "spare 10.121.0.0/23", "--role=ACTIVE"),
            ),
            (
                "BACKUP beside an ACTIVE",
                World::healthy().vpc(|v| v.with_proxy_subnet(backup)),
                want(Reuse, "proxy-only-subnet", "ACTIVE"),
            ),
            (
                "none: a free /23",
                World::fresh(),
                want(Create, "proxy-only-default 10.", "outside the auto-mode block"),
            ),
            (
                "none, custom-mode VPC",
                World::fresh().vpc(Vpc::custom_mode),
                want(Create, "/23", "overlaps no subnet"),
            ),
            (
                "only in another region",
                World::fresh().vpc(|v| v.with_proxy_subnet(elsewhere)),
                want(Create, "", ""),
            ),
            (
                "none, range given",
                World::fresh().s(|s| s.proxy_range = Some("10.10.0.0/24".into())),
                want(Create, "proxy-only-default 10.10.0.0/24", "--range=10.10.0.0/24"),
            ),
            (
                "range given overlaps a subnet",
                World::fresh().s(|s| s.proxy_range = Some("10.128.0.0/23".into())),
                Err("overlaps"),
            ),
            (
                "range given overlaps the pods (even when unused)",
                World::healthy().s(|s| s.proxy_range = Some("10.52.0.0/23".into())),
                Err("pod range"),
            ),
            (
                "Shared VPC host project",
                World::fresh().seen(|o| o.with_network_project("host-proj")),
                want(Create, "", "--project=host-proj"),
            ),
        ],
    );
}

#[test]
fn proxy_subnet_notes_and_range() {
    let w = World::healthy().s(|s| s.proxy_range = Some("10.10.0.0/24".into()));
    let plan = w.plan().unwrap();
    assert_eq!(plan.proxy_range.to_string(), PROXY_RANGE, "the ACTIVE one wins");
    assert!(plan
        .warnings
        .iter()
        .any(|w| w.contains("--proxy-subnet-range is ignored")));
    let fresh = World::fresh().plan().unwrap();
    let taken = taken_ranges(&Observed::fresh(), &Vpc::fresh());
    assert!(taken.iter().all(|t| !t.range.contains(&fresh.proxy_range.network())));
    match &fresh.step("proxy-subnet").unwrap().change {
        Change::CreateSubnet { body, .. } => {
            assert_eq!(body["purpose"], "REGIONAL_MANAGED_PROXY");
            assert_eq!(body["ipCidrRange"], fresh.proxy_range.to_string());
            assert!(crate::state::is_ours_gcp(body["description"].as_str()));
        }
        c => panic!("{c:?}"),
    }
}

#[test]
fn firewall_table() {
    use Action::*;
    let ours_fw = |fields: serde_json::Value| {
        let mut f = fixtures::firewall("kasten-ilb-kasten-demo-proxy-to-8000", fields);
        f.description = Some("Created by kubectl-kasten-ilb for K10 on cluster x.".into());
        f
    };
    let allow = json!({"sourceRanges": [PROXY_RANGE], "allowed": [{"IPProtocol": "tcp", "ports": ["8000"]}]});
    let mut disabled = allow.clone();
    disabled["disabled"] = json!(true);
    let deny = fixtures::firewall(
        "deny-all",
        json!({"sourceRanges": ["0.0.0.0/0"], "denied": [{"IPProtocol": "all"}], "priority": 10}),
    );
    let port_80 = fixtures::firewall(
        "allow-80",
        json!({"sourceRanges": [PROXY_RANGE], "allowed": [{"IPProtocol": "tcp", "ports": ["80"]}]}),
    );
    let other_tags = fixtures::firewall(
        "other-nodes",
        json!({"sourceRanges": [PROXY_RANGE], "allowed": [{"IPProtocol": "tcp"}], "targetTags": ["db"]}),
    );
    let no_recipe = |v: Vpc| v.without_firewall("allow-kasten-gateway-connection");
    check(
        FIREWALL,
        vec![
            (
                "recipe's rule",
                World::healthy(),
                want(Reuse, "allow-kasten-gateway-connection", "tcp:8000"),
            ),
            (
                "install's rule",
                World::healthy().vpc(|v| no_recipe(v).with_firewall(ours_fw(allow))),
                want(
                    NoOp,
                    "kasten-ilb-kasten-demo-proxy-to-8000",
                    "already lets 10.120.0.0/23",
                ),
            ),
            (
                "install's rule, disabled",
                World::healthy().vpc(|v| no_recipe(v).with_firewall(ours_fw(disabled))),
                want(Update, "kasten-ilb-kasten-demo-proxy-to-8000", "(it is disabled)"),
            ),
            (
                "none",
                World::healthy().vpc(no_recipe),
                want(Create, "kasten-ilb-kasten-demo-proxy-to-8000", "pod range"),
            ),
            (
                "only the Service port",
                World::healthy().vpc(|v| no_recipe(v).with_firewall(port_80)),
                want(Create, "proxy-to-8000", "`allow-80` allows tcp:80 only"),
            ),
            (
                "other target tags",
                World::healthy().vpc(|v| no_recipe(v).with_firewall(other_tags)),
                want(Create, "proxy-to-8000", "--rules=tcp:8000"),
            ),
            (
                "a higher deny",
                World::healthy().vpc(|v| v.with_firewall(deny)),
                want(Create, "proxy-to-8000", ""),
            ),
            (
                "container port 9000",
                World::healthy().seen(|o| o.with_container_port(9000)).vpc(no_recipe),
                want(Create, "kasten-ilb-kasten-demo-proxy-to-9000", "tcp:9000"),
            ),
        ],
    );
}

#[test]
fn firewall_deny_is_warned() {
    let deny = fixtures::firewall(
        "deny-all",
        json!({"sourceRanges": ["0.0.0.0/0"], "denied": [{"IPProtocol": "all"}], "priority": 10}),
    );
    let plan = World::healthy().vpc(|v| v.with_firewall(deny)).plan().unwrap();
    assert!(
        plan.warnings.iter().any(|w| w.contains("`deny-all` denies")),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn health_check_table() {
    use Action::*;
    use HealthCheckMode::*;
    let https = |o: Observed| {
        let mut p = o.k10.probe.clone().unwrap();
        p.scheme = "HTTPS".into();
        o.with_probe(Some(p))
    };
    let mode = |m| move |s: &mut Settings| s.health_check = m;
    check(
        HEALTH_CHECK,
        vec![
            (
                "declared port",
                World::healthy(),
                want(NoOp, "containerPort 8000", "/healthz"),
            ),
            (
                "chart's gateway",
                World::fresh(),
                want(Update, "containerPort 8000", "patch deployment gateway"),
            ),
            (
                "no probe",
                World::fresh().seen(|o| o.with_probe(None)),
                want(
                    Create,
                    "backendconfig/k10-gateway-ilb /k10/ :8000",
                    "cannot be used by GKE",
                ),
            ),
            (
                "HTTPS probe: GKE copies it once the app protocol is HTTPS",
                World::fresh().seen(https),
                want(Update, "containerPort 8000", "readinessProbe /healthz"),
            ),
            (
                "HTTPS probe, BackendConfig",
                World::fresh().seen(https).s(mode(HealthCheckMode::Backendconfig)),
                want(Create, "backendconfig/k10-gateway-ilb /healthz :8000", "apply -f"),
            ),
            (
                "health check probes /",
                World::healthy().hc("/"),
                want(Create, "/healthz :8000", "probes `/`"),
            ),
            (
                "health check as wanted",
                World::healthy().hc("/healthz"),
                want(NoOp, "containerPort", ""),
            ),
            (
                "wrong health check, BackendConfig there",
                World::healthy().hc("/").bc("/healthz", 8000),
                want(NoOp, "containerPort", ""),
            ),
            (
                "backendconfig asked, there as wanted",
                World::healthy().s(mode(Backendconfig)).bc("/healthz", 8000),
                want(NoOp, "backendconfig/k10-gateway-ilb", "checks /healthz on port 8000"),
            ),
            (
                "backendconfig asked, differs",
                World::healthy().s(mode(Backendconfig)).bc("/", 8000),
                want(Update, "backendconfig/k10-gateway-ilb", "differs"),
            ),
            (
                "patch-deployment asked, probe unusable",
                World::fresh().seen(|o| o.with_probe(None)).s(mode(PatchDeployment)),
                Err("backendconfig (or auto)"),
            ),
            (
                "patch-deployment asked",
                World::fresh().s(mode(PatchDeployment)),
                want(Update, "containerPort 8000", "--type=json"),
            ),
            (
                "release prod",
                World::fresh().seen(|o| o.with_release("prod").with_probe(None)),
                want(Create, "backendconfig/prod-gateway-ilb /prod/", ""),
            ),
        ],
    );
}

#[test]
fn container_port_patch_is_guarded_and_shown() {
    let plan = World::fresh().plan().unwrap();
    let step = plan.step("health-check").unwrap();
    let Change::PatchDeployment { patch } = &step.change else {
        panic!("{:?}", step.change)
    };
    assert_eq!(patch[0]["op"], "test");
    assert_eq!(patch[0]["value"], "gateway");
    assert_eq!(patch[1]["path"], "/spec/template/spec/containers/0/ports/-");
    assert!(step.diff.as_deref().unwrap().contains("+  - containerPort: 8000"));
    assert_eq!(plan.strategy, HealthCheckMode::PatchDeployment);
}

#[test]
fn service_table() {
    use Action::*;
    let bc_mode = |s: &mut Settings| s.health_check = HealthCheckMode::Backendconfig;
    let ours_ref = "{\"default\":\"k10-gateway-ilb\"}";
    check(
        SERVICE,
        vec![
            (
                "NEG on",
                World::healthy(),
                want(NoOp, "service/gateway", "container-native"),
            ),
            (
                "no NEG annotation",
                World::healthy().seen(|o| o.without_service_annotation(NEG_ANNOTATION)),
                want(Update, "service/gateway", "'cloud.google.com/neg={\"ingress\":true}'"),
            ),
            (
                "NEG annotation false",
                World::healthy().seen(|o| o.with_service_annotation(NEG_ANNOTATION, "{\"ingress\":false}")),
                want(Update, "service/gateway", "NEG backends"),
            ),
            (
                "BackendConfig to reference",
                World::healthy().s(bc_mode),
                want(Update, "service/gateway", "and the BackendConfig reference"),
            ),
            (
                "BackendConfig referenced",
                World::healthy().s(bc_mode).seen(|o| o.with_backend_config(ours_ref)),
                want(NoOp, "service/gateway", ""),
            ),
            (
                "someone else's BackendConfig",
                World::healthy()
                    .s(bc_mode)
                    .seen(|o| o.with_backend_config("{\"default\":\"mine\"}")),
                Err("that install did not create"),
            ),
            (
                "HTTPS gateway",
                World::healthy().seen(|o| o.with_https_gateway()),
                want(
                    Update,
                    "service/gateway",
                    "annotate service gateway 'cloud.google.com/app-protocols={\"http\":\"HTTPS\"}'",
                ),
            ),
            (
                "HTTPS gateway, app protocol HTTPS",
                World::healthy().seen(|o| {
                    o.with_https_gateway()
                        .with_service_annotation(APP_PROTOCOLS, "{\"http\":\"HTTPS\"}")
                }),
                want(NoOp, "service/gateway", "speak HTTPS to the HTTPS gateway"),
            ),
            (
                "HTTPS gateway, another port's app protocol kept",
                World::healthy().seen(|o| {
                    o.with_https_gateway()
                        .with_service_annotation(APP_PROTOCOLS, "{\"grpc\":\"HTTP2\"}")
                }),
                want(
                    Update,
                    "service/gateway",
                    "'cloud.google.com/app-protocols={\"grpc\":\"HTTP2\",\"http\":\"HTTPS\"}' --overwrite",
                ),
            ),
        ],
    );
}

#[test]
fn https_gateway_app_protocol_is_recorded_for_uninstall_and_the_backend_config_checks_https() {
    let w = World::fresh().seen(|o| o.with_https_gateway());
    let plan = w.plan().unwrap();
    let Change::AnnotateService { patch } = &plan.step("service").unwrap().change else {
        panic!()
    };
    let ann = &patch["metadata"]["annotations"];
    assert_eq!(ann[APP_PROTOCOLS], "{\"http\":\"HTTPS\"}");
    assert_eq!(
        ann[ADDED_ANNOTATIONS], APP_PROTOCOLS,
        "the fresh world's Service is NEG-enabled already"
    );
    assert!(plan.step("service").unwrap().reason.contains("must speak HTTPS"));
    let bc = World::fresh()
        .seen(|o| o.with_https_gateway())
        .s(|s| s.health_check = HealthCheckMode::Backendconfig)
        .plan()
        .unwrap();
    let Change::BackendConfig { body, .. } = &bc.step("health-check").unwrap().change else {
        panic!()
    };
    assert_eq!(body["spec"]["healthCheck"]["type"], "HTTPS");
}

#[test]
fn service_patch_records_what_install_added_once() {
    let w = World::healthy()
        .s(|s| s.health_check = HealthCheckMode::Backendconfig)
        .seen(|o| {
            o.without_service_annotation(NEG_ANNOTATION)
                .with_service_annotation(ADDED_ANNOTATIONS, NEG_ANNOTATION)
        });
    let plan = w.plan().unwrap();
    let Change::AnnotateService { patch } = &plan.step("service").unwrap().change else {
        panic!()
    };
    let ann = &patch["metadata"]["annotations"];
    assert_eq!(ann[ADDED_ANNOTATIONS], format!("{NEG_ANNOTATION},{BACKEND_CONFIG}"));
    assert_eq!(ann[NEG_ANNOTATION], "{\"ingress\":true}");
    assert_eq!(ann[BACKEND_CONFIG], "{\"default\":\"k10-gateway-ilb\"}");
}

#[test]
fn ingress_table() {
    use Action::*;
    let name = |n: &str| {
        let n = n.to_string();
        move |s: &mut Settings| s.ingress_name = Some(n)
    };
    let mine = ours(installed_ingress(&settings()));
    let moved = ours(installed_ingress(&settings()).with_path("/old/", "Prefix"));
    check(
        INGRESS,
        vec![
            (
                "none yet",
                World::fresh(),
                want(Create, "ingress/k10-ilb /k10/ -> gateway:80", "pathType Prefix"),
            ),
            (
                "the recipe's is adopted, not doubled",
                World::healthy(),
                want(Reuse, "ingress/k10-ingress", "no second load balancer"),
            ),
            (
                "beside the recipe's when a name is asked",
                World::healthy().s(name("k10-ilb")),
                want(Create, "ingress/k10-ilb", "create -f ingress.yaml"),
            ),
            (
                "the blog recipe's exact path is patched",
                World::fresh()
                    .seen(|o| o.with_ingress(fixtures::ingress().with_path("/k10/", "ImplementationSpecific"))),
                want(Update, "ingress/k10-ingress", "pathType Prefix for /k10/"),
            ),
            (
                "an external one is made internal",
                World::fresh().seen(|o| o.with_ingress(fixtures::ingress().with_class(None))),
                want(Update, "ingress/k10-ingress", "class gce-internal"),
            ),
            (
                "name taken",
                World::healthy().s(name("k10-ingress")),
                Err("not created by kubectl-kasten-ilb"),
            ),
            (
                "install's, as wanted",
                World::fresh().seen(|o| o.with_ingress(mine.clone())),
                want(NoOp, "", "as wanted"),
            ),
            (
                "install's, moved",
                World::fresh().seen(|o| o.with_ingress(moved)),
                want(Update, "ingress/k10-ilb", ""),
            ),
            (
                "install's, static IP asked",
                World::fresh()
                    .seen(|o| o.with_ingress(mine))
                    .s(|s| s.static_ip = Some("k10-ip".into())),
                want(Update, "ingress/k10-ilb", "apply -f ingress.yaml"),
            ),
            (
                "the gateway's prefix",
                World::fresh().seen(|o| o.with_prefix_path(Some("/dash"))),
                want(Create, "ingress/k10-ilb /dash/ -> gateway:80", ""),
            ),
            (
                "--path repeats the prefix",
                World::fresh()
                    .seen(|o| o.with_prefix_path(Some("/dash")))
                    .s(|s| s.path = Some("dash".into())),
                want(Create, "/dash/", ""),
            ),
            (
                "--path differs from the prefix",
                World::fresh().s(|s| s.path = Some("dash".into())),
                Err("--path `dash` is not where K10's gateway serves the dashboard: its PREFIX_PATH is `/k10`"),
            ),
            (
                "release backup",
                World::fresh().seen(|o| o.with_release("backup")),
                want(Create, "ingress/backup-ilb /backup/ -> gateway:80", ""),
            ),
            (
                "no k10-gateway ConfigMap (6.x): /<release>/",
                World::fresh()
                    .seen(|o| o.with_release("backup").with_prefix_path(None))
                    .s(|s| s.path = Some("/k10/".into())),
                Err("the chart serves it under `/<release>` (release `backup`)"),
            ),
            (
                "custom name",
                World::fresh().s(name("web")),
                want(Create, "ingress/web", ""),
            ),
            (
                "bad path",
                World::fresh().s(|s| s.path = Some("/k10/*".into())),
                Err("not a URL path prefix"),
            ),
            (
                "TLS without host",
                World::fresh().s(|s| s.tls_secret = Some("cert".into())),
                Err("--tls-secret needs --host"),
            ),
        ],
    );
}

#[test]
fn ingress_notes() {
    let name = |s: &mut Settings| s.ingress_name = Some("k10-ilb".into());
    let plan = World::healthy().s(name).plan().unwrap();
    assert!(plan
        .warnings
        .iter()
        .any(|w| w.contains("Ingress `k10-ingress` (class gce-internal) also routes")));
    let external = fixtures::ingress().with_class(None);
    let plan = World::fresh()
        .seen(|o| o.with_ingress(external))
        .s(name)
        .plan()
        .unwrap();
    assert!(plan.warnings.iter().any(|w| w.contains("(class none: external!)")));
    // Adopted: no warning about it, and the patch is the plan's front end.
    let exact = fixtures::ingress().with_path("/k10/", "ImplementationSpecific");
    let plan = World::fresh().seen(|o| o.with_ingress(exact)).plan().unwrap();
    assert!(
        plan.warnings.iter().all(|w| !w.contains("also routes")),
        "{:?}",
        plan.warnings
    );
    assert_eq!(plan.frontend.name(), "k10-ingress");
    let Change::UpdateFrontend { patch } = &plan.step("ingress").unwrap().change else {
        panic!()
    };
    assert_eq!(patch["spec"]["rules"][0]["http"]["paths"][0]["pathType"], "Prefix");
    let tls = World::fresh().s(|s| {
        s.tls_secret = Some("cert".into());
        s.host = Some("k10.example.internal".into());
    });
    let plan = tls.plan().unwrap();
    assert!(plan.https);
    assert!(plan.warnings.iter().any(|w| w.starts_with("HTTPS only")));
    assert_eq!(
        plan.url("10.0.0.1"),
        "https://k10.example.internal/k10/ (address 10.0.0.1)"
    );
    let Change::CreateFrontend { body } = &plan.step("ingress").unwrap().change else {
        panic!()
    };
    assert_eq!(
        body["metadata"]["annotations"]["kubernetes.io/ingress.allow-http"],
        "false"
    );
    assert_eq!(body["spec"]["tls"][0]["hosts"][0], "k10.example.internal");
    let with_ip = World::fresh().s(|s| {
        s.tls_secret = Some("cert".into());
        s.host = Some("h".into());
        s.static_ip = Some("k10-ip".into());
    });
    assert!(!with_ip.plan().unwrap().https);
}

#[test]
fn steps_come_in_apply_order() {
    let plan = World::fresh().plan().unwrap();
    let ids: Vec<&str> = plan.steps.iter().map(|s| s.id).collect();
    assert_eq!(ids, ["proxy-subnet", "firewall", "health-check", "service", "ingress"]);
    assert!(!plan.is_noop());
    assert_eq!(plan.frontend, Frontend::Ingress { name: "k10-ilb".into() });
    assert_eq!(plan.url("10.0.0.1"), "http://10.0.0.1/k10/");
}

#[test]
fn installed_world_plans_nothing() {
    let mine = ours(installed_ingress(&settings()));
    let w = World::healthy().seen(|o| o.with_ingress(mine));
    let plan = w.plan().unwrap();
    assert!(plan.is_noop(), "{:#?}", plan.steps);
    assert_eq!(
        Frontend::installed(&w.seen),
        [Frontend::Ingress { name: "k10-ilb".into() }]
    );
    assert!(
        Frontend::installed(&Observed::healthy()).is_empty(),
        "the recipe's Ingress is not install's"
    );
}

#[test]
fn a_path_that_is_not_the_gateways_prefix_is_a_usage_error_naming_the_right_one() {
    let k = Observed::healthy().with_prefix_path(Some("/backup")).k10;
    let e = super::frontend::dashboard_path(&k, Some("/k10/")).unwrap_err();
    let c = error::find(&e).expect("a CliError");
    assert_eq!(c.kind, error::Kind::Usage);
    assert!(
        c.hint.as_deref().unwrap_or_default().starts_with("use --path /backup/"),
        "{c:?}"
    );
    assert_eq!(super::frontend::dashboard_path(&k, Some("backup")).unwrap(), "/backup/");
    assert_eq!(super::frontend::dashboard_path(&k, None).unwrap(), "/backup/");
}

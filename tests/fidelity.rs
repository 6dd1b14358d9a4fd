//! Issue 10 on gke-sim worlds, checked with the real kubectl and gcloud: the health checkers and
//! the proxies are separate sources; `--controller-firewall code|docs` (FIDELITY.md) changes what
//! GKE's own `k8s-fw-l7` rule opens; in every firewall world and both modes doctor's verdict
//! matches the in-cluster curl, and following doctor's hints repairs each broken world.

mod common;

use common::hints::*;
use common::*;
use gke_sim::ControllerFirewall::{self, Code, Docs};
use serde_json::{json, Value};

const L7_RULE: &str = "k8s-fw-l7--3f9c1a27b5d04e6f";
const HC_DENIED: &str = "`deny-health-checks` denies Google's health checkers";
const NO_HEALTHY_UPSTREAM: &str = "no healthy upstream";
const CONNECT_ERROR: &str =
    "upstream connect error or disconnect/reset before headers. reset reason: connection failure";

fn world(scenario: &str, mode: ControllerFirewall) -> TestWorld {
    let mut cfg = config(scenario);
    cfg.controller_firewall = mode;
    TestWorld::with(cfg)
}

/// A deny rule for 10.0.0.0/8 (which holds the proxy-only range) that outranks every allow rule.
fn deny_tens(w: &TestWorld) {
    w.sim.with_world(|w| {
        gke_sim::scenario::firewall(
            w,
            "deny-10",
            json!({"sourceRanges": ["10.0.0.0/8"], "denied": [{"IPProtocol": "all"}], "priority": 500}),
        )
    });
}

/// A firewall world: its name, the scenario it starts from, and what is changed after.
type FirewallWorld = (&'static str, &'static str, Option<fn(&TestWorld)>);

/// One row: world, mode, backends HEALTHY, curl's HTTP code and a piece of its body, doctor's FAIL.
type Row = (
    &'static str,
    ControllerFirewall,
    bool,
    u16,
    &'static str,
    Option<&'static str>,
);

fn firewall_worlds() -> Vec<FirewallWorld> {
    vec![
        ("healthy", "healthy", None),
        ("firewall-port-80", "firewall-port-80", None),
        ("no-proxy-rule", "no-proxy-rule", None),
        ("hc-denied", "hc-denied", None),
        ("proxy range denied", "healthy", Some(deny_tens)),
    ]
}

fn make(scenario: &str, mode: ControllerFirewall, arrange: Option<fn(&TestWorld)>) -> TestWorld {
    let w = world(scenario, mode);
    if let Some(f) = arrange {
        f(&w);
    }
    w
}

/// doctor -o json: (exit code, report).
fn doctor(w: &TestWorld) -> (i32, Value) {
    doctor_report(w, &[])
}

/// The address of the internal Ingress to K10 (the recipe's `k10-ingress` or install's).
fn ingress_ip(w: &TestWorld) -> String {
    let ings = w.sim.world().kube_in_ns("Ingress", "kasten-io");
    let internal = |i: &&Value| i["metadata"]["annotations"]["kubernetes.io/ingress.class"] == "gce-internal";
    let ip = |i: &Value| {
        i["status"]["loadBalancer"]["ingress"][0]["ip"]
            .as_str()
            .map(str::to_string)
    };
    ings.iter()
        .filter(internal)
        .find_map(ip)
        .or_else(|| ings.iter().find_map(ip))
        .expect("an Ingress has an address")
}

/// `curl` through the real `kubectl exec` in a K10 pod that has curl: (HTTP code, body). None
/// when kubectl is not installed.
fn in_cluster_curl(w: &TestWorld, path: &str) -> Option<(u16, String)> {
    curl_in_cluster(w, &format!("http://{}{path}", ingress_ip(w)))
}

/// What K10 answers a request without credentials in these worlds: they have basic auth, so its
/// gateway answers 401 with its Basic challenge (issue 15; FIDELITY.md).
const K10_CODE: u16 = 401;
const K10_ANSWER: &str = "401 Unauthorized";

fn health(w: &TestWorld) -> Vec<&'static str> {
    let world = w.sim.world();
    let bs = world
        .compute
        .backend_services
        .keys()
        .next()
        .cloned()
        .expect("a backend service");
    let name = bs.rsplit('/').next().unwrap().to_string();
    gke_sim::controller::backend_health(&world, &name)
        .into_iter()
        .map(|h| h.3)
        .collect()
}

/// What each world gives, in both modes: the backends' health, the LB's answer, doctor's FAIL.
#[test]
fn doctor_agrees_with_the_in_cluster_curl_in_every_firewall_world_and_mode() {
    #[rustfmt::skip]
    let table: Vec<Row> = vec![
        ("healthy", Docs, true, K10_CODE, K10_ANSWER, None),
        ("healthy", Code, true, K10_CODE, K10_ANSWER, None),
        ("firewall-port-80", Docs, true, 503, CONNECT_ERROR, Some("allows tcp:80 from 10.120.0.0/23")),
        ("firewall-port-80", Code, true, K10_CODE, K10_ANSWER, None),
        ("no-proxy-rule", Docs, true, 503, CONNECT_ERROR, Some("no enabled INGRESS rule lets 10.120.0.0/23")),
        ("no-proxy-rule", Code, true, K10_CODE, K10_ANSWER, None),
        ("hc-denied", Docs, false, 503, NO_HEALTHY_UPSTREAM, Some(HC_DENIED)),
        ("hc-denied", Code, false, 503, NO_HEALTHY_UPSTREAM, Some(HC_DENIED)),
        ("proxy range denied", Docs, true, 503, CONNECT_ERROR, Some("`deny-10` denies 10.120.0.0/23")),
        ("proxy range denied", Code, true, 503, CONNECT_ERROR, Some("`deny-10` denies 10.120.0.0/23")),
    ];
    let worlds = firewall_worlds();
    for (name, mode, healthy, code, body, fail) in table {
        let (_, scenario, arrange) = worlds.iter().find(|x| x.0 == name).unwrap();
        let w = make(scenario, mode, *arrange);
        let case = format!("{name} ({mode:?})");
        let want = if healthy { "HEALTHY" } else { "UNHEALTHY" };
        assert!(health(&w).iter().all(|h| *h == want), "{case}: {:?}", health(&w));
        let Some((got, page)) = in_cluster_curl(&w, "/k10/") else {
            return;
        };
        assert_eq!(got, code, "{case}: {page}");
        assert!(page.contains(body), "{case}: {page}");
        let (exit, v) = doctor(&w);
        let f = fails(&v);
        // The verdict matches the curl: exit 0 exactly when K10 answers.
        assert_eq!(exit == 0, code == K10_CODE, "{case}: {f:#?}");
        match fail {
            None => assert!(f.is_empty(), "{case}: {f:#?}"),
            Some(words) => {
                assert_eq!(f.len(), 1, "{case}: one FAIL, at the root cause: {f:#?}");
                assert_eq!(f[0]["id"], "firewall", "{case}");
                assert!(f[0]["finding"].as_str().unwrap().contains(words), "{case}: {}", f[0]);
            }
        }
    }
}

/// Follow doctor: run the first command of the FAIL's hint with the real client, at most three
/// rounds; then doctor exits 0 and the dashboard answers from inside the cluster.
fn follow_hints(w: &TestWorld, case: &str) {
    for round in 1..=3 {
        let (exit, v) = doctor(w);
        if exit == 0 {
            break;
        }
        let f = fails(&v);
        assert!(!f.is_empty(), "{case} round {round}: exit {exit} without a FAIL");
        let hint = f[0]["hint"].as_str().unwrap_or_default();
        let Some(o) = run_hint(w, case, hint) else { return };
        assert!(o.status.success(), "{case}: `{hint}` failed: {}", both(&o));
        // Let GKE's controller act on the change (lb_delay is 300 ms in tests).
        std::thread::sleep(std::time::Duration::from_millis(1200));
    }
    let (exit, v) = doctor(w);
    assert_eq!(exit, 0, "{case}: still failing after three rounds: {:#?}", fails(&v));
    let (code, page) = in_cluster_curl(w, "/k10/").expect("kubectl ran above");
    assert_eq!(code, K10_CODE, "{case}: {page}");
    assert!(page.contains(K10_ANSWER), "{case}: {page}");
}

/// The worlds of one broken link each (besides the firewall's), in the `docs` world.
#[test]
fn following_doctors_hints_repairs_the_other_broken_worlds() {
    for scenario in [
        "no-proxy-subnet",
        "backup-proxy-subnet",
        "hc-on-root",
        "external-ingress",
        "ingress-class-name",
        "exact-path",
        "no-http-lb",
    ] {
        let w = world(scenario, Docs);
        follow_hints(&w, scenario);
    }
}

#[test]
fn following_doctors_hints_repairs_every_broken_firewall_world() {
    for mode in [Docs, Code] {
        for (name, scenario, arrange) in firewall_worlds() {
            let w = make(scenario, mode, arrange);
            follow_hints(&w, &format!("{name} ({mode:?})"));
        }
    }
}

#[test]
fn gkes_own_rule_opens_the_proxy_range_only_in_the_code_world() {
    for (mode, with_proxy) in [(Docs, false), (Code, true)] {
        let w = world("healthy", mode);
        let Some(o) = w.gcloud(&["compute", "firewall-rules", "describe", L7_RULE, "--format=json"]) else {
            return;
        };
        let rule: Value = serde_json::from_str(&ok(&o)).unwrap();
        let mut want = vec!["130.211.0.0/22", "35.191.0.0/16"];
        if with_proxy {
            want.insert(0, "10.120.0.0/23");
        }
        assert_eq!(rule["sourceRanges"], json!(want), "{mode:?}");
        // The gateway's target port and the system default backend's (8080): the controller's
        // ToSvcPorts translates each Ingress with the default backend.
        assert_eq!(
            rule["allowed"],
            json!([{"IPProtocol": "tcp", "ports": ["8000", "8080"]}]),
            "{mode:?}"
        );
        assert_eq!(rule["description"], "GCE L7 firewall rule");
        assert_eq!(rule["targetTags"], json!(["gke-kasten-demo-5e1d9b2c-node"]));
    }
    // A proxy-only subnet made after the Ingress: the controller adds it on its next sync (code).
    let w = world("no-proxy-subnet", Code);
    let ranges = |w: &TestWorld| w.sim.world().compute.firewalls[L7_RULE]["sourceRanges"].clone();
    assert_eq!(
        ranges(&w),
        json!(["130.211.0.0/22", "35.191.0.0/16"]),
        "no subnet: the error is swallowed"
    );
    w.sim.with_world(|w| {
        gke_sim::scenario::proxy_subnet(
            w,
            "proxy-only-subnet",
            "10.120.0.0/23",
            "REGIONAL_MANAGED_PROXY",
            "ACTIVE",
        )
    });
    assert_eq!(ranges(&w), json!(["10.120.0.0/23", "130.211.0.0/22", "35.191.0.0/16"]));
    // No gce-internal Ingress left: the rule is garbage-collected.
    if let Some(o) = w.kubectl(&["-n", "kasten-io", "delete", "ingress", "k10-ingress", "--timeout=30s"]) {
        ok(&o);
    }
    assert!(!w.sim.world().compute.firewalls.contains_key(L7_RULE));
}

fn gateway_pods(w: &TestWorld) -> Vec<Value> {
    w.sim
        .world()
        .kube_in_ns("Pod", "kasten-io")
        .into_iter()
        .filter(|p| p["metadata"]["labels"]["service"] == "gateway")
        .collect()
}

/// The NEG readiness condition of a pod: (status, reason).
fn gate(p: &Value) -> Option<(String, String)> {
    let c = p["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "cloud.google.com/load-balancer-neg-ready")?;
    Some((c["status"].as_str()?.into(), c["reason"].as_str()?.into()))
}

fn check<'a>(v: &'a Value, id: &str) -> &'a Value {
    check_of(v, id)
}

/// `kubectl rollout status` with a short timeout: did the rollout finish?
fn rollout_done(w: &TestWorld) -> Option<bool> {
    let o = w.kubectl(&[
        "-n",
        "kasten-io",
        "rollout",
        "status",
        "deployment/gateway",
        "--timeout=2s",
    ])?;
    Some(o.status.success())
}

#[test]
fn a_failing_health_check_stalls_a_rollout_and_doctor_names_the_firewall() {
    let w = world("hc-denied", Docs);
    let Some(o) = w.kubectl(&["-n", "kasten-io", "rollout", "restart", "deployment/gateway"]) else {
        return;
    };
    ok(&o);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let pods = gateway_pods(&w);
    assert_eq!(pods.len(), 2, "the old pod stays while the new one waits: {pods:#?}");
    let new = pods
        .iter()
        .find(|p| p["spec"]["readinessGates"].is_array())
        .expect("a gated pod");
    assert_eq!(gate(new), Some(("False".into(), "LoadBalancerNegNotReady".into())));
    assert_eq!(rollout_done(&w), Some(false), "the rollout is stalled");
    let (exit, v) = doctor(&w);
    assert_eq!(exit, 1);
    let f = fails(&v);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["id"], "firewall");
    assert!(
        f[0]["finding"].as_str().unwrap().contains("health checkers"),
        "{}",
        f[0]
    );
    let k10 = check(&v, "k10");
    assert_eq!(k10["result"], "WARN", "{k10}");
    assert!(
        k10["finding"].as_str().unwrap().contains("the rollout is stalled"),
        "{k10}"
    );
    // Following doctor lets the health checkers in: the gate opens and the rollout finishes.
    follow_hints(&w, "stalled rollout");
    assert_eq!(rollout_done(&w), Some(true));
    let pods = gateway_pods(&w);
    assert_eq!(pods.len(), 1, "{pods:#?}");
    assert_eq!(gate(&pods[0]), Some(("True".into(), "LoadBalancerNegReady".into())));
    let evs = ok(&w
        .kubectl(&[
            "-n",
            "kasten-io",
            "get",
            "events",
            "--field-selector",
            "reason=LoadBalancerNegReady",
        ])
        .unwrap());
    assert!(evs.contains("Pod has become Healthy in NEG"), "{evs}");
}

#[test]
fn pods_held_by_the_gate_are_not_no_ready_pods_and_time_out_after_ten_minutes() {
    let w = world("hc-denied", Docs);
    let Some(o) = w.kubectl(&["-n", "kasten-io", "delete", "pod", "-l", "service=gateway"]) else {
        return;
    };
    ok(&o);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let pods = gateway_pods(&w);
    assert_eq!(pods.len(), 1);
    assert_eq!(gate(&pods[0]).unwrap().0, "False");
    let (_, v) = doctor(&w);
    let f = fails(&v);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["id"], "firewall", "the cause, not `K10 has no ready pods`");
    assert!(check(&v, "k10")["finding"]
        .as_str()
        .unwrap()
        .contains("wait for the load balancer's readiness gate"));
    // Ten minutes after its creation GKE marks the pod Ready anyway (ingress-gce's timeout).
    w.sim.with_world(|w| {
        let name = pods[0]["metadata"]["name"].as_str().unwrap();
        let p = w.kube_get_mut("Pod", "kasten-io", name).unwrap();
        p["metadata"]["creationTimestamp"] = json!(gke_sim::world::rfc3339(
            gke_sim::readiness::unix_secs(&gke_sim::world::now_rfc3339()).unwrap() - 1_795_000_000 - 601
        ));
    });
    let pods = gateway_pods(&w);
    assert_eq!(gate(&pods[0]), Some(("True".into(), "LoadBalancerNegTimeout".into())));
    assert!(gke_sim::controller::pod_ready(&pods[0]));
    assert_eq!(
        in_cluster_curl(&w, "/k10/").map(|c| c.1),
        Some(NO_HEALTHY_UPSTREAM.to_string()),
        "Ready by timeout, still unhealthy"
    );
}

#[test]
fn a_deployment_scaled_to_zero_is_named_and_the_hint_scales_it_back() {
    let w = world("healthy", Docs);
    let Some(o) = w.kubectl(&["-n", "kasten-io", "scale", "deployment", "gateway", "--replicas=0"]) else {
        return;
    };
    ok(&o);
    let (_, v) = doctor(&w);
    let f = fails(&v);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0]["finding"].as_str().unwrap().contains("scaled to 0"), "{}", f[0]);
    follow_hints(&w, "scaled to 0");
}

#[test]
fn install_adopts_the_blog_recipes_ingress_and_patches_its_exact_path() {
    let w = world("exact-path", Docs);
    // The plan says what install will do with it (and install asks before it does).
    let o = w.run(&["install", "--dry-run"]);
    let plan = ok(&o);
    let row = plan
        .lines()
        .find(|l| l.contains("Ingress") && l.contains("k10-ingress"))
        .unwrap_or_else(|| panic!("{plan}"));
    assert!(row.contains("Update"), "{row}");
    assert!(plan.contains("adopts `k10-ingress`"), "{plan}");
    assert!(plan.contains("instead of making a second"), "{plan}");
    assert!(
        plan.contains("kubectl -n kasten-io patch ingress k10-ingress --type=merge"),
        "{plan}"
    );
    ok(&w.run(&["install", "--yes"]));
    let world = w.sim.world();
    assert!(
        world.kube_get("Ingress", "kasten-io", "k10-ilb").is_none(),
        "no second Ingress"
    );
    let ing = world.kube_get("Ingress", "kasten-io", "k10-ingress").unwrap().clone();
    assert_eq!(ing["spec"]["rules"][0]["http"]["paths"][0]["pathType"], "Prefix");
    assert_eq!(world.compute.forwarding_rules.len(), 1, "one internal load balancer");
    drop(world);
    let (exit, v) = doctor(&w);
    assert_eq!(exit, 0, "{:#?}", fails(&v));
    if let Some((code, page)) = in_cluster_curl(&w, "/k10/dashboard/") {
        // K10 itself answers (basic auth: its 401 challenge), not GKE's default backend.
        assert_eq!(code, K10_CODE, "deep paths reach K10 now: {page}");
        assert!(page.contains(K10_ANSWER), "{page}");
    }
    // A second run changes nothing.
    let before = w.fingerprint();
    ok(&w.run(&["install", "--yes"]));
    assert_eq!(w.fingerprint(), before);
}

//! Issue 10 on gke-sim worlds, checked with the real kubectl and gcloud: the health checkers and
//! the proxies are separate sources; `--controller-firewall code|docs` (FIDELITY.md) changes what
//! GKE's own `k8s-fw-l7` rule opens; in every firewall world and both modes doctor's verdict
//! matches the in-cluster curl, and following doctor's hints repairs each broken world.

mod common;

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
    let o = w.run(&["doctor", "-o", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", both(&o)));
    (o.status.code().unwrap_or(-1), v)
}

fn fails(v: &Value) -> Vec<Value> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["result"] == "FAIL")
        .cloned()
        .collect()
}

fn ingress_ip(w: &TestWorld) -> String {
    let ip = w.sim.world().kube_get("Ingress", "kasten-io", "k10-ingress").unwrap()["status"]["loadBalancer"]
        ["ingress"][0]["ip"]
        .clone();
    ip.as_str().expect("the Ingress has an address").to_string()
}

/// `curl` through the real `kubectl exec` in a K10 pod that has curl: (HTTP code, body). None
/// when kubectl is not installed.
fn in_cluster_curl(w: &TestWorld, path: &str) -> Option<(u16, String)> {
    let url = format!("http://{}{path}", ingress_ip(w));
    let o = w.kubectl(&[
        "-n",
        "kasten-io",
        "exec",
        "deployment/catalog-svc",
        "-c",
        "catalog-svc",
        "--",
        "curl",
        "-s",
        "-w",
        "\\n%{http_code}",
        &url,
    ])?;
    let out = ok(&o);
    let (body, code) = out.trim_end().rsplit_once('\n').expect("the code after the body");
    Some((code.parse().expect("a code"), body.to_string()))
}

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
        ("healthy", Docs, true, 200, "<title>Kasten</title>", None),
        ("healthy", Code, true, 200, "<title>Kasten</title>", None),
        ("firewall-port-80", Docs, true, 503, CONNECT_ERROR, Some("allows tcp:80 from 10.120.0.0/23")),
        ("firewall-port-80", Code, true, 200, "<title>Kasten</title>", None),
        ("no-proxy-rule", Docs, true, 503, CONNECT_ERROR, Some("no enabled INGRESS rule lets 10.120.0.0/23")),
        ("no-proxy-rule", Code, true, 200, "<title>Kasten</title>", None),
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
        // The verdict matches the curl: exit 0 exactly when the dashboard answers.
        assert_eq!(exit == 0, code == 200, "{case}: {f:#?}");
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

/// Split a command as a POSIX shell would for the plain words and quotes doctor's hints use.
fn words(cmd: &str) -> Vec<String> {
    let (mut out, mut cur, mut quote, mut any) = (vec![], String::new(), None, false);
    for c in cmd.chars() {
        match (quote, c) {
            (None, '\'' | '"') => (quote, any) = (Some(c), true),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if any {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (_, c) => (cur, any) = (cur + &c.to_string(), true),
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// The first command in backquotes of a hint.
fn first_command(hint: &str) -> Option<String> {
    let rest = hint.split_once('`')?.1;
    Some(rest.split_once('`')?.0.to_string())
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
        assert_eq!(f.len(), 1, "{case} round {round}: {f:#?}");
        let hint = f[0]["hint"].as_str().unwrap_or_default();
        let cmd = first_command(hint).unwrap_or_else(|| panic!("{case}: no command in the hint: {hint}"));
        let argv = words(&cmd);
        let o = match argv[0].as_str() {
            "gcloud" => w.gcloud(&argv[1..].iter().map(String::as_str).collect::<Vec<_>>()),
            "kubectl" => w.kubectl(&argv[1..].iter().map(String::as_str).collect::<Vec<_>>()),
            other => panic!("{case}: the hint's command is not gcloud or kubectl: {other}"),
        };
        let Some(o) = o else { return };
        assert!(o.status.success(), "{case}: `{cmd}` failed: {}", both(&o));
    }
    let (exit, v) = doctor(w);
    assert_eq!(exit, 0, "{case}: still failing after three rounds: {:#?}", fails(&v));
    let (code, page) = in_cluster_curl(w, "/k10/").expect("kubectl ran above");
    assert_eq!(code, 200, "{case}: {page}");
    assert!(page.contains("<title>Kasten</title>"), "{case}: {page}");
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
        assert_eq!(
            rule["allowed"],
            json!([{"IPProtocol": "tcp", "ports": ["8000"]}]),
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

//! What the internal Application Load Balancer and Compute answer, as GKE does (issue 10, item 5):
//! the missing TLS Secret's events, a static IP from the proxy-only subnet, a subnet PATCH without
//! its fingerprint, and gcloud's `--filter=name~^prefix`. Checked with the real gcloud and kubectl.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::*;

/// The messages of the Warning events on Ingress `name`, once one contains `want` (20 s at most).
fn events_until(w: &TestWorld, name: &str, want: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = ok(&w.kubectl(&["-n", "kasten-io", "get", "events", "-o", "json"]).unwrap());
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let msgs: Vec<String> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["involvedObject"]["name"] == name && e["type"] == "Warning")
            .filter_map(|e| e["message"].as_str().map(str::to_string))
            .collect();
        if msgs.iter().any(|m| m.contains(want)) || Instant::now() > deadline {
            return msgs;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn create_ingress(w: &TestWorld, name: &str, extra: &[&str]) -> Option<()> {
    let base = [
        "-n",
        "kasten-io",
        "create",
        "ingress",
        name,
        "--annotation=kubernetes.io/ingress.class=gce-internal",
    ];
    ok(&w.kubectl(&[&base[..], extra].concat())?);
    Some(())
}

#[test]
fn a_missing_tls_secret_gives_ingress_gces_events_and_doctor_the_exact_command() {
    let w = TestWorld::start("healthy");
    let rule = "--rule=k10.corp.internal/k10/*=gateway:80,tls=k10-cert";
    if create_ingress(
        &w,
        "k10-tls",
        &[rule, "--annotation=kubernetes.io/ingress.allow-http=false"],
    )
    .is_none()
    {
        return;
    }
    let msgs = events_until(&w, "k10-tls", "translator env");
    let current = "Error syncing to GCP: error running load balancer syncing routine: error initializing translator \
                   env: secrets \"k10-cert\" not found";
    assert!(msgs.iter().any(|m| m == current), "{msgs:#?}");
    assert!(
        msgs.iter()
            .any(|m| m == "Could not find TLS certificate: secrets \"k10-cert\" not found"),
        "{msgs:#?}"
    );
    let (_, report) = doctor_report(&w, &["--no-exec"]);
    let hint = check_of(&report, "events")["hint"].as_str().unwrap().to_string();
    assert!(
        hint.contains("`kubectl -n kasten-io create secret tls k10-cert --cert=tls.crt --key=tls.key`"),
        "{hint}"
    );
}

#[test]
fn a_static_ip_from_the_proxy_only_subnet_is_rejected_and_doctors_commands_repair_it() {
    let w = TestWorld::start("healthy");
    let reserve = [
        "compute",
        "addresses",
        "create",
        "lb-ip",
        "--region=us-central1",
        "--subnet=proxy-only-subnet",
    ];
    let Some(o) = w.gcloud(&reserve) else { return };
    ok(&o);
    create_ingress(
        &w,
        "k10-static",
        &[
            "--rule=/k10/*=gateway:80",
            "--annotation=kubernetes.io/ingress.regional-static-ip-name=lb-ip",
        ],
    )
    .unwrap();
    let msgs = events_until(&w, "k10-static", "purpose=PRIVATE");
    assert!(
        msgs.iter()
            .any(|m| m.contains("Forwarding rule's subnetwork must have purpose=PRIVATE")),
        "{msgs:#?}"
    );
    let (_, report) = doctor_report(&w, &["--no-exec"]);
    let hint = check_of(&report, "events")["hint"].as_str().unwrap().to_string();
    let commands: Vec<&str> = hint.split('`').skip(1).step_by(2).collect();
    assert_eq!(
        commands,
        [
            "gcloud compute addresses create lb-ip-private --region=us-central1 --subnet=default --project=kasten-demo",
            "kubectl -n kasten-io annotate ingress k10-static \
             kubernetes.io/ingress.regional-static-ip-name=lb-ip-private --overwrite",
        ],
        "{hint}"
    );
    ok(&w.gcloud(&commands[0].split(' ').skip(1).collect::<Vec<_>>()).unwrap());
    ok(&w.kubectl(&commands[1].split(' ').skip(1).collect::<Vec<_>>()).unwrap());
    let deadline = Instant::now() + Duration::from_secs(20);
    let jsonpath = "-o=jsonpath={.status.loadBalancer.ingress[0].ip}";
    while stdout(
        &w.kubectl(&["-n", "kasten-io", "get", "ingress", "k10-static", jsonpath])
            .unwrap(),
    )
    .is_empty()
    {
        assert!(Instant::now() < deadline, "the Ingress got no address");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn gclouds_name_tilde_filter_finds_what_it_names() {
    let w = TestWorld::start("healthy");
    let list = |filter: &str| w.gcloud(&["compute", "firewall-rules", "list", filter, "--format=value(name)"]);
    let Some(o) = list("--filter=name~^default-allow") else {
        return;
    };
    let names = ok(&o);
    assert!(
        names.contains("default-allow-ssh") && names.contains("default-allow-internal"),
        "{names}"
    );
    assert!(
        !names.contains("k8s-fw-l7") && !names.contains("allow-kasten"),
        "{names}"
    );
    let names = ok(&list("--filter=name~ssh$").unwrap());
    assert_eq!(names.trim(), "default-allow-ssh");
}

/// PATCH `path` on the simulator with a JSON body, as a bare HTTP/1.1 client: (status, body).
fn patch(w: &TestWorld, path: &str, body: &str) -> (u16, String) {
    let env = w.sim.env();
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap();
    let base = get("CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE");
    let addr = base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    let token = get("CLOUDSDK_AUTH_ACCESS_TOKEN");
    write!(
        s,
        "PATCH /compute/v1/{path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let code = out.split(' ').nth(1).unwrap().parse().unwrap();
    (code, out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string())
}

#[test]
fn a_subnet_patch_without_its_fingerprint_fails_with_412() {
    let w = TestWorld::start("backup-proxy-subnet");
    let path = "projects/kasten-demo/regions/us-central1/subnetworks/proxy-only-backup";
    let (code, body) = patch(&w, path, r#"{"role": "ACTIVE"}"#);
    assert_eq!(code, 412, "{body}");
    assert!(body.contains("conditionNotMet"), "{body}");
    let fp = w.sim.world().compute.subnetworks["us-central1/proxy-only-backup"]["fingerprint"].clone();
    let (code, body) = patch(
        &w,
        path,
        &serde_json::json!({"role": "ACTIVE", "fingerprint": fp}).to_string(),
    );
    assert_eq!(code, 200, "{body}");
}

#[test]
fn http_and_https_on_one_static_ip_are_two_forwarding_rules() {
    let w = TestWorld::start("fresh");
    let vip = [
        "--region=us-central1",
        "--subnet=default",
        "--purpose=SHARED_LOADBALANCER_VIP",
    ];
    let Some(o) = w.gcloud(&[&["compute", "addresses", "create", "k10-ip"][..], &vip].concat()) else {
        return;
    };
    ok(&o);
    w.sim.with_world(|w| {
        w.kube_put(
            serde_json::json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": "k10-tls", "namespace": "kasten-io"}, "data": {"tls.crt": "", "tls.key": ""}}),
        );
    });
    let tls = ["--tls-secret", "k10-tls", "--host", "k10.corp.internal"];
    ok(&w.run(&[&["install", "--yes", "--static-ip", "k10-ip"][..], &tls].concat()));
    // Compute's view, one rule at a time with gcloud (gke-sim has no aggregated forwarding-rule list).
    let names: Vec<String> = w
        .sim
        .world()
        .compute
        .forwarding_rules
        .values()
        .map(|r| r["name"].to_string())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    let describe = |name: &str| {
        let name = name.trim_matches('"');
        let args = [
            "compute",
            "forwarding-rules",
            "describe",
            name,
            "--region=us-central1",
            "--format=json",
        ];
        serde_json::from_str::<serde_json::Value>(&ok(&w.gcloud(&args).unwrap())).unwrap()
    };
    let rules: Vec<serde_json::Value> = names.iter().map(|n| describe(n)).collect();
    let by_prefix = |p: &str| {
        rules
            .iter()
            .find(|r| r["name"].as_str().unwrap().starts_with(p))
            .unwrap()
    };
    let (http, https) = (by_prefix("k8s2-fr-"), by_prefix("k8s2-fs-"));
    assert_eq!(
        (http["portRange"].as_str(), https["portRange"].as_str()),
        (Some("80-80"), Some("443-443"))
    );
    assert_eq!(http["IPAddress"], https["IPAddress"], "one address");
    assert!(
        http["target"].as_str().unwrap().contains("/targetHttpProxies/k8s2-tp-"),
        "{http}"
    );
    assert!(
        https["target"]
            .as_str()
            .unwrap()
            .contains("/targetHttpsProxies/k8s2-ts-"),
        "{https}"
    );
    let name = |r: &serde_json::Value| r["name"].as_str().unwrap().to_string();
    https_front_end_as_gke_reports_it(&w, &name(http), &name(https));
}

/// The target HTTPS proxy is its own collection (regional list and describe, aggregated list);
/// the Ingress carries the https status annotations; its events say what ingress-gce created.
fn https_front_end_as_gke_reports_it(w: &TestWorld, fr: &str, fs: &str) {
    let list = |what: &str, scope: &str| {
        let o = w
            .gcloud(&["compute", what, "list", scope, "--format=value(name)"])
            .unwrap();
        ok(&o).lines().map(str::to_string).collect::<Vec<_>>()
    };
    let (https, http) = (
        list("target-https-proxies", "--regions=us-central1"),
        list("target-http-proxies", "--regions=us-central1"),
    );
    assert!(https.len() == 1 && https[0].starts_with("k8s2-ts-"), "{https:?}");
    assert!(http.len() == 1 && http[0].starts_with("k8s2-tp-"), "{http:?}");
    assert_eq!(
        list("target-https-proxies", "--format=value(name)"),
        https,
        "aggregated"
    );
    let ts = &https[0];
    let args = [
        "compute",
        "target-https-proxies",
        "describe",
        ts,
        "--region=us-central1",
        "--format=json",
    ];
    let proxy: serde_json::Value = serde_json::from_str(&ok(&w.gcloud(&args).unwrap())).unwrap();
    assert!(
        proxy["urlMap"].as_str().unwrap().contains("/urlMaps/k8s2-um-"),
        "{proxy}"
    );
    let args = ["compute", "target-http-proxies", "describe", ts, "--region=us-central1"];
    assert!(
        !w.gcloud(&args).unwrap().status.success(),
        "an HTTPS proxy is not an HTTP one"
    );
    // The Ingress's status annotations.
    let ing = ok(&w
        .kubectl(&["-n", "kasten-io", "get", "ingress", "k10-ilb", "-o", "json"])
        .unwrap());
    let ing: serde_json::Value = serde_json::from_str(&ing).unwrap();
    let a = &ing["metadata"]["annotations"];
    assert_eq!(a["ingress.kubernetes.io/https-forwarding-rule"], fs, "{a}");
    assert_eq!(a["ingress.kubernetes.io/https-target-proxy"], ts.as_str(), "{a}");
    assert_eq!(a["ingress.kubernetes.io/forwarding-rule"], fr, "{a}");
    let um = a["ingress.kubernetes.io/url-map"].as_str().unwrap();
    let tp = a["ingress.kubernetes.io/target-proxy"].as_str().unwrap();
    // ingress-gce's Normal Sync events, in its order.
    let evs = ok(&w
        .kubectl(&[
            "-n",
            "kasten-io",
            "get",
            "events",
            "--field-selector=reason=Sync,involvedObject.name=k10-ilb",
            "--sort-by=.metadata.creationTimestamp",
            "-o",
            "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}",
        ])
        .unwrap());
    let created: Vec<&str> = evs.lines().filter(|l| l.ends_with(" created")).collect();
    let want = [
        format!("UrlMap \"{um}\" created"),
        format!("TargetProxy \"{tp}\" created"),
        format!("ForwardingRule \"{fr}\" created"),
        format!("TargetProxy \"{ts}\" created"),
        format!("ForwardingRule \"{fs}\" created"),
    ];
    assert_eq!(created, want, "{evs}");
}

const L7_RULE: &str = "k8s-fw-l7--3f9c1a27b5d04e6f";

fn world_in(scenario: &str, mode: gke_sim::ControllerFirewall) -> TestWorld {
    let mut cfg = config(scenario);
    cfg.controller_firewall = mode;
    TestWorld::with(cfg)
}

/// The ports of GKE's own rule, as the real gcloud describes it, once `done` holds (20 s at most).
fn l7_ports_until(w: &TestWorld, done: impl Fn(&[String]) -> bool) -> Option<Vec<String>> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let o = w.gcloud(&["compute", "firewall-rules", "describe", L7_RULE, "--format=json"])?;
        let rule: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
        let ports: Vec<String> = rule["allowed"][0]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect();
        if done(&ports) || Instant::now() > deadline {
            return Some(ports);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A BackendConfig with a fixed health-check port on the gateway Service.
fn fixed_health_check_port(w: &TestWorld, port: u16) -> Option<()> {
    let file = w.home.path().join("bc.yaml");
    std::fs::write(
        &file,
        format!(
            "apiVersion: cloud.google.com/v1\nkind: BackendConfig\nmetadata:\n  name: k10-hc\n  namespace: kasten-io\n\
             spec:\n  healthCheck:\n    type: HTTP\n    requestPath: /k10/healthz\n    port: {port}\n"
        ),
    )
    .unwrap();
    ok(&w.kubectl(&["apply", "-f", file.to_str().unwrap()])?);
    let ann = "cloud.google.com/backend-config={\"default\":\"k10-hc\"}";
    ok(&w.kubectl(&["-n", "kasten-io", "annotate", "service", "gateway", ann])?);
    Some(())
}

#[test]
fn in_the_code_world_gkes_rule_opens_the_backendconfig_health_check_port_and_doctor_agrees() {
    use gke_sim::ControllerFirewall::{Code, Docs};
    for (mode, opened) in [(Code, true), (Docs, false)] {
        let w = world_in("healthy", mode);
        if fixed_health_check_port(&w, 8001).is_none() {
            return;
        }
        let ports = l7_ports_until(&w, |p| !opened || p.contains(&"8001".to_string())).unwrap();
        assert_eq!(ports.contains(&"8001".to_string()), opened, "{mode:?}: {ports:?}");
        assert!(ports.contains(&"8000".to_string()), "{mode:?}: {ports:?}");
        // doctor's firewall verdict follows the rule: the health checkers reach tcp:8001 only
        // where GKE opened it.
        let (_, report) = doctor_report(&w, &["--no-exec"]);
        let fw = check_of(&report, "firewall");
        let want = if opened { "PASS" } else { "FAIL" };
        assert_eq!(fw["result"], want, "{mode:?}: {fw}");
        if !opened {
            assert!(fw["finding"].as_str().unwrap().contains("tcp:8001"), "{fw}");
            assert!(fw["hint"].as_str().unwrap().contains("--rules=tcp:8001"), "{fw}");
        }
    }
}

#[test]
fn in_the_code_world_an_external_ingress_opens_the_node_port_range_for_the_default_backend() {
    use gke_sim::ControllerFirewall::{Code, Docs};
    for (mode, opened) in [(Code, true), (Docs, false)] {
        let w = world_in("external-ingress", mode);
        let Some(ports) = l7_ports_until(&w, |p| !opened || p.contains(&"30000-32767".to_string())) else {
            return;
        };
        assert_eq!(
            ports.contains(&"30000-32767".to_string()),
            opened,
            "{mode:?}: {ports:?}"
        );
    }
    // An internal Ingress's backends are NEGs only (K10's 8000, the default backend's 8080): no node-port range.
    let w = world_in("healthy", Code);
    let ports = l7_ports_until(&w, |_| true).unwrap();
    assert_eq!(ports, vec!["8000".to_string(), "8080".to_string()]);
}

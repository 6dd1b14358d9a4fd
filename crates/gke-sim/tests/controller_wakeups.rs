//! The controller loop sleeps while nothing changes, wakes on a write, and wakes by itself when a
//! delayed action (the load balancer programming delay) falls due.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use gke_sim::{Sim, SimConfig};

fn post(base: &str, path: &str, body: &str) -> String {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn passes(sim: &Sim) -> u64 {
    sim.world().controller_passes
}

fn ingress_ip(sim: &Sim) -> Option<String> {
    sim.world().kube_get("Ingress", "kasten-io", "timer")?["status"]["loadBalancer"]["ingress"][0]["ip"]
        .as_str()
        .map(str::to_string)
}

#[test]
fn an_idle_world_makes_no_controller_passes() {
    // The seeded Ingress's delay (200 ms from start-up) is the last timer; then nothing is due.
    let cfg = SimConfig {
        scenario: "healthy".into(),
        lb_delay: Duration::from_millis(200),
        ..SimConfig::default()
    };
    let sim = Sim::spawn(cfg, None).unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let before = passes(&sim);
    assert!(before >= 1, "the loop makes a first pass");
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(passes(&sim), before, "no pass without a write or a due timer");
}

#[test]
fn a_new_ingress_is_synced_when_the_lb_delay_runs_out_without_further_writes() {
    let delay = Duration::from_millis(800);
    let cfg = SimConfig {
        scenario: "healthy".into(),
        lb_delay: delay,
        ..SimConfig::default()
    };
    let sim = Sim::spawn(cfg, None).unwrap();
    let ing = r#"{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "timer", "annotations": {"kubernetes.io/ingress.class": "gce-internal"}},
        "spec": {"defaultBackend": {"service": {"name": "gateway", "port": {"number": 80}}}}}"#;
    let created = Instant::now();
    let answer = post(
        &sim.base_url,
        "/apis/networking.k8s.io/v1/namespaces/kasten-io/ingresses",
        ing,
    );
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    std::thread::sleep(delay / 2);
    assert_eq!(ingress_ip(&sim), None, "not before the delay");
    let ip = loop {
        if let Some(ip) = ingress_ip(&sim) {
            break ip;
        }
        assert!(
            created.elapsed() < delay + Duration::from_secs(5),
            "synced soon after the delay"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(created.elapsed() >= delay, "honours the delay");
    assert!(ip.starts_with("10.128.0."), "{ip}");
}

#[test]
fn a_question_wakes_no_controller_and_a_write_does() {
    let cfg = SimConfig {
        scenario: "healthy".into(),
        lb_delay: Duration::from_millis(200),
        ..SimConfig::default()
    };
    let sim = Sim::spawn(cfg, None).unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let before = passes(&sim);
    let review = r#"{"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"namespace": "kasten-io", "verb": "list", "resource": "pods"}}}"#;
    for _ in 0..3 {
        let answer = post(
            &sim.base_url,
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            review,
        );
        assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(passes(&sim), before, "an access review changes nothing");
    let cm = r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "wake"}}"#;
    let answer = post(&sim.base_url, "/api/v1/namespaces/kasten-io/configmaps", cm);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(passes(&sim) > before, "a write wakes the controllers");
}

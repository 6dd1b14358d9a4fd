//! Gateway API mode (issue 11) against gke-sim, checked with the real kubectl and gcloud:
//! install --via gateway to a working dashboard (from a cluster with Gateway API, and from one
//! without: install enables it), a rerun that writes nothing, doctor on each broken Gateway world
//! with a hint that repairs it when followed, migrate both ways while an in-cluster curl samples
//! the dashboard, and uninstall back to the world before.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::hints::*;
use common::*;
use serde_json::{json, Value};

const NS: &str = "kasten-io";

/// Whether an answer is K10's dashboard: these worlds have basic auth, so its gateway answers
/// 401 with its Basic challenge (issue 15); a token-auth K10 answers its page.
fn k10_answers(code: u16, body: &str) -> bool {
    (code == 401 && body.contains("401 Unauthorized")) || (code == 200 && body.to_lowercase().contains("kasten"))
}

/// The address of the first Gateway in K10's namespace, from the simulated world.
fn gateway_ip(w: &TestWorld) -> Option<String> {
    let gws = w.sim.world().kube_in_ns("Gateway", NS);
    gws.iter().find_map(|g| {
        let addrs = g["status"]["addresses"].as_array()?;
        addrs.iter().find_map(|a| a["value"].as_str().map(str::to_string))
    })
}

/// The address of the first Ingress in K10's namespace that has one.
fn ingress_ip(w: &TestWorld) -> Option<String> {
    let ings = w.sim.world().kube_in_ns("Ingress", NS);
    ings.iter().find_map(|i| {
        i["status"]["loadBalancer"]["ingress"][0]["ip"]
            .as_str()
            .map(str::to_string)
    })
}

/// `curl http://IP/k10/` from inside the cluster through the real kubectl (None: no kubectl).
fn answers_at(w: &TestWorld, ip: &str) -> Option<bool> {
    let (code, body) = curl_in_cluster(w, &format!("http://{ip}/k10/"))?;
    Some(k10_answers(code, &body))
}

/// What the real kubectl lists of the Gateway API kinds in K10's namespace.
fn gateway_objects(w: &TestWorld) -> Option<String> {
    let o = w.kubectl(&[
        "-n",
        NS,
        "get",
        "gateway,httproute,healthcheckpolicy,gcpgatewaypolicy",
        "-o",
        "name",
    ])?;
    Some(ok(&o))
}

#[test]
fn install_via_gateway_serves_the_dashboard_and_a_rerun_writes_nothing() {
    let w = TestWorld::start("gateway-fresh");
    let o = w.run(&["install", "--via", "gateway", "--yes"]);
    let out = ok(&o);
    assert!(out.contains("gateway/k10-ilb"), "{out}");
    assert!(stderr(&o).contains("Verified"), "{}", both(&o));
    let ip = gateway_ip(&w).expect("the Gateway has an address");
    assert!(out.contains(&format!("http://{ip}/k10/")), "{out}");
    if let Some(objs) = gateway_objects(&w) {
        for want in [
            "gateway.gateway.networking.k8s.io/k10-ilb",
            "httproute.gateway.networking.k8s.io/k10-ilb",
            "healthcheckpolicy.networking.gke.io/k10-ilb-health",
        ] {
            assert!(objs.contains(want), "{want} not in {objs}");
        }
        assert_eq!(answers_at(&w, &ip), Some(true));
    }
    // No Deployment change in Gateway mode.
    let dep = w.sim.world().kube_get("Deployment", NS, "gateway").cloned().unwrap();
    assert!(
        dep["spec"]["template"]["spec"]["containers"][0]["ports"].is_null(),
        "{dep}"
    );
    w.sim.clear_requests();
    let o = w.run(&["install", "--via", "gateway", "--yes"]);
    ok(&o);
    assert!(w.writes().is_empty(), "the rerun wrote {:?}", w.writes());
    assert!(stderr(&o).contains("nothing to apply"), "{}", both(&o));
}

#[test]
fn install_via_gateway_on_a_cluster_without_gateway_api_enables_it_first() {
    let w = TestWorld::start("fresh");
    let o = w.run(&["install", "--via", "gateway", "--dry-run"]);
    let out = ok(&o);
    assert!(
        out.contains("gcloud container clusters update kasten-demo --location us-central1-a --gateway-api=standard"),
        "{out}"
    );
    let o = w.run(&["install", "--via", "gateway", "--yes"]);
    ok(&o);
    if let Some(o) = w.gcloud(&[
        "container",
        "clusters",
        "describe",
        "kasten-demo",
        "--location",
        "us-central1-a",
        "--format=value(networkConfig.gatewayApiConfig.channel)",
    ]) {
        assert_eq!(ok(&o).trim(), "CHANNEL_STANDARD");
    }
    let ip = gateway_ip(&w).expect("the Gateway has an address");
    assert!(answers_at(&w, &ip).unwrap_or(true));
}

#[test]
fn doctor_checks_a_gateway_setup_with_its_own_checks() {
    let w = TestWorld::start("gateway-healthy");
    let (exit, v) = doctor_report(&w, &[]);
    assert_eq!(exit, 0, "{:#?}", fails(&v));
    for id in [
        "gateway-api",
        "gateway",
        "http-route",
        "health-check-policy",
        "backends",
        "e2e",
    ] {
        assert_eq!(check_of(&v, id)["result"], "PASS", "{id}: {}", check_of(&v, id));
    }
    let ids: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert!(!ids.contains(&"ingress"), "{ids:?}");
}

/// A self-signed certificate and key in `dir` (tls.crt, tls.key) with the real openssl.
fn certificate(dir: &std::path::Path) -> Option<()> {
    which("openssl")?;
    let o = std::process::Command::new("openssl")
        .current_dir(dir)
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "tls.key", "-out", "tls.crt",
        ])
        .args(["-subj", "/CN=k10.example.internal", "-days", "30"])
        .output()
        .expect("openssl runs");
    assert!(o.status.success(), "{}", both(&o));
    Some(())
}

/// The missing TLS Secret: the hint is `kubectl create secret tls` with the user's certificate.
/// kubectl sends that create as protobuf, which gke-sim does not decode; the same Secret goes in
/// through `kubectl apply` (JSON), made from the files the hint names, and doctor then passes.
fn missing_tls(w: &TestWorld, report: &Value, dir: &std::path::Path) {
    let hint = check_of(report, "gateway")["hint"].as_str().unwrap().to_string();
    let cmd = first_command(&hint).unwrap();
    assert_eq!(
        cmd,
        "kubectl -n kasten-io create secret tls k10-ilb-tls --cert=tls.crt --key=tls.key"
    );
    if certificate(dir).is_none() || which("kubectl").is_none() {
        eprintln!("SKIP: openssl or kubectl is not installed; the repair of the missing TLS Secret is skipped");
        return;
    }
    // The hint's own command, made on the client only (`--dry-run=client -o json`), then applied.
    let mut argv = words(&cmd);
    argv.extend(["--dry-run=client".to_string(), "-o".into(), "json".into()]);
    let o = run_hint_in(w, "gateway-missing-tls", &format!("`{}`", argv.join(" ")), dir).unwrap();
    std::fs::write(dir.join("secret.json"), ok(&o)).unwrap();
    let file = dir.join("secret.json").display().to_string();
    ok(&w.kubectl(&["apply", "-f", &file]).unwrap());
    follow(w, "gateway-missing-tls (after the Secret)", dir);
}

/// Follow doctor as a user would, at most three rounds; then doctor passes and the dashboard
/// answers at the Gateway's address. `cwd`: where the user runs the commands.
fn follow(w: &TestWorld, case: &str, cwd: &std::path::Path) {
    for round in 1..=3 {
        let (exit, v) = doctor_report(w, &[]);
        if exit == 0 {
            break;
        }
        let f = fails(&v);
        assert!(!f.is_empty(), "{case} round {round}: exit {exit} without a FAIL");
        let hint = f[0]["hint"].as_str().unwrap_or_default().to_string();
        let Some(o) = run_hint_in(w, case, &hint, cwd) else {
            return;
        };
        assert!(o.status.success(), "{case}: `{hint}` failed: {}", both(&o));
        std::thread::sleep(Duration::from_millis(1200));
    }
    let (exit, v) = doctor_report(w, &[]);
    assert_eq!(exit, 0, "{case}: still failing after three rounds: {:#?}", fails(&v));
    let ip = gateway_ip(w).expect("an address");
    assert_eq!(answers_at(w, &ip), Some(true), "{case}");
}

/// [`run_hint`], with kubectl run in `cwd` (a hint may name the user's files).
fn run_hint_in(w: &TestWorld, case: &str, hint: &str, cwd: &std::path::Path) -> Option<std::process::Output> {
    let cmd = first_command(hint).unwrap_or_else(|| panic!("{case}: no command in the hint: {hint}"));
    let argv = words(&cmd);
    if argv[0] != "kubectl" || argv[1] == "kasten-ilb" {
        return run_hint(w, case, hint);
    }
    which("kubectl")?;
    let cache = w.home.path().join("kcache").display().to_string();
    let o = std::process::Command::new("kubectl")
        .current_dir(cwd)
        .env_clear()
        .envs(w.envs())
        .args(["--cache-dir", &cache])
        .args(&argv[1..])
        .output();
    Some(o.expect("kubectl runs"))
}

#[test]
fn each_broken_gateway_world_is_diagnosed_and_its_hint_repairs_it() {
    for (scenario, failing, words) in [
        ("gateway-no-policy", "health-check-policy", "probes `/`"),
        ("gateway-wrong-port", "http-route", "gateway:"),
        ("gateway-missing-tls", "gateway", "InvalidCertificateRef"),
        ("gateway-no-proxy-subnet", "proxy-subnet", "no ACTIVE"),
    ] {
        let w = TestWorld::start(scenario);
        let (exit, v) = doctor_report(&w, &[]);
        assert_eq!(exit, 1, "{scenario}");
        let c = check_of(&v, failing);
        assert_eq!(c["result"], "FAIL", "{scenario}: {c}");
        assert!(c["finding"].as_str().unwrap().contains(words), "{scenario}: {c}");
        assert_eq!(
            fails(&v).len(),
            1,
            "{scenario}: one FAIL where the fix is: {:#?}",
            fails(&v)
        );
        let dir = tempfile::tempdir().unwrap();
        if scenario == "gateway-missing-tls" {
            missing_tls(&w, &v, dir.path());
            continue;
        }
        follow(&w, scenario, dir.path());
    }
}

/// One sample of `http://IP/k10/` from inside the cluster (curl gives up after 2 s): whether K10
/// answered. An address being released does not answer (curl fails), which is not a test error.
fn answers_now(w: &TestWorld, ip: &str) -> bool {
    let url = format!("http://{ip}/k10/");
    let args = ["-n", NS, "exec", "deployment/catalog-svc", "-c", "catalog-svc", "--"];
    let curl = ["curl", "-s", "--max-time", "2", "-w", "\\n%{http_code}", &url];
    let o = w
        .kubectl(&[&args[..], &curl[..]].concat())
        .expect("kubectl is installed");
    let out = stdout(&o);
    match out.trim_end().rsplit_once('\n') {
        Some((body, code)) if o.status.success() => k10_answers(code.parse().unwrap_or(0), body),
        _ => false,
    }
}

/// Curl every address of the dashboard (Ingress and Gateway) from inside the cluster until
/// `stop`; each sample records whether at least one answered as K10.
fn sample(w: &TestWorld, stop: &AtomicBool) -> Vec<(Vec<String>, bool)> {
    let mut samples = vec![];
    while !stop.load(Ordering::Relaxed) {
        let ips: Vec<String> = [ingress_ip(w), gateway_ip(w)].into_iter().flatten().collect();
        let any = ips.iter().any(|ip| answers_now(w, ip));
        samples.push((ips, any));
    }
    samples
}

/// Run `args` while sampling the dashboard; every sample must find it answering.
fn while_sampling(w: &TestWorld, args: &[&str]) -> (std::process::Output, usize) {
    let stop = AtomicBool::new(false);
    let (o, samples) = std::thread::scope(|s| {
        let sampler = s.spawn(|| sample(w, &stop));
        let o = w.run(args);
        stop.store(true, Ordering::Relaxed);
        (o, sampler.join().unwrap())
    });
    let down: Vec<&(Vec<String>, bool)> = samples.iter().filter(|s| !s.1).collect();
    assert!(
        down.is_empty(),
        "{args:?}: the dashboard did not answer at {down:?}\n{}",
        both(&o)
    );
    (o, samples.len())
}

#[test]
fn migrate_both_ways_keeps_the_dashboard_answering() {
    let w = TestWorld::start("gateway-fresh");
    ok(&w.run(&["install", "--yes"]));
    which("kubectl").expect("the sampling needs the real kubectl");
    let started = Instant::now();
    let (o, n) = while_sampling(&w, &["migrate", "--to", "gateway", "--yes"]);
    let out = ok(&o);
    assert!(
        out.contains("New: http://") && out.contains("Old: ingress/k10-ilb at "),
        "{out}"
    );
    assert!(n >= 3, "only {n} samples in {:?}", started.elapsed());
    let world = w.sim.world();
    assert!(world.kube_in_ns("Ingress", NS).is_empty(), "the Ingress is gone");
    let dep = world.kube_get("Deployment", NS, "gateway").cloned().unwrap();
    assert!(
        dep["spec"]["template"]["spec"]["containers"][0]["ports"].is_null(),
        "containerPort reverted: {dep}"
    );
    assert!(dep["metadata"]["annotations"]["kasten-ilb.kasten.io/added-container-port"].is_null());
    drop(world);
    // A rerun finds it done and writes nothing.
    w.sim.clear_requests();
    ok(&w.run(&["migrate", "--to", "gateway", "--yes"]));
    assert!(w.writes().is_empty(), "{:?}", w.writes());
    let (o, _) = while_sampling(&w, &["migrate", "--to", "ingress", "--yes"]);
    ok(&o);
    let world = w.sim.world();
    assert!(world.kube_in_ns("Gateway", NS).is_empty(), "the Gateway is gone");
    assert_eq!(world.kube_in_ns("Ingress", NS).len(), 1);
    drop(world);
    let (exit, v) = doctor_report(&w, &[]);
    assert_eq!(exit, 0, "{:#?}", fails(&v));
}

#[test]
fn an_interrupted_migration_is_finished_by_a_rerun() {
    let w = TestWorld::start("gateway-fresh");
    ok(&w.run(&["install", "--yes"]));
    // Interrupted after the new side was made: the Gateway side exists, the Ingress too.
    let mut child = std::process::Command::new(BIN)
        .env_clear()
        .envs(w.envs())
        .args(["migrate", "--to", "gateway", "--yes"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while w.sim.world().kube_in_ns("HTTPRoute", NS).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The lock of the killed run is released by its Lease expiring; a rerun waits for it.
    let o = w.run(&["migrate", "--to", "gateway", "--yes", "--timeout", "90s"]);
    ok(&o);
    assert!(w.sim.world().kube_in_ns("Ingress", NS).is_empty());
    let ip = gateway_ip(&w).expect("an address");
    assert!(answers_at(&w, &ip).unwrap_or(true));
}

/// The parts of the world Gateway mode touches, normalized.
fn snapshot(w: &TestWorld) -> Value {
    let world = w.sim.world();
    let names = |kind: &str| -> Vec<String> {
        let objs = world.kube_in_ns(kind, NS);
        objs.iter()
            .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
            .collect()
    };
    let dep = world.kube_get("Deployment", NS, "gateway").cloned().unwrap();
    let c = &world.compute;
    let kinds = [
        "Gateway",
        "HTTPRoute",
        "HealthCheckPolicy",
        "GCPGatewayPolicy",
        "Ingress",
    ]
    .map(names);
    json!({"deployment": dep["spec"], "kinds": kinds, "firewalls": c.firewalls.keys().collect::<Vec<_>>(),
        "subnets": c.subnetworks.keys().collect::<Vec<_>>(),
        "backendServices": c.backend_services.keys().collect::<Vec<_>>(),
        "forwardingRules": c.forwarding_rules.keys().collect::<Vec<_>>()})
}

#[test]
fn uninstall_in_gateway_mode_restores_the_world() {
    let w = TestWorld::start("gateway-fresh");
    let before = snapshot(&w);
    ok(&w.run(&["install", "--via", "gateway", "--yes", "--global-access"]));
    assert_ne!(snapshot(&w), before);
    let status = w.run(&["status"]);
    let out = ok(&status);
    assert!(
        out.contains("Gateway    kasten-io/k10-ilb (class gke-l7-rilb)"),
        "{out}"
    );
    let o = w.run(&["uninstall", "--yes", "--delete-proxy-subnet"]);
    let out = ok(&o);
    assert!(
        out.contains("HTTPRoute httproute/k10-ilb") && out.contains("GCPGatewayPolicy"),
        "{out}"
    );
    assert_eq!(snapshot(&w), before, "{}", both(&o));
    w.sim.clear_requests();
    ok(&w.run(&["uninstall", "--yes"]));
    assert!(w.writes().is_empty(), "{:?}", w.writes());
}

#[test]
fn export_in_gateway_mode_gives_the_objects_and_the_enable_command() {
    let w = TestWorld::start("fresh");
    let yaml = ok(&w.run(&["export", "--via", "gateway", "--format", "yaml", "--global-access"]));
    for kind in [
        "kind: Gateway",
        "kind: HTTPRoute",
        "kind: HealthCheckPolicy",
        "kind: GCPGatewayPolicy",
    ] {
        assert!(yaml.contains(kind), "{kind} not in {yaml}");
    }
    let sh = ok(&w.run(&["export", "--via", "gateway", "--format", "gcloud"]));
    assert!(sh.contains("--gateway-api=standard"), "{sh}");
    let o = w.run(&["export", "--via", "gateway"]);
    assert_eq!(o.status.code(), Some(64), "{}", both(&o));
    assert!(stderr(&o).contains("no values for a Gateway"), "{}", both(&o));
}

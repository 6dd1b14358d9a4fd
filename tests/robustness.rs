//! Flaky APIs, interruption, bad input, and secrets.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

#[test]
fn install_and_doctor_succeed_through_injected_429s_and_503s() {
    let w = TestWorld::with(gke_sim::SimConfig {
        error_rate: 0.2,
        seed: 42,
        ..config("fresh")
    });
    let o = w.run(&["install", "--yes", "-v"]);
    ok(&o);
    let retries = stderr(&o).matches("retry:").count();
    assert!(retries > 0, "retries are reported at -v:\n{}", stderr(&o));
    let o = w.run(&["doctor", "-o", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", both(&o)));
    assert_eq!(v["summary"]["fail"], 0, "{v}");
    let subnets = w
        .sim
        .world()
        .compute
        .subnetworks
        .values()
        .filter(|s| s["purpose"] == "REGIONAL_MANAGED_PROXY")
        .count();
    assert_eq!(subnets, 1);
}

/// SIGKILL while a write is in flight: gke-sim applies the Nth write, holds its answer back and
/// says so; the test kills the plugin then (the change happened, the plugin never learned it). A
/// rerun must find what exists and finish with one of each, as the real clients see it.
#[test]
fn killed_mid_request_at_every_write_a_rerun_finishes_without_duplicates() {
    let clean = TestWorld::start("fresh");
    ok(&clean.run(&["install", "--yes"]));
    let writes: Vec<String> = clean
        .sim
        .requests()
        .iter()
        .filter(|r| gke_sim::hold::counts(&r.method, &r.path))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        writes.len() >= 4,
        "install writes the subnet, the rule, the port, the Ingress: {writes:?}"
    );
    for n in 1..=writes.len() {
        let w = TestWorld::with(gke_sim::SimConfig {
            hold_write: Some(n),
            ..config("fresh")
        });
        let held = kill_when_held(&w, &["install", "--yes"]);
        assert_eq!(held, writes[n - 1], "write #{n} is the same request as in a clean run");
        // The killed run's lock would expire after 30s; the operator who killed it removes it.
        if let Some(o) = w.kubectl(&[
            "-n",
            "kasten-io",
            "delete",
            "lease",
            "kasten-ilb-lock",
            "--ignore-not-found",
        ]) {
            ok(&o);
        }
        ok(&w.run(&["install", "--yes"]));
        one_of_each(&w, &format!("killed during write #{n} ({held})"));
    }
}

/// Start the plugin, wait until gke-sim holds a write open, SIGKILL it there; the held request.
pub fn kill_when_held(w: &TestWorld, args: &[&str]) -> String {
    let mut child = std::process::Command::new(BIN)
        .env_clear()
        .envs(w.envs())
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("plugin starts");
    let start = std::time::Instant::now();
    let held = loop {
        if let Some(h) = w.sim.holding() {
            break h;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the plugin ended ({status}) before gke-sim held a write");
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no write was held");
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("reaped");
    assert!(!status.success(), "killed");
    held
}

/// One proxy-only subnet, one rule of install's, one Ingress, one added container port: as gcloud
/// and kubectl list them (the world's maps where a client is not installed).
pub fn one_of_each(w: &TestWorld, when: &str) {
    let lines = |o: std::process::Output| -> usize { ok(&o).lines().filter(|l| !l.trim().is_empty()).count() };
    let world = |f: &dyn Fn(&gke_sim::World) -> usize| f(&w.sim.world());
    let subnets = w
        .gcloud(&[
            "compute",
            "networks",
            "subnets",
            "list",
            "--filter=purpose=REGIONAL_MANAGED_PROXY",
            "--format=value(name)",
        ])
        .map(lines)
        .unwrap_or_else(|| {
            world(&|x| {
                x.compute
                    .subnetworks
                    .values()
                    .filter(|s| s["purpose"] == "REGIONAL_MANAGED_PROXY")
                    .count()
            })
        });
    assert_eq!(subnets, 1, "one proxy-only subnet, {when}");
    let rules = w
        .gcloud(&["compute", "firewall-rules", "list", "--format=value(name)"])
        .map(|o| ok(&o).lines().filter(|l| l.starts_with("kasten-ilb-")).count())
        .unwrap_or_else(|| {
            world(&|x| {
                x.compute
                    .firewalls
                    .keys()
                    .filter(|k| k.starts_with("kasten-ilb-"))
                    .count()
            })
        });
    assert_eq!(rules, 1, "one firewall rule, {when}");
    let ings = w
        .kubectl(&["-n", "kasten-io", "get", "ingress", "-o", "name"])
        .map(lines)
        .unwrap_or_else(|| world(&|x| x.kube_in_ns("Ingress", "kasten-io").len()));
    assert_eq!(ings, 1, "one Ingress, {when}");
    let jp = "jsonpath={range .spec.template.spec.containers[0].ports[*]}{.containerPort}{\"\\n\"}{end}";
    let ports = w
        .kubectl(&["-n", "kasten-io", "get", "deployment", "gateway", "-o", jp])
        .map(lines)
        .unwrap_or_else(|| {
            world(&|x| {
                x.kube_get("Deployment", "kasten-io", "gateway").unwrap()["spec"]["template"]["spec"]["containers"][0]
                    ["ports"]
                    .as_array()
                    .map_or(0, Vec::len)
            })
        });
    assert_eq!(ports, 1, "one container port, {when}");
}

#[test]
fn a_403_stops_with_the_permission_named() {
    let w = TestWorld::start("fresh");
    w.sim
        .with_world(|w| w.denied_permissions = vec!["compute.firewalls.create".into()]);
    let o = w.run(&["install", "--yes"]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let e = stderr(&o);
    assert!(
        e.contains("compute.firewalls.create") && e.contains("roles/compute.securityAdmin"),
        "{e}"
    );
    assert!(
        e.contains("done before it: Create proxy-only-default"),
        "says what exists now: {e}"
    );
}

#[test]
fn a_409_on_the_deployment_patch_is_retried_after_a_reread() {
    let w = TestWorld::start("fresh");
    w.sim
        .with_world(|w| w.inject_once.push(("PATCH".into(), "/deployments/gateway".into(), 409)));
    ok(&w.run(&["install", "--yes"]));
    let patches = w
        .sim
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.ends_with("/deployments/gateway"))
        .count();
    assert_eq!(patches, 2, "the conflicted patch was sent again after a re-read");
    let d = w
        .sim
        .world()
        .kube_get("Deployment", "kasten-io", "gateway")
        .cloned()
        .unwrap();
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["ports"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// (name, arguments, exit status, words in the message, how to break the world first)
type Case = (
    &'static str,
    Vec<&'static str>,
    i32,
    &'static str,
    Box<dyn Fn(&TestWorld)>,
);

/// Each bad input: a clear message, the expected exit status, and a world unchanged.
#[test]
fn bad_input_changes_nothing_and_says_what_is_wrong() {
    let cases: Vec<Case> = vec![
        (
            "malformed range",
            vec!["install", "--yes", "--proxy-subnet-range", "10.120.0.0"],
            64,
            "prefix length is missing",
            Box::new(|_| {}),
        ),
        (
            "range not an address",
            vec!["install", "--yes", "--proxy-subnet-range", "10.1200.0.0/23"],
            64,
            "not an IPv4 address",
            Box::new(|_| {}),
        ),
        (
            "range too small",
            vec!["install", "--yes", "--proxy-subnet-range", "10.120.0.0/27"],
            64,
            "too small",
            Box::new(|_| {}),
        ),
        (
            "range host bits",
            vec!["install", "--yes", "--proxy-subnet-range", "10.120.1.0/23"],
            64,
            "bits set",
            Box::new(|_| {}),
        ),
        (
            "range public",
            vec!["install", "--yes", "--proxy-subnet-range", "34.120.0.0/23"],
            64,
            "not in private address space",
            Box::new(|_| {}),
        ),
        (
            "range overlaps auto block",
            vec!["install", "--yes", "--proxy-subnet-range", "10.130.0.0/23"],
            64,
            "overlaps 10.128.0.0/9",
            Box::new(|_| {}),
        ),
        (
            "range overlaps pods",
            vec!["install", "--yes", "--proxy-subnet-range", "10.52.0.0/23"],
            64,
            "overlaps secondary range",
            Box::new(|_| {}),
        ),
        (
            "bad path",
            vec!["install", "--yes", "--path", "/k10/*"],
            64,
            "not a URL path prefix",
            Box::new(|_| {}),
        ),
        (
            "bad timeout",
            vec!["install", "--yes", "--timeout", "soon"],
            64,
            "is not a duration",
            Box::new(|_| {}),
        ),
        (
            "unknown flag",
            vec!["install", "--yes", "--frobnicate"],
            64,
            "unexpected argument",
            Box::new(|_| {}),
        ),
        (
            "tls without host",
            vec!["install", "--yes", "--tls-secret", "s"],
            64,
            "--tls-secret needs --host",
            Box::new(|_| {}),
        ),
        (
            "yaml without dry-run",
            vec!["install", "--yes", "-o", "yaml"],
            64,
            "goes with --dry-run",
            Box::new(|_| {}),
        ),
        (
            "unknown context",
            vec!["install", "--yes", "--context", "nope"],
            2,
            "context `nope` is not in the kubeconfig",
            Box::new(|_| {}),
        ),
        (
            "missing namespace",
            vec!["install", "--yes", "-n", "backup"],
            2,
            "namespace `backup` does not exist",
            Box::new(|_| {}),
        ),
        (
            "unknown cluster",
            vec!["install", "--yes", "--gke-cluster", "other"],
            2,
            "GKE cluster `other` not found",
            Box::new(|_| {}),
        ),
        (
            "missing static ip",
            vec!["install", "--yes", "--static-ip", "k10-ip"],
            64,
            "there is no regional address `k10-ip`",
            Box::new(|_| {}),
        ),
        (
            "missing service",
            vec!["install", "--yes"],
            2,
            "Service `gateway` is not in namespace",
            Box::new(|w| {
                w.sim.with_world(|w| {
                    w.kube_delete("Service", "kasten-io", "gateway");
                })
            }),
        ),
        (
            "missing deployment",
            vec!["install", "--yes"],
            2,
            "Deployment `gateway` is not in namespace",
            Box::new(|w| {
                w.sim.with_world(|w| {
                    w.kube_delete("Deployment", "kasten-io", "gateway");
                })
            }),
        ),
        (
            "no auth",
            vec!["install", "--yes"],
            2,
            "no authentication configured",
            Box::new(|w| {
                w.sim.with_world(|w| {
                    for d in ["auth-svc", "dashboardbff-svc", "controllermanager-svc"] {
                        let mut o = w.kube_get("Deployment", "kasten-io", d).cloned().unwrap();
                        o["spec"]["template"]["spec"].as_object_mut().unwrap().remove("volumes");
                        w.kube_put(o);
                    }
                })
            }),
        ),
        (
            "routes-based",
            vec!["install", "--yes"],
            2,
            "routes-based, not VPC-native",
            Box::new(|w| {
                w.sim
                    .with_world(|w| w.cluster["ipAllocationPolicy"]["useIpAliases"] = json!(false))
            }),
        ),
        (
            "http lb disabled",
            vec!["install", "--yes"],
            2,
            "HttpLoadBalancing add-on is disabled",
            Box::new(|w| {
                w.sim
                    .with_world(|w| w.cluster["addonsConfig"]["httpLoadBalancing"] = json!({"disabled": true}))
            }),
        ),
        (
            "service without port 80",
            vec!["install", "--yes"],
            2,
            "has no port 80",
            Box::new(|w| {
                w.sim.with_world(|w| {
                    w.kube_get_mut("Service", "kasten-io", "gateway").unwrap()["spec"]["ports"] =
                        json!([{"name": "web", "port": 8080, "targetPort": 8000}]);
                })
            }),
        ),
        (
            "named targetPort not declared",
            vec!["install", "--yes"],
            2,
            "no container of the gateway pods declares",
            Box::new(|w| {
                w.sim.with_world(|w| {
                    w.kube_get_mut("Service", "kasten-io", "gateway").unwrap()["spec"]["ports"][0]["targetPort"] =
                        json!("gw-http");
                })
            }),
        ),
        (
            "foreign ingress name",
            vec!["install", "--yes", "--ingress-name", "k10-ingress"],
            64,
            "was not created by kubectl-kasten-ilb",
            Box::new(|w| {
                w.sim.with_world(|w| {
            w.kube_put(json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "k10-ingress", "namespace": "kasten-io", "annotations": {"kubernetes.io/ingress.class": "nginx"}}, "spec": {}}));
        })
            }),
        ),
        (
            "no curl anywhere",
            vec!["install", "--yes"],
            2,
            "has curl for the in-cluster check",
            Box::new(|w| w.sim.with_world(|w| w.images_with_curl.clear())),
        ),
        (
            "probe pod without curl",
            vec!["install", "--yes", "--probe-pod", "nope"],
            2,
            "--probe-pod `nope` has no curl",
            Box::new(|_| {}),
        ),
        (
            "403 on subnets list",
            vec!["install", "--yes"],
            2,
            "compute.subnetworks.list",
            Box::new(|w| {
                w.sim
                    .with_world(|w| w.denied_permissions = vec!["compute.subnetworks.list".into()])
            }),
        ),
        (
            "403 on firewall list",
            vec!["install", "--yes"],
            2,
            "compute.firewalls.list",
            Box::new(|w| {
                w.sim
                    .with_world(|w| w.denied_permissions = vec!["compute.firewalls.list".into()])
            }),
        ),
        (
            "403 on cluster get",
            vec!["install", "--yes"],
            2,
            "container.clusters.get",
            Box::new(|w| {
                w.sim
                    .with_world(|w| w.denied_permissions = vec!["container.clusters.get".into()])
            }),
        ),
        (
            "403 on kubernetes list",
            vec!["install", "--yes"],
            2,
            "permission denied",
            Box::new(|w| w.sim.with_world(|w| w.denied_kube = vec!["list deployments".into()])),
        ),
        (
            "patch-deployment impossible",
            vec!["install", "--yes", "--health-check", "patch-deployment"],
            64,
            "cannot work",
            Box::new(|w| {
                w.sim.with_world(|w| {
                    w.kube_get_mut("Deployment", "kasten-io", "gateway").unwrap()["spec"]["template"]["spec"]
                        ["containers"][0]["readinessProbe"]["httpGet"]["port"] = json!(8877);
                })
            }),
        ),
    ];
    assert!(cases.len() >= 25);
    for (name, args, code, words, setup) in cases {
        let w = TestWorld::start("fresh");
        setup(&w);
        std::thread::sleep(Duration::from_millis(50));
        let before = w.fingerprint();
        let o = w.run(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(code), "{name}: {}", both(&o));
        assert!(err.contains(words), "{name}: expected `{words}` in\n{err}");
        assert!(
            err.contains("hint:") || code == 64 && err.contains("try '--help'"),
            "{name}: a hint\n{err}"
        );
        assert_eq!(w.fingerprint(), before, "{name}: the world changed");
        assert!(w.writes().is_empty(), "{name}: wrote {:?}", w.writes());
    }
}

#[test]
fn no_adc_file_fails_at_once_with_the_login_hint() {
    let w = TestWorld::start("fresh");
    let before = w.fingerprint();
    let t = std::time::Instant::now();
    let o = w
        .plugin()
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
        .args(["install", "--yes"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("gcloud auth application-default login"));
    assert!(t.elapsed() < Duration::from_secs(10), "no metadata-server wait");
    let bad = w.home.path().join("adc.json");
    std::fs::write(&bad, "{ not json").unwrap();
    let o = w
        .plugin()
        .env("GOOGLE_APPLICATION_CREDENTIALS", &bad)
        .args(["doctor"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not valid JSON"), "{}", stderr(&o));
    assert_eq!(w.fingerprint(), before, "nothing changed");
}

#[test]
fn no_token_or_key_appears_in_any_output_even_at_vvv() {
    let w = TestWorld::start("fresh");
    let token = w.sim.world().access_token.clone();
    let adc: Value = serde_json::from_str(&std::fs::read_to_string(w.sim.dir.join("adc.json")).unwrap()).unwrap();
    let secrets = [
        token.clone(),
        adc["refresh_token"].as_str().unwrap().to_string(),
        adc["client_secret"].as_str().unwrap().to_string(),
    ];
    let kubeconfig = std::fs::read_to_string(w.sim.kubeconfig_path()).unwrap();
    let kube_token = kubeconfig
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .unwrap()
        .to_string();
    for args in [
        vec!["install", "--yes", "-vvv"],
        vec!["doctor", "-vvv"],
        vec!["status", "-vvv"],
        vec!["uninstall", "--yes", "-vvv"],
    ] {
        let o = w.run(&args);
        let all = both(&o);
        for s in secrets.iter().chain(std::iter::once(&kube_token)) {
            assert!(!all.contains(s.as_str()), "{args:?} printed a secret");
        }
        assert!(
            !all.to_lowercase().contains("authorization:"),
            "{args:?} printed an Authorization header"
        );
        assert!(!all.contains("ya29."), "{args:?} printed an access token");
    }
}

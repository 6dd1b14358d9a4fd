//! Safe with real state (issue 14): values refused before anything changes, objects that are
//! going away, events of an earlier object, hints that keep install's marker, honest uninstall
//! and status, and what gke-sim must refuse as the API server does. The real kubectl and gcloud
//! check the world where it matters.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

fn ingress_json(w: &TestWorld, name: &str) -> Option<Value> {
    let o = w.kubectl(&["-n", "kasten-io", "get", "ingress", name, "-o", "json"])?;
    Some(serde_json::from_str(&ok(&o)).expect("kubectl prints JSON"))
}

fn write_file(w: &TestWorld, name: &str, text: &str) -> String {
    let p = w.home.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn rejected_values_leave_a_working_install_byte_for_byte_unchanged() {
    let w = TestWorld::start("fresh");
    ok(&w.run(&["install", "--yes"]));
    let secret = "apiVersion: v1\nkind: Secret\ntype: Opaque\nmetadata: {name: opaque, namespace: kasten-io}\n\
                  data: {a: Yg==}\n";
    let f = write_file(&w, "opaque.yaml", secret);
    match w.kubectl(&["create", "-f", &f]) {
        Some(o) => {
            ok(&o);
        }
        None => w.sim.with_world(|x| {
            x.kube_put(
                serde_json::json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": "opaque", "namespace": "kasten-io"}, "data": {"a": "Yg=="}}),
            );
        }),
    }
    let before = w.fingerprint();
    let writes = w.writes().len();
    let ing_before = ingress_json(&w, "k10-ilb");
    let long = "a".repeat(300);
    let host = ["--host", "k10.corp.internal"];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--path", "/../"],
            "--path \"/../\" is not valid: the path has a '.' or '..' segment",
        ),
        (vec!["--path", "/"], "`/` alone is not K10's dashboard"),
        (vec!["--host", "bad host!"], "--host \"bad host!\" is not valid"),
        (vec!["--ingress-name", "UPPER"], "only lower-case letters"),
        (vec!["--ingress-name", "bad_name"], "only lower-case letters"),
        (vec!["--ingress-name", &long], "1 to 253 characters (this has 300)"),
        (vec!["--static-ip", "Bad_IP"], "a Google Cloud resource name"),
        (
            vec![host[0], host[1], "--tls-secret", "no-such-secret"],
            "there is no Secret `no-such-secret`",
        ),
        (
            vec![host[0], host[1], "--tls-secret", "opaque"],
            "is of type `Opaque`, not `kubernetes.io/tls`",
        ),
        (vec!["-n", "Kasten-IO"], "--namespace \"Kasten-IO\" is not valid"),
    ];
    for (extra, rule) in &cases {
        // export checks the values too, but not the Secret (a GitOps pipeline may make it later).
        let export: &[&str] = if extra.contains(&"--tls-secret") {
            &["install", "--yes", "--dry-run"]
        } else {
            &["export", "--format", "yaml"]
        };
        for cmd in [&["install", "--yes"][..], export] {
            let mut args = cmd.to_vec();
            args.extend_from_slice(extra);
            let o = w.run(&args);
            assert_eq!(o.status.code(), Some(64), "{args:?}: {}", both(&o));
            assert!(
                stderr(&o).contains(rule),
                "{args:?} names the rule `{rule}`: {}",
                stderr(&o)
            );
            assert!(
                stderr(&o).contains("hint:"),
                "{args:?} says how to fix it: {}",
                stderr(&o)
            );
        }
    }
    assert_eq!(w.writes().len(), writes, "no write request for a rejected value");
    assert_eq!(w.fingerprint(), before, "the world is byte-for-byte as it was");
    assert_eq!(ingress_json(&w, "k10-ilb"), ing_before, "kubectl sees the same Ingress");
    let d = w.run(&["doctor"]);
    assert_eq!(d.status.code(), Some(0), "the dashboard still works: {}", both(&d));
}

#[test]
fn gke_sim_refuses_names_hosts_and_paths_as_the_api_server_does() {
    let w = TestWorld::start("fresh");
    let ingress = |name: &str, host: &str, path: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  namespace: kasten-io\n\
             spec:\n  rules:\n  - host: {host:?}\n    http:\n      paths:\n      - path: {path:?}\n        \
             pathType: Prefix\n        backend:\n          service:\n            name: gateway\n            port:\n\
             \x20             number: 80\n"
        )
    };
    let cases = [
        (
            "UPPER",
            "k10.corp.internal",
            "/k10/",
            "a lowercase RFC 1123 subdomain must consist of",
        ),
        (
            "bad_name",
            "k10.corp.internal",
            "/k10/",
            "metadata.name: Invalid value: \"bad_name\"",
        ),
        (
            &"a".repeat(254)[..],
            "k10.corp.internal",
            "/k10/",
            "must be no more than 253 characters",
        ),
        (
            "k10-ilb",
            "bad host!",
            "/k10/",
            "spec.rules[0].host: Invalid value: \"bad host!\"",
        ),
        ("k10-ilb", "10.0.0.1", "/k10/", "must be a DNS name, not an IP address"),
        ("k10-ilb", "k10.corp.internal", "/../", "must not contain '/../'"),
        ("k10-ilb", "k10.corp.internal", "/k10/..", "cannot end with '/..'"),
    ];
    let before = w.fingerprint();
    for (i, (name, host, path, msg)) in cases.iter().enumerate() {
        let f = write_file(&w, &format!("ing{i}.yaml"), &ingress(name, host, path));
        let Some(o) = w.kubectl(&["create", "-f", &f]) else {
            return;
        };
        assert!(!o.status.success(), "{name} {host} {path} is refused");
        assert!(
            stderr(&o).contains("is invalid") && stderr(&o).contains(msg),
            "{msg}: {}",
            stderr(&o)
        );
    }
    assert_eq!(w.fingerprint(), before, "nothing was stored");
    let f = write_file(&w, "good.yaml", &ingress("k10-ilb", "*.corp.internal", "/k10/"));
    ok(&w.kubectl(&["create", "-f", &f]).unwrap());
}

#[test]
fn gke_sim_serves_leases_as_the_api_server_does() {
    let w = TestWorld::start("fresh");
    let lease = "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: demo-lock, namespace: kasten-io}\n\
                 spec: {holderIdentity: ana@ws1/42, leaseDurationSeconds: 30}\n";
    let f = write_file(&w, "lease.yaml", lease);
    let Some(o) = w.kubectl(&["create", "-f", &f]) else {
        return;
    };
    ok(&o);
    let table = ok(&w.kubectl(&["-n", "kasten-io", "get", "lease"]).unwrap());
    assert!(table.starts_with("NAME") && table.contains("HOLDER"), "{table}");
    assert!(table.contains("demo-lock") && table.contains("ana@ws1/42"), "{table}");
    let again = w.kubectl(&["create", "-f", &f]).unwrap();
    assert!(stderr(&again).contains("AlreadyExists"), "{}", stderr(&again));
    // A replace with the resourceVersion read: once it passes, then it is stale (409).
    let cur = ok(&w
        .kubectl(&["-n", "kasten-io", "get", "lease", "demo-lock", "-o", "json"])
        .unwrap());
    let f2 = write_file(&w, "l2.json", &cur.replace("ana@ws1/42", "bo@ws2/7"));
    ok(&w.kubectl(&["replace", "-f", &f2]).unwrap());
    let stale = w.kubectl(&["replace", "-f", &f2]).unwrap();
    assert!(
        stderr(&stale).contains("the object has been modified"),
        "{}",
        stderr(&stale)
    );
    // Delete with a resourceVersion precondition that no longer holds: 409, and the Lease stays.
    let url = "/apis/coordination.k8s.io/v1/namespaces/kasten-io/leases/demo-lock";
    let pre = write_file(
        &w,
        "pre.json",
        r#"{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"resourceVersion":"1"}}"#,
    );
    let o = w.kubectl(&["delete", "--raw", url, "-f", &pre]).unwrap();
    assert!(
        stderr(&o).contains("Precondition failed: ResourceVersion in precondition: 1"),
        "{}",
        both(&o)
    );
    assert!(w.sim.world().kube_get("Lease", "kasten-io", "demo-lock").is_some());
    let rv = ok(&w
        .kubectl(&[
            "-n",
            "kasten-io",
            "get",
            "lease",
            "demo-lock",
            "-o",
            "jsonpath={.metadata.resourceVersion}",
        ])
        .unwrap());
    let pre = write_file(
        &w,
        "pre2.json",
        &format!(r#"{{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{{"resourceVersion":"{rv}"}}}}"#),
    );
    ok(&w.kubectl(&["delete", "--raw", url, "-f", &pre]).unwrap());
    assert!(w.sim.world().kube_get("Lease", "kasten-io", "demo-lock").is_none());
}

/// Interrupting uninstall while GKE releases the load balancer leaves an Ingress with a
/// deletionTimestamp. It is going away: doctor and status say so, and install waits for it to go
/// and makes it again.
#[test]
fn an_ingress_being_deleted_is_going_away_and_install_recreates_it() {
    let w = TestWorld::start("fresh");
    ok(&w.run(&["install", "--yes"]));
    let old_uid = w.sim.world().kube_get("Ingress", "kasten-io", "k10-ilb").unwrap()["metadata"]["uid"].clone();
    // GKE is slow to release the load balancer: hold the controllers while we look.
    w.sim.with_world(|x| x.controllers_paused = true);
    match w.kubectl(&["-n", "kasten-io", "delete", "ingress", "k10-ilb", "--wait=false"]) {
        Some(o) => {
            ok(&o);
        }
        None => return,
    }
    let ing = ingress_json(&w, "k10-ilb").expect("still there while GKE releases it");
    assert!(ing["metadata"]["deletionTimestamp"].is_string(), "{ing}");
    let d = w.run(&["doctor", "-o", "json"]);
    let v: Value = serde_json::from_slice(&d.stdout).unwrap_or_else(|e| panic!("{e}: {}", both(&d)));
    let check = check_of(&v, "ingress").clone();
    assert_eq!(check["result"], "FAIL", "{check}");
    assert!(check.to_string().contains("going away"), "{check}");
    assert_eq!(d.status.code(), Some(1));
    let s = w.run(&["status"]);
    assert_eq!(s.status.code(), Some(1), "{}", both(&s));
    assert!(stdout(&s).contains("going away"), "{}", stdout(&s));
    let plan = ok(&w.run(&["install", "--yes", "--dry-run"]));
    assert!(plan.contains("being deleted") && plan.contains("Create"), "{plan}");
    // install waits for the old one to go (GKE releases it a moment later), then makes it again.
    let installing = {
        let mut c = std::process::Command::new(BIN);
        c.env_clear().envs(w.envs()).args(["install", "--yes"]);
        std::thread::spawn(move || c.output().unwrap())
    };
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        w.sim.world().kube_get("Ingress", "kasten-io", "k10-ilb").is_some(),
        "still going away"
    );
    w.sim.with_world(|x| x.controllers_paused = false);
    let o = installing.join().unwrap();
    let out = ok(&o);
    assert!(stderr(&o).contains("being deleted"), "{}", stderr(&o));
    assert!(out.contains("K10 dashboard (inside the VPC only): http://"), "{out}");
    let ing = ingress_json(&w, "k10-ilb").expect("made again");
    assert!(ing["metadata"]["deletionTimestamp"].is_null(), "{ing}");
    assert_ne!(ing["metadata"]["uid"], old_uid, "a new Ingress");
    assert!(ing["status"]["loadBalancer"]["ingress"][0]["ip"].is_string(), "{ing}");
    let s = w.run(&["status"]);
    assert_eq!(s.status.code(), Some(0), "{}", both(&s));
    one_of_each(&w);
}

fn one_of_each(w: &TestWorld) {
    let world = w.sim.world();
    assert_eq!(world.kube_in_ns("Ingress", "kasten-io").len(), 1);
    assert_eq!(
        world
            .compute
            .firewalls
            .keys()
            .filter(|k| k.starts_with("kasten-ilb-"))
            .count(),
        1
    );
}

/// An Ingress deleted and made again under the same name: the warnings about the first one are
/// not the second one's, in doctor, status and install's stream.
#[test]
fn events_of_an_earlier_ingress_of_the_same_name_are_not_current() {
    let w = TestWorld::start("fresh");
    ok(&w.run(&["install", "--yes"]));
    let first = w
        .sim
        .world()
        .kube_get("Ingress", "kasten-io", "k10-ilb")
        .unwrap()
        .clone();
    w.sim.with_world(|x| {
        x.event(
            &first,
            "Warning",
            "Sync",
            "Error syncing to GCP: stale problem of the first Ingress",
            "loadbalancer-controller",
        );
    });
    if let Some(o) = w.kubectl(&[
        "-n",
        "kasten-io",
        "get",
        "events",
        "--field-selector",
        "type=Warning",
        "-o",
        "name",
    ]) {
        assert!(!ok(&o).trim().is_empty(), "kubectl sees the old warning");
    }
    ok(&w.run(&["uninstall", "--yes"]));
    let o = w.run(&["install", "--yes"]);
    let out = both(&ok_out(o));
    assert!(
        !out.contains("stale problem"),
        "install streams only the new Ingress's events: {out}"
    );
    let d = w.run(&["doctor", "-o", "json"]);
    let v: Value = serde_json::from_slice(&d.stdout).unwrap();
    let ev = check_of(&v, "events").clone();
    assert_eq!(ev["result"], "PASS", "{ev}");
    let s = w.run(&["status", "-o", "json"]);
    let sv: Value = serde_json::from_slice(&s.stdout).unwrap_or_else(|e| panic!("{e}: {}", both(&s)));
    assert!(!sv["events"].to_string().contains("stale problem"), "{sv}");
    // The same warning about the current Ingress is shown.
    let second = w
        .sim
        .world()
        .kube_get("Ingress", "kasten-io", "k10-ilb")
        .unwrap()
        .clone();
    w.sim.with_world(|x| {
        x.event(
            &second,
            "Warning",
            "Sync",
            "Error syncing to GCP: a problem of this Ingress",
            "loadbalancer-controller",
        );
    });
    let s = w.run(&["status", "-o", "json"]);
    let sv: Value = serde_json::from_slice(&s.stdout).unwrap();
    assert!(sv["events"].to_string().contains("a problem of this Ingress"), "{sv}");
}

fn ok_out(o: std::process::Output) -> std::process::Output {
    ok(&o);
    o
}

/// doctor's firewall hint makes the rule with install's marker; uninstall then removes it. Before
/// that, status reports the deleted rule as drift.
#[test]
fn a_rule_made_from_doctors_hint_is_removed_by_uninstall_and_a_deleted_rule_is_drift() {
    let w = TestWorld::start("fresh");
    ok(&w.run(&["install", "--yes"]));
    let rule = "kasten-ilb-kasten-demo-proxy-to-8000";
    let Some(o) = w.gcloud(&["compute", "firewall-rules", "delete", rule, "--quiet"]) else {
        return;
    };
    ok(&o);
    let s = w.run(&["status"]);
    assert_eq!(s.status.code(), Some(1), "{}", both(&s));
    assert!(
        stdout(&s).contains(&format!("firewall rule {rule} is gone")),
        "{}",
        stdout(&s)
    );
    let d = w.run(&["doctor", "-o", "json"]);
    let v: Value = serde_json::from_slice(&d.stdout).unwrap();
    let fw = check_of(&v, "firewall").clone();
    let hint = fw["hint"].as_str().unwrap().to_string();
    let cmd = hint
        .strip_prefix('`')
        .and_then(|h| h.split("` (or").next())
        .expect("the hint starts with the command");
    assert!(cmd.contains("--description='Created by kubectl-kasten-ilb"), "{cmd}");
    // Run the hint as a user would paste it into a shell.
    let sh = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .env_clear()
        .envs(w.envs())
        .output()
        .unwrap();
    ok(&sh);
    let d = w.run(&["doctor", "-o", "json"]);
    let v: Value = serde_json::from_slice(&d.stdout).unwrap();
    let fw = check_of(&v, "firewall").clone();
    assert_eq!(fw["result"], "PASS", "{fw}");
    let u = w.run(&["uninstall", "--yes"]);
    let out = ok(&u);
    assert!(out.contains(&format!("Firewall rule {rule}")), "{out}");
    let list = ok(&w
        .gcloud(&["compute", "firewall-rules", "list", "--format=value(name)"])
        .unwrap());
    assert!(
        !list.lines().any(|l| l == rule),
        "uninstall removed the rule made from the hint: {list}"
    );
}

/// What was listed but already gone when uninstall came to it is not reported as removed.
#[test]
fn uninstall_reports_only_what_it_removed() {
    let w = TestWorld::with(gke_sim::SimConfig {
        lb_delay: Duration::from_secs(6),
        ..config("fresh")
    });
    ok(&w.run(&["install", "--yes"]));
    let rule = "kasten-ilb-kasten-demo-proxy-to-8000";
    let uninstalling = {
        let mut c = std::process::Command::new(BIN);
        c.env_clear().envs(w.envs()).args(["uninstall", "--yes"]);
        std::thread::spawn(move || c.output().unwrap())
    };
    // Someone removes the rule while uninstall waits for GKE to release the Ingress.
    let start = std::time::Instant::now();
    while w
        .sim
        .world()
        .kube_get("Ingress", "kasten-io", "k10-ilb")
        .is_some_and(|i| i["metadata"]["deletionTimestamp"].is_null())
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "uninstall deletes the Ingress"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // GKE takes its time to release the load balancer: hold the controllers while the rule goes.
    w.sim.with_world(|x| x.controllers_paused = true);
    let deleted = w.gcloud(&["compute", "firewall-rules", "delete", rule, "--quiet"]);
    w.sim.with_world(|x| x.controllers_paused = false);
    let Some(o) = deleted else {
        return;
    };
    ok(&o);
    let u = uninstalling.join().unwrap();
    let out = ok(&u);
    let removed = out.split("Removed:").nth(1).unwrap_or_default();
    let removed = removed.split("Already gone").next().unwrap_or_default();
    assert!(!removed.contains(rule), "not reported as removed: {out}");
    assert!(
        out.contains("Already gone (not removed by this run):") && out.contains(rule),
        "{out}"
    );
    assert!(removed.contains("ingress/k10-ilb"), "{out}");
}

#[test]
fn a_plan_that_changes_a_working_ingress_lists_each_field() {
    let w = TestWorld::start("fresh");
    ok(&w.run(&["install", "--yes"]));
    let out = ok(&w.run(&["install", "--dry-run", "--host", "k10.corp.internal"]));
    assert!(out.contains("Change to ingress/k10-ilb"), "{out}");
    assert!(
        out.contains("spec.rules[0].host: (none) -> \"k10.corp.internal\""),
        "{out}"
    );
    assert!(out.contains("in 1 field(s)"), "{out}");
}

/// The plugin started with the world's environment, until gke-sim holds a write open.
fn spawn_until_held(w: &TestWorld, args: &[&str]) -> std::process::Child {
    let mut child = std::process::Command::new(BIN)
        .env_clear()
        .envs(w.envs())
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("plugin starts");
    let start = std::time::Instant::now();
    while w.sim.holding().is_none() {
        if let Ok(Some(s)) = child.try_wait() {
            panic!("ended ({s}) before a write was held");
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no write was held");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn lease_holder(w: &TestWorld) -> Option<String> {
    let o = w.kubectl(&[
        "-n",
        "kasten-io",
        "get",
        "lease",
        "-o",
        "jsonpath={.items[*].spec.holderIdentity}",
    ])?;
    Some(ok(&o).trim().to_string())
}

/// A run killed with SIGKILL leaves its lock; the next run waits, naming the holder, takes it over
/// when it expires (30s without renewal), finishes, and releases it.
#[test]
fn a_killed_runs_lock_expires_and_is_taken_over() {
    let w = TestWorld::with(gke_sim::SimConfig {
        hold_write: Some(2),
        ..config("fresh")
    });
    let mut child = spawn_until_held(&w, &["install", "--yes"]);
    child.kill().unwrap();
    child.wait().unwrap();
    let Some(holder) = lease_holder(&w) else {
        return;
    };
    assert!(!holder.is_empty(), "the killed run's lock is still there");
    let started = std::time::Instant::now();
    let o = w.run(&["install", "--yes"]);
    ok(&o);
    let err = stderr(&o);
    assert!(
        err.contains("Waiting") && err.contains("`kubectl kasten-ilb install` by"),
        "names the holder: {err}"
    );
    assert!(err.contains("taking over the lock"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
    assert_eq!(lease_holder(&w).as_deref(), Some(""), "released at the end");
    one_of_each(&w);
}

/// Ctrl-C releases the lock at once (no 30s wait for the next run).
#[test]
fn ctrl_c_releases_the_lock() {
    let w = TestWorld::with(gke_sim::SimConfig {
        hold_write: Some(1),
        ..config("fresh")
    });
    let mut child = spawn_until_held(&w, &["install", "--yes"]);
    let Some(holder) = lease_holder(&w) else {
        let _ = child.kill();
        let _ = child.wait();
        return;
    };
    assert!(!holder.is_empty(), "held while working");
    let pid = child.id().to_string();
    ok(&std::process::Command::new("kill")
        .args(["-INT", &pid])
        .output()
        .unwrap());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", both(&o));
    assert_eq!(lease_holder(&w).as_deref(), Some(""), "the lock is gone: {}", both(&o));
}

/// A lock held by someone else: --no-wait stops at once naming the holder; a wait is bounded by
/// --timeout; nothing changes either way.
#[test]
fn a_held_lock_stops_no_wait_and_bounds_the_wait() {
    let w = TestWorld::start("fresh");
    let now = ok(&std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%S.000000Z"])
        .output()
        .unwrap());
    let holder = r#"{"user":"ana","host":"ws1","pid":42,"command":"uninstall","started":"2026-01-01T00:00:00Z"}"#;
    let lease = format!(
        "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: kasten-ilb-lock\n  \
         namespace: kasten-io\n  \
         annotations:\n    kasten-ilb.kasten.io/holder: '{holder}'\nspec:\n  holderIdentity: ana@ws1/42\n  \
         leaseDurationSeconds: 30\n  renewTime: {}\n",
        now.trim()
    );
    let f = write_file(&w, "lease.yaml", &lease);
    let Some(o) = w.kubectl(&["create", "-f", &f]) else {
        return;
    };
    ok(&o);
    let before = w.fingerprint();
    for cmd in [
        &["install", "--yes", "--no-wait"][..],
        &["install", "--yes", "--timeout", "3s"][..],
    ] {
        let o = w.run(cmd);
        let err = stderr(&o);
        let by = "`kubectl kasten-ilb uninstall` by ana on ws1 (pid 42";
        assert!(err.contains(by), "{cmd:?} names the holder: {err}");
        if cmd.contains(&"--no-wait") {
            assert_eq!(o.status.code(), Some(2), "{err}");
            assert!(err.contains("another run holds the lock"), "{err}");
        } else {
            assert_eq!(o.status.code(), Some(1), "{err}");
            assert!(err.contains("gave up waiting for the lock"), "{err}");
        }
        assert_eq!(w.fingerprint(), before, "{cmd:?} changed nothing");
    }
}

/// install and uninstall started together: one waits for the other, each looks again under the
/// lock, and the world ends fully installed or fully removed, never half.
#[test]
fn install_and_uninstall_at_once_end_fully_installed_or_fully_removed() {
    for first in ["install", "uninstall"] {
        let w = TestWorld::start("fresh");
        ok(&w.run(&["install", "--yes"]));
        // Slow answers, so the two runs overlap.
        w.sim.with_world(|x| x.cfg.latency = Duration::from_millis(40));
        // Something for install to do again: the rule is gone.
        w.sim.with_world(|x| {
            x.compute.firewalls.remove("kasten-ilb-kasten-demo-proxy-to-8000");
        });
        let second = if first == "install" { "uninstall" } else { "install" };
        let spawn = |cmd: &str| {
            let mut c = std::process::Command::new(BIN);
            c.env_clear().envs(w.envs()).args([cmd, "--yes"]);
            std::thread::spawn(move || c.output().unwrap())
        };
        let a = spawn(first);
        std::thread::sleep(Duration::from_millis(150));
        let b = spawn(second);
        let (oa, ob) = (a.join().unwrap(), b.join().unwrap());
        ok(&oa);
        ok(&ob);
        let waited = format!("{}{}", stderr(&oa), stderr(&ob));
        let waits = |o: &std::process::Output| stderr(o).contains("Waiting for `kubectl kasten-ilb ");
        let (wa, wb) = (waits(&oa), waits(&ob));
        assert!(wa != wb, "exactly one waited for the other, naming it:\n{waited}");
        assert!(waited.contains("`kubectl kasten-ilb "), "{waited}");
        // The one that waited ran last, after looking again under the lock: it decides.
        let last = if wa { first } else { second };
        let world = w.sim.world();
        let ings = world.kube_in_ns("Ingress", "kasten-io").len();
        let rules = world
            .compute
            .firewalls
            .keys()
            .filter(|k| k.starts_with("kasten-ilb-"))
            .count();
        let ports = world.kube_get("Deployment", "kasten-io", "gateway").unwrap()["spec"]["template"]["spec"]
            ["containers"][0]["ports"]
            .as_array()
            .map_or(0, Vec::len);
        let lease = world.kube_get("Lease", "kasten-io", "kasten-ilb-lock").is_some();
        drop(world);
        assert!(!lease, "the lock is released");
        let state = (ings, rules, ports);
        assert!(
            state == (1, 1, 1) || state == (0, 0, 0),
            "{first} first: half-installed {state:?}\n{waited}"
        );
        let want = if last == "install" { (1, 1, 1) } else { (0, 0, 0) };
        assert_eq!(state, want, "{last} ran last:\n{waited}");
    }
}

/// Honest output: a failed verification is reported without the success footer first.
#[test]
fn a_failed_verification_prints_no_success_footer() {
    let w = TestWorld::start("fresh");
    let deny = [
        "compute",
        "firewall-rules",
        "create",
        "deny-all",
        "--network=default",
        "--direction=INGRESS",
        "--action=DENY",
        "--rules=tcp",
        "--source-ranges=0.0.0.0/0",
        "--priority=100",
    ];
    let Some(o) = w.gcloud(&deny) else {
        return;
    };
    ok(&o);
    let o = w.run(&["install", "--yes", "--timeout", "8s"]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let out = stdout(&o);
    assert!(
        !out.contains("K10 dashboard (inside the VPC only)") && !out.contains("Done in"),
        "{out}"
    );
    assert!(out.contains("Not verified"), "{out}");
}

/// Retries that succeed: nothing from the libraries at the default verbosity (and no colour with
/// --no-color), one `retry:` line each at -v; -vv lists requests and answers, -vvv their headers
/// with credentials redacted.
#[test]
fn verbosity_levels_say_what_the_help_promises() {
    let w = TestWorld::with(gke_sim::SimConfig {
        error_rate: 0.2,
        seed: 42,
        ..config("fresh")
    });
    let o = w.run(&["install", "--yes", "--no-color"]);
    ok(&o);
    let err = stderr(&o);
    assert!(
        !err.contains("ERROR") && !err.contains('\u{1b}'),
        "no library log, no colour:\n{err}"
    );
    assert!(!err.contains("retry:"), "{err}");
    let o = w.run(&["doctor", "-v", "--no-color"]);
    let err = stderr(&o);
    let retries: Vec<&str> = err.lines().filter(|l| l.contains("retry:")).collect();
    assert!(!retries.is_empty(), "{err}");
    assert!(
        retries
            .iter()
            .all(|l| l.contains("failed") && l.contains("retrying in")),
        "{retries:?}"
    );
    assert!(!err.contains("ERROR") && !err.contains('\u{1b}'), "{err}");
    let o = w.run(&["status", "-vv"]);
    let err = stderr(&o);
    assert!(
        err.contains("GET /api/v1/nodes") && err.contains("-> 200"),
        "requests and answers:\n{err}"
    );
    assert!(
        err.contains("/compute/v1/projects/kasten-demo/") && !err.contains("response headers"),
        "{err}"
    );
    let o = w.run(&["status", "-vvv"]);
    let err = stderr(&o);
    assert!(
        err.contains("response headers") && err.contains("content-type: application/json"),
        "{err}"
    );
    assert!(
        err.contains("(1 credential header(s) redacted)"),
        "Google's bearer header, redacted:\n{err}"
    );
    assert!(!err.to_lowercase().contains("authorization:"), "{err}");
    let token = w.sim.world().access_token.clone();
    assert!(!err.contains(&token) && !err.contains("Bearer "), "no token at -vvv");
}

#[test]
fn doctor_on_a_namespace_that_does_not_exist_exits_2() {
    let w = TestWorld::start("healthy");
    let o = w.run(&["doctor", "-n", "no-such-namespace"]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(
        stderr(&o).contains("namespace `no-such-namespace` does not exist"),
        "{}",
        stderr(&o)
    );
    let o = w.run(&["doctor", "-n", "No_Such"]);
    assert_eq!(o.status.code(), Some(64), "{}", both(&o));
}

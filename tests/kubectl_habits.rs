//! kubectl's habits: its flags mean what they mean in kubectl (`--cluster` is the kubeconfig
//! cluster, `--as*` impersonate, `--request-timeout` bounds each request, `-v=N`), durations read
//! like Go's (`1m30s`), and a closed pipe is never a panic.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

/// A Kubernetes API that records each request's head and answers 403 (or never, with `silent`).
struct Recorder {
    url: String,
    heads: Arc<Mutex<Vec<Vec<String>>>>,
}

fn recorder(silent: bool) -> Recorder {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let heads = Arc::new(Mutex::new(Vec::new()));
    let h = heads.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let h = h.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = Vec::new();
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                    head.push(line.trim_end().to_string());
                    line.clear();
                }
                if head.is_empty() {
                    // A pooled connection closed unused.
                    return;
                }
                h.lock().unwrap().push(head);
                if silent {
                    std::thread::sleep(Duration::from_secs(60));
                    return;
                }
                let body = serde_json::json!({
                    "kind": "Status", "apiVersion": "v1", "status": "Failure",
                    "message": "recorded", "reason": "Forbidden", "code": 403,
                })
                .to_string();
                let _ = write!(
                    stream,
                    "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    Recorder { url, heads }
}

/// A kubeconfig (JSON, which kubeconfig readers accept) with one GKE-named context on `server`.
fn kubeconfig(dir: &std::path::Path, server: &str) -> String {
    let path = dir.join("kubeconfig");
    let kc = serde_json::json!({
        "apiVersion": "v1", "kind": "Config",
        "current-context": "gke_kasten-demo_us-central1-a_kasten-demo",
        "clusters": [{"name": "rec", "cluster": {"server": server}}],
        "users": [{"name": "me", "user": {"token": "not-a-real-token"}}],
        "contexts": [{
            "name": "gke_kasten-demo_us-central1-a_kasten-demo",
            "context": {"cluster": "rec", "user": "me"},
        }],
    });
    std::fs::write(&path, kc.to_string()).unwrap();
    path.display().to_string()
}

fn header_values(heads: &[Vec<String>], name: &str) -> Vec<String> {
    let first = heads.first().expect("at least one request reached the API");
    first
        .iter()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

#[test]
fn as_as_group_and_as_uid_impersonate_on_every_kubernetes_request() {
    let w = TestWorld::start("healthy");
    let rec = recorder(false);
    let kc = kubeconfig(w.home.path(), &rec.url);
    let args = [
        "doctor",
        "--kubeconfig",
        &kc,
        "--as",
        "jane",
        "--as-group",
        "auditors",
        "--as-group",
        "ops",
        "--as-uid",
        "42",
    ];
    let o = w.run(&args);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    let heads = rec.heads.lock().unwrap().clone();
    for head in &heads {
        let one = std::slice::from_ref(head);
        assert_eq!(header_values(one, "impersonate-user"), ["jane"], "{head:?}");
        assert_eq!(header_values(one, "impersonate-group"), ["auditors", "ops"], "{head:?}");
        assert_eq!(header_values(one, "impersonate-uid"), ["42"], "{head:?}");
    }
    // Without the flags, nobody is impersonated.
    rec.heads.lock().unwrap().clear();
    let o = w.run(&["doctor", "--kubeconfig", &kc]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    let heads = rec.heads.lock().unwrap().clone();
    assert!(header_values(&heads, "impersonate-user").is_empty(), "{heads:?}");
}

#[test]
fn request_timeout_gives_up_on_a_server_that_never_answers() {
    let w = TestWorld::start("healthy");
    let rec = recorder(true);
    let kc = kubeconfig(w.home.path(), &rec.url);
    let start = Instant::now();
    let o = w.run(&["doctor", "--kubeconfig", &kc, "--request-timeout", "1s"]);
    let took = start.elapsed();
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(
        stderr(&o).contains("cannot reach the Kubernetes API server"),
        "{}",
        both(&o)
    );
    // A few attempts of one second each (transport errors are retried twice), not the 60 s the
    // server would keep the request open.
    assert!(took < Duration::from_secs(30), "took {took:?}");
    assert!(!rec.heads.lock().unwrap().is_empty());
}

#[test]
fn cluster_and_user_pick_kubeconfig_entries_as_in_kubectl_and_gke_cluster_names_the_gke_one() {
    let w = TestWorld::start("healthy");
    // A copy of the sim's kubeconfig whose context points at a dead cluster entry and user,
    // with the working ones kept under other names.
    let mut kc = kube::config::Kubeconfig::read_from(w.sim.kubeconfig_path()).unwrap();
    let mut good_cluster = kc.clusters[0].clone();
    good_cluster.name = "sim-direct".into();
    let mut good_user = kc.auth_infos[0].clone();
    good_user.name = "sim-user".into();
    for c in &mut kc.clusters {
        if let Some(c) = c.cluster.as_mut() {
            c.server = Some("https://127.0.0.1:9".into());
        }
    }
    for u in &mut kc.auth_infos {
        // A credential plugin that does not exist: any request with this user fails.
        u.auth_info = Some(
            serde_json::from_value(serde_json::json!({"exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": "/nonexistent/kasten-ilb-test-credential",
            }}))
            .unwrap(),
        );
    }
    kc.clusters.push(good_cluster);
    kc.auth_infos.push(good_user);
    let path = w.home.path().join("kubeconfig-two");
    std::fs::write(&path, serde_json::to_string(&kc).unwrap()).unwrap();
    let path = path.display().to_string();

    let o = w.run(&["doctor", "-o", "json", "--kubeconfig", &path]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "the context's own cluster is dead: {}",
        both(&o)
    );
    let o = w.run(&["doctor", "-o", "json", "--kubeconfig", &path, "--cluster", "sim-direct"]);
    assert_eq!(o.status.code(), Some(2), "right cluster, broken user: {}", both(&o));
    let o = w.run(&[
        "doctor",
        "-o",
        "json",
        "--kubeconfig",
        &path,
        "--cluster",
        "sim-direct",
        "--user",
        "sim-user",
    ]);
    ok(&o);
    let o = w.run(&["doctor", "--kubeconfig", &path, "--cluster", "nope"]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(stderr(&o).contains("nope"), "{}", both(&o));
    // The GKE cluster has its own flag.
    let o = w.run(&["doctor", "--gke-cluster", "other"]);
    assert!(both(&o).contains("GKE cluster `other` not found"), "{}", both(&o));
}

#[test]
fn kubectl_verbosity_and_go_durations_are_accepted() {
    let w = TestWorld::start("healthy");
    // One 503 from Compute on the subnet list (kube-rs would retry a Kubernetes one silently): at
    // -v the retry is reported, without it not.
    let doctor = |v: &[&str]| {
        w.sim
            .with_world(|w| w.inject_once.push(("GET".into(), "/subnetworks".into(), 503)));
        let mut args = vec!["doctor", "-o", "json"];
        args.extend_from_slice(v);
        let o = w.run(&args);
        ok(&o);
        stderr(&o).matches("retry:").count()
    };
    assert_eq!(doctor(&[]), 0);
    assert_eq!(doctor(&["-v"]), 1);
    assert_eq!(doctor(&["-v=1"]), 1);
    assert_eq!(doctor(&["--v=6"]), 1);
    assert_eq!(doctor(&["--v", "2"]), 1);
    assert_eq!(doctor(&["-v=0"]), 0);
    assert_eq!(w.run(&["doctor", "--v=high"]).status.code(), Some(64));
    ok(&w.run(&["install", "--dry-run", "--timeout", "1m30s"]));
    let o = w.run(&["install", "--dry-run", "--timeout", "5 fortnights"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(
        stderr(&o).contains("1m30s"),
        "the error shows the accepted forms: {}",
        stderr(&o)
    );
}

/// Run with stdout (and, with `both`, stderr) a pipe whose reader has gone away before anything
/// is written, as `| head -1` leaves it once it has its line.
fn closed_pipe(w: &TestWorld, args: &[&str], close_stderr: bool) -> (Option<i32>, String) {
    let mut cmd = std::process::Command::new(BIN);
    cmd.env_clear().envs(w.envs()).args(args).stdout(Stdio::piped());
    cmd.stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    drop(child.stdout.take());
    let err = if close_stderr {
        drop(child.stderr.take());
        String::new()
    } else {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut s).unwrap();
        s
    };
    (child.wait().unwrap().code(), err)
}

#[test]
fn a_closed_pipe_is_not_a_panic() {
    let w = TestWorld::start("healthy");
    for args in [
        &["completion", "zsh"][..],
        &["completion", "bash"],
        &["--help"],
        &["doctor"],
        &["doctor", "-o", "json"],
        &["install", "--dry-run", "-o", "yaml"],
        &["export", "--format", "yaml"],
        &["__complete", ""],
    ] {
        let (code, err) = closed_pipe(&w, args, false);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(
            !err.contains("Broken pipe"),
            "{args:?} says nothing about the pipe: {err}"
        );
        assert_eq!(code, Some(0), "{args:?}: {err}");
        // stderr closed as well (`2>&1 | head -1`).
        let (code, _) = closed_pipe(&w, args, true);
        assert_eq!(code, Some(0), "{args:?} with stderr closed too");
    }
    // And through a real shell pipeline, with pipefail so the plugin's status counts.
    let o = std::process::Command::new("bash")
        .env_clear()
        .envs(w.envs())
        .args(["-c", &format!("set -o pipefail; {BIN} completion zsh | head -1")])
        .output()
        .unwrap();
    assert_eq!(ok(&o).trim(), "#compdef kubectl-kasten_ilb");
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
}

//! The `gke-sim` binary itself: it writes the env file, prints `ready`, serves the real kubectl and
//! stops with exit 0 on SIGTERM. This test lives in gke-sim's own package so that `cargo test`
//! builds the binary first (`CARGO_BIN_EXE_gke-sim`), whatever was built before.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

fn which(bin: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(bin)).find(|p| p.is_file()))
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The gke-sim binary with `args` and `--env-file env_file`, once it has printed `ready`.
fn start(args: &[&str], env_file: &Path) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gke-sim"))
        .args(args)
        .arg("--env-file")
        .arg(env_file)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the gke-sim binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    child
}

/// SIGTERM, and the binary stops with exit 0.
fn stop(mut child: Child) {
    let _ = Command::new("kill").arg("-15").arg(child.id().to_string()).status();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit 0 on SIGTERM: {status:?}");
}

/// `kubectl ARGS` (the one at `kubectl`) with the env file sourced and its own cache directory.
fn kubectl(kubectl: &Path, env_file: &Path, cache: &Path, args: &str) -> Output {
    Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && {} --cache-dir {} {args}",
            env_file.display(),
            kubectl.display(),
            cache.display()
        ))
        .output()
        .unwrap()
}

#[test]
fn the_binary_writes_the_env_file_prints_ready_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("sim.env");
    let child = start(&["--scenario", "healthy", "--latency-ms", "5"], &env_file);
    let env = std::fs::read_to_string(&env_file).unwrap();
    for k in [
        "KUBECONFIG",
        "CLOUDSDK_CONFIG",
        "CLOUDSDK_CORE_PROJECT",
        "CLOUDSDK_AUTH_ACCESS_TOKEN",
        "CLOUDSDK_CORE_DISABLE_PROMPTS=1",
        "CLOUDSDK_CORE_CHECK_GCE_METADATA=false",
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE=http://127.0.0.1:",
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER=http://127.0.0.1:",
        "GOOGLE_APPLICATION_CREDENTIALS",
    ] {
        assert!(env.contains(&format!("export {k}")), "{k} missing from\n{env}");
    }
    let kubeconfig_path = env
        .lines()
        .find(|l| l.starts_with("export KUBECONFIG="))
        .unwrap()
        .trim_start_matches("export KUBECONFIG=")
        .to_string();
    let kubeconfig = std::fs::read_to_string(kubeconfig_path).unwrap();
    assert!(kubeconfig.contains("current-context: gke_kasten-demo_us-central1-a_kasten-demo"));
    if let Some(bin) = which("kubectl") {
        let o = kubectl(&bin, &env_file, &dir.path().join("c"), "get ingress -n kasten-io");
        assert!(ok(&o).contains("k10-ingress"));
    } else {
        eprintln!("SKIP: `kubectl` is not installed on this machine; the kubectl part of this test is skipped");
    }
    stop(child);
}

/// `--clusters` with `--cluster-latency` and `--overloaded-cluster-ms`, through the real kubectl: the
/// slow cluster answers later, the overloaded one not within kubectl's own deadline.
#[test]
fn a_fleet_has_slow_clusters_and_an_overloaded_one() {
    let Some(bin) = which("kubectl") else {
        eprintln!("SKIP: `kubectl` is not installed on this machine");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("fleet.env");
    let args = [
        "--clusters",
        "2",
        "--no-fleet-extras",
        "--cluster-latency",
        "fleet-001=400",
        "--overloaded-cluster-ms",
        "600000",
    ];
    let child = start(&args, &env_file);
    let cache = dir.path().join("c");
    let get_ns = |context: &str| {
        let start = std::time::Instant::now();
        let args = format!("--context {context} --request-timeout=3s get ns -o name");
        (kubectl(&bin, &env_file, &cache, &args), start.elapsed())
    };
    let (fast, t_fast) = get_ns("gke_kasten-fleet-prod_us-central1-a_fleet-000");
    assert!(ok(&fast).contains("namespace/kasten-io"));
    let (slow, t_slow) = get_ns("gke_kasten-fleet-prod-eu_europe-west1-b_fleet-001");
    assert!(ok(&slow).contains("namespace/kasten-io"));
    assert!(
        t_slow >= std::time::Duration::from_millis(400),
        "{t_slow:?} (fast: {t_fast:?})"
    );
    let (hung, t_hung) = get_ns("gke_kasten-fleet-prod_us-central1-a_overloaded");
    assert!(!hung.status.success(), "{}", String::from_utf8_lossy(&hung.stdout));
    let err = String::from_utf8_lossy(&hung.stderr);
    assert!(err.contains("Timeout") || err.contains("deadline"), "{err}");
    assert!(t_hung < std::time::Duration::from_secs(60), "{t_hung:?}");
    stop(child);
}

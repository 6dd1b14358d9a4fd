//! The `demo` feature: on by default; without it (`--no-default-features`) the plugin depends on
//! neither gke-sim nor an HTTP server (axum), and has no `demo` command.

use std::process::Command;

fn normal_deps(extra: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let o = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "--locked",
            "-p",
            "kubectl-kasten-ilb",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn has(tree: &str, krate: &str) -> bool {
    tree.lines().any(|l| l.starts_with(&format!("{krate} v")))
}

#[test]
fn without_the_demo_feature_there_is_no_simulator_and_no_http_server() {
    let default = normal_deps(&[]);
    assert!(has(&default, "gke-sim") && has(&default, "axum"), "{default}");
    let lean = normal_deps(&["--no-default-features"]);
    assert!(!has(&lean, "gke-sim"), "{lean}");
    assert!(!has(&lean, "axum"), "{lean}");
    // The Kubernetes and Google clients stay.
    assert!(has(&lean, "kube") && has(&lean, "reqwest"), "{lean}");
}

#[test]
#[cfg(feature = "demo")]
fn the_default_build_has_demo() {
    let o = Command::new(env!("CARGO_BIN_EXE_kubectl-kasten_ilb"))
        .args(["demo", "--help"])
        .output()
        .unwrap();
    assert!(o.status.success());
}

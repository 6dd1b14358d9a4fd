//! The binary behaves as a kubectl plugin: the real kubectl finds it, help reads as `kubectl
//! kasten-ilb`, completions and --version work.

mod common;

use common::*;

fn path_with_plugin() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    install_executable(BIN.as_ref(), &dir.path().join("kubectl-kasten_ilb"));
    let path = format!("{}:{}", dir.path().display(), std::env::var("PATH").unwrap_or_default());
    (dir, path)
}

#[test]
fn kubectl_finds_the_plugin_and_shows_its_help() {
    if which("kubectl").is_none() {
        eprintln!("SKIP: kubectl is not installed");
        return;
    }
    let (dir, path) = path_with_plugin();
    let home = tempfile::tempdir().unwrap();
    let o = std::process::Command::new("kubectl")
        .env("PATH", &path)
        .env("HOME", home.path())
        .args(["plugin", "list"])
        .output()
        .unwrap();
    let all = both(&o);
    assert!(
        all.contains(&format!("{}/kubectl-kasten_ilb", dir.path().display())),
        "{all}"
    );
    assert!(!all.to_lowercase().contains("warning"), "no warnings: {all}");
    let o = std::process::Command::new("kubectl")
        .env("PATH", &path)
        .env("HOME", home.path())
        .args(["kasten-ilb", "--help"])
        .output()
        .unwrap();
    let help = ok(&o);
    assert!(help.contains("Usage: kubectl kasten-ilb [OPTIONS] <COMMAND>"), "{help}");
    assert!(
        help.contains("install") && help.contains("doctor") && help.contains("Examples:"),
        "{help}"
    );
    insta::assert_snapshot!("kubectl_kasten_ilb_help", help);
}

#[test]
fn version_carries_the_commit_and_completions_generate() {
    let o = std::process::Command::new(BIN).arg("--version").output().unwrap();
    let v = ok(&o);
    // Named kubectl-kasten_ilb, it introduces itself as the kubectl plugin it is.
    assert!(v.starts_with("kubectl kasten-ilb 0.1.0 ("), "{v}");
    let commit = v.trim().trim_end_matches(')').rsplit('(').next().unwrap().to_string();
    assert!(
        commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit()) || commit == "unknown",
        "{v}"
    );
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let o = std::process::Command::new(BIN)
            .args(["completion", shell])
            .output()
            .unwrap();
        let s = ok(&o);
        assert!(s.contains("kasten") && s.contains("install"), "{shell}: {s}");
    }
    let o = std::process::Command::new(BIN)
        .args(["completion", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(64));
}

/// `kubectl __complete kasten-ilb ...` (what kubectl's shell completion runs on TAB), with the
/// helper written by `completion install-kubectl-helper` next to the plugin on PATH.
#[test]
fn kubectl_completes_the_plugin_through_the_helper() {
    if which("kubectl").is_none() {
        eprintln!("SKIP: kubectl is not installed");
        return;
    }
    let w = TestWorld::start("healthy");
    let (dir, path) = path_with_plugin();
    let plugin = dir.path().join("kubectl-kasten_ilb");
    // Run as kubectl would (argv[0] is the path found on PATH): the helper lands next to it.
    let o = std::process::Command::new(&plugin)
        .env("PATH", &path)
        .args(["completion", "install-kubectl-helper"])
        .output()
        .unwrap();
    ok(&o);
    let helper = dir.path().join("kubectl_complete-kasten_ilb");
    assert!(stderr(&o).contains(&helper.display().to_string()), "{}", stderr(&o));
    let envs: Vec<(String, String)> = w
        .envs()
        .into_iter()
        .map(|(k, v)| if k == "PATH" { (k, path.clone()) } else { (k, v) })
        .collect();
    let complete = |words: &[&str]| -> Vec<String> {
        let o = std::process::Command::new("kubectl")
            .env_clear()
            .envs(envs.clone())
            .args(["__complete", "kasten-ilb"])
            .args(words)
            .output()
            .unwrap();
        ok(&o)
            .lines()
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect()
    };
    let subs = complete(&[""]);
    assert!(
        subs.contains(&"install".into()) && subs.contains(&"doctor".into()),
        "{subs:?}"
    );
    assert_eq!(subs.last().unwrap(), ":4", "no file names: {subs:?}");
    assert_eq!(complete(&["unin"]), ["uninstall", ":4"]);
    assert_eq!(complete(&["doctor", "--no-e"]), ["--no-exec", ":4"]);
    assert_eq!(complete(&["doctor", "-o", "j"]), ["json", ":4"]);
    // Values from the kubeconfig and, best effort, from the cluster.
    assert_eq!(complete(&["--context", ""]), [w.sim.context_name().as_str(), ":4"]);
    let ns = complete(&["doctor", "-n", "kas"]);
    assert_eq!(ns, ["kasten-io", ":4"]);
    let ing = complete(&["install", "--ingress-name", ""]);
    assert_eq!(ing, ["k10-ingress", ":4"]);
    // Without the helper kubectl has nothing to offer for the plugin's arguments.
    std::fs::remove_file(&helper).unwrap();
    assert!(!complete(&[""]).contains(&"install".into()));
}

#[test]
fn the_helper_installer_says_where_and_refuses_an_unwritable_dir() {
    let dir = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(BIN)
        .args(["completion", "install-kubectl-helper", "--dir"])
        .arg(dir.path())
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    ok(&o);
    let helper = dir.path().join("kubectl_complete-kasten_ilb");
    let text = std::fs::read_to_string(&helper).unwrap();
    assert_eq!(text, include_str!("../scripts/kubectl_complete-kasten_ilb"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&helper).unwrap().permissions().mode() & 0o777, 0o755);
    assert!(stderr(&o).contains("is not on PATH"), "{}", stderr(&o));
    let o = std::process::Command::new(BIN)
        .args(["completion", "install-kubectl-helper", "--dir", "/nonexistent/dir"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert!(stderr(&o).contains("cannot write /nonexistent/dir/kubectl_complete-kasten_ilb"));
}

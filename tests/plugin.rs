//! The binary behaves as a kubectl plugin: the real kubectl finds it, help reads as `kubectl
//! kasten-ilb`, completions and --version work.

mod common;

use common::*;

fn path_with_plugin() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(BIN, dir.path().join("kubectl-kasten_ilb")).unwrap();
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

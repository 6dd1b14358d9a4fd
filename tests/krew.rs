//! The krew manifest template renders to a manifest that passes every rule krew's validator
//! enforces, and the release archive holds what krew installs.

mod common;

use std::collections::BTreeSet;

use serde_json::Value;

const TEMPLATE: &str = include_str!("../krew/kasten-ilb.yaml");

/// Render as krew-release-bot does: `{{ .TagName }}`, and `addURIAndSha URL TAG` ->
/// `uri: URL\n    sha256: SHA` (the bot's 4-space continuation).
fn render(tag: &str) -> String {
    let mut out = String::new();
    for line in TEMPLATE.lines() {
        let l = line.replace("{{ .TagName }}", tag);
        if let Some(start) = l.find("{{addURIAndSha \"") {
            let rest = &l[start + "{{addURIAndSha \"".len()..];
            let url = &rest[..rest.find('"').unwrap()];
            assert!(
                rest.trim_end().ends_with("\" .TagName }}"),
                "two arguments, the URL and .TagName: {line}"
            );
            let sha = stand_in_sha(url);
            out.push_str(&format!("{}uri: {url}\n    sha256: {sha}\n", &l[..start]));
        } else {
            out.push_str(&l);
            out.push('\n');
        }
    }
    assert!(!out.contains("{{"), "unrendered action left:\n{out}");
    out
}

fn stand_in_sha(s: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn is_semver_v(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else { return false };
    let core = rest.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) && (p.len() == 1 || !p.starts_with('0')))
}

#[test]
fn the_rendered_manifest_passes_krews_validation_rules() {
    let m: Value = serde_yaml::from_str(&render("v0.1.0")).unwrap();
    assert_eq!(m["apiVersion"], "krew.googlecontainertools.github.com/v1alpha2");
    assert_eq!(m["kind"], "Plugin");
    let name = m["metadata"]["name"].as_str().unwrap();
    assert!(
        name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-'),
        "name matches ^[\\w-]+$"
    );
    assert_eq!(
        format!("{name}.yaml"),
        "kasten-ilb.yaml",
        "the name equals the file name"
    );
    assert!(!["con", "prn", "aux", "nul"].contains(&name));
    let spec = &m["spec"];
    let sd = spec["shortDescription"].as_str().unwrap();
    assert!(
        !sd.is_empty() && !sd.contains('\n') && sd.len() < 60,
        "one-line shortDescription"
    );
    assert!(is_semver_v(spec["version"].as_str().unwrap()));
    assert!(!spec["description"].as_str().unwrap().is_empty());
    let platforms = spec["platforms"].as_array().unwrap();
    let supported: BTreeSet<(&str, &str)> = [
        ("windows", "386"),
        ("windows", "amd64"),
        ("windows", "arm64"),
        ("linux", "386"),
        ("linux", "amd64"),
        ("linux", "arm"),
        ("linux", "arm64"),
        ("linux", "ppc64le"),
        ("darwin", "386"),
        ("darwin", "amd64"),
        ("darwin", "arm64"),
    ]
    .into_iter()
    .collect();
    let mut seen = BTreeSet::new();
    for p in platforms {
        let labels = p["selector"]["matchLabels"].as_object().expect("matchLabels");
        assert!(
            !labels.is_empty() && labels.keys().all(|k| k == "os" || k == "arch"),
            "{p}"
        );
        let os = labels["os"].as_str().unwrap();
        let arch = labels["arch"].as_str().unwrap();
        assert!(supported.contains(&(os, arch)), "{os}/{arch} is a krew platform");
        assert!(seen.insert((os, arch)), "selectors do not overlap: {os}/{arch}");
        let sha = p["sha256"].as_str().unwrap();
        assert!(
            sha.len() == 64 && sha.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
            "lowercase 64-hex sha256"
        );
        let uri = p["uri"].as_str().unwrap();
        let bin = p["bin"].as_str().unwrap();
        if os == "windows" {
            assert_eq!(bin, "kubectl-kasten_ilb.exe");
            assert!(
                uri.ends_with(&format!("kubectl-kasten_ilb_v0.1.0_{os}_{arch}.zip")),
                "{uri}"
            );
        } else {
            assert_eq!(bin, "kubectl-kasten_ilb");
            assert!(
                uri.ends_with(&format!("kubectl-kasten_ilb_v0.1.0_{os}_{arch}.tar.gz")),
                "{uri}"
            );
        }
        assert!(uri.starts_with("https://github.com/") && uri.contains("/releases/download/v0.1.0/"));
        assert!(p
            .get("files")
            .is_none_or(|f| f.as_array().is_some_and(|a| !a.is_empty())));
    }
    let want: BTreeSet<(&str, &str)> = [
        ("linux", "amd64"),
        ("linux", "arm64"),
        ("darwin", "amd64"),
        ("darwin", "arm64"),
        ("windows", "amd64"),
    ]
    .into_iter()
    .collect();
    assert_eq!(seen, want);
}

#[test]
fn the_linux_archive_holds_the_binary_license_and_readme() {
    let out = tempfile::tempdir().unwrap();
    let o = std::process::Command::new("bash")
        .args([
            "scripts/package.sh",
            common::BIN,
            "v0.1.0",
            "linux",
            "amd64",
            out.path().to_str().unwrap(),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let printed = common::ok(&o);
    let (archive, sha) = printed.trim().split_once(' ').unwrap();
    assert!(archive.ends_with("kubectl-kasten_ilb_v0.1.0_linux_amd64.tar.gz"));
    assert!(sha.len() == 64 && sha.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    let list = common::ok(
        &std::process::Command::new("tar")
            .args(["tzvf", archive])
            .output()
            .unwrap(),
    );
    let names: Vec<&str> = list.lines().map(|l| l.rsplit(' ').next().unwrap()).collect();
    assert_eq!(names, ["kubectl-kasten_ilb", "LICENSE", "README.md"]);
    assert!(
        list.lines().next().unwrap().starts_with("-rwxr-xr-x"),
        "the binary is executable: {list}"
    );
    // krew wants a license file named license, license.txt, copying, ... (case-insensitive).
    assert!(names.iter().any(|n| n.eq_ignore_ascii_case("license")));
    // Reproducible: the same input gives the same archive.
    let again = common::ok(
        &std::process::Command::new("bash")
            .args([
                "scripts/package.sh",
                common::BIN,
                "v0.1.0",
                "linux",
                "amd64",
                out.path().to_str().unwrap(),
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap(),
    );
    assert_eq!(again.trim().split_once(' ').unwrap().1, sha);
}

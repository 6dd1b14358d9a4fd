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
    let m: Value = serde_norway::from_str(&render("v0.1.0")).unwrap();
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
    assert_eq!(
        names,
        [
            "kubectl-kasten_ilb",
            "LICENSE",
            "README.md",
            "kubectl_complete-kasten_ilb"
        ]
    );
    let lines: Vec<&str> = list.lines().collect();
    assert!(lines[0].starts_with("-rwxr-xr-x"), "the binary is executable: {list}");
    assert!(
        lines[3].starts_with("-rwxr-xr-x"),
        "the completion helper is executable: {list}"
    );
    assert!(lines[1].starts_with("-rw-r--r--"), "{list}");
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

fn dry_run(os: &str) -> String {
    let o = std::process::Command::new("bash")
        .args(["scripts/package.sh", "--dry-run", "BIN", "v0.1.0", os, "amd64", "/out"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    common::ok(&o)
}

/// What each release runner runs, from the script's dry run: each platform's own tools, with the
/// flags that tool has (checked here for linux by the real run above; darwin's bsdtar and
/// Windows' 7-Zip are checked by their flags).
#[test]
fn the_dry_run_uses_each_runners_own_tools() {
    let linux = dry_run("linux");
    assert!(
        linux.contains(
            "tar -C STAGE --owner=0 --group=0 --numeric-owner -czf /out/kubectl-kasten_ilb_v0.1.0_linux_amd64.tar.gz \
             kubectl-kasten_ilb LICENSE README.md kubectl_complete-kasten_ilb"
        ),
        "{linux}"
    );
    assert!(linux.lines().last().unwrap().starts_with("sha256sum /out/"), "{linux}");

    // macOS has bsdtar: no --owner/--group/--mtime (GNU only); --uid/--gid instead, and the
    // fixed time comes from touch. No sha256sum: shasum -a 256.
    let darwin = dry_run("darwin");
    let tar = darwin.lines().find(|l| l.starts_with("tar ")).unwrap();
    for gnu_only in ["--owner", "--group", "--mtime", "--sort"] {
        assert!(!tar.contains(gnu_only), "bsdtar has no {gnu_only}: {tar}");
    }
    assert!(
        tar.contains("--uid 0 --gid 0") && tar.ends_with("kubectl_complete-kasten_ilb"),
        "{tar}"
    );
    assert!(darwin.contains("touch -t 202601010000 "), "{darwin}");
    assert_eq!(
        darwin.lines().last().unwrap(),
        "shasum -a 256 /out/kubectl-kasten_ilb_v0.1.0_darwin_amd64.tar.gz"
    );
    assert!(!darwin.contains("sha256sum"), "{darwin}");

    // Git Bash on Windows runners has no zip: 7-Zip makes the archive.
    let windows = dry_run("windows");
    assert!(
        !windows.lines().any(|l| l.starts_with("zip ") || l.contains("&& zip ")),
        "{windows}"
    );
    assert!(
        windows.contains(
            "cd STAGE && 7z a -tzip -bso0 -bsp0 /out/kubectl-kasten_ilb_v0.1.0_windows_amd64.zip \
             kubectl-kasten_ilb.exe LICENSE README.md\n"
        ),
        "{windows}"
    );
    assert!(windows.contains("STAGE/kubectl-kasten_ilb.exe"), "{windows}");
    assert!(
        !windows.contains("kubectl_complete"),
        "the sh helper is not for Windows: {windows}"
    );

    // A dry run touches nothing; a wrong OS is a usage error.
    assert!(!std::path::Path::new("/out").exists());
    let o = std::process::Command::new("bash")
        .args([
            "scripts/package.sh",
            "--dry-run",
            "BIN",
            "v0.1.0",
            "plan9",
            "amd64",
            "/out",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(64));
}

/// The release workflow packages with the script, in bash on every runner (Windows included),
/// and sums with the tool of the Linux runner that publishes.
#[test]
fn the_release_workflow_packages_with_the_script_in_bash() {
    let wf = include_str!("../.github/workflows/release.yml");
    let package = wf.split("- name: Package").nth(1).unwrap();
    let package = package.split("- uses:").next().unwrap();
    assert!(package.contains("shell: bash"), "{package}");
    assert!(package.contains("scripts/package.sh "), "{package}");
    assert!(!wf.contains("zip -"), "no zip on Windows runners");
}

/// krew's guide: the description says what the plugin does and why (not a list of commands);
/// the caveats say only what users must do.
#[test]
fn the_description_follows_krews_guide_and_the_caveats_are_actions() {
    let m: Value = serde_norway::from_str(&render("v0.1.0")).unwrap();
    let d = m["spec"]["description"].as_str().unwrap();
    for command in ["`install`", "`doctor`", "`uninstall`", "`status`", "`export`", "`demo`"] {
        assert!(!d.contains(command), "no command list in the description: {command}");
    }
    assert!(d.contains("internal") && d.contains("VPC"), "{d}");
    let caveats = m["spec"]["caveats"].as_str().unwrap();
    let commands: Vec<&str> = caveats.lines().filter(|l| l.starts_with("  ")).map(str::trim).collect();
    assert_eq!(
        commands,
        [
            "gcloud auth application-default login",
            "kubectl kasten-ilb completion install-kubectl-helper"
        ]
    );
}

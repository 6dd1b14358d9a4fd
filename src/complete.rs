//! Completion through kubectl. kubectl (1.26+) completes `kubectl kasten-ilb <TAB>` by running an
//! executable `kubectl_complete-kasten_ilb` from PATH with the words typed after `kasten-ilb`; that
//! helper (scripts/kubectl_complete-kasten_ilb, shipped in the archives and written by `completion
//! install-kubectl-helper`) runs the hidden `kubectl-kasten_ilb __complete WORDS...`, which answers
//! in Cobra's format: one candidate a line (`value<TAB>description`), then `:<directive>`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Arg, CommandFactory};

use crate::cli::{Cli, Global};

/// The helper script, as shipped in the release archives.
pub const HELPER: &str = include_str!("../scripts/kubectl_complete-kasten_ilb");
pub const HELPER_NAME: &str = "kubectl_complete-kasten_ilb";

/// Cobra's ShellCompDirective values we use.
pub const DEFAULT: u32 = 0;
pub const NO_FILE_COMP: u32 = 4;

/// How long cluster look-ups may take before completion gives up on them (a TAB must not hang).
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// Where values come from that clap does not know: the kubeconfig and the cluster.
pub trait Source {
    fn values(&self, arg_id: &str, flags: &[(String, String)]) -> Vec<String>;
}

/// Candidates for the last word (the one being typed; `""` for a new word) and Cobra's directive.
pub fn candidates(words: &[String], source: &dyn Source) -> (Vec<String>, u32) {
    let mut root = Cli::command();
    root.build();
    let (cur, done) = match words.split_last() {
        Some((c, d)) => (c.as_str(), d),
        None => ("", &[][..]),
    };
    let w = walk(&root, done);
    let cmd = w.cmd;
    if let Some(a) = w.pending {
        return values_for(a, cur, "", &w.flags, source);
    }
    if let Some((name, value)) = cur.strip_prefix("--").and_then(|l| l.split_once('=')) {
        return match cmd.get_arguments().find(|a| a.get_long() == Some(name)) {
            Some(a) => values_for(a, value, &format!("--{name}="), &w.flags, source),
            None => (Vec::new(), NO_FILE_COMP),
        };
    }
    let mut out = Vec::new();
    if cur.starts_with('-') {
        for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            if let Some(long) = a.get_long() {
                push(&mut out, &format!("--{long}"), a.get_help().map(|h| h.to_string()), cur);
            }
        }
        return (out, NO_FILE_COMP);
    }
    for s in cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        push(&mut out, s.get_name(), s.get_about().map(|h| h.to_string()), cur);
    }
    for a in cmd.get_positionals() {
        for v in a.get_possible_values().iter().filter(|v| !v.is_hide_set()) {
            push(&mut out, v.get_name(), v.get_help().map(|h| h.to_string()), cur);
        }
    }
    (out, NO_FILE_COMP)
}

/// Where the words typed before the current one lead.
struct Walk<'a> {
    /// The innermost subcommand named.
    cmd: &'a clap::Command,
    /// A flag that still waits for its value (the current word is that value).
    pending: Option<&'a Arg>,
    /// Flag values typed so far, by argument id (they steer the cluster look-ups).
    flags: Vec<(String, String)>,
}

fn walk<'a>(root: &'a clap::Command, done: &[String]) -> Walk<'a> {
    let mut w = Walk {
        cmd: root,
        pending: None,
        flags: Vec::new(),
    };
    for word in done {
        if let Some(a) = w.pending.take() {
            w.flags.push((a.get_id().to_string(), word.clone()));
            continue;
        }
        let cmd = w.cmd;
        if let Some(long) = word.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let Some(a) = cmd.get_arguments().find(|a| a.get_long() == Some(name)) else {
                continue;
            };
            match value {
                Some(v) => w.flags.push((a.get_id().to_string(), v.to_string())),
                None if takes_value(a) => w.pending = Some(a),
                None => {}
            }
        } else if let Some(short) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            let mut chars = short.chars();
            let c = chars.next().unwrap_or_default();
            let Some(a) = cmd.get_arguments().find(|a| a.get_short() == Some(c)) else {
                continue;
            };
            // `-n NS`, `-nNS` or `-n=NS`; a flag without a value (`-vv`) says nothing.
            let rest = chars.as_str().trim_start_matches('=');
            if takes_value(a) && rest.is_empty() {
                w.pending = Some(a);
            } else if takes_value(a) {
                w.flags.push((a.get_id().to_string(), rest.to_string()));
            }
        } else if let Some(sub) = cmd.find_subcommand(word) {
            w.cmd = sub;
        }
    }
    w
}

fn takes_value(a: &Arg) -> bool {
    a.get_action().takes_values()
}

fn push(out: &mut Vec<String>, value: &str, help: Option<String>, prefix: &str) {
    if !value.starts_with(prefix) {
        return;
    }
    match help.as_deref().and_then(|h| h.lines().next()).filter(|h| !h.is_empty()) {
        Some(h) => out.push(format!("{value}\t{h}")),
        None => out.push(value.to_string()),
    }
}

fn values_for(a: &Arg, cur: &str, prefix: &str, flags: &[(String, String)], source: &dyn Source) -> (Vec<String>, u32) {
    let id = a.get_id().as_str();
    if matches!(id, "kubeconfig" | "dir") {
        // A path: let the shell complete file names.
        return (Vec::new(), DEFAULT);
    }
    let mut out = Vec::new();
    for v in a.get_possible_values().iter().filter(|v| !v.is_hide_set()) {
        push(
            &mut out,
            &format!("{prefix}{}", v.get_name()),
            v.get_help().map(|h| h.to_string()),
            &format!("{prefix}{cur}"),
        );
    }
    for v in source.values(id, flags) {
        push(&mut out, &format!("{prefix}{v}"), None, &format!("{prefix}{cur}"));
    }
    (out, NO_FILE_COMP)
}

/// The real sources: contexts, clusters and users from the kubeconfig; namespaces and Ingresses
/// from the cluster, best effort, within a few seconds.
pub struct Live;

impl Source for Live {
    fn values(&self, arg_id: &str, flags: &[(String, String)]) -> Vec<String> {
        match arg_id {
            "context" | "kube_cluster" | "user" => kubeconfig_names(arg_id, flags),
            "namespace" | "ingress_name" => cluster_names(arg_id, flags),
            _ => Vec::new(),
        }
    }
}

/// The global flags typed so far, as a `Global` (what `kube::connect` takes).
fn global_from(flags: &[(String, String)]) -> Global {
    let mut root = Cli::command();
    root.build();
    let mut argv: Vec<String> = vec!["kubectl-kasten_ilb".into()];
    for (id, value) in flags {
        let global = root.get_arguments().find(|a| a.get_id() == id && a.is_global_set());
        if let Some(long) = global.and_then(|a| a.get_long()) {
            argv.push(format!("--{long}={value}"));
        }
    }
    argv.push("doctor".into());
    let cli = <Cli as clap::Parser>::try_parse_from(&argv)
        .or_else(|_| <Cli as clap::Parser>::try_parse_from(["kubectl-kasten_ilb", "doctor"]));
    let mut g = cli.expect("`doctor` alone parses").global;
    g.request_timeout = Some(LOOKUP_TIMEOUT);
    g
}

fn kubeconfig_names(arg_id: &str, flags: &[(String, String)]) -> Vec<String> {
    let g = global_from(flags);
    let kc = match &g.kubeconfig {
        Some(p) => kube::config::Kubeconfig::read_from(p),
        None => kube::config::Kubeconfig::read(),
    };
    let Ok(kc) = kc else { return Vec::new() };
    match arg_id {
        "context" => kc.contexts.into_iter().map(|c| c.name).collect(),
        "kube_cluster" => kc.clusters.into_iter().map(|c| c.name).collect(),
        _ => kc.auth_infos.into_iter().map(|u| u.name).collect(),
    }
}

fn cluster_names(arg_id: &str, flags: &[(String, String)]) -> Vec<String> {
    let g = global_from(flags);
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        return Vec::new();
    };
    rt.block_on(async {
        let lookup = async {
            let kube = crate::kube::connect(&g, &crate::printer::Printer::plain()).await.ok()?;
            let lp = kube::api::ListParams::default();
            let names: Vec<String> = if arg_id == "namespace" {
                let api: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(kube.client.clone());
                api.list_metadata(&lp)
                    .await
                    .ok()?
                    .items
                    .into_iter()
                    .filter_map(|n| n.metadata.name)
                    .collect()
            } else {
                let api: kube::Api<k8s_openapi::api::networking::v1::Ingress> = kube.api();
                api.list_metadata(&lp)
                    .await
                    .ok()?
                    .items
                    .into_iter()
                    .filter_map(|n| n.metadata.name)
                    .collect()
            };
            Some(names)
        };
        tokio::time::timeout(LOOKUP_TIMEOUT, lookup)
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    })
}

/// `kubectl-kasten_ilb __complete WORDS...`: print the candidates in Cobra's format.
pub fn run(words: &[String]) -> std::io::Result<()> {
    let (values, directive) = candidates(words, &Live);
    let mut text = String::new();
    for v in values {
        text.push_str(&v);
        text.push('\n');
    }
    text.push_str(&format!(":{directive}\n"));
    std::io::stdout().lock().write_all(text.as_bytes())
}

/// Where the helper goes by default: next to the plugin as kubectl found it on PATH (argv[0], a
/// krew symlink stays a symlink), else the directory of the running executable.
pub fn default_helper_dir() -> Option<PathBuf> {
    let argv0 = std::env::args_os().next().map(PathBuf::from)?;
    if argv0.components().count() > 1 {
        return argv0.parent().map(Path::to_path_buf);
    }
    let on_path =
        std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).find(|d| d.join(&argv0).is_file()));
    on_path.or_else(|| std::env::current_exe().ok()?.parent().map(Path::to_path_buf))
}

/// Write the helper into `dir`, executable; returns its path.
pub fn install_helper(dir: &Path) -> std::io::Result<PathBuf> {
    let path = dir.join(HELPER_NAME);
    std::fs::write(&path, HELPER)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;

    impl Source for Fixed {
        fn values(&self, arg_id: &str, flags: &[(String, String)]) -> Vec<String> {
            match arg_id {
                "context" => vec!["gke_p_l_c".into(), "kind-dev".into()],
                // Echo the namespace typed so far, to show flags reach the source.
                "ingress_name" => flags
                    .iter()
                    .filter(|(k, _)| k == "namespace")
                    .map(|(_, v)| format!("in-{v}"))
                    .collect(),
                _ => Vec::new(),
            }
        }
    }

    fn complete(words: &[&str]) -> (Vec<String>, u32) {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        candidates(&words, &Fixed)
    }

    fn values(words: &[&str]) -> Vec<String> {
        complete(words)
            .0
            .into_iter()
            .map(|c| c.split('\t').next().unwrap().to_string())
            .collect()
    }

    #[test]
    fn subcommands_with_descriptions_and_no_file_completion() {
        let (c, d) = complete(&[""]);
        assert_eq!(d, NO_FILE_COMP);
        assert!(c.iter().any(|c| c.starts_with("install\tPlan, confirm")), "{c:?}");
        assert_eq!(values(&["do"]), ["doctor"]);
        assert!(!values(&[""]).iter().any(|v| v == "help" || v.starts_with("__")));
    }

    #[test]
    fn flags_of_the_subcommand_and_the_global_ones() {
        let v = values(&["install", "--"]);
        assert!(
            v.contains(&"--dry-run".to_string()) && v.contains(&"--context".to_string()),
            "{v:?}"
        );
        assert_eq!(values(&["doctor", "--no-e"]), ["--no-exec"]);
        assert!(!values(&["doctor", "--"]).contains(&"--dry-run".to_string()));
    }

    #[test]
    fn flag_values_from_enums_and_sources() {
        assert_eq!(values(&["doctor", "-o", ""]), ["table", "json", "yaml"]);
        assert_eq!(values(&["export", "--format=g"]), ["--format=gcloud"]);
        assert_eq!(values(&["--context", "kind"]), ["kind-dev"]);
        assert_eq!(values(&["install", "--context=g"]), ["--context=gke_p_l_c"]);
        assert_eq!(
            values(&["-n", "backup", "install", "--ingress-name", ""]),
            ["in-backup"]
        );
        assert_eq!(values(&["install", "-nbackup", "--ingress-name", ""]), ["in-backup"]);
        assert_eq!(values(&["completion", "z"]), ["zsh"]);
        assert!(values(&["completion", ""]).contains(&"install-kubectl-helper".to_string()));
        // Paths are left to the shell.
        assert_eq!(complete(&["--kubeconfig", ""]), (Vec::new(), DEFAULT));
    }

    #[test]
    fn the_helper_asks_the_plugin() {
        assert!(HELPER.starts_with("#!/bin/sh\n"));
        assert!(HELPER.contains("__complete \"$@\""));
    }
}

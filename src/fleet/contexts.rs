//! Which contexts a fleet run checks: every one (`--all-contexts`) or those whose names match
//! `--contexts`, in kubeconfig order, with contexts for the same cluster (the same server URL, or
//! the same `gke_PROJECT_LOCATION_CLUSTER`) folded into one target that lists its aliases.

use std::path::Path;

use kube::config::Kubeconfig;
use regex::Regex;

use super::FleetArgs;
use crate::cli::Global;
use crate::discover::{parse_context, ClusterRef};
use crate::error;

/// One cluster to check, through its first context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub context: String,
    /// Other selected contexts for the same cluster (checked once, through `context`).
    pub aliases: Vec<String>,
    pub server: String,
    /// The exec credential plugin the context needs when it is not on PATH (`gke-gcloud-auth-plugin`).
    pub missing_exec: Option<String>,
}

const PATH: &str = "PATH";

fn patterns(f: &FleetArgs) -> anyhow::Result<Vec<Regex>> {
    f.contexts
        .iter()
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            Regex::new(p.trim()).map_err(|e| {
                error::usage(
                    format!("--contexts `{p}` is not a regular expression: {e}"),
                    "write it as Rust's regex crate reads it, e.g. `^gke_.*_prod-`",
                )
            })
        })
        .collect()
}

/// Whether `command` (an exec credential plugin) can be run: a path that exists, or a name on PATH.
fn on_path(command: &str) -> bool {
    if command.contains('/') {
        return Path::new(command).exists();
    }
    let path = crate::env::var(PATH).unwrap_or_default();
    std::env::split_paths(&path).any(|d| d.join(command).is_file())
}

/// The kubeconfig (read once for the whole run) and its selected contexts, grouped by cluster.
pub fn select(g: &Global, f: &FleetArgs) -> anyhow::Result<(Kubeconfig, Vec<Target>)> {
    if g.context.is_some() {
        return Err(error::usage(
            "--context names one cluster; --all-contexts and --contexts name a fleet",
            "drop --context, or pick the fleet with --contexts REGEX",
        ));
    }
    let kc = crate::kube::read_kubeconfig(g, "point at a kubeconfig with --kubeconfig or KUBECONFIG")?;
    let pats = patterns(f)?;
    let chosen: Vec<&str> = kc
        .contexts
        .iter()
        .map(|c| c.name.as_str())
        .filter(|n| f.all_contexts || pats.iter().any(|p| p.is_match(n)))
        .collect();
    if chosen.is_empty() {
        let all: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
        return Err(error::usage(
            format!(
                "no context of the kubeconfig matches --contexts {}",
                f.contexts.join(",")
            ),
            format!("the contexts are: {}", all.join(", ")),
        ));
    }
    let targets = group(chosen.iter().map(|n| describe(&kc, n)).collect());
    Ok((kc, targets))
}

/// A context's server, GKE cluster (from its name) and missing exec plugin.
fn describe(kc: &Kubeconfig, name: &str) -> (Target, Option<ClusterRef>) {
    let ctx = kc
        .contexts
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.context.as_ref());
    let cluster = ctx.map(|c| c.cluster.as_str()).unwrap_or_default();
    let server = kc
        .clusters
        .iter()
        .find(|c| c.name == cluster)
        .and_then(|c| c.cluster.as_ref()?.server.clone())
        .unwrap_or_default();
    let user = ctx.and_then(|c| c.user.as_deref()).unwrap_or_default();
    let missing_exec = kc
        .auth_infos
        .iter()
        .find(|u| u.name == user)
        .and_then(|u| u.auth_info.as_ref()?.exec.as_ref()?.command.clone())
        .filter(|cmd| !on_path(cmd));
    let target = Target {
        context: name.to_string(),
        aliases: vec![],
        server: server.trim_end_matches('/').to_string(),
        missing_exec,
    };
    (target, parse_context(name))
}

/// Fold contexts for the same cluster into the first one (kubeconfig order is kept).
pub fn group(contexts: Vec<(Target, Option<ClusterRef>)>) -> Vec<Target> {
    let mut out: Vec<(Target, Vec<ClusterRef>)> = vec![];
    for (t, r) in contexts {
        let same = out.iter_mut().find(|(o, refs)| {
            (!t.server.is_empty() && o.server == t.server) || r.as_ref().is_some_and(|r| refs.contains(r))
        });
        match same {
            Some((o, refs)) => {
                o.aliases.push(t.context);
                refs.extend(r);
            }
            None => out.push((t, r.into_iter().collect())),
        }
    }
    out.into_iter().map(|(t, _)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(context: &str, server: &str) -> (Target, Option<ClusterRef>) {
        let target = Target {
            context: context.into(),
            aliases: vec![],
            server: server.into(),
            missing_exec: None,
        };
        (target, parse_context(context))
    }

    #[test]
    fn contexts_for_one_cluster_are_checked_once() {
        let got = group(vec![
            t("gke_p_us-central1-a_a", "https://10.0.0.1"),
            t("gke_p_us-central1-a_b", "https://10.0.0.2"),
            t("a-by-ip", "https://10.0.0.1"),
            t("gke_p_us-central1-a_b", "https://b.example"),
            t("kind", ""),
            t("kind-2", ""),
        ]);
        let names: Vec<(&str, Vec<String>)> = got.iter().map(|t| (t.context.as_str(), t.aliases.clone())).collect();
        assert_eq!(
            names,
            [
                ("gke_p_us-central1-a_a", vec!["a-by-ip".to_string()]),
                ("gke_p_us-central1-a_b", vec!["gke_p_us-central1-a_b".to_string()]),
                ("kind", vec![]),
                ("kind-2", vec![]),
            ]
        );
    }

    #[test]
    fn exec_plugins_are_looked_up_on_path() {
        assert!(!on_path("/nonexistent/gke-gcloud-auth-plugin"));
        assert!(!on_path("kasten-ilb-no-such-plugin-9f3a"));
    }
}

//! Checking the clusters: at most `--parallel` at once, each within `--per-cluster-timeout`, every
//! one ending as a [`Row`] (an unreachable cluster or a rejected credential is a row, not the end).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::config::Kubeconfig;

use super::contexts::Target;
use super::{Checked, FleetArgs, Mode, Row};
use crate::cli::{DoctorArgs, Global};
use crate::commands::status;
use crate::doctor::{self, render, Facts};
use crate::error::{self, exit};
use crate::gcp::quota::Quota;
use crate::gcp::Gcp;
use crate::printer::Printer;

/// The Google client every cluster of the run shares (one credential, one quota per project and API).
pub fn shared_gcp(p: &Printer) -> anyhow::Result<Gcp> {
    Ok(Gcp::new(p)?.with_quota(Arc::new(Quota::default())))
}

/// Run `check` on every target, `--parallel` at a time, with one progress line per finished
/// cluster on a terminal.
pub async fn each<F, Fut>(targets: Vec<Target>, f: &FleetArgs, p: &Printer, check: F) -> Vec<Row>
where
    F: Fn(Target) -> Fut,
    Fut: std::future::Future<Output = Row>,
{
    let total = targets.len();
    let deadline = f.per_cluster_timeout;
    futures::stream::iter(targets)
        .map(|t| within(deadline, t, &check))
        .buffer_unordered(usize::from(f.parallel))
        .enumerate()
        .map(|(i, row)| {
            if p.stderr_tty {
                p.status("Checked", &progress_line(&row, i + 1, total));
            }
            row
        })
        .collect()
        .await
}

fn progress_line(row: &Row, done: usize, total: usize) -> String {
    format!(
        "{} {} in {:.1}s ({done}/{total})",
        row.context,
        row.verdict().label(),
        row.elapsed.as_secs_f64()
    )
}

/// `check(t)`, or an error row when it takes longer than `deadline`.
async fn within<F, Fut>(deadline: Duration, t: Target, check: &F) -> Row
where
    F: Fn(Target) -> Fut,
    Fut: std::future::Future<Output = Row>,
{
    let start = Instant::now();
    let (context, aliases) = (t.context.clone(), t.aliases.clone());
    match tokio::time::timeout(deadline, check(t)).await {
        Ok(row) => row,
        Err(_) => {
            let e = error::environment(
                format!("no answer within {}s (--per-cluster-timeout)", deadline.as_secs()),
                "check that the cluster is reachable (`kubectl get ns --context ...`), or raise --per-cluster-timeout",
            );
            error_row(context, aliases, &e, start.elapsed())
        }
    }
}

/// A cluster that could not be checked, with the reason and hint single doctor would print.
pub fn error_row(context: String, aliases: Vec<String>, e: &anyhow::Error, elapsed: Duration) -> Row {
    let (hint, code) = match error::find(e) {
        Some(c) => (c.hint.clone(), c.exit_code()),
        None => (None, exit::FAILED),
    };
    Row {
        context,
        aliases,
        cluster: None,
        mode: Mode::None,
        outcome: Checked::Error {
            message: format!("{e:#}"),
            hint,
            code,
        },
        elapsed,
    }
}

/// The error of a context whose exec credential plugin is not installed.
pub fn missing_plugin(context: &str, command: &str) -> anyhow::Error {
    let hint = if command.ends_with("gke-gcloud-auth-plugin") {
        "install it: `gcloud components install gke-gcloud-auth-plugin` (or your OS package \
         `google-cloud-cli-gke-gcloud-auth-plugin`)"
            .to_string()
    } else {
        format!("install `{command}`, or fix the user of context `{context}` in the kubeconfig")
    };
    error::environment(
        format!("context `{context}` gets its credentials from `{command}`, which is not on PATH"),
        hint,
    )
}

/// The Global of one context of the fleet.
pub fn for_context(g: &Global, context: &str) -> Global {
    let mut g = g.clone();
    g.context = Some(context.to_string());
    g
}

/// How the dashboard is exposed: the Ingress, a Gateway (doctor's Gateway mode), or nothing.
pub fn mode(f: &Facts) -> Mode {
    if crate::doctor::checks::gateway::mode(f) {
        Mode::Gateway
    } else if f.ingresses().is_empty() {
        Mode::None
    } else {
        Mode::Ingress
    }
}

/// Single doctor on one cluster of the fleet.
pub async fn doctor_one(t: Target, kc: &Kubeconfig, g: &Global, a: &DoctorArgs, p: &Printer, gcp: Gcp) -> Row {
    let start = Instant::now();
    let g = for_context(g, &t.context);
    let facts = match &t.missing_exec {
        Some(cmd) => Err(missing_plugin(&t.context, cmd)),
        None => match connect(kc, &g, p).await {
            Ok(kube) => doctor::observe::gather_with(kube, gcp, &g, a).await,
            Err(e) => Err(e),
        },
    };
    let facts = match facts {
        Ok(f) => f,
        Err(e) => return error_row(t.context, t.aliases, &e, start.elapsed()),
    };
    let checks = doctor::evaluate(&facts);
    Row {
        cluster: Some(facts.cluster().path()),
        mode: mode(&facts),
        outcome: Checked::Report {
            doc: render::report(&facts, &checks),
            checks,
        },
        context: t.context,
        aliases: t.aliases,
        elapsed: start.elapsed(),
    }
}

/// Status on one cluster of the fleet.
pub async fn status_one(t: Target, kc: &Kubeconfig, g: &Global, p: &Printer, gcp: Gcp) -> Row {
    let start = Instant::now();
    let g = for_context(g, &t.context);
    let r = match &t.missing_exec {
        Some(cmd) => Err(missing_plugin(&t.context, cmd)),
        None => status_of(kc, &g, p, gcp).await,
    };
    match r {
        Ok((cluster, mode, r)) => Row {
            cluster: Some(cluster),
            mode,
            outcome: Checked::Status {
                doc: r.doc,
                problem: r.problem,
                managed: r.managed,
            },
            context: t.context,
            aliases: t.aliases,
            elapsed: start.elapsed(),
        },
        Err(e) => error_row(t.context, t.aliases, &e, start.elapsed()),
    }
}

/// The client of `g`'s context, from the kubeconfig the run read once.
async fn connect(kc: &Kubeconfig, g: &Global, p: &Printer) -> anyhow::Result<crate::kube::Kube> {
    let context = g.context.as_deref().unwrap_or_default();
    crate::kube::connect_with(crate::kube::minify(kc, context, g), g, p).await
}

async fn status_of(
    kc: &Kubeconfig,
    g: &Global,
    p: &Printer,
    gcp: Gcp,
) -> anyhow::Result<(String, Mode, status::Report)> {
    let kube = connect(kc, g, p).await?;
    let b = crate::state::with_gateway_api(crate::state::base_with(kube, gcp, g).await?).await?;
    let (r, frontend, _) = status::report(&b).await?;
    let mode = match frontend {
        crate::plan::Frontend::Ingress { .. } => Mode::Ingress,
        crate::plan::Frontend::Gateway { .. } => Mode::Gateway,
    };
    Ok((b.cluster.path(), mode, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_column_follows_doctors_mode() {
        assert_eq!(mode(&Facts::healthy()), Mode::Ingress);
        assert_eq!(mode(&Facts::gateway_healthy()), Mode::Gateway);
    }
}

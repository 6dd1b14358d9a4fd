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

/// What every cluster of a run shares: the kubeconfig read once, the flags, the printer, and the
/// Google client with its quota.
pub struct Shared {
    pub kc: Kubeconfig,
    pub g: Global,
    pub p: Printer,
    pub gcp: Gcp,
}

impl Shared {
    /// The run's shares, with the Google client every cluster uses (one credential, one quota per
    /// project and API).
    pub fn new(kc: Kubeconfig, g: &Global, p: &Printer) -> anyhow::Result<Arc<Shared>> {
        Ok(Arc::new(Shared {
            kc,
            g: g.clone(),
            p: p.clone(),
            gcp: Gcp::new(p)?.with_quota(Arc::new(Quota::default())),
        }))
    }
}

/// Run `check` on every target, `--parallel` at a time, with one progress line per finished
/// cluster on a terminal. Each cluster is a task of its own, so the runtime's workers share the
/// clusters, and a cluster's reads wake the worker that is already running it.
pub async fn each<F, Fut>(targets: Vec<Target>, f: &FleetArgs, p: &Printer, check: F) -> Vec<Row>
where
    F: Fn(Target) -> Fut,
    Fut: std::future::Future<Output = Row> + Send + 'static,
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

/// `check(t)` as a task of its own, or an error row when it takes longer than `deadline` (the task
/// is stopped then) or panics (a debug build's unwinding; a release build aborts the process).
async fn within<F, Fut>(deadline: Duration, t: Target, check: &F) -> Row
where
    F: Fn(Target) -> Fut,
    Fut: std::future::Future<Output = Row> + Send + 'static,
{
    let start = Instant::now();
    let (context, aliases) = (t.context.clone(), t.aliases.clone());
    let task = Task(tokio::spawn(check(t)));
    let e = match tokio::time::timeout(deadline, task).await {
        Ok(Ok(row)) => return row,
        Ok(Err(panicked)) => error::environment(
            format!("the check of this cluster stopped: {panicked}"),
            format!(
                "this is a bug in kubectl-kasten-ilb: run the same command with --context {context} -vv and \
                 report what it prints"
            ),
        ),
        Err(_) => error::environment(
            format!("no answer within {}s (--per-cluster-timeout)", deadline.as_secs()),
            "check that the cluster is reachable (`kubectl get ns --context ...`), or raise --per-cluster-timeout",
        ),
    };
    error_row(context, aliases, &e, start.elapsed())
}

/// A spawned task that is stopped when its handle is dropped (a cluster past its deadline).
struct Task<T>(tokio::task::JoinHandle<T>);

impl<T> std::future::Future for Task<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx)
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.0.abort();
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
pub async fn doctor_one(t: Target, s: &Shared, a: &DoctorArgs) -> Row {
    let start = Instant::now();
    let g = for_context(&s.g, &t.context);
    let facts = match &t.missing_exec {
        Some(cmd) => Err(missing_plugin(&t.context, cmd)),
        None => match connect(&s.kc, &g, &s.p).await {
            Ok(kube) => doctor::observe::gather_with(kube, s.gcp.clone(), &g, a).await,
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
pub async fn status_one(t: Target, s: &Shared) -> Row {
    let start = Instant::now();
    let g = for_context(&s.g, &t.context);
    let r = match &t.missing_exec {
        Some(cmd) => Err(missing_plugin(&t.context, cmd)),
        None => status_of(&s.kc, &g, &s.p, s.gcp.clone()).await,
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

    fn target(context: &str) -> Target {
        Target {
            context: context.into(),
            aliases: vec![],
            server: "https://10.0.0.1".into(),
            missing_exec: None,
        }
    }

    /// A cluster past its deadline is an error row, and its task is stopped, not left running
    /// beside the clusters that follow it.
    #[tokio::test]
    async fn a_check_past_its_deadline_or_that_panics_is_an_error_row_and_its_task_is_stopped() {
        let alive = Arc::new(());
        let held = alive.clone();
        let never = move |t: Target| {
            let held = held.clone();
            async move {
                let _held = held;
                std::future::pending::<()>().await;
                error_row(t.context, t.aliases, &anyhow::anyhow!("unreachable"), Duration::ZERO)
            }
        };
        let row = within(Duration::from_millis(20), target("slow"), &never).await;
        let Checked::Error { message, code, .. } = &row.outcome else {
            panic!("{:?}", row.outcome)
        };
        assert_eq!(message, "no answer within 0s (--per-cluster-timeout)");
        assert_eq!(*code, exit::ENVIRONMENT);
        // The aborted task drops what it held once the runtime has run the abort.
        for _ in 0..100 {
            if Arc::strong_count(&alive) == 2 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(
            Arc::strong_count(&alive),
            2,
            "the closure's copy and ours: the task's is gone"
        );

        async fn panics(_: Target) -> Row {
            panic!("a bug")
        }
        let row = within(Duration::from_secs(60), target("buggy"), &panics).await;
        let Checked::Error { message, hint, code } = &row.outcome else {
            panic!("{:?}", row.outcome)
        };
        assert!(message.starts_with("the check of this cluster stopped: "), "{message}");
        assert!(message.contains("a bug"), "{message}");
        assert!(
            hint.as_deref().unwrap_or_default().contains("--context buggy -vv"),
            "{hint:?}"
        );
        assert_eq!(*code, exit::ENVIRONMENT);
        assert_eq!(row.context, "buggy");

        let quick = |t: Target| async move { error_row(t.context, vec![], &anyhow::anyhow!("x"), Duration::ZERO) };
        let row = within(Duration::from_secs(60), target("quick"), &quick).await;
        assert_eq!(row.context, "quick");
    }
}

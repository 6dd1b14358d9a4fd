//! `install`: observe, plan, confirm, apply, wait, verify. The steps live elsewhere: `prepare`
//! observes and plans, `apply` acts and waits; this command asks and reports.

use std::time::{Duration, Instant};

use crate::apply;
use crate::cli::{Global, InstallArgs, Output};
use crate::error::{self, exit};
use crate::lock;
use crate::plan::{self, Action, Plan, Settings};
use crate::prepare::{prepare_with, Prepared};
use crate::printer::{Printer, Tone};
use crate::render;
use crate::state::Base;
use crate::verify;

pub async fn run(g: &Global, a: &InstallArgs, p: &Printer) -> anyhow::Result<u8> {
    let started = Instant::now();
    let deadline = started + a.timeout;
    let settings = Settings::from_args(&a.plan)?;
    if a.output != Output::Table && !a.dry_run {
        return Err(error::usage(
            "-o yaml/json prints manifests and goes with --dry-run",
            "use `kubectl kasten-ilb install --dry-run -o yaml`",
        ));
    }
    let opts = plan::gateway::Options::from_args(&a.plan)?;
    let prepared = prepare_with(g, &settings, &opts, p).await?;
    let b = &prepared.base;
    if let Some(secret) = &settings.tls_secret {
        crate::prepare::check_tls_secret(b, secret).await?;
    }
    let curl_pod = find_curl_pod(b, a.probe_pod.as_deref()).await?;
    let (plan, settings) = choose_range(&prepared, a, &settings, p)?;
    let (plan, settings) = super::tls_choice::choose(&prepared, a, plan, settings, p).await?;
    show(&prepared, &plan, a.output, p);
    if a.dry_run {
        if a.output != Output::Table {
            p.out(&render::manifests(&b.k10, &plan, a.output)?);
        }
        p.note("dry run: nothing was changed");
        return Ok(exit::OK);
    }
    crate::shared_vpc::check(b, &prepared.vpc, &plan).await?;
    if !confirm(&plan, a.yes, p)? {
        p.note("nothing was changed");
        return Ok(exit::FAILED);
    }
    if !writes(&plan) {
        return finish(&prepared, &plan, p, deadline, curl_pod, started).await;
    }
    // One writer at a time: hold the lock, then look again (another run may have changed the
    // world since the plan above was made) and apply what is true now.
    let wait = lock::Wait {
        no_wait: a.no_wait,
        deadline,
    };
    let held = lock::acquire(&b.kube, "install", wait).await?;
    let result = async {
        let fresh = prepare_with(g, &settings, &opts, p).await?;
        if steps_of(&fresh.plan) != steps_of(&plan) {
            p.warn("the cluster or project changed since the plan above was made; this is the plan now:");
            show(&fresh, &fresh.plan, a.output, p);
            if !confirm(&fresh.plan, a.yes, p)? {
                p.note("nothing was changed");
                return Ok(exit::FAILED);
            }
        }
        apply::steps(&fresh.base, &fresh.plan, p, deadline).await?;
        finish(&fresh, &fresh.plan, p, deadline, curl_pod, started).await
    }
    .await;
    held.release().await;
    result
}

/// Wait for the address, verify, and report. A failed verification is reported as a failure, not
/// after a success footer.
async fn finish(
    prepared: &Prepared,
    plan: &Plan,
    p: &Printer,
    deadline: Instant,
    curl_pod: (String, Option<String>),
    started: Instant,
) -> anyhow::Result<u8> {
    let b = &prepared.base;
    let ip = apply::wait::address(b, &plan.frontend, p, deadline).await?;
    match apply::verify::all(b, plan, &ip, p, deadline, curl_pod).await {
        Ok(()) => {
            let security = super::tls_choice::summary(prepared, plan).await;
            p.out(&summary(plan, &plan.url(&ip), &security, started.elapsed()));
            Ok(exit::OK)
        }
        Err(e) => {
            p.out(&unverified(plan, &plan.url(&ip)));
            Err(e)
        }
    }
}

/// Whether the plan writes anything.
fn writes(plan: &Plan) -> bool {
    plan.steps
        .iter()
        .any(|s| matches!(s.action, Action::Create | Action::Update))
}

/// What a plan does, to tell whether a second look changed it.
fn steps_of(plan: &Plan) -> Vec<(String, String)> {
    plan.steps
        .iter()
        .map(|s| (s.action.to_string(), s.target.clone()))
        .collect()
}

/// The pod that runs curl for the in-cluster check; install stops before any change without one.
pub(crate) async fn find_curl_pod(b: &Base, probe_pod: Option<&str>) -> anyhow::Result<(String, Option<String>)> {
    if let Some(pod) = verify::curl_pod(b, probe_pod).await? {
        return Ok(pod);
    }
    let ns = &b.k10.namespace;
    Err(match probe_pod {
        Some(pp) => error::environment(
            format!("--probe-pod `{pp}` has no curl (or does not exist in `{ns}`)"),
            "pick a pod whose image has curl",
        ),
        None => error::environment(
            format!("no pod in `{ns}` has curl for the in-cluster check"),
            format!(
                "start one and pass it: `kubectl -n {ns} run ilb-probe --image=curlimages/curl \
                 --labels=access-k10-services=allowed --command -- sleep 3600`, then --probe-pod ilb-probe"
            ),
        ),
    })
}

/// Interactive choice of the range, when a subnet is to be created and none was given.
fn choose_range(
    prepared: &Prepared,
    a: &InstallArgs,
    settings: &Settings,
    p: &Printer,
) -> anyhow::Result<(Plan, Settings)> {
    let plan = prepared.plan.clone();
    let creates_subnet = plan
        .step(plan::PROXY_SUBNET.id)
        .is_some_and(|s| s.action == Action::Create);
    if a.yes || a.dry_run || !p.stdin_tty || settings.proxy_range.is_some() || !creates_subnet {
        return Ok((plan, settings.clone()));
    }
    let taken = plan::taken_ranges(&prepared.base, &prepared.vpc);
    let chosen: String = dialoguer::Input::new()
        .with_prompt("Range for the new proxy-only subnet")
        .default(plan.proxy_range.to_string())
        .validate_with(|r: &String| -> Result<(), String> {
            crate::cidr::validate(r, &taken)
                .map(|_| ())
                .map_err(|e| match error::find(&e) {
                    Some(c) => format!("{} ({})", c.message, c.hint.clone().unwrap_or_default()),
                    None => format!("{e:#}"),
                })
        })
        .interact_text()
        .map_err(|e| error::prompt(e, "pass --proxy-subnet-range and --yes"))?;
    let chosen = Settings {
        proxy_range: Some(chosen),
        ..settings.clone()
    };
    Ok((prepared.replan(&chosen)?, chosen))
}

/// The context, the plan, its warnings, the equivalent commands and the diffs (on stderr when
/// stdout carries manifests).
pub(crate) fn show(prepared: &Prepared, plan: &Plan, output: Output, p: &Printer) {
    let to_stdout = output == Output::Table;
    let show = |s: &str| if to_stdout { p.out(s) } else { p.err(s) };
    show(&describe(&prepared.base, plan));
    show(&render_plan(p, plan));
    for w in &plan.warnings {
        p.warn(w);
    }
    let cmds: Vec<&str> = plan.steps.iter().filter_map(|s| s.command.as_deref()).collect();
    if !cmds.is_empty() {
        show(&format!(
            "Equivalent commands:\n{}",
            cmds.iter().map(|c| format!("  {c}")).collect::<Vec<_>>().join("\n")
        ));
    }
    for s in plan.steps.iter().filter(|s| s.action == Action::Update) {
        if let Some(d) = &s.diff {
            show(&format!("\nChange to {}", d));
        }
    }
}

/// Whether to apply: yes when nothing is written, or with --yes, or when the user agrees.
pub(crate) fn confirm(plan: &Plan, yes: bool, p: &Printer) -> anyhow::Result<bool> {
    let writes = plan
        .steps
        .iter()
        .any(|s| matches!(s.action, Action::Create | Action::Update));
    if !writes {
        p.status("Unchanged", "everything is in place; nothing to apply");
        return Ok(true);
    }
    if yes {
        return Ok(true);
    }
    if !p.stdin_tty {
        return Err(error::usage(
            "install changes your project and cluster and needs confirmation, but stdin is not a terminal",
            "pass --yes to apply the plan above, or --dry-run to only show it",
        ));
    }
    dialoguer::Confirm::new()
        .with_prompt("Apply these changes?")
        .default(false)
        .interact()
        .map_err(|e| error::prompt(e, "pass --yes to apply without asking"))
}

fn describe(b: &Base, plan: &Plan) -> String {
    let c = &b.cluster;
    let k = &b.k10;
    format!(
        "Context   {}\nCluster   {} (GKE {}, VPC-native)\nNetwork   projects/{}/global/networks/{} in {}{}\nK10       \
         release `{}` in `{}`, Service gateway:{} -> container port {}, auth: {}\n",
        b.kube.context,
        c.path(),
        c.version,
        c.network_project,
        c.network,
        c.region,
        if c.shared_vpc() {
            " (Shared VPC host project)"
        } else {
            ""
        },
        k.release,
        k.namespace,
        k.service_port,
        plan.container_port,
        k.auth
            .clone()
            .unwrap_or_else(|| "NONE (--allow-unauthenticated)".into()),
    )
}

pub fn render_plan(p: &Printer, plan: &Plan) -> String {
    let rows = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let tone = match s.action {
                Action::Create => Tone::Good,
                Action::Update => Tone::Warn,
                Action::Reuse | Action::NoOp => Tone::Dim,
            };
            vec![
                ((i + 1).to_string(), Tone::Plain),
                (s.title.to_string(), Tone::Plain),
                (s.action.to_string(), tone),
                (s.target.clone(), Tone::Plain),
                (s.reason.clone(), Tone::Plain),
            ]
        })
        .collect();
    format!("Plan:\n{}", p.table(&["#", "Step", "Action", "Resource", "Why"], rows))
}

/// What was changed when the end-to-end check failed: no URL promise, no "Done".
fn unverified(plan: &Plan, url: &str) -> String {
    let made: Vec<String> = plan
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::Create | Action::Update))
        .map(|s| format!("  {:<8} {}", s.action.to_string(), s.target))
        .collect();
    let mut out = format!("\nNot verified: {url} did not answer as K10's dashboard (see the error below).\n");
    if !made.is_empty() {
        out.push_str(&format!(
            "Changed (kept; rerun install after the fix):\n{}\n",
            made.join("\n")
        ));
    }
    out
}

fn summary(plan: &Plan, url: &str, security: &str, took: Duration) -> String {
    let made: Vec<String> = plan
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::Create | Action::Update))
        .map(|s| format!("  {:<8} {}", s.action.to_string(), s.target))
        .collect();
    let kept: Vec<String> = plan
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::Reuse | Action::NoOp))
        .map(|s| format!("  {:<8} {}", s.action.to_string(), s.target))
        .collect();
    let mut out = format!("\nK10 dashboard (inside the VPC only): {url}\n{security}");
    if !made.is_empty() {
        out.push_str(&format!("Changed:\n{}\n", made.join("\n")));
    }
    if !kept.is_empty() {
        out.push_str(&format!("Kept as they were:\n{}\n", kept.join("\n")));
    }
    out.push_str(&format!(
        "Done in {:.1}s. Undo with `kubectl kasten-ilb uninstall`.",
        took.as_secs_f64()
    ));
    out
}

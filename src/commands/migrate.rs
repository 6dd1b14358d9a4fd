//! `migrate --to gateway|ingress`: move the dashboard between an Ingress and a Gateway without
//! losing it. The new side is planned and applied as install would (`--via`), waited for and
//! verified at its own address while the old side still answers; only then (asked; `--yes`
//! skips) is the old side removed: install's Ingress and the containerPort it added, or the
//! Gateway, its HTTPRoute and policies. Every step is idempotent, so a rerun finishes an
//! interrupted migration.

use std::time::Instant;

use crate::apply;
use crate::cli::{Global, MigrateArgs, Output, PlanArgs, Via};
use crate::commands::{install, uninstall};
use crate::error::{self, exit};
use crate::gateway::{self, Kind};
use crate::lock;
use crate::plan::{gateway::Options, Frontend, Settings};
use crate::prepare::prepare_with;
use crate::printer::Printer;
use crate::state::{self, Base, ADDED_PORT};

/// What the old side is made of, in the order it is removed.
#[derive(Debug, Clone)]
enum Old {
    Ingress(String),
    ContainerPort { container: String, port: i64 },
    GatewayObject(Kind, String),
}

impl Old {
    fn describe(&self) -> String {
        match self {
            Old::Ingress(n) => format!("ingress/{n}"),
            Old::ContainerPort { container, port } => {
                format!("containerPort {port} of container {container} in deployment/gateway (added by install)")
            }
            Old::GatewayObject(k, n) => k.resource(n),
        }
    }
}

pub async fn run(g: &Global, a: &MigrateArgs, p: &Printer) -> anyhow::Result<u8> {
    let deadline = Instant::now() + a.timeout;
    let args = PlanArgs {
        via: a.to,
        ..PlanArgs::default()
    };
    let (settings, opts) = (Settings::from_args(&args)?, Options::from_args(&args)?);
    let prepared = prepare_with(g, &settings, &opts, p).await?;
    let curl_pod = install::find_curl_pod(&prepared.base, a.probe_pod.as_deref()).await?;
    p.out(&format!(
        "Migrate to {}: first the new side, while the old one keeps serving",
        name(a.to)
    ));
    install::show(&prepared, &prepared.plan, Output::Table, p);
    if !install::confirm(&prepared.plan, a.yes, p)? {
        p.note("nothing was changed");
        return Ok(exit::FAILED);
    }
    // Nothing to write (a rerun after a finished migration): check it, and take no lock.
    let b = state::with_gateway_api(state::base(g, p).await?).await?;
    if prepared.plan.is_noop() && old_side(&b, a.to).is_empty() {
        return migrate(g, a, (&settings, &opts), curl_pod, p, deadline).await;
    }
    let wait = lock::Wait {
        no_wait: false,
        deadline,
    };
    let held = lock::acquire(&prepared.base.kube, "migrate", wait).await?;
    let result = migrate(g, a, (&settings, &opts), curl_pod, p, deadline).await;
    held.release().await;
    result
}

fn name(v: Via) -> &'static str {
    match v {
        Via::Gateway => "a Gateway (gke-l7-rilb)",
        Via::Ingress => "an Ingress (gce-internal)",
    }
}

/// Apply and verify the new side, then remove the old one.
async fn migrate(
    g: &Global,
    a: &MigrateArgs,
    (settings, opts): (&Settings, &Options),
    curl_pod: (String, Option<String>),
    p: &Printer,
    deadline: Instant,
) -> anyhow::Result<u8> {
    let fresh = prepare_with(g, settings, opts, p).await?;
    let plan = &fresh.plan;
    apply::steps(&fresh.base, plan, p, deadline).await?;
    let ip = apply::wait::address(&fresh.base, &plan.frontend, p, deadline).await?;
    apply::verify::all(&fresh.base, plan, &ip, p, deadline, curl_pod).await?;
    let b = state::with_gateway_api(state::base(g, p).await?).await?;
    let old = old_side(&b, a.to);
    p.out(&addresses(&b, &plan.url(&ip), a.to));
    if old.is_empty() {
        p.status("Done", "nothing of the old side is left");
        return Ok(exit::OK);
    }
    p.out(&format!(
        "Old side to remove:\n{}",
        old.iter()
            .map(|o| format!("  {}", o.describe()))
            .collect::<Vec<_>>()
            .join("\n")
    ));
    if !confirm_removal(a.yes, p)? {
        p.note("both sides are kept; `kubectl kasten-ilb migrate` again finishes the migration");
        return Ok(exit::OK);
    }
    remove(&b, &old, p, deadline).await?;
    p.status("Migrated", &format!("the dashboard is served by {} only", name(a.to)));
    Ok(exit::OK)
}

/// Both addresses: the new one (verified) and the old ones (still serving until removed).
fn addresses(b: &Base, new_url: &str, to: Via) -> String {
    let mut s = format!("\nNew: {new_url} (verified in the cluster)\n");
    for f in Frontend::installed(b) {
        let ip = match &f {
            Frontend::Ingress { name } if to == Via::Gateway => b
                .ingresses
                .iter()
                .find(|i| i.metadata.name.as_deref() == Some(name.as_str()))
                .and_then(state::ingress_ip),
            Frontend::Gateway { name } if to == Via::Ingress => b
                .gateway
                .get(Kind::Gateway, name)
                .and_then(|g| gateway::gateway_view(g).address()),
            _ => continue,
        };
        s.push_str(&format!(
            "Old: {} at {}\n",
            f.resource(),
            ip.unwrap_or_else(|| "(no address)".into())
        ));
    }
    s
}

/// What install made for the other mode.
fn old_side(b: &Base, to: Via) -> Vec<Old> {
    match to {
        Via::Gateway => {
            let mut old: Vec<Old> = Frontend::installed(b)
                .into_iter()
                .filter_map(|f| match f {
                    Frontend::Ingress { name } => Some(Old::Ingress(name)),
                    Frontend::Gateway { .. } => None,
                })
                .collect();
            let dann = b.k10.deployment.metadata.annotations.clone().unwrap_or_default();
            if let Some(v) = dann.get(ADDED_PORT) {
                let (container, port) = v.split_once(':').unwrap_or(("gateway", "8000"));
                old.push(Old::ContainerPort {
                    container: container.into(),
                    port: port.parse().unwrap_or(8000),
                });
            }
            old
        }
        Via::Ingress => [
            Kind::HttpRoute,
            Kind::Gateway,
            Kind::GcpGatewayPolicy,
            Kind::HealthCheckPolicy,
        ]
        .into_iter()
        .flat_map(|k| {
            let ours = b.gateway.objects(k).iter().filter(|o| gateway::is_ours(o));
            ours.map(move |o| Old::GatewayObject(k, o.metadata.name.clone().unwrap_or_default()))
        })
        .collect(),
    }
}

fn confirm_removal(yes: bool, p: &Printer) -> anyhow::Result<bool> {
    if yes {
        return Ok(true);
    }
    if !p.stdin_tty {
        return Err(error::usage(
            "removing the old side needs confirmation, but stdin is not a terminal",
            "pass --yes (the new side is in place and verified; the old one still serves)",
        ));
    }
    dialoguer::Confirm::new()
        .with_prompt("The new side answers. Remove the old side now?")
        .default(false)
        .interact()
        .map_err(|e| error::prompt(e, "pass --yes"))
}

async fn remove(b: &Base, old: &[Old], p: &Printer, deadline: Instant) -> anyhow::Result<()> {
    for o in old {
        match o {
            Old::Ingress(n) => uninstall::remove_ingress(b, n, p, deadline).await.map(drop)?,
            Old::ContainerPort { container, port } => uninstall::remove_container_port(b, container, *port, p).await?,
            Old::GatewayObject(k, n) => apply::gateway::delete(b, *k, n, p, deadline).await.map(drop)?,
        }
    }
    Ok(())
}

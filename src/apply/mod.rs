//! Act on a plan: each step's change through the clients, then the waits (rollout, address) and
//! the end-to-end check. The plan is computed elsewhere (`plan::compute`); nothing here decides.

mod cloud;
mod cluster;
pub mod gateway;
pub mod tls;
pub mod verify;
pub mod wait;

use std::time::Instant;

use crate::error;
use crate::plan::{Action, Change, Plan, Step};
use crate::printer::Printer;
use crate::state::Base;

/// Apply every step in order. On a failure, say what was done before it and stop.
pub async fn steps(b: &Base, plan: &Plan, p: &Printer, deadline: Instant) -> anyhow::Result<()> {
    let mut done: Vec<String> = vec![];
    for step in &plan.steps {
        if let Err(e) = one(b, plan, step, p, deadline).await {
            let status = if done.is_empty() {
                "nothing was changed".to_string()
            } else {
                format!("done before it: {}", done.join("; "))
            };
            p.error(&format!("step `{}` failed: {e:#}", step.title), None);
            p.note(&status);
            let hint = error::find(&e).and_then(|c| c.hint.clone()).unwrap_or_else(|| {
                "fix the cause, then run `kubectl kasten-ilb install` again: it reuses what exists and finishes the \
                 rest"
                    .into()
            });
            return Err(error::failed(format!("install stopped at step `{}`", step.title), hint));
        }
        if matches!(step.action, Action::Create | Action::Update) {
            done.push(format!("{} {}", step.action, step.target));
        }
    }
    Ok(())
}

/// Apply one step's change.
pub async fn one(b: &Base, plan: &Plan, step: &Step, p: &Printer, deadline: Instant) -> anyhow::Result<()> {
    match &step.change {
        Change::None => Ok(()),
        Change::CreateSubnet { name, body } => cloud::create_subnet(b, step, name, body, p, deadline).await,
        Change::PromoteSubnet { name, body } => cloud::promote_subnet(b, name, body, p, deadline).await,
        Change::CreateFirewall { name, body } => cloud::create_firewall(b, plan, name, body, p, deadline).await,
        Change::UpdateFirewall { name, body } => cloud::update_firewall(b, name, body, p, deadline).await,
        Change::PatchDeployment { patch } => {
            cluster::patch_deployment(b, plan.container_port, patch, p).await?;
            wait::rollout(b, plan.container_port, p, deadline).await
        }
        Change::BackendConfig { name, body, exists } => cluster::backend_config(b, name, body, *exists, p).await,
        Change::AnnotateService { patch } => cluster::annotate_service(b, patch, p).await,
        Change::CreateFrontend { body } => cluster::create_frontend(b, &plan.frontend, body, p, deadline).await,
        Change::UpdateFrontend { patch } => cluster::update_frontend(b, &plan.frontend, patch, p).await,
        Change::EnableGatewayApi { body } => gateway::enable(b, body, p, deadline).await,
        Change::CreateObject { body } => gateway::create(b, body, p).await,
        Change::PatchObject { body, patch } => gateway::patch(b, body, patch, p).await,
        Change::TlsSecret { name, host, replace } => tls::self_signed_secret(b, name, host, *replace, p).await,
    }
}

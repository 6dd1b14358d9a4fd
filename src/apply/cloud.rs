//! The Google Cloud steps: the proxy-only subnet and the firewall rule. A 409 on create is an
//! earlier, interrupted run's object when it carries install's marker.

use std::time::Instant;

use reqwest::Method;
use serde_json::Value;

use crate::error;
use crate::gcp::model::{Firewall, Subnetwork};
use crate::gcp::{context, GcpError};
use crate::plan::{Plan, Step};
use crate::printer::Printer;
use crate::state::{self, Base};

fn is_conflict(e: &anyhow::Error) -> bool {
    e.downcast_ref::<GcpError>().is_some_and(GcpError::is_conflict)
}

/// PATCH `url` and wait for the operation.
async fn patch(b: &Base, url: &str, body: &Value, what: &str, deadline: Instant) -> anyhow::Result<()> {
    let op = b
        .gcp
        .mutate(Method::PATCH, url, Some(body))
        .await
        .map_err(|e| context(e, what))?;
    b.gcp.wait(op, deadline).await.map_err(|e| context(e, what))
}

/// A Google resource whose description may carry install's marker.
trait Described {
    fn description(&self) -> Option<&str>;
}

impl Described for Subnetwork {
    fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
}

impl Described for Firewall {
    fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
}

/// POST `body` to the collection `url` and wait; a 409 is fine when the existing object (read back
/// as `T`) carries install's marker (an earlier, interrupted run made it), else `taken` explains.
async fn create_or_adopt<T: serde::de::DeserializeOwned + Described>(
    b: &Base,
    url: &str,
    name: &str,
    body: &Value,
    what: &str,
    taken: (String, &str),
    deadline: Instant,
) -> anyhow::Result<()> {
    let gcp = &b.gcp;
    match gcp.mutate(Method::POST, url, Some(body)).await {
        Ok(op) => gcp.wait(op, deadline).await.map_err(|e| context(e, what)),
        Err(e) if is_conflict(&e) => {
            let existing: T = gcp.get(&format!("{url}/{name}")).await?;
            if state::is_ours_gcp(existing.description()) {
                return Ok(());
            }
            Err(error::failed(taken.0, taken.1))
        }
        Err(e) => Err(context(e, what)),
    }
}

pub async fn create_subnet(
    b: &Base,
    step: &Step,
    name: &str,
    body: &Value,
    p: &Printer,
    deadline: Instant,
) -> anyhow::Result<()> {
    let (c, gcp) = (&b.cluster, &b.gcp);
    p.status(
        "Creating",
        &format!("proxy-only subnet {} in {}/{}", step.target, c.region, c.network),
    );
    let url = gcp.compute_url(&format!("{}/regions/{}/subnetworks", c.network_project, c.region));
    let taken = (
        format!(
            "a subnet named `{name}` already exists in {} and is not install's",
            c.region
        ),
        "delete or rename it, or create the proxy-only subnet yourself and rerun",
    );
    create_or_adopt::<Subnetwork>(b, &url, name, body, "creating the proxy-only subnet", taken, deadline).await
}

pub async fn promote_subnet(b: &Base, name: &str, body: &Value, p: &Printer, deadline: Instant) -> anyhow::Result<()> {
    let c = &b.cluster;
    p.status("Promoting", &format!("proxy-only subnet {name} to ACTIVE"));
    let url = b.gcp.compute_url(&format!(
        "{}/regions/{}/subnetworks/{name}",
        c.network_project, c.region
    ));
    patch(b, &url, body, "promoting the proxy-only subnet", deadline).await
}

pub async fn create_firewall(
    b: &Base,
    plan: &Plan,
    name: &str,
    body: &Value,
    p: &Printer,
    deadline: Instant,
) -> anyhow::Result<()> {
    let (c, gcp) = (&b.cluster, &b.gcp);
    p.status(
        "Creating",
        &format!(
            "firewall rule {name}: {} -> tcp:{} (pods {})",
            plan.proxy_range, plan.container_port, c.pod_range
        ),
    );
    let url = gcp.compute_url(&format!("{}/global/firewalls", c.network_project));
    let taken = (
        format!("a firewall rule named `{name}` exists and is not install's"),
        "delete or rename it and rerun",
    );
    create_or_adopt::<Firewall>(b, &url, name, body, "creating the firewall rule", taken, deadline).await
}

pub async fn update_firewall(b: &Base, name: &str, body: &Value, p: &Printer, deadline: Instant) -> anyhow::Result<()> {
    p.status("Updating", &format!("firewall rule {name}"));
    let url = b
        .gcp
        .compute_url(&format!("{}/global/firewalls/{name}", b.cluster.network_project));
    patch(b, &url, body, "updating the firewall rule", deadline).await
}

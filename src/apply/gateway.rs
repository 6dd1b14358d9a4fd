//! Gateway mode's changes: Gateway API on the cluster (the Container API's `clusters.update`, as
//! `gcloud container clusters update --gateway-api=standard` sends it), the Gateway API objects
//! (create, 409 = already there when it is ours; merge patch), and the wait for `Programmed` and
//! an address, with the controller's events as they come.

use std::time::{Duration, Instant};

use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use reqwest::Method;
use serde_json::Value;

use crate::error;
use crate::gateway::{self, is_ours, Kind};
use crate::gcp::context;
use crate::kube::{explain, status_code};
use crate::printer::Printer;
use crate::state::Base;

use super::wait::EventLog;

/// `clusters.update` with `desiredGatewayApiConfig`, its operation, then the GatewayClass.
pub async fn enable(b: &Base, body: &Value, p: &Printer, deadline: Instant) -> anyhow::Result<()> {
    let c = &b.cluster;
    p.status(
        "Enabling",
        &format!("Gateway API on cluster {} (CHANNEL_STANDARD)", c.r.cluster),
    );
    let url = format!("{}v1/{}", b.gcp.container, c.path());
    let op = b
        .gcp
        .call(Method::PUT, &url, Some(body), false)
        .await
        .map_err(|e| context(e, "enabling Gateway API on the cluster"))?;
    let mut prog = p.progress("GKE is updating the cluster (Gateway API)");
    operation(b, op, &mut prog, deadline).await?;
    loop {
        let seen = gateway::observe(&b.kube).await?;
        if seen.class(gateway::CLASS).is_some() {
            prog.finish(
                "Enabled",
                &format!("Gateway API: GatewayClass {} is served", gateway::CLASS),
            );
            return Ok(());
        }
        if Instant::now() >= deadline {
            prog.abandon();
            return Err(error::failed(
                format!("GatewayClass {} did not appear before the deadline", gateway::CLASS),
                "check `kubectl get gatewayclass`, then rerun install",
            ));
        }
        prog.set("waiting for the gke-l7-rilb GatewayClass");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Poll a Container API operation until DONE (its error, if any, is the step's error).
async fn operation(
    b: &Base,
    mut op: Value,
    prog: &mut crate::printer::Progress,
    deadline: Instant,
) -> anyhow::Result<()> {
    let c = &b.cluster;
    while op["status"] != "DONE" {
        if Instant::now() >= deadline {
            return Err(error::failed(
                format!("cluster update {} did not finish before the deadline", op["name"]),
                "it may still finish: run the same command again, it picks up where it stopped",
            ));
        }
        prog.set(&format!("GKE is updating the cluster (operation {})", op["status"]));
        tokio::time::sleep(Duration::from_millis(300)).await;
        let name = op["name"].as_str().unwrap_or_default().to_string();
        let url = format!(
            "{}v1/projects/{}/locations/{}/operations/{name}",
            b.gcp.container, c.r.project, c.r.location
        );
        op = b.gcp.call(Method::GET, &url, None, true).await?;
    }
    match op["error"]["message"].as_str() {
        Some(m) if !m.is_empty() => Err(error::failed(
            format!("the cluster update failed: {m}"),
            format!("run it yourself to see why: `{}`", gateway::enable_command(c)),
        )),
        _ => Ok(()),
    }
}

fn kind_of(body: &Value) -> anyhow::Result<Kind> {
    Kind::of(body).ok_or_else(|| anyhow::anyhow!("not a Gateway API manifest: {}", body["kind"]))
}

/// Create an object; one of ours that is already there counts as created.
pub async fn create(b: &Base, body: &Value, p: &Printer) -> anyhow::Result<()> {
    let kind = kind_of(body)?;
    let name = body["metadata"]["name"].as_str().unwrap_or_default().to_string();
    p.status("Creating", &kind.resource(&name));
    let api = gateway::api(&b.kube, kind);
    let obj: DynamicObject = serde_json::from_value(body.clone())?;
    let pp = PostParams::default();
    let what = format!("creating {}", kind.resource(&name));
    match b
        .kube
        .retry("create gateway api object", || api.create(&pp, &obj))
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if status_code(&e) == Some(409) => {
            let cur = api.get(&name).await.map_err(|e| explain(e, &what, &b.kube.server))?;
            if is_ours(&cur) {
                return Ok(());
            }
            Err(error::failed(
                format!("{} `{name}` appeared meanwhile and is not install's", kind.name()),
                "pick another --ingress-name",
            ))
        }
        Err(e) => Err(explain(
            e,
            &format!("{what} (is Gateway API enabled? `kubectl get gatewayclass`)"),
            &b.kube.server,
        )),
    }
}

/// Merge-patch an object of ours.
pub async fn patch(b: &Base, body: &Value, patch: &Value, p: &Printer) -> anyhow::Result<()> {
    let kind = kind_of(body)?;
    let name = body["metadata"]["name"].as_str().unwrap_or_default().to_string();
    p.status("Updating", &kind.resource(&name));
    let api = gateway::api(&b.kube, kind);
    let (pp, merge) = (PatchParams::default(), Patch::Merge(patch.clone()));
    b.kube
        .retry("patch gateway api object", || api.patch(&name, &pp, &merge))
        .await
        .map_err(|e| explain(e, &format!("updating {}", kind.resource(&name)), &b.kube.server))?;
    Ok(())
}

/// Wait until the Gateway is Programmed with an address, printing its events as they come.
pub async fn address(b: &Base, name: &str, p: &Printer, deadline: Instant) -> anyhow::Result<String> {
    let api = gateway::api(&b.kube, Kind::Gateway);
    let what = format!("GKE is programming the internal load balancer for gateway/{name}");
    let mut prog: Option<crate::printer::Progress> = None;
    let start = Instant::now();
    let mut log = EventLog::new("Gateway", name);
    loop {
        let cur = b
            .kube
            .retry("read the Gateway", || api.get_opt(name))
            .await
            .map_err(|e| explain(e, "reading the Gateway", &b.kube.server))?;
        let view = cur.as_ref().map(gateway::gateway_view).unwrap_or_default();
        if let (true, Some(ip)) = (view.ready(), view.address()) {
            let took = start.elapsed().as_secs_f64();
            let msg = format!("gateway/{name} is Programmed at {ip} after {took:.1}s");
            match prog {
                Some(pr) => pr.finish("Address", &msg),
                None => p.status("Address", &format!("gateway/{name} has {ip}")),
            }
            return Ok(ip);
        }
        let pr = prog.get_or_insert_with(|| p.progress(&what));
        log.uid = cur.and_then(|c| c.metadata.uid).or(log.uid.take());
        log.print_new(b, pr).await;
        let programmed = gateway::describe(view.condition("Programmed"), "Programmed");
        if Instant::now() >= deadline {
            prog.expect("set above").abandon();
            return Err(error::failed(
                format!("gateway/{name} was not Programmed before the deadline: {programmed}"),
                "run `kubectl kasten-ilb doctor` to see which link is broken",
            ));
        }
        pr.set(&format!("{what} ({}s): {programmed}", start.elapsed().as_secs()));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Delete an object and wait until it is gone (GKE's finalizer holds a Gateway until its load
/// balancer is released): `true` when deleted now, `false` when already gone.
pub async fn delete(b: &Base, kind: Kind, name: &str, p: &Printer, deadline: Instant) -> anyhow::Result<bool> {
    let res = kind.resource(name);
    p.status("Deleting", &res);
    let api = gateway::api(&b.kube, kind);
    let dp = kube::api::DeleteParams::default();
    match b
        .kube
        .retry("delete gateway api object", || api.delete(name, &dp))
        .await
    {
        Ok(_) => {}
        Err(e) if crate::kube::is_not_found(&e) => return Ok(false),
        Err(e) => return Err(explain(e, &format!("deleting {res}"), &b.kube.server)),
    }
    let mut prog: Option<crate::printer::Progress> = None;
    loop {
        match api.get_opt(name).await {
            Ok(None) => {
                if let Some(pr) = prog {
                    pr.finish("Released", &res);
                }
                return Ok(true);
            }
            _ if Instant::now() >= deadline => {
                if let Some(pr) = prog {
                    pr.abandon();
                }
                return Err(error::failed(
                    format!("{res} was still there at the deadline"),
                    "GKE releases the load balancer first; wait, then rerun the same command",
                ));
            }
            _ => {
                prog.get_or_insert_with(|| p.progress(&format!("GKE is releasing {res}")));
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }
}

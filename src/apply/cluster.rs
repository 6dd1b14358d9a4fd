//! The Kubernetes steps: the gateway's container port, the BackendConfig, Service annotations and
//! the front end. Writes are create (409: already there), JSON patch with `test`, and merge patch.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use kube::Api;
use serde_json::{json, Value};

use crate::error;
use crate::kube::{explain, status_code};
use crate::plan::Frontend;
use crate::printer::Printer;
use crate::render;
use crate::state::{self, Base, MANAGER};

/// Declare the container port. A conflict, or a `test` that failed because the object moved on:
/// re-read, and patch again unless the port is there now.
pub async fn patch_deployment(b: &Base, port: i32, patch: &Value, p: &Printer) -> anyhow::Result<()> {
    p.status("Patching", &format!("deployment/gateway: containerPort {port}"));
    let api: Api<Deployment> = b.kube.api();
    let pp = PatchParams {
        field_manager: Some(MANAGER.into()),
        ..Default::default()
    };
    let mut patch = patch.clone();
    let mut attempt = 0;
    loop {
        let jpatch = Patch::<()>::Json(serde_json::from_value::<json_patch::Patch>(patch.clone())?);
        match b
            .kube
            .retry("patch deployment gateway", || api.patch("gateway", &pp, &jpatch))
            .await
        {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if (s.code == 409 || s.code == 422) && attempt < 3 => {
                attempt += 1;
                p.verbose(
                    1,
                    &format!("retry: deployment/gateway changed ({}); re-reading", s.message),
                );
                let k2 = crate::discover::k10(&b.kube).await?;
                if k2.declared {
                    return Ok(());
                }
                patch = render::container_port_patch(&k2, port)?.0;
            }
            Err(e) => return Err(explain(e, "patching deployment/gateway", &b.kube.server)),
        }
    }
}

pub async fn backend_config(b: &Base, name: &str, body: &Value, exists: bool, p: &Printer) -> anyhow::Result<()> {
    p.status(
        if exists { "Updating" } else { "Creating" },
        &format!("backendconfig/{name}"),
    );
    let api: Api<DynamicObject> = Api::namespaced_with(
        b.kube.client.clone(),
        &b.k10.namespace,
        &state::backend_config_resource(),
    );
    let obj: DynamicObject = serde_json::from_value(body.clone())?;
    let (pp, pp2) = (PatchParams::default(), PostParams::default());
    let merge = Patch::Merge(json!({"spec": body["spec"]}));
    let r = if exists {
        b.kube
            .retry("patch backendconfig", || api.patch(name, &pp, &merge))
            .await
            .map(|_| ())
    } else {
        match b.kube.retry("create backendconfig", || api.create(&pp2, &obj)).await {
            Err(e) if status_code(&e) == Some(409) => Ok(()),
            r => r.map(|_| ()),
        }
    };
    r.map_err(|e| {
        explain(
            e,
            "writing the BackendConfig (is the BackendConfig CRD installed? GKE installs it)",
            &b.kube.server,
        )
    })
}

pub async fn annotate_service(b: &Base, patch: &Value, p: &Printer) -> anyhow::Result<()> {
    p.status("Annotating", "service/gateway");
    let api: Api<Service> = b.kube.api();
    let (pp, merge) = (PatchParams::default(), Patch::Merge(patch.clone()));
    b.kube
        .retry("annotate service gateway", || api.patch("gateway", &pp, &merge))
        .await
        .map_err(|e| explain(e, "annotating service/gateway", &b.kube.server))?;
    Ok(())
}

pub async fn create_frontend(
    b: &Base,
    f: &Frontend,
    body: &Value,
    p: &Printer,
    deadline: Instant,
) -> anyhow::Result<()> {
    match f {
        Frontend::Ingress { name } => create_ingress(b, name, body, p, deadline).await,
        Frontend::Gateway { .. } => super::gateway::create(b, body, p).await,
    }
}

/// Wait (until `deadline`) for an Ingress of this name that is being deleted to be gone. Its load
/// balancer is being released: nothing about it counts as installed.
async fn gone(api: &Api<Ingress>, b: &Base, name: &str, p: &Printer, deadline: Instant) -> anyhow::Result<()> {
    let mut prog: Option<crate::printer::Progress> = None;
    loop {
        let cur = b
            .kube
            .retry("read the Ingress", || api.get_opt(name))
            .await
            .map_err(|e| explain(e, "reading the Ingress", &b.kube.server))?;
        if cur.as_ref().and_then(|i| state::going_away(&i.metadata)).is_none() {
            if let Some(pr) = prog {
                pr.finish("Gone", &format!("the old ingress/{name}"));
            }
            return Ok(());
        }
        if Instant::now() >= deadline {
            if let Some(pr) = prog {
                pr.abandon();
            }
            return Err(error::failed(
                format!("ingress/{name} was still being deleted at the deadline"),
                "GKE releases the load balancer first (minutes); run `kubectl kasten-ilb install` again later",
            ));
        }
        prog.get_or_insert_with(|| {
            p.progress(&format!(
                "ingress/{name} is being deleted (going away); waiting for it to go before creating it again"
            ))
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn create_ingress(b: &Base, name: &str, body: &Value, p: &Printer, deadline: Instant) -> anyhow::Result<()> {
    let api: Api<Ingress> = b.kube.api();
    gone(&api, b, name, p, deadline).await?;
    p.status("Creating", &format!("ingress/{name} (class gce-internal)"));
    let ing: Ingress = serde_json::from_value(body.clone())?;
    let pp = PostParams::default();
    match b.kube.retry("create ingress", || api.create(&pp, &ing)).await {
        Ok(_) => Ok(()),
        Err(e) if status_code(&e) == Some(409) => {
            let cur = api
                .get(name)
                .await
                .map_err(|e| explain(e, "reading the Ingress", &b.kube.server))?;
            if state::going_away(&cur.metadata).is_some() {
                return Err(error::failed(
                    format!("ingress/{name} is being deleted again (another run?)"),
                    "run `kubectl kasten-ilb install` again",
                ));
            }
            let ours = cur
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(state::MANAGED_BY_LABEL))
                .is_some_and(|v| v == MANAGER);
            if ours {
                return Ok(());
            }
            Err(error::failed(
                format!("Ingress `{name}` appeared meanwhile and is not install's"),
                "pick another --ingress-name",
            ))
        }
        Err(e) => Err(explain(e, "creating the Ingress", &b.kube.server)),
    }
}

pub async fn update_frontend(b: &Base, f: &Frontend, patch: &Value, p: &Printer) -> anyhow::Result<()> {
    match f {
        Frontend::Ingress { name } => update_ingress(b, name, patch, p).await,
        Frontend::Gateway { name } => {
            let body = serde_json::json!({"kind": "Gateway", "metadata": {"name": name}});
            super::gateway::patch(b, &body, patch, p).await
        }
    }
}

async fn update_ingress(b: &Base, name: &str, patch: &Value, p: &Printer) -> anyhow::Result<()> {
    p.status("Updating", &format!("ingress/{name}"));
    let api: Api<Ingress> = b.kube.api();
    let (pp, merge) = (PatchParams::default(), Patch::Merge(patch.clone()));
    b.kube
        .retry("patch ingress", || api.patch(name, &pp, &merge))
        .await
        .map_err(|e| explain(e, "updating the Ingress", &b.kube.server))?;
    Ok(())
}

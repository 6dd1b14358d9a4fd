//! `uninstall`: remove, in reverse order, exactly what install created (found by its ownership
//! markers), and nothing else. Keeps going after a failed step, then summarises.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Secret, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::Api;
use reqwest::Method;
use serde_json::{json, Value};

use crate::cli::{Global, UninstallArgs};
use crate::error::{self, exit};
use crate::gateway::{self, Kind};
use crate::gcp::model::{short, ForwardingRule};
use crate::gcp::{context, GcpError};
use crate::kube::{explain, is_not_found, status_code};
use crate::lock;
use crate::plan::Frontend;
use crate::printer::{Printer, Tone};
use crate::state::{self, Base, Vpc, ADDED_ANNOTATIONS, ADDED_PORT, MANAGED_BY_LABEL, MANAGER};

#[derive(Debug, Clone)]
enum Removal {
    Frontend(Frontend),
    /// An HTTPRoute or policy of Gateway mode.
    GatewayObject(Kind, String),
    /// The Secret of `install --self-signed` (by its label).
    TlsSecret(String),
    BackendConfig(String),
    ServiceAnnotations(Vec<String>),
    ContainerPort {
        container: String,
        port: i64,
    },
    Firewall(String),
    ProxySubnet(String),
}

impl Removal {
    fn describe(&self) -> (String, String) {
        match self {
            Removal::Frontend(f) => (f.kind().into(), f.resource()),
            Removal::GatewayObject(k, n) => (k.name().into(), k.resource(n)),
            Removal::TlsSecret(n) => ("TLS certificate".into(), format!("secret/{n}")),
            Removal::BackendConfig(n) => ("BackendConfig".into(), format!("backendconfig/{n}")),
            Removal::ServiceAnnotations(a) => (
                "Service annotations".into(),
                format!("service/gateway: {}", a.join(", ")),
            ),
            Removal::ContainerPort { container, port } => (
                "Container port".into(),
                format!("deployment/gateway: containerPort {port} of {container}"),
            ),
            Removal::Firewall(n) => ("Firewall rule".into(), n.clone()),
            Removal::ProxySubnet(n) => ("Proxy-only subnet".into(), n.clone()),
        }
    }
}

pub async fn run(g: &Global, a: &UninstallArgs, p: &Printer) -> anyhow::Result<u8> {
    let deadline = Instant::now() + a.timeout;
    let (b, plan, kept) = look(g, a, p).await?;
    if plan.is_empty() {
        p.status("Nothing", "to uninstall: no resource of kubectl-kasten-ilb found");
        for k in &kept {
            p.note(&format!("kept {k}"));
        }
        return Ok(exit::OK);
    }
    show(&b, &plan, &kept, p);
    if a.dry_run {
        p.note("dry run: nothing was removed");
        return Ok(exit::OK);
    }
    if !confirm(a.yes, p)? {
        p.note("nothing was removed");
        return Ok(exit::FAILED);
    }
    // One writer at a time: hold the lock, then look again and remove what is there now.
    let wait = lock::Wait {
        no_wait: a.no_wait,
        deadline,
    };
    let held = lock::acquire(&b.kube, "uninstall", wait).await?;
    let result = async {
        let (b, fresh, kept) = look(g, a, p).await?;
        if fresh.is_empty() {
            p.status("Nothing", "to uninstall any more: another run removed it meanwhile");
            return Ok(exit::OK);
        }
        if !same(&fresh, &plan) {
            p.warn("the cluster or project changed since the list above was made; this is what is there now:");
            show(&b, &fresh, &kept, p);
            if !confirm(a.yes, p)? {
                p.note("nothing was removed");
                return Ok(exit::FAILED);
            }
        }
        remove_all(&b, &fresh, p, deadline).await
    }
    .await;
    held.release().await;
    result
}

/// Observe, and list what to remove and what to keep.
async fn look(g: &Global, a: &UninstallArgs, p: &Printer) -> anyhow::Result<(Base, Vec<Removal>, Vec<String>)> {
    let b = state::with_gateway_api(state::base(g, p).await?).await?;
    let vpc = state::vpc(&b).await?;
    let bc_name = crate::plan::backend_config_name(&b.k10.release);
    let bc = state::backend_config(&b, &bc_name).await?;
    let (mut plan, kept) = removals(&b, &vpc, bc.as_ref(), a.delete_proxy_subnet);
    let secrets = owned_secrets(&b).await?;
    let at = plan.iter().take_while(|r| matches!(r, Removal::Frontend(_))).count();
    plan.splice(at..at, secrets.into_iter().map(Removal::TlsSecret));
    Ok((b, plan, kept))
}

/// The Secrets install made (`--self-signed`), by their label; names only are used.
async fn owned_secrets(b: &Base) -> anyhow::Result<Vec<String>> {
    let api: Api<Secret> = b.kube.api();
    let lp = ListParams::default().labels(&format!("{MANAGED_BY_LABEL}={MANAGER}"));
    let list = b
        .kube
        .retry("list secrets", || api.list_metadata(&lp))
        .await
        .map_err(|e| explain(e, "listing install's Secrets", &b.kube.server))?;
    Ok(list.items.into_iter().filter_map(|m| m.metadata.name).collect())
}

fn same(a: &[Removal], b: &[Removal]) -> bool {
    a.iter().map(Removal::describe).eq(b.iter().map(Removal::describe))
}

async fn remove_all(b: &Base, plan: &[Removal], p: &Printer, deadline: Instant) -> anyhow::Result<u8> {
    let mut removed = vec![];
    let mut gone = vec![];
    let mut failed = vec![];
    for r in plan {
        let (what, target) = r.describe();
        match remove(b, r, p, deadline).await {
            Ok(true) => removed.push(format!("{what} {target}")),
            Ok(false) => gone.push(format!("{what} {target}")),
            Err(e) => {
                p.error(&format!("removing {what} {target}: {e:#}"), None);
                failed.push(format!("{what} {target}"));
            }
        }
    }
    p.out(&summary(&removed, &gone, &failed));
    if failed.is_empty() {
        Ok(exit::OK)
    } else {
        Err(error::failed(
            format!("{} of {} removals failed", failed.len(), plan.len()),
            "fix the cause and run `kubectl kasten-ilb uninstall` again: it removes what is left",
        ))
    }
}

/// What to remove, in order, and what to keep (with why): from the observed state only.
fn removals(b: &Base, vpc: &Vpc, bc: Option<&DynamicObject>, delete_subnet: bool) -> (Vec<Removal>, Vec<String>) {
    let c = &b.cluster;
    // Routes first, then the front ends, then the policies that pointed at them.
    let ours = |k: Kind| {
        let names = b.gateway.objects(k).iter().filter(|o| gateway::is_ours(o));
        names.map(move |o| Removal::GatewayObject(k, o.metadata.name.clone().unwrap_or_default()))
    };
    let mut plan: Vec<Removal> = ours(Kind::HttpRoute).collect();
    plan.extend(Frontend::installed(b).into_iter().map(Removal::Frontend));
    plan.extend(ours(Kind::GcpGatewayPolicy).chain(ours(Kind::HealthCheckPolicy)));
    let mut kept: Vec<String> = vec![];
    let owned = |l: Option<&std::collections::BTreeMap<String, String>>| {
        l.and_then(|l| l.get(MANAGED_BY_LABEL)).is_some_and(|v| v == MANAGER)
    };
    if let Some(bc) = bc.filter(|bc| owned(bc.metadata.labels.as_ref())) {
        plan.push(Removal::BackendConfig(bc.metadata.name.clone().unwrap_or_default()));
    }
    if let Some(added) = b.k10.annotation(ADDED_ANNOTATIONS) {
        plan.push(Removal::ServiceAnnotations(
            added.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        ));
    }
    let dann = b.k10.deployment.metadata.annotations.clone().unwrap_or_default();
    if let Some(v) = dann.get(ADDED_PORT) {
        let (container, port) = v.split_once(':').unwrap_or(("gateway", "8000"));
        plan.push(Removal::ContainerPort {
            container: container.into(),
            port: port.parse().unwrap_or(8000),
        });
    }
    for f in &vpc.firewalls {
        if state::is_ours_gcp(f.description.as_deref())
            && f.description.as_deref().is_some_and(|d| d.contains(&c.path()))
        {
            plan.push(Removal::Firewall(f.name.clone()));
        }
    }
    for s in vpc.proxy_subnets(&c.region) {
        if !state::is_ours_gcp(s.description.as_deref()) {
            kept.push(format!("proxy-only subnet `{}` (not created by install)", s.name));
        } else if delete_subnet {
            plan.push(Removal::ProxySubnet(s.name.clone()));
        } else {
            kept.push(format!(
                "proxy-only subnet `{}` (created by install; shared by every internal load balancer in {}; pass \
                 --delete-proxy-subnet to remove it)",
                s.name, c.region
            ));
        }
    }
    (plan, kept)
}

fn show(b: &Base, plan: &[Removal], kept: &[String], p: &Printer) {
    let rows = plan
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (what, target) = r.describe();
            vec![
                ((i + 1).to_string(), Tone::Plain),
                (what, Tone::Plain),
                ("Delete".into(), Tone::Bad),
                (target, Tone::Plain),
            ]
        })
        .collect();
    p.out(&format!(
        "Uninstall plan for {} (namespace {}):\n{}",
        b.cluster.path(),
        b.k10.namespace,
        p.table(&["#", "Step", "Action", "Resource"], rows)
    ));
    for k in kept {
        p.note(&format!("keeping {k}"));
    }
}

fn confirm(yes: bool, p: &Printer) -> anyhow::Result<bool> {
    if yes {
        return Ok(true);
    }
    if !p.stdin_tty {
        return Err(error::usage(
            "uninstall removes resources and needs confirmation, but stdin is not a terminal",
            "pass --yes to remove what is listed above, or --dry-run to only show it",
        ));
    }
    dialoguer::Confirm::new()
        .with_prompt("Remove these?")
        .default(false)
        .interact()
        .map_err(|e| error::prompt(e, "pass --yes"))
}

/// What this run removed; what was listed but already gone when its turn came (someone else
/// removed it meanwhile); what it could not remove.
fn summary(removed: &[String], gone: &[String], failed: &[String]) -> String {
    let lines = |v: &[String]| v.iter().map(|r| format!("  {r}")).collect::<Vec<_>>().join("\n");
    let mut summary = format!(
        "\nRemoved:\n{}",
        if removed.is_empty() {
            "  nothing".to_string()
        } else {
            lines(removed)
        }
    );
    if !gone.is_empty() {
        summary.push_str(&format!("\nAlready gone (not removed by this run):\n{}", lines(gone)));
    }
    if !failed.is_empty() {
        summary.push_str(&format!("\nNot removed:\n{}", lines(failed)));
    }
    summary
}

/// Remove one thing: `true` when this run removed it, `false` when it was already gone.
async fn remove(b: &Base, r: &Removal, p: &Printer, deadline: Instant) -> anyhow::Result<bool> {
    let c = &b.cluster;
    match r {
        Removal::Frontend(f) => remove_frontend(b, f, p, deadline).await,
        Removal::GatewayObject(k, name) => crate::apply::gateway::delete(b, *k, name, p, deadline).await,
        Removal::TlsSecret(name) => remove_secret(b, name, p).await,
        Removal::BackendConfig(name) => remove_backend_config(b, name, p).await,
        Removal::ServiceAnnotations(keys) => remove_annotations(b, keys, p).await.map(|()| true),
        Removal::ContainerPort { container, port } => {
            remove_container_port(b, container, *port, p).await.map(|()| true)
        }
        Removal::Firewall(name) => {
            p.status("Deleting", &format!("firewall rule {name}"));
            let url = b
                .gcp
                .compute_url(&format!("{}/global/firewalls/{name}", c.network_project));
            delete_gcp(b, &url, "deleting the firewall rule", deadline).await
        }
        Removal::ProxySubnet(name) => remove_proxy_subnet(b, name, p, deadline).await,
    }
}

async fn remove_secret(b: &Base, name: &str, p: &Printer) -> anyhow::Result<bool> {
    p.status("Deleting", &format!("secret/{name}"));
    let (api, dp): (Api<Secret>, _) = (b.kube.api(), DeleteParams::default());
    match b.kube.retry("delete secret", || api.delete(name, &dp)).await {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(explain(e, "deleting the TLS Secret", &b.kube.server)),
    }
}

/// DELETE a Compute resource and wait: `true` when deleted now, `false` when already gone.
async fn delete_gcp(b: &Base, url: &str, what: &str, deadline: Instant) -> anyhow::Result<bool> {
    match b.gcp.mutate(Method::DELETE, url, None).await {
        Ok(op) => b
            .gcp
            .wait(op, deadline)
            .await
            .map(|()| true)
            .map_err(|e| context(e, what)),
        Err(e) if e.downcast_ref::<GcpError>().is_some_and(GcpError::is_not_found) => Ok(false),
        Err(e) => Err(context(e, what)),
    }
}

async fn remove_frontend(b: &Base, f: &Frontend, p: &Printer, deadline: Instant) -> anyhow::Result<bool> {
    match f {
        Frontend::Ingress { name } => remove_ingress(b, name, p, deadline).await,
        Frontend::Gateway { name } => crate::apply::gateway::delete(b, Kind::Gateway, name, p, deadline).await,
    }
}

pub(crate) async fn remove_ingress(b: &Base, name: &str, p: &Printer, deadline: Instant) -> anyhow::Result<bool> {
    let kube = &b.kube;
    p.status("Deleting", &format!("ingress/{name}"));
    let api: Api<Ingress> = kube.api();
    let dp = DeleteParams::default();
    match kube.retry("delete ingress", || api.delete(name, &dp)).await {
        Ok(_) => {}
        Err(e) if is_not_found(&e) => return Ok(false),
        Err(e) => return Err(explain(e, "deleting the Ingress", &kube.server)),
    }
    // GKE's finalizer keeps the Ingress until the load balancer is released.
    let prog = p.progress(&format!("GKE is releasing the load balancer of ingress/{name}"));
    loop {
        match api.get_opt(name).await {
            Ok(None) => {
                prog.finish("Released", &format!("load balancer of ingress/{name}"));
                return Ok(true);
            }
            _ if Instant::now() >= deadline => {
                prog.abandon();
                return Err(error::failed(
                    format!("GKE did not release the load balancer of ingress/{name} before the deadline"),
                    "wait, then rerun uninstall (it removes the firewall rule only after the release)",
                ));
            }
            _ => tokio::time::sleep(Duration::from_millis(300)).await,
        }
    }
}

async fn remove_backend_config(b: &Base, name: &str, p: &Printer) -> anyhow::Result<bool> {
    let kube = &b.kube;
    p.status("Deleting", &format!("backendconfig/{name}"));
    let api: Api<DynamicObject> =
        Api::namespaced_with(kube.client.clone(), &b.k10.namespace, &state::backend_config_resource());
    let dp = DeleteParams::default();
    match kube.retry("delete backendconfig", || api.delete(name, &dp)).await {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(explain(e, "deleting the BackendConfig", &kube.server)),
    }
}

async fn remove_annotations(b: &Base, keys: &[String], p: &Printer) -> anyhow::Result<()> {
    let kube = &b.kube;
    p.status(
        "Removing",
        &format!("annotations {} from service/gateway", keys.join(", ")),
    );
    let mut ann = serde_json::Map::new();
    for k in keys {
        ann.insert(k.clone(), Value::Null);
    }
    ann.insert(ADDED_ANNOTATIONS.into(), Value::Null);
    let api: Api<Service> = kube.api();
    let (pp, merge) = (
        PatchParams::default(),
        Patch::Merge(json!({"metadata": {"annotations": ann}})),
    );
    kube.retry("patch service", || api.patch("gateway", &pp, &merge))
        .await
        .map_err(|e| explain(e, "patching service/gateway", &kube.server))?;
    Ok(())
}

/// The JSON patch that takes back the container port install added (guarded by `test`s).
fn container_port_removal(d: &Deployment, container: &str, port: i64) -> anyhow::Result<json_patch::Patch> {
    let dj = serde_json::to_value(d)?;
    let containers = dj["spec"]["template"]["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut ops = vec![];
    if let Some(ci) = containers.iter().position(|x| x["name"] == json!(container)) {
        let ports = containers[ci]["ports"].as_array().cloned().unwrap_or_default();
        if let Some(pi) = ports.iter().position(|x| x["containerPort"].as_i64() == Some(port)) {
            let base = format!("/spec/template/spec/containers/{ci}");
            ops.push(json!({"op": "test", "path": format!("{base}/name"), "value": container}));
            ops.push(json!({"op": "test", "path": format!("{base}/ports/{pi}/containerPort"), "value": port}));
            if ports.len() == 1 {
                ops.push(json!({"op": "remove", "path": format!("{base}/ports")}));
            } else {
                ops.push(json!({"op": "remove", "path": format!("{base}/ports/{pi}")}));
            }
        }
    }
    let key = format!("/metadata/annotations/{}", ADDED_PORT.replace('/', "~1"));
    ops.push(json!({"op": "test", "path": key, "value": format!("{container}:{port}")}));
    ops.push(json!({"op": "remove", "path": key}));
    Ok(serde_json::from_value(json!(ops))?)
}

pub(crate) async fn remove_container_port(b: &Base, container: &str, port: i64, p: &Printer) -> anyhow::Result<()> {
    let kube = &b.kube;
    p.status("Removing", &format!("containerPort {port} from deployment/gateway"));
    let api: Api<Deployment> = kube.api();
    for _ in 0..3 {
        let d = api
            .get("gateway")
            .await
            .map_err(|e| explain(e, "reading deployment/gateway", &kube.server))?;
        let jp = container_port_removal(&d, container, port)?;
        let (pp, patch) = (PatchParams::default(), Patch::<()>::Json(jp));
        match kube
            .retry("patch deployment", || api.patch("gateway", &pp, &patch))
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if matches!(status_code(&e), Some(409 | 422)) => continue, // re-read and retry
            Err(e) => return Err(explain(e, "patching deployment/gateway", &kube.server)),
        }
    }
    Err(error::failed(
        "deployment/gateway kept changing while removing the containerPort",
        "rerun uninstall",
    ))
}

/// Delete the proxy-only subnet unless a forwarding rule of the VPC still uses it.
async fn remove_proxy_subnet(b: &Base, name: &str, p: &Printer, deadline: Instant) -> anyhow::Result<bool> {
    let c = &b.cluster;
    let frs: Vec<ForwardingRule> = b
        .gcp
        .list(
            &b.gcp
                .compute_url(&format!("{}/regions/{}/forwardingRules", c.r.project, c.region)),
            Some("loadBalancingScheme eq INTERNAL_MANAGED"),
        )
        .await
        .map_err(|e| context(e, "listing forwarding rules"))?;
    let users: Vec<&str> = frs
        .iter()
        .filter(|f| f.network.as_deref().is_some_and(|n| short(n) == c.network))
        .map(|f| f.name.as_str())
        .collect();
    if !users.is_empty() {
        return Err(error::failed(
            format!(
                "proxy-only subnet `{name}` is still used by forwarding rule(s) {}",
                users.join(", ")
            ),
            "remove those load balancers first, or keep the subnet",
        ));
    }
    p.status("Deleting", &format!("proxy-only subnet {name}"));
    let url = b.gcp.compute_url(&format!(
        "{}/regions/{}/subnetworks/{name}",
        c.network_project, c.region
    ));
    delete_gcp(b, &url, "deleting the proxy-only subnet", deadline).await
}

//! `install`: observe, plan, confirm, apply, wait, verify.

use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{DynamicObject, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::Api;
use reqwest::Method;
use serde_json::{json, Value};

use crate::cli::{Global, InstallArgs, Output};
use crate::discover::gcp_err;
use crate::error::{self, exit};
use crate::gcp::model::{Address, Firewall, Subnetwork};
use crate::kube::explain;
use crate::plan::{self, Action, Change, Plan, Settings, Step};
use crate::printer::{Printer, Tone};
use crate::state::{self, Base, MANAGER};
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

    let prepared = prepare(g, &settings, p).await?;
    let b = &prepared.base;
    let mut plan = prepared.plan.clone();
    let curl_pod = verify::curl_pod(b, a.probe_pod.as_deref()).await?;
    if curl_pod.is_none() {
        return Err(match &a.probe_pod {
            Some(pp) => error::environment(format!("--probe-pod `{pp}` has no curl (or does not exist in `{}`)", b.k10.namespace), "pick a pod whose image has curl"),
            None => error::environment(
                format!("no pod in `{}` has curl for the in-cluster check", b.k10.namespace),
                format!(
                    "start one and pass it: `kubectl -n {ns} run ilb-probe --image=curlimages/curl --labels=access-k10-services=allowed --command -- sleep 3600`, then --probe-pod ilb-probe",
                    ns = b.k10.namespace
                ),
            ),
        });
    }

    // Interactive choice of the range, when a subnet is to be created and none was given.
    if !a.yes
        && !a.dry_run
        && p.stdin_tty
        && settings.proxy_range.is_none()
        && plan.step("proxy-subnet").is_some_and(|s| s.action == Action::Create)
    {
        let taken = plan::taken_ranges(b, &prepared.vpc);
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
            .map_err(|e| {
                error::usage(
                    format!("cannot read the answer: {e}"),
                    "pass --proxy-subnet-range and --yes",
                )
            })?;
        if chosen != plan.proxy_range.to_string() {
            let s2 = Settings {
                proxy_range: Some(chosen),
                ..settings.clone()
            };
            plan = prepared.replan(&s2)?;
        }
    }

    let to_stdout = a.output == Output::Table;
    let show = |s: &str| if to_stdout { p.out(s) } else { eprintln!("{s}") };
    show(&describe(b, &plan));
    show(&render_plan(p, &plan));
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

    if a.dry_run {
        if a.output != Output::Table {
            p.out(&manifests(b, &plan, a.output)?);
        }
        p.note("dry run: nothing was changed");
        return Ok(exit::OK);
    }
    let writes = plan
        .steps
        .iter()
        .any(|s| matches!(s.action, Action::Create | Action::Update));
    if writes && !a.yes {
        if !p.stdin_tty {
            return Err(error::usage(
                "install changes your project and cluster and needs confirmation, but stdin is not a terminal",
                "pass --yes to apply the plan above, or --dry-run to only show it",
            ));
        }
        let ok = dialoguer::Confirm::new()
            .with_prompt("Apply these changes?")
            .default(false)
            .interact()
            .map_err(|e| {
                error::usage(
                    format!("cannot read the answer: {e}"),
                    "pass --yes to apply without asking",
                )
            })?;
        if !ok {
            p.note("nothing was changed");
            return Ok(exit::FAILED);
        }
    }
    if !writes {
        p.status("Unchanged", "everything is in place; nothing to apply");
    }

    let mut done: Vec<String> = vec![];
    for step in &plan.steps {
        if let Err(e) = apply(b, &plan, step, p, deadline).await {
            let status = if done.is_empty() {
                "nothing was changed".to_string()
            } else {
                format!("done before it: {}", done.join("; "))
            };
            p.error(&format!("step `{}` failed: {e:#}", step.title), None);
            p.note(&status);
            let hint = error::find(&e).and_then(|c| c.hint.clone()).unwrap_or_else(|| "fix the cause, then run `kubectl kasten-ilb install` again: it reuses what exists and finishes the rest".into());
            return Err(error::failed(format!("install stopped at step `{}`", step.title), hint));
        }
        if matches!(step.action, Action::Create | Action::Update) {
            done.push(format!("{} {}", step.action, step.target));
        }
        if crate::env::var(crate::env::STOP_AFTER).as_deref() == Some(step.id) {
            // Test hook: die like kill -9 at this step boundary.
            std::process::abort();
        }
    }

    let ip = wait_for_address(b, &plan.ingress_name, p, deadline).await?;
    let verified = verify_all(b, &plan, &ip, p, deadline, curl_pod.expect("checked above")).await;
    let url = plan.url(&ip);
    let summary = summary(&plan, &url, started.elapsed());
    p.out(&summary);
    match verified {
        Ok(()) => Ok(exit::OK),
        Err(e) => Err(e),
    }
}

/// Observe everything the plan depends on (concurrently) and compute the plan. Read-only.
/// What the plan was computed from, and the plan.
pub struct Prepared {
    pub base: Base,
    pub vpc: state::Vpc,
    pub hc: Option<crate::gcp::model::HealthCheck>,
    pub bc: Option<DynamicObject>,
    pub plan: Plan,
}

impl Prepared {
    /// The plan again, for other settings, from the same observations.
    pub fn replan(&self, settings: &Settings) -> anyhow::Result<Plan> {
        plan::compute(&self.base, &self.vpc, self.hc.as_ref(), self.bc.as_ref(), settings)
    }
}

pub async fn prepare(g: &Global, settings: &Settings, p: &Printer) -> anyhow::Result<Prepared> {
    let base = state::base(g, p).await?;
    let bc_name = plan::backend_config_name(&base.k10.release);
    let (vpc, hc, bc) = tokio::join!(
        state::vpc(&base),
        state::health_check(&base),
        state::backend_config(&base, &bc_name)
    );
    let (vpc, bc) = (vpc?, bc?);
    let plan = plan::compute(&base, &vpc, hc.as_ref(), bc.as_ref(), settings)?;
    if let Some(ip) = &settings.static_ip {
        check_static_ip(&base, ip).await?;
    }
    Ok(Prepared {
        base,
        vpc,
        hc,
        bc,
        plan,
    })
}

fn describe(b: &Base, plan: &Plan) -> String {
    let c = &b.cluster;
    let k = &b.k10;
    format!(
        "Context   {}\nCluster   {} (GKE {}, VPC-native)\nNetwork   projects/{}/global/networks/{} in {}{}\nK10       release `{}` in `{}`, Service gateway:{} -> container port {}, auth: {}\n",
        b.kube.context,
        c.path(),
        c.version,
        c.network_project,
        c.network,
        c.region,
        if c.shared_vpc() { " (Shared VPC host project)" } else { "" },
        k.release,
        k.namespace,
        k.service_port,
        plan.container_port,
        k.auth.clone().unwrap_or_else(|| "NONE (--allow-unauthenticated)".into()),
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

/// The Kubernetes manifests install would apply (for GitOps: `--dry-run -o yaml`).
pub fn manifests(b: &Base, plan: &Plan, out: Output) -> anyhow::Result<String> {
    let mut docs: Vec<Value> = vec![];
    for s in &plan.steps {
        match &s.change {
            Change::BackendConfig { body, .. } => docs.push(body.clone()),
            Change::AnnotateService { patch } => docs.push(json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "gateway", "namespace": b.k10.namespace, "annotations": patch["metadata"]["annotations"]}})),
            Change::CreateIngress { body } => docs.push(body.clone()),
            Change::UpdateIngress { .. } | Change::PatchDeployment { .. } => {}
            _ => {}
        }
        if let Change::PatchDeployment { .. } = &s.change {
            let port = plan.container_port;
            docs.push(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "gateway", "namespace": b.k10.namespace},
                "spec": {"template": {"spec": {"containers": [{"name": b.k10.container_name, "ports": [{"containerPort": port, "protocol": "TCP"}]}]}}}}));
        }
    }
    if plan.step("ingress").is_some_and(|s| s.action != Action::Create) {
        let s = Settings {
            health_check: plan.strategy,
            ingress_name: Some(plan.ingress_name.clone()),
            path: Some(plan.path.clone()),
            static_ip: None,
            host: None,
            tls_secret: None,
            proxy_range: None,
            allow_unauthenticated: true,
        };
        docs.push(plan::ingress_body(&b.k10, &plan.ingress_name, &plan.path, &s));
    }
    Ok(match out {
        Output::Json => serde_json::to_string_pretty(&json!({"apiVersion": "v1", "kind": "List", "items": docs}))?,
        _ => docs
            .iter()
            .map(|d| serde_yaml::to_string(d).map(|y| format!("---\n{y}")))
            .collect::<Result<String, _>>()?,
    })
}

pub async fn check_static_ip(b: &Base, name: &str) -> anyhow::Result<()> {
    let c = &b.cluster;
    let url = b
        .gcp
        .compute_url(&format!("{}/regions/{}/addresses/{name}", c.r.project, c.region));
    let create = format!(
        "gcloud compute addresses create {name} --region={} --subnet={} --purpose=SHARED_LOADBALANCER_VIP --project={}",
        c.region, c.subnetwork, c.r.project
    );
    match b
        .gcp
        .get_opt::<Address>(&url)
        .await
        .map_err(|e| gcp_err(e, "reading the static IP"))?
    {
        None => Err(error::usage(
            format!("there is no regional address `{name}` in {}", c.region),
            format!("reserve one: `{create}`"),
        )),
        Some(addr) if addr.address_type.as_deref() != Some("INTERNAL") => Err(error::usage(
            format!(
                "address `{name}` is {}, not INTERNAL: an internal load balancer needs an internal address",
                addr.address_type.unwrap_or_default()
            ),
            format!("reserve an internal one: `{create}`"),
        )),
        Some(_) => Ok(()),
    }
}

async fn apply(b: &Base, plan: &Plan, step: &Step, p: &Printer, deadline: Instant) -> anyhow::Result<()> {
    let c = &b.cluster;
    let np = &c.network_project;
    let gcp = &b.gcp;
    match &step.change {
        Change::None => Ok(()),
        Change::CreateSubnet { name, body } => {
            p.status(
                "Creating",
                &format!("proxy-only subnet {} in {}/{}", step.target, c.region, c.network),
            );
            let url = gcp.compute_url(&format!("{np}/regions/{}/subnetworks", c.region));
            match gcp.mutate(Method::POST, &url, Some(body)).await {
                Ok(op) => gcp
                    .wait(op, deadline)
                    .await
                    .map_err(|e| gcp_err(e, "creating the proxy-only subnet")),
                Err(e)
                    if e.downcast_ref::<crate::gcp::GcpError>()
                        .is_some_and(|g| g.is_conflict()) =>
                {
                    // Created by an earlier, interrupted run?
                    let s: Subnetwork = gcp.get(&format!("{url}/{name}")).await?;
                    if state::is_ours_gcp(s.description.as_deref()) {
                        Ok(())
                    } else {
                        Err(error::failed(
                            format!(
                                "a subnet named `{name}` already exists in {} and is not install's",
                                c.region
                            ),
                            "delete or rename it, or create the proxy-only subnet yourself and rerun",
                        ))
                    }
                }
                Err(e) => Err(gcp_err(e, "creating the proxy-only subnet")),
            }
        }
        Change::PromoteSubnet { name, body } => {
            p.status("Promoting", &format!("proxy-only subnet {name} to ACTIVE"));
            let url = gcp.compute_url(&format!("{np}/regions/{}/subnetworks/{name}", c.region));
            let op = gcp
                .mutate(Method::PATCH, &url, Some(body))
                .await
                .map_err(|e| gcp_err(e, "promoting the proxy-only subnet"))?;
            gcp.wait(op, deadline)
                .await
                .map_err(|e| gcp_err(e, "promoting the proxy-only subnet"))
        }
        Change::CreateFirewall { name, body } => {
            p.status(
                "Creating",
                &format!(
                    "firewall rule {name}: {} -> tcp:{} (pods {})",
                    plan.proxy_range, plan.container_port, c.pod_range
                ),
            );
            let url = gcp.compute_url(&format!("{np}/global/firewalls"));
            match gcp.mutate(Method::POST, &url, Some(body)).await {
                Ok(op) => gcp
                    .wait(op, deadline)
                    .await
                    .map_err(|e| gcp_err(e, "creating the firewall rule")),
                Err(e)
                    if e.downcast_ref::<crate::gcp::GcpError>()
                        .is_some_and(|g| g.is_conflict()) =>
                {
                    let f: Firewall = gcp.get(&format!("{url}/{name}")).await?;
                    if state::is_ours_gcp(f.description.as_deref()) {
                        Ok(())
                    } else {
                        Err(error::failed(
                            format!("a firewall rule named `{name}` exists and is not install's"),
                            "delete or rename it and rerun",
                        ))
                    }
                }
                Err(e) => Err(gcp_err(e, "creating the firewall rule")),
            }
        }
        Change::UpdateFirewall { name, body } => {
            p.status("Updating", &format!("firewall rule {name}"));
            let url = gcp.compute_url(&format!("{np}/global/firewalls/{name}"));
            let op = gcp
                .mutate(Method::PATCH, &url, Some(body))
                .await
                .map_err(|e| gcp_err(e, "updating the firewall rule"))?;
            gcp.wait(op, deadline)
                .await
                .map_err(|e| gcp_err(e, "updating the firewall rule"))
        }
        Change::PatchDeployment { patch } => {
            p.status(
                "Patching",
                &format!("deployment/gateway: containerPort {}", plan.container_port),
            );
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
                    Ok(_) => break,
                    // A conflict, or a `test` that failed because the object moved on: re-read,
                    // and patch again unless the port is there now.
                    Err(kube::Error::Api(s)) if (s.code == 409 || s.code == 422) && attempt < 3 => {
                        attempt += 1;
                        p.verbose(
                            1,
                            &format!("retry: deployment/gateway changed ({}); re-reading", s.message),
                        );
                        let k2 = crate::discover::k10(&b.kube).await?;
                        if k2.declared {
                            break;
                        }
                        patch = plan::container_port_patch(&k2, plan.container_port)?.0;
                    }
                    Err(e) => return Err(explain(e, "patching deployment/gateway", &b.kube.server)),
                }
            }
            wait_rollout(b, plan.container_port, p, deadline).await
        }
        Change::BackendConfig { name, body, exists } => {
            p.status(
                if *exists { "Updating" } else { "Creating" },
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
            let r = if *exists {
                b.kube
                    .retry("patch backendconfig", || api.patch(name, &pp, &merge))
                    .await
                    .map(|_| ())
            } else {
                match b.kube.retry("create backendconfig", || api.create(&pp2, &obj)).await {
                    Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
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
        Change::AnnotateService { patch } => {
            p.status("Annotating", "service/gateway");
            let api: Api<Service> = b.kube.api();
            let (pp, merge) = (PatchParams::default(), Patch::Merge(patch.clone()));
            b.kube
                .retry("annotate service gateway", || api.patch("gateway", &pp, &merge))
                .await
                .map_err(|e| explain(e, "annotating service/gateway", &b.kube.server))?;
            Ok(())
        }
        Change::CreateIngress { body } => {
            p.status(
                "Creating",
                &format!("ingress/{} (class gce-internal)", plan.ingress_name),
            );
            let api: Api<Ingress> = b.kube.api();
            let ing: Ingress = serde_json::from_value(body.clone())?;
            let pp = PostParams::default();
            match b.kube.retry("create ingress", || api.create(&pp, &ing)).await {
                Ok(_) => Ok(()),
                Err(kube::Error::Api(s)) if s.code == 409 => {
                    let cur = api
                        .get(&plan.ingress_name)
                        .await
                        .map_err(|e| explain(e, "reading the Ingress", &b.kube.server))?;
                    let ours = cur
                        .metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(state::MANAGED_BY_LABEL))
                        .is_some_and(|v| v == MANAGER);
                    if ours {
                        Ok(())
                    } else {
                        Err(error::failed(
                            format!(
                                "Ingress `{}` appeared meanwhile and is not install's",
                                plan.ingress_name
                            ),
                            "pick another --ingress-name",
                        ))
                    }
                }
                Err(e) => Err(explain(e, "creating the Ingress", &b.kube.server)),
            }
        }
        Change::UpdateIngress { name, patch } => {
            p.status("Updating", &format!("ingress/{name}"));
            let api: Api<Ingress> = b.kube.api();
            let (pp, merge) = (PatchParams::default(), Patch::Merge(patch.clone()));
            b.kube
                .retry("patch ingress", || api.patch(name, &pp, &merge))
                .await
                .map_err(|e| explain(e, "updating the Ingress", &b.kube.server))?;
            Ok(())
        }
    }
}

/// Wait until every gateway pod declares the port and is ready (the health check is inferred
/// from the pods when GKE first creates it, so the Ingress must come after the rollout).
async fn wait_rollout(b: &Base, port: i32, p: &Printer, deadline: Instant) -> anyhow::Result<()> {
    let mut prog = p.progress(&format!("rollout of deployment/gateway with containerPort {port}"));
    loop {
        let k = crate::discover::k10(&b.kube).await?;
        let ready_with_port = k.pods.iter().filter(|x| x.ready && x.declares_port).count();
        let stale = k.pods.iter().filter(|x| !x.declares_port).count();
        if ready_with_port > 0 && stale == 0 {
            prog.finish(
                "Rolled out",
                &format!("deployment/gateway: {ready_with_port} ready pod(s) declare containerPort {port}"),
            );
            return Ok(());
        }
        prog.set(&format!(
            "rollout of deployment/gateway: {ready_with_port} ready with the port, {stale} old"
        ));
        if Instant::now() >= deadline {
            prog.abandon();
            return Err(error::failed(
                "the gateway rollout did not finish before the deadline",
                "check `kubectl -n kasten-io rollout status deployment/gateway`, then rerun install",
            ));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Watch the Ingress until it has an address, printing the controller's events as they come.
async fn wait_for_address(b: &Base, name: &str, p: &Printer, deadline: Instant) -> anyhow::Result<String> {
    let api: Api<Ingress> = b.kube.api();
    let ip_of = state::ingress_ip;
    if let Some(ip) = api.get_opt(name).await.ok().flatten().as_ref().and_then(ip_of) {
        p.status("Address", &format!("ingress/{name} has {ip}"));
        return Ok(ip);
    }
    let mut prog = p.progress(&format!(
        "GKE is provisioning the internal load balancer for ingress/{name}"
    ));
    let start = Instant::now();
    let mut seen_events = std::collections::BTreeSet::new();
    let mut last_warning: Option<String> = None;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            prog.abandon();
            let why = last_warning
                .map(|w| format!(": the controller said: {w}"))
                .unwrap_or_default();
            return Err(error::failed(
                format!("ingress/{name} got no address before the deadline{why}"),
                "run `kubectl kasten-ilb doctor` to see which link is broken",
            ));
        }
        let wp = WatchParams::default()
            .fields(&format!("metadata.name={name}"))
            .timeout(remaining.as_secs().clamp(1, 290) as u32);
        let stream = api.watch(&wp, "0").await;
        let mut stream = match stream {
            Ok(s) => s.boxed(),
            Err(e) if crate::kube::is_retryable(&e) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            Err(e) => return Err(explain(e, "watching the Ingress", &b.kube.server)),
        };
        let mut tick = tokio::time::interval(Duration::from_millis(1000));
        loop {
            tokio::select! {
                ev = stream.next() => {
                    match ev {
                        Some(Ok(WatchEvent::Added(i) | WatchEvent::Modified(i))) => {
                            if let Some(ip) = ip_of(&i) {
                                prog.finish("Address", &format!("ingress/{name} has {ip} after {:.1}s", start.elapsed().as_secs_f64()));
                                return Ok(ip);
                            }
                        }
                        Some(Ok(_)) => {}
                        Some(Err(_)) | None => break,
                    }
                }
                _ = tick.tick() => {
                    for e in state::events_for(&b.kube, "Ingress", name).await {
                        let key = (e.metadata.name.clone().unwrap_or_default(), e.count.unwrap_or(1));
                        if seen_events.insert(key) {
                            let t = e.type_.clone().unwrap_or_default();
                            let msg = format!("{} {}: {}", t, e.reason.clone().unwrap_or_default(), e.message.clone().unwrap_or_default());
                            if t == "Warning" {
                                last_warning = e.message.clone();
                            }
                            prog.println(&msg);
                        }
                    }
                    prog.set(&format!("GKE is provisioning the internal load balancer for ingress/{name} ({}s)", start.elapsed().as_secs()));
                    if Instant::now() >= deadline {
                        break;
                    }
                }
            }
        }
    }
}

async fn verify_all(
    b: &Base,
    plan: &Plan,
    ip: &str,
    p: &Printer,
    deadline: Instant,
    pod: (String, Option<String>),
) -> anyhow::Result<()> {
    // Re-read the Service for neg-status (written by the NEG controller).
    let mut prog = p.progress("waiting for NEGs and healthy backends");
    let want = verify::ready_per_zone(b);
    let mut last: String;
    let neg = loop {
        let k = crate::discover::k10(&b.kube).await?;
        if let Some(n) = state::neg_name(&k) {
            let negs = verify::negs(b, &n).await.map_err(|e| gcp_err(e, "listing NEGs"))?;
            match verify::neg_mismatch(&negs, &want) {
                None => {
                    let sizes: Vec<String> = negs
                        .iter()
                        .map(|g| format!("{} {}", crate::gcp::model::short(&g.zone), g.size))
                        .collect();
                    prog.println(&format!("NEG {n}: {}", sizes.join(", ")));
                    break n;
                }
                Some(m) => last = m,
            }
        } else {
            last = "Service gateway has no neg-status yet".into();
        }
        if Instant::now() >= deadline {
            prog.abandon();
            return Err(error::failed(
                format!("NEGs did not match the ready gateway pods before the deadline: {last}"),
                "run `kubectl kasten-ilb doctor`",
            ));
        }
        prog.set(&format!("waiting for NEGs: {last}"));
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    loop {
        let h = verify::backend_health(b, &neg)
            .await
            .map_err(|e| gcp_err(e, "reading backend health"))?;
        let (healthy, total) = verify::healthy_count(&h);
        if total > 0 && healthy == total {
            prog.println(&format!("backend {neg}: {healthy}/{total} HEALTHY"));
            break;
        }
        if Instant::now() >= deadline {
            prog.abandon();
            return Err(error::failed(
                format!("backends are not healthy before the deadline ({healthy}/{total} HEALTHY)"),
                "run `kubectl kasten-ilb doctor`: it checks the firewall and the health check path",
            ));
        }
        prog.set(&format!("waiting for healthy backends: {healthy}/{total} HEALTHY"));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let ing: Api<Ingress> = b.kube.api();
    let ep = match ing.get_opt(&plan.ingress_name).await {
        Ok(Some(i)) => verify::Endpoint::of(&i, ip),
        _ => verify::Endpoint {
            https: false,
            ip: ip.to_string(),
            host: None,
        },
    };
    let page_url = ep.url(&plan.path);
    let deep_path = format!("{}dashboard/", plan.path);
    // A definite wrong answer (not a 502 while backends settle) repeated for ~3 s is final.
    let mut definite = 0;
    loop {
        let (page, deep) = tokio::join!(
            verify::curl(b, &pod, &ep, &plan.path),
            verify::curl(b, &pod, &ep, &deep_path)
        );
        let verdict = match (page?, deep?) {
            (Ok(pg), Ok(dp)) => verify::judge(&pg, &dp),
            (Err(e), _) | (_, Err(e)) => Err(verify::Failure::from(e)),
        };
        match verdict {
            Ok(msg) => {
                prog.finish("Verified", &format!("curl {page_url} in the cluster: {msg}"));
                return Ok(());
            }
            Err(e) if Instant::now() >= deadline || definite >= 6 => {
                prog.abandon();
                return Err(error::failed(
                    format!("the in-cluster check of {page_url} failed: {e}"),
                    "run `kubectl kasten-ilb doctor`",
                ));
            }
            Err(e) => {
                if !e.may_pass_later() {
                    definite += 1;
                }
                prog.set(&format!("waiting for {page_url}: {e}"));
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn summary(plan: &Plan, url: &str, took: Duration) -> String {
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
    let mut out = format!("\nK10 dashboard (inside the VPC only): {url}\n");
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

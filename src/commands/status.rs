//! `status`: one screen with the URL, address, NEGs, backend health, the last controller events
//! and whether install's changes have drifted.

use serde_json::{json, Value};

use k8s_openapi::api::core::v1::{Event, Service};
use k8s_openapi::api::networking::v1::Ingress;

use crate::cli::{Global, Output, StatusArgs};
use crate::error::{self, exit};
use crate::gateway::{self, Kind};
use crate::gcp::model::{short, NetworkEndpointGroup};
use crate::plan::{self, Frontend};
use crate::printer::Printer;
use crate::state::{self, Base, Vpc, ADDED_ANNOTATIONS, CLASS_ANNOTATION};
use crate::verify;

pub async fn run(g: &Global, a: &StatusArgs, p: &Printer) -> anyhow::Result<u8> {
    if a.fleet.is_fleet() {
        return crate::fleet::command::status(g, a, p).await;
    }
    loop {
        let (code, b, frontend, rv) = once(g, a, p).await?;
        if !a.watch {
            return Ok(code);
        }
        wait_for_change(&b, &frontend, &rv).await;
        p.out("");
    }
}

/// Block until the front end or Service gateway changes (a watch from their resourceVersions), or
/// a minute passes (backend health is not a Kubernetes object: refresh it now and then).
async fn wait_for_change(b: &Base, f: &Frontend, rvs: &(String, String)) {
    let frontend_change = async {
        match f {
            Frontend::Ingress { name } => first_change::<Ingress>(b.kube.api(), name, &rvs.0).await,
            Frontend::Gateway { name } => first_change(gateway::api(&b.kube, Kind::Gateway), name, &rvs.0).await,
        }
    };
    tokio::select! {
        _ = frontend_change => {}
        _ = first_change::<Service>(b.kube.api(), "gateway", &rvs.1) => {}
        _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
    }
}

/// Returns at the first change of the named object after `rv` (or when the watch ends).
async fn first_change<K>(api: kube::Api<K>, name: &str, rv: &str)
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    use futures::StreamExt;
    use kube::api::{WatchEvent, WatchParams};
    let wp = WatchParams::default()
        .fields(&format!("metadata.name={name}"))
        .timeout(60);
    match api.watch(&wp, rv).await {
        Ok(s) => {
            let mut s = s.boxed();
            while let Some(ev) = s.next().await {
                if !matches!(ev, Ok(WatchEvent::Bookmark(_))) {
                    return;
                }
            }
        }
        // Cannot watch: fall back to the periodic refresh.
        Err(_) => std::future::pending::<()>().await,
    }
}

/// What status shows of the front end install made.
struct Shown {
    frontend: Frontend,
    class: String,
    path: String,
    ip: Option<String>,
    resource_version: String,
    uid: Option<String>,
    /// Set when the front end has a deletionTimestamp: it is going away.
    deleting: Option<String>,
    /// Made by install (false: by hand, the blog recipe or a chart; install's drift is not tracked).
    managed: bool,
}

/// What status says of a front end it did not make, on its screen and in a fleet's row.
pub const UNMANAGED: &str =
    "not made by kubectl-kasten-ilb: drift is not tracked; `kubectl kasten-ilb doctor` checks it";

/// The dashboard's front end someone else made: an Ingress to Service gateway, else a Gateway a
/// route to it attaches to.
fn foreign(b: &Base) -> Option<Frontend> {
    let ingress = b.gateway_ingresses().into_iter().next().map(|i| Frontend::Ingress {
        name: i.metadata.name.clone().unwrap_or_default(),
    });
    ingress.or_else(|| {
        let g = b.gateway.dashboard_gateways().into_iter().next()?;
        Some(Frontend::Gateway {
            name: g.metadata.name.clone().unwrap_or_default(),
        })
    })
}

/// The first front end install made, as it is now; else one that serves the dashboard without it.
fn frontend(b: &Base) -> anyhow::Result<Shown> {
    let installed = Frontend::installed(b).into_iter().next();
    let managed = installed.is_some();
    let Some(frontend) = installed.or_else(|| foreign(b)) else {
        return Err(error::environment(
            format!("no Ingress or Gateway of kubectl-kasten-ilb in `{}`", b.k10.namespace),
            "`kubectl kasten-ilb install` creates one",
        ));
    };
    let mut shown = shown(b, frontend)?;
    shown.managed = managed;
    Ok(shown)
}

fn shown(b: &Base, frontend: Frontend) -> anyhow::Result<Shown> {
    match &frontend {
        Frontend::Ingress { name } => {
            let ing = b
                .ingresses
                .iter()
                .find(|i| i.metadata.name.as_deref() == Some(name.as_str()))
                .expect("an Ingress that was listed");
            let j = serde_json::to_value(ing)?;
            let text = |v: &Value, default: &str| v.as_str().unwrap_or(default).to_string();
            Ok(Shown {
                class: text(&j["metadata"]["annotations"][CLASS_ANNOTATION], "<none>"),
                path: text(&j["spec"]["rules"][0]["http"]["paths"][0]["path"], "/"),
                ip: state::ingress_ip(ing),
                resource_version: ing.metadata.resource_version.clone().unwrap_or_default(),
                uid: ing.metadata.uid.clone(),
                deleting: state::going_away(&ing.metadata),
                managed: true,
                frontend,
            })
        }
        Frontend::Gateway { name } => Ok(gateway_shown(b, name, frontend.clone())),
    }
}

/// A Gateway of install's: its class, the route's path, its address.
fn gateway_shown(b: &Base, name: &str, frontend: Frontend) -> Shown {
    let g = b.gateway.get(Kind::Gateway, name).expect("a Gateway that was listed");
    // Install names its route as its Gateway; another one routes to Service gateway.
    let route = b
        .gateway
        .get(Kind::HttpRoute, name)
        .or_else(|| b.gateway.routes_to_gateway().into_iter().next())
        .map(gateway::route_view);
    Shown {
        class: g.data["spec"]["gatewayClassName"]
            .as_str()
            .unwrap_or("<none>")
            .to_string(),
        path: route.and_then(|r| r.path()).unwrap_or_else(|| "/".into()),
        ip: gateway::gateway_view(g).address(),
        resource_version: g.metadata.resource_version.clone().unwrap_or_default(),
        uid: g.metadata.uid.clone(),
        deleting: state::going_away(&g.metadata),
        managed: true,
        frontend,
    }
}

/// What Gateway mode set up that is no longer there (or not working).
fn gateway_drift(b: &Base, name: &str) -> Vec<String> {
    let mut drift = vec![];
    if let Some(g) = b.gateway.get(Kind::Gateway, name) {
        let v = gateway::gateway_view(g);
        if !gateway::is_true(v.condition("Programmed")) {
            drift.push(format!(
                "gateway/{name}: {}",
                gateway::describe(v.condition("Programmed"), "Programmed")
            ));
        }
    }
    if b.gateway.get(Kind::HttpRoute, name).is_none() {
        drift.push(format!("httproute/{name} is gone"));
    }
    let policy = crate::render::gateway::health_policy_name(name);
    if b.gateway.get(Kind::HealthCheckPolicy, &policy).is_none() {
        drift.push(format!(
            "healthcheckpolicy/{policy} is gone (GKE's check probes `/` without it)"
        ));
    }
    drift
}

/// What install set up that is no longer there.
fn drift(b: &Base, vpc: &Vpc, class: &str) -> Vec<String> {
    let mut drift = vec![];
    if class != "gce-internal" && class != gateway::CLASS {
        drift.push(format!("the Ingress class is `{class}`, not gce-internal"));
    }
    if let Some(added) = b.k10.annotation(ADDED_ANNOTATIONS) {
        for k in added.split(',').filter(|k| !k.is_empty()) {
            if b.k10.annotation(k).is_none() {
                drift.push(format!("Service gateway lost the annotation {k}"));
            }
        }
    }
    let dann = b.k10.deployment.metadata.annotations.clone().unwrap_or_default();
    if dann.contains_key(state::ADDED_PORT) && !b.k10.declared {
        drift.push("deployment/gateway no longer declares the containerPort (a `helm upgrade`?)".into());
    }
    if let Some(port) = b.k10.container_port {
        let fw = plan::firewall_name(&b.cluster.r.cluster, port);
        let has_ours = vpc.firewalls.iter().any(|f| f.name == fw);
        let any_ours = vpc
            .firewalls
            .iter()
            .any(|f| state::is_ours_gcp(f.description.as_deref()));
        // Install made the rule unless another one already let the proxies in: gone is drift when
        // nothing else lets them in now.
        let allowed = vpc.active_proxy_subnet(&b.cluster.region).is_some_and(|s| {
            let Ok(src) = s.ip_cidr_range.parse() else {
                return false;
            };
            let t = crate::firewall::Target {
                node_tags: vpc.node_tags.clone(),
                pod_range: b.cluster.pod_range.parse().ok(),
            };
            let verdict = crate::firewall::evaluate(&vpc.firewalls, &b.cluster.network, &src, port as u16, &t);
            matches!(verdict, crate::firewall::Verdict::Allowed(_))
        });
        if !has_ours && (any_ours || !allowed) {
            drift.push(format!("firewall rule {fw} is gone"));
        }
    }
    if vpc.active_proxy_subnet(&b.cluster.region).is_none() {
        drift.push(format!("no ACTIVE proxy-only subnet in {}", b.cluster.region));
    }
    drift
}

fn table(
    b: &Base,
    f: &Shown,
    url: Option<&str>,
    negs: &[NetworkEndpointGroup],
    health: (usize, usize),
    events: &[Event],
    drift: &[String],
) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "{:<11}{}/{} (class {})\n",
        f.frontend.kind(),
        b.k10.namespace,
        f.frontend.name(),
        f.class
    ));
    if !f.managed {
        s.push_str(&format!("Note       {UNMANAGED}\n"));
    }
    s.push_str(&format!("URL        {}\n", url.unwrap_or("(no address yet)")));
    s.push_str(&format!("NEGs       {}\n", verify::neg_summary(negs)));
    s.push_str(&format!("Backends   {}/{} HEALTHY\n", health.0, health.1));
    s.push_str("Events\n");
    for e in events.iter().rev().take(5) {
        s.push_str(&format!(
            "  {} {}: {}\n",
            e.type_.clone().unwrap_or_default(),
            e.reason.clone().unwrap_or_default(),
            e.message.clone().unwrap_or_default()
        ));
    }
    let drift = match (drift.is_empty(), f.managed) {
        (true, true) => "none".to_string(),
        (true, false) => "not tracked".to_string(),
        (false, _) => drift.join("; "),
    };
    s.push_str(&format!("Drift      {drift}"));
    s
}

async fn once(g: &Global, a: &StatusArgs, p: &Printer) -> anyhow::Result<(u8, Base, Frontend, (String, String))> {
    let b = state::with_gateway_api(state::base(g, p).await?).await?;
    let (r, frontend, rvs) = report(&b).await?;
    match a.output {
        Output::Table => p.out(&r.screen),
        Output::Json => p.out(&serde_json::to_string_pretty(&r.doc)?),
        Output::Yaml => p.out(&serde_norway::to_string(&r.doc)?),
    }
    Ok((r.code, b, frontend, rvs))
}

/// What status found on one cluster: its exit status, the document, the screen, and the first
/// thing wrong (a fleet's row).
pub struct Report {
    pub code: u8,
    pub doc: Value,
    pub screen: String,
    pub problem: Option<String>,
    /// The front end was made by install (false: status shows it, but cannot tell drift).
    pub managed: bool,
}

/// What is wrong, first: drift, then no address, then backends that are not all HEALTHY, then a
/// zone with ready gateway pods whose NEG is missing or of the wrong size (empty NEGs in zones
/// without a gateway pod are GKE's normal).
fn first_problem(
    drift: &[String],
    has_ip: bool,
    (healthy, total): (usize, usize),
    negs: Option<String>,
) -> Option<String> {
    match (drift.first(), has_ip) {
        (Some(d), _) => Some(format!("drift: {d}")),
        (None, false) => Some("no address yet".into()),
        (None, true) if total == 0 || healthy < total => Some(format!("backends {healthy}/{total} HEALTHY")),
        _ => negs.map(|m| format!("NEGs: {m}")),
    }
}

/// Read and judge one cluster (the front end, NEGs, backend health, events, drift).
pub async fn report(b: &Base) -> anyhow::Result<(Report, Frontend, (String, String))> {
    let f = frontend(b)?;
    let neg = state::neg_name(&b.k10);
    let backend = match &f.frontend {
        Frontend::Gateway { .. } => gateway::backend_service(b).await.ok().flatten().map(|bs| bs.name),
        Frontend::Ingress { .. } => neg.clone(),
    };
    let (negs, health, vpc, events) = tokio::join!(
        async {
            match &neg {
                Some(n) => verify::negs(b, n).await.unwrap_or_default(),
                None => vec![],
            }
        },
        async {
            match &backend {
                Some(n) => verify::backend_health(b, n).await.ok(),
                None => None,
            }
        },
        state::vpc(b),
        state::events_for(&b.kube, f.frontend.kind(), f.frontend.name(), f.uid.as_deref()),
    );
    let vpc = vpc?;
    let mut drift = match (&f.frontend, f.managed) {
        (_, false) => vec![],
        (Frontend::Ingress { .. }, true) => drift(b, &vpc, &f.class),
        (Frontend::Gateway { name }, true) => [drift(b, &vpc, &f.class), gateway_drift(b, name)].concat(),
    };
    if let Some(since) = &f.deleting {
        let again = if f.managed {
            format!(
                ": run `kubectl kasten-ilb install -n {}` to make it again",
                b.kube.namespace
            )
        } else {
            String::new()
        };
        drift.insert(
            0,
            format!(
                "{} is going away (deleted at {since}; GKE is releasing its load balancer){again}",
                f.frontend.resource()
            ),
        );
    }
    let (healthy, total) = health.as_ref().map(|h| verify::healthy_count(h)).unwrap_or((0, 0));
    let url = f.ip.as_ref().map(|ip| {
        let path = plan::normalize_path(&f.path).unwrap_or(f.path.clone());
        format!("http://{ip}{path}")
    });
    let evs: Vec<Value> = events
        .iter()
        .rev()
        .take(5)
        .map(|e| json!({"type": e.type_, "reason": e.reason, "message": e.message, "count": e.count}))
        .collect();
    let doc = json!({
        "ingress": format!("{}/{}", b.k10.namespace, f.frontend.name()), "class": f.class, "url": url,
        "address": f.ip, "managed": f.managed,
        "negs": negs.iter().map(|n| json!({"zone": short(&n.zone), "size": n.size})).collect::<Vec<_>>(),
        "backends": {"healthy": healthy, "total": total},
        "events": evs, "drift": drift,
    });
    let screen = table(b, &f, url.as_deref(), &negs, (healthy, total), &events, &drift);
    let neg_problem = neg
        .as_ref()
        .and_then(|_| verify::neg_mismatch(&negs, &verify::ready_per_zone(&b.seen)));
    let problem = first_problem(&drift, f.ip.is_some(), (healthy, total), neg_problem);
    let code = if problem.is_none() { exit::OK } else { exit::FAILED };
    let rvs = (
        f.resource_version,
        b.k10.service.metadata.resource_version.clone().unwrap_or_default(),
    );
    let r = Report {
        code,
        doc,
        screen,
        problem,
        managed: f.managed,
    };
    Ok((r, f.frontend, rvs))
}

#[cfg(test)]
mod tests {
    use super::first_problem;

    #[test]
    fn a_neg_mismatch_is_a_problem_only_after_drift_address_and_backends() {
        let neg = || Some("us-central1-b: no NEG, 1 ready pod(s)".to_string());
        assert_eq!(first_problem(&[], true, (1, 1), None), None);
        assert_eq!(
            first_problem(&[], true, (1, 1), neg()).as_deref(),
            Some("NEGs: us-central1-b: no NEG, 1 ready pod(s)")
        );
        assert_eq!(
            first_problem(&[], true, (0, 0), neg()).as_deref(),
            Some("backends 0/0 HEALTHY")
        );
        assert_eq!(
            first_problem(&[], false, (1, 1), neg()).as_deref(),
            Some("no address yet")
        );
    }
}

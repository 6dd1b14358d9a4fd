//! `status`: one screen with the URL, address, NEGs, backend health, the last controller events
//! and whether install's changes have drifted.

use serde_json::{json, Value};

use crate::cli::{Global, Output, StatusArgs};
use crate::error::{self, exit};
use crate::gcp::model::short;
use crate::plan;
use crate::printer::Printer;
use crate::state::{self, ADDED_ANNOTATIONS, CLASS_ANNOTATION, MANAGED_BY_LABEL, MANAGER};
use crate::verify;

pub async fn run(g: &Global, a: &StatusArgs, p: &Printer) -> anyhow::Result<u8> {
    loop {
        let (code, b, name, rv) = once(g, a, p).await?;
        if !a.watch {
            return Ok(code);
        }
        wait_for_change(&b, &name, &rv).await;
        p.out("");
    }
}

/// Block until the Ingress or Service gateway changes (a watch from their resourceVersions), or
/// a minute passes (backend health is not a Kubernetes object: refresh it now and then).
async fn wait_for_change(b: &state::Base, ingress: &str, rvs: &(String, String)) {
    use k8s_openapi::api::core::v1::Service;
    use k8s_openapi::api::networking::v1::Ingress;
    tokio::select! {
        _ = first_change::<Ingress>(b.kube.api(), ingress, &rvs.0) => {}
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

async fn once(g: &Global, a: &StatusArgs, p: &Printer) -> anyhow::Result<(u8, state::Base, String, (String, String))> {
    let b = state::base(g, p).await?;
    let ours: Vec<_> = b
        .ingresses
        .iter()
        .filter(|i| {
            i.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(MANAGED_BY_LABEL))
                .is_some_and(|v| v == MANAGER)
        })
        .collect();
    let Some(ing) = ours.first() else {
        return Err(error::environment(
            format!("no Ingress of kubectl-kasten-ilb in `{}`", b.k10.namespace),
            "`kubectl kasten-ilb install` creates one; `kubectl kasten-ilb doctor` checks Ingresses made another way",
        ));
    };
    let name = ing.metadata.name.clone().unwrap_or_default();
    let j = serde_json::to_value(ing)?;
    let ip = state::ingress_ip(ing);
    let path = j["spec"]["rules"][0]["http"]["paths"][0]["path"]
        .as_str()
        .unwrap_or("/")
        .to_string();
    let class = j["metadata"]["annotations"][CLASS_ANNOTATION]
        .as_str()
        .unwrap_or("<none>")
        .to_string();
    let neg = state::neg_name(&b.k10);
    let (negs, health, vpc, events) = tokio::join!(
        async {
            match &neg {
                Some(n) => verify::negs(&b, n).await.unwrap_or_default(),
                None => vec![],
            }
        },
        async {
            match &neg {
                Some(n) => verify::backend_health(&b, n).await.ok(),
                None => None,
            }
        },
        state::vpc(&b),
        state::events_for(&b.kube, "Ingress", &name),
    );
    let vpc = vpc?;
    // Drift: what install set up that is no longer there.
    let mut drift = vec![];
    if class != "gce-internal" {
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
        if any_ours && !has_ours {
            drift.push(format!("firewall rule {fw} is gone"));
        }
    }
    if vpc.active_proxy_subnet(&b.cluster.region).is_none() {
        drift.push(format!("no ACTIVE proxy-only subnet in {}", b.cluster.region));
    }
    let (healthy, total) = health.as_ref().map(|h| verify::healthy_count(h)).unwrap_or((0, 0));
    let evs: Vec<Value> = events
        .iter()
        .rev()
        .take(5)
        .map(|e| json!({"type": e.type_, "reason": e.reason, "message": e.message, "count": e.count}))
        .collect();
    let url = ip
        .as_ref()
        .map(|ip| format!("http://{ip}{}", plan::normalize_path(&path).unwrap_or(path.clone())));
    let doc = json!({
        "ingress": format!("{}/{name}", b.k10.namespace), "class": class, "url": url, "address": ip,
        "negs": negs.iter().map(|n| json!({"zone": short(&n.zone), "size": n.size})).collect::<Vec<_>>(),
        "backends": {"healthy": healthy, "total": total},
        "events": evs, "drift": drift,
    });
    match a.output {
        Output::Table => {
            let mut s = String::new();
            s.push_str(&format!("Ingress    {}/{name} (class {class})\n", b.k10.namespace));
            s.push_str(&format!(
                "URL        {}\n",
                url.clone().unwrap_or_else(|| "(no address yet)".into())
            ));
            s.push_str(&format!(
                "NEGs       {}\n",
                if negs.is_empty() {
                    "none".to_string()
                } else {
                    negs.iter()
                        .map(|n| format!("{} {}", short(&n.zone), n.size))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ));
            s.push_str(&format!("Backends   {healthy}/{total} HEALTHY\n"));
            s.push_str("Events\n");
            for e in events.iter().rev().take(5) {
                s.push_str(&format!(
                    "  {} {}: {}\n",
                    e.type_.clone().unwrap_or_default(),
                    e.reason.clone().unwrap_or_default(),
                    e.message.clone().unwrap_or_default()
                ));
            }
            s.push_str(&format!(
                "Drift      {}",
                if drift.is_empty() {
                    "none".to_string()
                } else {
                    drift.join("; ")
                }
            ));
            p.out(&s);
        }
        Output::Json => p.out(&serde_json::to_string_pretty(&doc)?),
        Output::Yaml => p.out(&serde_yaml::to_string(&doc)?),
    }
    let code = if drift.is_empty() && ip.is_some() && total > 0 && healthy == total {
        exit::OK
    } else {
        exit::FAILED
    };
    let rvs = (
        ing.metadata.resource_version.clone().unwrap_or_default(),
        b.k10.service.metadata.resource_version.clone().unwrap_or_default(),
    );
    Ok((code, b, name, rvs))
}

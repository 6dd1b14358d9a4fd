//! Waits with a deadline: the gateway's rollout, and the front end's address (printing the
//! controller's events as they come).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{WatchEvent, WatchParams};
use kube::Api;

use crate::error;
use crate::kube::explain;
use crate::plan::Frontend;
use crate::printer::{Printer, Progress};
use crate::state::{self, Base};

/// Wait until every gateway pod declares the port and is ready (the health check is inferred
/// from the pods when GKE first creates it, so the Ingress must come after the rollout).
pub async fn rollout(b: &Base, port: i32, p: &Printer, deadline: Instant) -> anyhow::Result<()> {
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

/// Wait until the front end has an address.
pub async fn address(b: &Base, f: &Frontend, p: &Printer, deadline: Instant) -> anyhow::Result<String> {
    match f {
        Frontend::Ingress { name } => ingress_address(b, name, p, deadline).await,
        Frontend::Gateway { name } => super::gateway::address(b, name, p, deadline).await,
    }
}

/// The controller's events about one object, each printed once; remembers the last warning.
pub(super) struct EventLog {
    kind: &'static str,
    name: String,
    /// The object's uid once known: events of an earlier object of the same name are not shown.
    pub(super) uid: Option<String>,
    seen: BTreeSet<(String, i32)>,
    last_warning: Option<String>,
}

impl EventLog {
    pub(super) fn new(kind: &'static str, name: &str) -> EventLog {
        EventLog {
            kind,
            name: name.to_string(),
            uid: None,
            seen: BTreeSet::new(),
            last_warning: None,
        }
    }

    pub(super) async fn print_new(&mut self, b: &Base, prog: &Progress) {
        for e in state::events_for(&b.kube, self.kind, &self.name, self.uid.as_deref()).await {
            let key = (e.metadata.name.clone().unwrap_or_default(), e.count.unwrap_or(1));
            if self.seen.insert(key) {
                let t = e.type_.clone().unwrap_or_default();
                let reason = e.reason.clone().unwrap_or_default();
                let msg = e.message.clone().unwrap_or_default();
                if t == "Warning" {
                    self.last_warning = e.message.clone();
                }
                prog.println(&format!("{t} {reason}: {msg}"));
            }
        }
    }
}

/// Watch the Ingress until it has an address, printing the controller's events as they come.
async fn ingress_address(b: &Base, name: &str, p: &Printer, deadline: Instant) -> anyhow::Result<String> {
    let api: Api<Ingress> = b.kube.api();
    let current = api.get_opt(name).await.ok().flatten();
    if let Some(ip) = current.as_ref().and_then(state::ingress_ip) {
        p.status("Address", &format!("ingress/{name} has {ip}"));
        return Ok(ip);
    }
    let what = format!("GKE is provisioning the internal load balancer for ingress/{name}");
    let mut prog = p.progress(&what);
    let start = Instant::now();
    let mut log = EventLog {
        kind: "Ingress",
        name: name.to_string(),
        uid: current.and_then(|i| i.metadata.uid),
        seen: BTreeSet::new(),
        last_warning: None,
    };
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            prog.abandon();
            let why = log
                .last_warning
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
        let mut stream = match api.watch(&wp, "0").await {
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
                ev = stream.next() => match ev {
                    Some(Ok(WatchEvent::Added(i) | WatchEvent::Modified(i))) => {
                        log.uid = i.metadata.uid.clone().or(log.uid.take());
                        if let Some(ip) = state::ingress_ip(&i) {
                            let took = start.elapsed().as_secs_f64();
                            prog.finish("Address", &format!("ingress/{name} has {ip} after {took:.1}s"));
                            return Ok(ip);
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break,
                },
                _ = tick.tick() => {
                    log.print_new(b, &prog).await;
                    prog.set(&format!("{what} ({}s)", start.elapsed().as_secs()));
                    if Instant::now() >= deadline {
                        break;
                    }
                }
            }
        }
    }
}

//! The end-to-end check after install: NEGs match the ready pods, backends are HEALTHY, and the
//! dashboard answers through the load balancer from inside the cluster.

use std::time::{Duration, Instant};

use k8s_openapi::api::networking::v1::Ingress;
use kube::Api;

use crate::error;
use crate::gcp::context;
use crate::plan::{Frontend, Plan};
use crate::printer::{Printer, Progress};
use crate::state::{self, Base};
use crate::verify::{self, Endpoint};

/// NEGs, backend health, then curl through the load balancer; `pod` runs curl.
pub async fn all(
    b: &Base,
    plan: &Plan,
    ip: &str,
    p: &Printer,
    deadline: Instant,
    pod: (String, Option<String>),
) -> anyhow::Result<()> {
    let prog = p.progress("waiting for NEGs and healthy backends");
    let (neg, prog) = negs(b, prog, deadline).await?;
    let prog = healthy(b, &plan.frontend, &neg, prog, deadline).await?;
    let mut ep = endpoint(b, &plan.frontend, ip).await;
    if matches!(plan.frontend, Frontend::Gateway { .. }) {
        ep.host = plan.host.clone();
    }
    answers(b, plan, &ep, &pod, prog, deadline).await
}

/// Wait until the Service's neg-status names NEGs whose sizes match the ready pods per zone (the
/// empty NEGs GKE keeps in zones without a gateway pod are not waited for).
async fn negs(b: &Base, mut prog: Progress, deadline: Instant) -> anyhow::Result<(String, Progress)> {
    loop {
        // Re-read the Service for neg-status (written by the NEG controller), and the pods: a
        // rollout held back by the load balancer's readiness gate changes them while we wait.
        let k = crate::discover::k10(&b.kube).await?;
        let want = verify::ready_per_zone(&state::Observed {
            k10: k.clone(),
            ..b.seen.clone()
        });
        let last = match state::neg_name(&k) {
            Some(n) => {
                let negs = verify::negs(b, &n).await.map_err(|e| context(e, "listing NEGs"))?;
                match verify::neg_mismatch(&negs, &want) {
                    None => {
                        prog.println(&format!("NEG {n}: {}", verify::neg_summary(&negs)));
                        return Ok((n, prog));
                    }
                    Some(m) => m,
                }
            }
            None => "Service gateway has no neg-status yet".into(),
        };
        if Instant::now() >= deadline {
            prog.abandon();
            return Err(error::failed(
                format!("NEGs did not match the ready gateway pods before the deadline: {last}"),
                "run `kubectl kasten-ilb doctor`",
            ));
        }
        prog.set(&format!("waiting for NEGs: {last}"));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The backend service of the front end: the NEG's name for an Ingress; for a Gateway, the
/// `gkegw1-` one GKE's Gateway controller made (None until it has).
async fn backend_of(b: &Base, f: &Frontend, neg: &str) -> anyhow::Result<Option<String>> {
    match f {
        Frontend::Ingress { .. } => Ok(Some(neg.to_string())),
        Frontend::Gateway { .. } => Ok(crate::gateway::backend_service(b)
            .await
            .map_err(|e| context(e, "listing backend services"))?
            .map(|bs| bs.name)),
    }
}

/// Wait until every backend of the front end's backend service is HEALTHY.
async fn healthy(b: &Base, f: &Frontend, neg: &str, mut prog: Progress, deadline: Instant) -> anyhow::Result<Progress> {
    loop {
        let (healthy, total, name) = match backend_of(b, f, neg).await? {
            Some(bs) => {
                let h = verify::backend_health(b, &bs)
                    .await
                    .map_err(|e| context(e, "reading backend health"))?;
                let (healthy, total) = verify::healthy_count(&h);
                (healthy, total, bs)
            }
            None => (0, 0, "(not made yet)".into()),
        };
        if total > 0 && healthy == total {
            prog.println(&format!("backend {name}: {healthy}/{total} HEALTHY"));
            return Ok(prog);
        }
        if Instant::now() >= deadline {
            prog.abandon();
            return Err(error::failed(
                format!("backends are not healthy before the deadline ({healthy}/{total} HEALTHY)"),
                "run `kubectl kasten-ilb doctor`: it checks the firewall and the health check path",
            ));
        }
        prog.set(&format!(
            "waiting for healthy backends of {name}: {healthy}/{total} HEALTHY"
        ));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Where to reach the dashboard: scheme and host as the front end serves them.
async fn endpoint(b: &Base, f: &Frontend, ip: &str) -> Endpoint {
    let plain = Endpoint {
        https: false,
        ip: ip.to_string(),
        host: None,
    };
    match f {
        // Its HTTP listener serves every host; the route matches `--host` when one is set.
        Frontend::Gateway { .. } => plain,
        Frontend::Ingress { name } => {
            let ing: Api<Ingress> = b.kube.api();
            match ing.get_opt(name).await {
                Ok(Some(i)) => Endpoint::of(&i, ip),
                _ => plain,
            }
        }
    }
}

/// Curl the page and a deep link until both answer as K10 does. A definite wrong answer (not a
/// 502 while backends settle) repeated for ~3 s is final.
async fn answers(
    b: &Base,
    plan: &Plan,
    ep: &Endpoint,
    pod: &(String, Option<String>),
    mut prog: Progress,
    deadline: Instant,
) -> anyhow::Result<()> {
    let page_url = ep.url(&plan.path);
    let deep_path = format!("{}dashboard/", plan.path);
    let mut definite = 0;
    loop {
        let (page, deep) = verify::curl_pair(b, pod, ep, &plan.path, &deep_path).await?;
        let verdict = match (page, deep) {
            (Ok(pg), Ok(dp)) => verify::judge(&pg, &dp, b.k10.auth.as_deref()),
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

//! Observe everything the plan depends on (concurrently), then compute the plan. Read-only:
//! install and export start here.

use k8s_openapi::api::core::v1::Secret;
use kube::api::DynamicObject;

use crate::cli::Global;
use crate::cli::Via;
use crate::error;
use crate::gcp::context;
use crate::gcp::model::{Address, HealthCheck};
use crate::plan::{self, gateway, Plan, Settings};
use crate::printer::Printer;
use crate::state::{self, Base, Vpc};

/// What the plan was computed from, and the plan.
pub struct Prepared {
    pub base: Base,
    pub vpc: Vpc,
    pub hc: Option<HealthCheck>,
    pub bc: Option<DynamicObject>,
    pub plan: Plan,
    /// Ingress or Gateway mode, and Gateway mode's options.
    pub opts: gateway::Options,
    /// What is where `--self-signed` writes its Secret (looked at only with `--self-signed`).
    pub tls: plan::tls::Existing,
}

impl Prepared {
    /// The plan again, for other settings, from the same observations.
    pub fn replan(&self, settings: &Settings) -> anyhow::Result<Plan> {
        let mut plan = match self.opts.via {
            Via::Ingress => plan::compute(&self.base, &self.vpc, self.hc.as_ref(), self.bc.as_ref(), settings)?,
            Via::Gateway => gateway::compute(&self.base, &self.vpc, settings, &self.opts)?,
        };
        plan::tls::insert(&mut plan, &self.base.k10, settings, &self.tls)?;
        Ok(plan)
    }
}

pub async fn prepare(g: &Global, settings: &Settings, p: &Printer) -> anyhow::Result<Prepared> {
    prepare_with(g, settings, &gateway::Options::default(), p).await
}

/// As [`prepare`], in the mode `opts` asks for (Gateway mode also reads the Gateway API objects).
pub async fn prepare_with(
    g: &Global,
    settings: &Settings,
    opts: &gateway::Options,
    p: &Printer,
) -> anyhow::Result<Prepared> {
    let mut base = state::base(g, p).await?;
    if opts.via == Via::Gateway {
        base = state::with_gateway_api(base).await?;
    }
    let bc_name = plan::backend_config_name(&base.k10.release);
    let (vpc, hc, bc) = tokio::join!(
        state::vpc(&base),
        state::health_check(&base),
        state::backend_config(&base, &bc_name)
    );
    let (vpc, bc) = (vpc?, bc?);
    let mut plan = match opts.via {
        Via::Ingress => plan::compute(&base, &vpc, hc.as_ref(), bc.as_ref(), settings)?,
        Via::Gateway => gateway::compute(&base, &vpc, settings, opts)?,
    };
    if let Some(ip) = &settings.static_ip {
        check_static_ip(&base, ip).await?;
    }
    let tls = match settings.self_signed {
        true => self_signed_secret(&base).await?,
        false => plan::tls::Existing::Absent,
    };
    plan::tls::insert(&mut plan, &base.k10, settings, &tls)?;
    Ok(Prepared {
        base,
        vpc,
        hc,
        bc,
        plan,
        opts: *opts,
        tls,
    })
}

/// What is where `--self-signed` writes its Secret: who made it, and for which host.
pub async fn self_signed_secret(b: &Base) -> anyhow::Result<plan::tls::Existing> {
    let name = plan::tls::self_signed_name(&b.k10.release);
    let api: kube::Api<Secret> = b.kube.api();
    let found = b
        .kube
        .retry("read the TLS Secret", || api.get_opt(&name))
        .await
        .map_err(|e| crate::kube::explain(e, "reading the TLS Secret", &b.kube.server))?;
    Ok(match found {
        None => plan::tls::Existing::Absent,
        Some(s) if is_ours(s.metadata.labels.as_ref()) => {
            let crt = s
                .data
                .as_ref()
                .and_then(|d| d.get("tls.crt"))
                .map(|c| c.0.clone())
                .unwrap_or_default();
            let now = jiff::Timestamp::now().as_second();
            plan::tls::Existing::Ours {
                host: s
                    .metadata
                    .annotations
                    .and_then(|a| a.get(plan::tls::HOST_ANNOTATION).cloned()),
                days_left: crate::tls::parse_pem(&crt)
                    .ok()
                    .map(|c| (c.not_after - now).div_euclid(86_400)),
            }
        }
        Some(_) => plan::tls::Existing::NotOurs,
    })
}

fn is_ours(labels: Option<&std::collections::BTreeMap<String, String>>) -> bool {
    labels
        .and_then(|l| l.get(state::MANAGED_BY_LABEL))
        .is_some_and(|v| v == state::MANAGER)
}

/// `--tls-secret` names a Secret of type `kubernetes.io/tls` in K10's namespace: GKE makes the
/// load balancer's certificate from it, and without one an HTTPS-only Ingress serves nothing.
/// install checks it before any change; export does not (a GitOps pipeline may make it later).
pub async fn check_tls_secret(b: &Base, name: &str) -> anyhow::Result<()> {
    let ns = &b.k10.namespace;
    let api: kube::Api<Secret> = b.kube.api();
    let create = format!("kubectl -n {ns} create secret tls {name} --cert=CERT.pem --key=KEY.pem");
    let found = b
        .kube
        .retry("read the TLS Secret", || api.get_opt(name))
        .await
        .map_err(|e| crate::kube::explain(e, "reading the TLS Secret", &b.kube.server))?;
    let Some(s) = found else {
        return Err(error::usage(
            format!("--tls-secret: there is no Secret `{name}` in `{ns}`"),
            format!("create it first: `{create}`"),
        ));
    };
    match s.type_.as_deref() {
        Some("kubernetes.io/tls") => Ok(()),
        other => Err(error::usage(
            format!(
                "--tls-secret: Secret `{name}` is of type `{}`, not `kubernetes.io/tls` (GKE reads tls.crt and \
                 tls.key from a TLS Secret only)",
                other.unwrap_or("Opaque")
            ),
            format!("make a TLS Secret: `{create}`"),
        )),
    }
}

/// `--static-ip` names a reserved INTERNAL regional address.
pub async fn check_static_ip(b: &Base, name: &str) -> anyhow::Result<()> {
    let c = &b.cluster;
    let url = b
        .gcp
        .compute_url(&format!("{}/regions/{}/addresses/{name}", c.r.project, c.region));
    let create = format!(
        "gcloud compute addresses create {name} --region={} --subnet={} --purpose=SHARED_LOADBALANCER_VIP \
         --project={}",
        c.region, c.subnetwork, c.r.project
    );
    match b
        .gcp
        .get_opt::<Address>(&url)
        .await
        .map_err(|e| context(e, "reading the static IP"))?
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

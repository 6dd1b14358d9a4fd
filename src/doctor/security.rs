//! What doctor's security checks read, as plain data: the certificates the load balancer serves
//! (from the Ingresses' TLS Secrets, or the regional SSL certificates they name), the forwarding
//! rules on the address, and the time they were read. Peerings come with the VPC (`Vpc.network`).

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::networking::v1::Ingress;
use kube::Api;
use serde_json::Value;

use crate::gcp::model::{ForwardingRule, SslCertificate};
use crate::state::{ingress_ip, Base};
use crate::tls::{self, CertInfo};

/// The annotation that names regional SSL certificates (comma-separated) for a gce-internal Ingress.
pub const PRE_SHARED_CERT: &str = "ingress.gcp.kubernetes.io/pre-shared-cert";
/// `"false"` turns the load balancer's HTTP off.
pub const ALLOW_HTTP: &str = "kubernetes.io/ingress.allow-http";

/// A certificate the load balancer serves for an Ingress.
#[derive(Debug, Clone, PartialEq)]
pub struct Served {
    pub ingress: String,
    /// `secret/NAME` or `sslCertificate NAME`.
    pub source: String,
    pub cert: Result<CertInfo, String>,
    /// Install made it (`--self-signed`): install renews it.
    pub ours: bool,
}

#[derive(Debug, Clone)]
pub struct Security {
    pub certificates: Vec<Served>,
    /// Regional forwarding rules on the front end's address, or why they could not be listed.
    pub forwarding_rules: Result<Vec<ForwardingRule>, String>,
    /// When this was read (seconds since the epoch).
    pub now: i64,
}

impl Default for Security {
    fn default() -> Self {
        Security {
            certificates: vec![],
            forwarding_rules: Ok(vec![]),
            now: 0,
        }
    }
}

/// An Ingress's annotation, if set.
pub fn annotation<'a>(i: &'a Ingress, key: &str) -> Option<&'a str> {
    i.metadata.annotations.as_ref()?.get(key).map(String::as_str)
}

/// Whether the load balancer of this Ingress answers HTTP (GKE's default, unless `allow-http: "false"`).
pub fn serves_http(i: &Ingress) -> bool {
    annotation(i, ALLOW_HTTP) != Some("false")
}

/// The TLS Secrets the Ingress names.
pub fn tls_secrets(i: &Ingress) -> Vec<String> {
    let spec = i.spec.as_ref();
    spec.and_then(|s| s.tls.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|t| t.secret_name.clone())
        .collect()
}

/// The regional SSL certificates the Ingress names.
pub fn pre_shared(i: &Ingress) -> Vec<String> {
    annotation(i, PRE_SHARED_CERT)
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the Ingress has any certificate (so the load balancer serves HTTPS).
pub fn has_tls(i: &Ingress) -> bool {
    !tls_secrets(i).is_empty() || !pre_shared(i).is_empty()
}

/// Read it all, concurrently.
pub async fn gather(b: &Base, ingresses: &[&Ingress]) -> Security {
    let now = jiff::Timestamp::now().as_second();
    let ip = ingresses.iter().find_map(|i| ingress_ip(i));
    let certs = futures::future::join_all(ingresses.iter().map(|i| certificates(b, i)));
    let (certs, frs) = tokio::join!(certs, forwarding_rules(b, ip));
    Security {
        certificates: certs.into_iter().flatten().collect(),
        forwarding_rules: frs,
        now,
    }
}

async fn certificates(b: &Base, i: &Ingress) -> Vec<Served> {
    let name = i.metadata.name.clone().unwrap_or_default();
    let mut out = vec![];
    for s in tls_secrets(i) {
        let (cert, ours) = secret_cert(b, &s).await;
        out.push(Served {
            ingress: name.clone(),
            source: format!("secret/{s}"),
            cert,
            ours,
        });
    }
    for c in pre_shared(i) {
        out.push(Served {
            ingress: name.clone(),
            source: format!("sslCertificate {c}"),
            cert: regional_cert(b, &c).await,
            ours: false,
        });
    }
    out
}

/// The certificate of a TLS Secret (only `tls.crt` is parsed), and whether install made it.
async fn secret_cert(b: &Base, name: &str) -> (Result<CertInfo, String>, bool) {
    let api: Api<Secret> = b.kube.api();
    match api.get_opt(name).await {
        Ok(Some(s)) => {
            let ours = s
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(crate::state::MANAGED_BY_LABEL))
                == Some(&crate::state::MANAGER.to_string());
            let crt = s.data.and_then(|d| d.get("tls.crt").cloned()).unwrap_or_default();
            (tls::parse_pem(&crt.0).map_err(|e| format!("tls.crt: {e}")), ours)
        }
        Ok(None) => (Err(format!("there is no Secret `{name}`")), false),
        Err(e) => (Err(format!("reading Secret `{name}`: {e}")), false),
    }
}

async fn regional_cert(b: &Base, name: &str) -> Result<CertInfo, String> {
    let c = &b.cluster;
    let url = b
        .gcp
        .compute_url(&format!("{}/regions/{}/sslCertificates/{name}", c.r.project, c.region));
    match b.gcp.get_opt::<SslCertificate>(&url).await {
        Ok(Some(s)) => tls::parse_pem(s.certificate.unwrap_or_default().as_bytes()),
        Ok(None) => Err(format!("there is no regional SSL certificate `{name}` in {}", c.region)),
        Err(e) => Err(format!("{e:#}")),
    }
}

async fn forwarding_rules(b: &Base, ip: Option<String>) -> Result<Vec<ForwardingRule>, String> {
    let Some(ip) = ip else {
        return Ok(vec![]);
    };
    let c = &b.cluster;
    let url = b
        .gcp
        .compute_url(&format!("{}/regions/{}/forwardingRules", c.r.project, c.region));
    let all: Vec<ForwardingRule> = b.gcp.list(&url, None).await.map_err(|e| format!("{e:#}"))?;
    Ok(all.into_iter().filter(|f| f.ip_address == ip).collect())
}

/// The evidence for a certificate.
pub fn cert_evidence(s: &Served) -> Value {
    match &s.cert {
        Ok(c) => serde_json::json!({"ingress": s.ingress, "source": s.source, "names": c.names,
            "notAfter": c.not_after, "sha256": c.fingerprint, "selfSigned": c.self_signed, "ownedByInstall": s.ours}),
        Err(e) => serde_json::json!({"ingress": s.ingress, "source": s.source, "error": e}),
    }
}

/// The first host of the Ingress's rules.
pub fn host_of(i: &Ingress) -> Option<String> {
    let rules = i.spec.as_ref()?.rules.as_ref()?;
    rules.iter().find_map(|r| r.host.clone())
}

/// Install made this object (its managed-by label).
pub fn made_by_install(m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> bool {
    m.labels
        .as_ref()
        .and_then(|l| l.get(crate::state::MANAGED_BY_LABEL))
        .map(String::as_str)
        == Some(crate::state::MANAGER)
}

/// The `kubectl kasten-ilb install` that keeps this (install's own) Ingress's settings and serves
/// HTTPS only with a certificate: its own, the Secret it names, or a new self-signed one.
pub fn install_https_only(ns: &str, release: &str, i: &Ingress) -> String {
    let host = host_of(i).unwrap_or_else(|| "HOST".into());
    let cert = match tls_secrets(i).first() {
        Some(s) if *s != crate::plan::tls::self_signed_name(release) => format!("--tls-secret {s}"),
        _ => "--self-signed".to_string(),
    };
    let ip = annotation(i, crate::state::STATIC_IP)
        .map(|n| format!(" --static-ip {n}"))
        .unwrap_or_default();
    format!("kubectl kasten-ilb install -n {ns} --host {host} {cert}{ip} --https-only")
}

//! The TLS step: make the self-signed certificate and its `kubernetes.io/tls` Secret, and read
//! back the certificate a front end serves (for the summary). The key goes from rcgen into the
//! Secret's body and nowhere else: the request log shows no bodies.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;
use kube::api::{Patch, PatchParams, PostParams};
use kube::Api;

use crate::kube::{explain, status_code};
use crate::plan::tls::HOST_ANNOTATION;
use crate::printer::Printer;
use crate::state::{Base, MANAGED_BY_LABEL, MANAGER};
use crate::tls;

/// Create (or, `replace`, renew) install's Secret with a new key and certificate for `host`.
pub async fn self_signed_secret(b: &Base, name: &str, host: &str, replace: bool, p: &Printer) -> anyhow::Result<()> {
    let made = tls::self_signed(host)?;
    let verb = if replace { "Replacing" } else { "Creating" };
    p.status(
        verb,
        &format!(
            "secret/{name}: self-signed certificate for {host}, SHA-256 {}",
            made.fingerprint
        ),
    );
    let mut secret = Secret {
        type_: Some("kubernetes.io/tls".into()),
        data: Some(BTreeMap::from([
            ("tls.crt".to_string(), ByteString(made.cert_pem.clone().into_bytes())),
            ("tls.key".to_string(), ByteString(made.key_pem().as_bytes().to_vec())),
        ])),
        ..Default::default()
    };
    secret.metadata.name = Some(name.into());
    secret.metadata.labels = Some(BTreeMap::from([(MANAGED_BY_LABEL.to_string(), MANAGER.to_string())]));
    secret.metadata.annotations = Some(BTreeMap::from([(HOST_ANNOTATION.to_string(), host.to_string())]));
    let api: Api<Secret> = b.kube.api();
    let what = "creating the TLS Secret";
    let pp = PostParams::default();
    if !replace {
        match b.kube.retry("create secret", || api.create(&pp, &secret)).await {
            Ok(_) => return Ok(()),
            // A retried create that had gone through: replace it with this key and certificate.
            Err(e) if status_code(&e) == Some(409) => {}
            Err(e) => return Err(explain(e, what, &b.kube.server)),
        }
    }
    let body = serde_json::to_value(&secret)?;
    let merge = Patch::Merge(&body);
    let pp = PatchParams {
        field_manager: Some(MANAGER.into()),
        ..Default::default()
    };
    b.kube
        .retry("patch secret", || api.patch(name, &pp, &merge))
        .await
        .map(|_| ())
        .map_err(|e| explain(e, what, &b.kube.server))
}

/// The certificate in Secret `name` (its `tls.crt` only), for the summary.
pub async fn served(b: &Base, name: &str) -> anyhow::Result<tls::CertInfo> {
    let api: Api<Secret> = b.kube.api();
    let s = b
        .kube
        .retry("read the TLS Secret", || api.get(name))
        .await
        .map_err(|e| explain(e, "reading the TLS Secret", &b.kube.server))?;
    let crt = s.data.and_then(|d| d.get("tls.crt").cloned()).unwrap_or_default();
    tls::parse_pem(&crt.0).map_err(|e| anyhow::anyhow!("Secret `{name}`: tls.crt: {e}"))
}

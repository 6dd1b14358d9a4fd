//! The TLS step, front-end agnostic: which `kubernetes.io/tls` Secret the front end serves
//! ([`Settings::certificate_secret`]), and, with `--self-signed`, the Secret install makes for it
//! (a P-256 key and a certificate for `--host`, owned by its label and removed by uninstall). The
//! key is made when the step is applied: no plan, manifest or log carries it. A front end (the
//! Ingress's `spec.tls`, a Gateway's HTTPS listener) only needs the Secret's name.

use crate::discover::K10;
use crate::error;

use super::{Change, Plan, Settings, Step, StepKind};

pub const TLS: StepKind = StepKind {
    id: "tls",
    title: "TLS certificate",
};

/// Annotation on the Secret install makes: the host its certificate is for.
pub const HOST_ANNOTATION: &str = "kasten-ilb.kasten.io/certificate-host";

/// The Secret `--self-signed` makes: `<release>-ilb-tls`.
pub fn self_signed_name(release: &str) -> String {
    format!("{release}-ilb-tls")
}

/// What install found where `--self-signed` would write its Secret.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Existing {
    /// Not looked for (no `--self-signed`), or not there.
    #[default]
    Absent,
    /// Install's own, for this host (from [`HOST_ANNOTATION`]), with the days its certificate has
    /// left (None: unreadable).
    Ours {
        host: Option<String>,
        days_left: Option<i64>,
    },
    /// A Secret of that name that install did not make.
    NotOurs,
}

/// Whether K10's auth sends credentials the load balancer would carry in clear text over HTTP.
pub fn credentials_over_http(k: &K10) -> bool {
    matches!(k.auth.as_deref(), Some("basic" | "token"))
}

/// The step (only with `--self-signed`), or a usage error when the name is taken by someone else.
pub fn step(k: &K10, s: &Settings, found: &Existing) -> anyhow::Result<Option<Step>> {
    let (Some(host), true) = (s.host.as_deref(), s.self_signed) else {
        return Ok(None);
    };
    let (ns, name) = (&k.namespace, self_signed_name(&k.release));
    let target = format!("secret/{name} (self-signed for {host})");
    let change = |replace| Change::TlsSecret {
        name: name.clone(),
        host: host.to_string(),
        replace,
    };
    let command = format!(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days {} -subj /CN={host} \
         -addext subjectAltName=DNS:{host} -keyout tls.key -out tls.crt && kubectl -n {ns} create secret tls \
         {name} --cert=tls.crt --key=tls.key",
        crate::tls::SELF_SIGNED_DAYS
    );
    Ok(Some(match found {
        Existing::Absent => TLS.create(
            target,
            format!(
                "a P-256 key and a certificate for {host}, valid {} days, in a kubernetes.io/tls Secret install owns \
                 (uninstall removes it); its SHA-256 fingerprint is printed at the end",
                crate::tls::SELF_SIGNED_DAYS
            ),
            command,
            change(false),
        ),
        Existing::Ours { host: h, days_left } => match renewal(h.as_deref(), *days_left, host) {
            None => TLS.noop(target, "exists as wanted (made by install)"),
            Some(why) => TLS.update(target, why, command, change(true)),
        },
        Existing::NotOurs => {
            return Err(error::usage(
                format!(
                    "--self-signed: Secret `{name}` already exists in `{ns}` and was not made by kubectl-kasten-ilb"
                ),
                format!("serve it with --tls-secret {name}, or delete it first"),
            ))
        }
    }))
}

/// Why install's own certificate must be made again, or None when it can stay.
fn renewal(made_for: Option<&str>, days_left: Option<i64>, host: &str) -> Option<String> {
    if made_for != Some(host) {
        return Some(format!(
            "install's certificate is for another host: a new key and certificate for {host}"
        ));
    }
    match days_left {
        Some(d) if d >= crate::tls::EXPIRY_WARN_DAYS => None,
        Some(d) if d <= 0 => Some("renews install's certificate: it has expired".into()),
        Some(d) => Some(format!("renews install's certificate: it expires in {d} day(s)")),
        None => Some("renews install's certificate: its tls.crt cannot be read".into()),
    }
}

/// Put the step (if any) before the front end that serves it.
pub fn insert(plan: &mut Plan, k: &K10, s: &Settings, found: &Existing) -> anyhow::Result<()> {
    if let Some(step) = step(k, s, found)? {
        let at = plan.steps.len().saturating_sub(1);
        plan.steps.insert(at, step);
    }
    Ok(())
}

/// What the summary says about HTTP when K10's credentials would cross it, in words.
pub fn cleartext_note(k: &K10, plan: &Plan) -> Option<String> {
    if plan.https || !credentials_over_http(k) {
        return None;
    }
    let auth = k.auth.as_deref().unwrap_or_default();
    let (what, fix) = if plan.certificate.is_some() {
        (
            "serves HTTP as well as HTTPS",
            "add --https-only to serve HTTPS only".to_string(),
        )
    } else {
        (
            "serves HTTP only",
            "rerun install with --self-signed --host HOST (or --tls-secret SECRET --host HOST) to add TLS".to_string(),
        )
    };
    Some(format!(
        "Security: the load balancer {what}, and K10 uses {auth} auth: credentials cross the VPC (and any peered \
         network) in clear text; {fix}."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Action;
    use crate::state::{Observed, Vpc};

    fn settings(host: Option<&str>, self_signed: bool) -> Settings {
        Settings {
            host: host.map(str::to_string),
            self_signed,
            ..Settings::from_args(&crate::cli::PlanArgs::default()).unwrap()
        }
    }

    #[test]
    fn self_signed_makes_reuses_or_remakes_install_s_own_secret() {
        let k = Observed::fresh().k10;
        let host = Some("k10.corp.internal");
        let ours = |h: &str, d: i64| Existing::Ours {
            host: Some(h.into()),
            days_left: Some(d),
        };
        let cases = [
            (Existing::Absent, Some(Action::Create)),
            (ours("k10.corp.internal", 300), Some(Action::NoOp)),
            (ours("k10.corp.internal", 13), Some(Action::Update)),
            (ours("k10.corp.internal", -2), Some(Action::Update)),
            (ours("old.corp.internal", 300), Some(Action::Update)),
        ];
        for (found, want) in cases {
            let got = step(&k, &settings(host, true), &found).unwrap().map(|s| s.action);
            assert_eq!(got, want, "{found:?}");
        }
        assert!(step(&k, &settings(host, false), &Existing::Absent).unwrap().is_none());
        let err = step(&k, &settings(host, true), &Existing::NotOurs).unwrap_err();
        assert!(
            format!("{err:#}").contains("was not made by kubectl-kasten-ilb"),
            "{err:#}"
        );
    }

    #[test]
    fn the_step_names_the_secret_and_never_carries_a_key() {
        let k = Observed::fresh().k10;
        let s = step(&k, &settings(Some("k10.corp.internal"), true), &Existing::Absent)
            .unwrap()
            .unwrap();
        assert_eq!(s.target, "secret/k10-ilb-tls (self-signed for k10.corp.internal)");
        assert!(matches!(&s.change, Change::TlsSecret { name, replace: false, .. } if name == "k10-ilb-tls"));
        assert!(!format!("{s:?}").contains("PRIVATE"));
    }

    #[test]
    fn basic_and_token_auth_over_http_are_said_in_words() {
        let seen = Observed::fresh();
        let with_auth = |a: Option<&str>| {
            let mut k = seen.k10.clone();
            k.auth = a.map(str::to_string);
            k
        };
        let plan = |https: bool, cert: bool| Plan {
            https,
            certificate: cert.then(|| "k10-ilb-tls".to_string()),
            ..crate::plan::compute(&seen, &Vpc::fresh(), None, None, &settings(None, false)).unwrap()
        };
        let note = cleartext_note(&with_auth(Some("basic")), &plan(false, false)).unwrap();
        assert!(note.contains("credentials cross the VPC"), "{note}");
        assert!(
            note.contains("--self-signed") && note.contains("--tls-secret"),
            "{note}"
        );
        let both = cleartext_note(&with_auth(Some("token")), &plan(false, true)).unwrap();
        assert!(both.contains("--https-only"), "{both}");
        assert_eq!(cleartext_note(&with_auth(Some("basic")), &plan(true, true)), None);
        assert_eq!(cleartext_note(&with_auth(Some("oidc")), &plan(false, false)), None);
    }
}

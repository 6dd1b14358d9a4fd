//! The certificate the load balancer serves (a TLS Secret, or a regional SSL certificate): expired
//! is FAIL, expiring within 14 days is WARN, a name that does not cover the Ingress's host is WARN.

use serde_json::Value;

use crate::doctor::security::{self, Served};
use crate::doctor::{Check, CheckId, Facts, Outcome};
use crate::tls::{self, Standing};

pub fn check(f: &Facts) -> Check {
    let id = CheckId::Certificate;
    let served = &f.security.certificates;
    if served.is_empty() {
        return Check::skip(id, "the load balancer serves no certificate (no TLS on the Ingress)");
    }
    let ev = Value::Array(served.iter().map(security::cert_evidence).collect());
    let mut worst = (Outcome::Pass, vec![], None::<String>);
    for s in served {
        let (result, finding, hint) = judge(f, s);
        let rank = |o: Outcome| {
            [Outcome::Pass, Outcome::Warn, Outcome::Fail]
                .iter()
                .position(|x| *x == o)
        };
        if rank(result) > rank(worst.0) {
            worst.0 = result;
            worst.2 = hint;
        }
        worst.1.push(finding);
    }
    let (result, findings, hint) = worst;
    let finding = findings.join("; ");
    let c = match result {
        Outcome::Fail => Check::fail(id, finding),
        Outcome::Warn => Check::warn(id, finding),
        _ => Check::pass(id, finding),
    };
    match hint {
        Some(h) => c.hint(h),
        None => c,
    }
    .evidence(ev)
}

/// One certificate: its outcome, finding and repair.
fn judge(f: &Facts, s: &Served) -> (Outcome, String, Option<String>) {
    let src = &s.source;
    let c = match &s.cert {
        Ok(c) => c,
        Err(e) => return (Outcome::Fail, format!("{src}: {e}"), Some(renew(f, s, None))),
    };
    let ing = f
        .ingresses()
        .into_iter()
        .find(|i| i.metadata.name.as_deref() == Some(&s.ingress));
    let host = ing.and_then(security::host_of);
    let names = c.names.join(", ");
    match tls::standing(c, host.as_deref(), f.security.now) {
        Standing::Expired { days_ago } => (
            Outcome::Fail,
            format!("{src} ({names}) EXPIRED {days_ago} day(s) ago: browsers refuse it"),
            Some(renew(f, s, host.as_deref())),
        ),
        Standing::Expiring { days_left } => (
            Outcome::Warn,
            format!("{src} ({names}) expires in {days_left} day(s)"),
            Some(renew(f, s, host.as_deref())),
        ),
        Standing::WrongName => (
            Outcome::Warn,
            format!(
                "{src} is for {names}, not for the Ingress's host {}",
                host.clone().unwrap_or_default()
            ),
            Some(renew(f, s, host.as_deref())),
        ),
        Standing::Good { days_left } => (
            Outcome::Pass,
            format!(
                "{src} for {names}, valid {days_left} more day(s), SHA-256 {}",
                c.fingerprint
            ),
            None,
        ),
    }
}

/// The command that puts a good certificate in place: install renews its own; another Secret or
/// regional certificate is replaced by its owner's new certificate and key.
fn renew(f: &Facts, s: &Served, host: Option<&str>) -> String {
    let ns = &f.namespace;
    let h = host.unwrap_or("HOST");
    let ing = f
        .ingresses()
        .into_iter()
        .find(|i| i.metadata.name.as_deref() == Some(&s.ingress));
    if let (true, Some(i), Some(k)) = (s.ours, ing, f.k10()) {
        return format!(
            "`{}` (install renews its own certificate)",
            security::install_https_only(ns, &k.release, i)
        );
    }
    if let Some(name) = s.source.strip_prefix("secret/") {
        return format!(
            "a new certificate for {h} in the same Secret: `kubectl -n {ns} create secret tls {name} --cert=NEW.crt \
             --key=NEW.key --dry-run=client -o yaml | kubectl -n {ns} apply -f -`"
        );
    }
    let c = f.cluster();
    let old = s.source.trim_start_matches("sslCertificate ");
    format!(
        "`gcloud compute ssl-certificates create {old}-new --region={} --certificate=NEW.crt --private-key=NEW.key \
         --project={} && kubectl -n {ns} annotate ingress {} {}={old}-new --overwrite`",
        c.region,
        c.r.project,
        s.ingress,
        security::PRE_SHARED_CERT
    )
}

//! install's TLS offer: when K10 uses basic or token auth, no certificate was given and a terminal
//! is there to ask, a choice in the plan: a self-signed certificate for `--host`, an existing
//! `kubernetes.io/tls` Secret, or HTTP only (said in words). Without a terminal, or with `--yes`,
//! nothing is asked and the plan stays HTTP-only; the summary says what that means.
//! And what the summary says about the certificate served.

use crate::cli::InstallArgs;
use crate::error;
use crate::plan::{self, tls, Plan, Settings};
use crate::prepare::{self, Prepared};
use crate::printer::Printer;

/// Whether install asks: interactive, credentials that HTTP would carry, no certificate yet, and a
/// host to certify (a certificate names one; without `--host` the summary says how to add TLS).
pub fn asks(prepared: &Prepared, a: &InstallArgs, s: &Settings, p: &Printer) -> bool {
    !a.yes
        && !a.dry_run
        && p.stdin_tty
        && !s.has_certificate()
        && s.host.is_some()
        && tls::credentials_over_http(&prepared.base.k10)
}

/// Ask, and return the plan and settings for the answer.
pub async fn choose(
    prepared: &Prepared,
    a: &InstallArgs,
    plan: Plan,
    s: Settings,
    p: &Printer,
) -> anyhow::Result<(Plan, Settings)> {
    if !asks(prepared, a, &s, p) {
        return Ok((plan, s));
    }
    let k = &prepared.base.k10;
    let host = s.host.clone().unwrap_or_default();
    let auth = k.auth.clone().unwrap_or_default();
    let items = [
        format!("Create a self-signed certificate for {host} (--self-signed)"),
        "Use an existing kubernetes.io/tls Secret (--tls-secret)".to_string(),
        "Continue HTTP-only: credentials cross the VPC in clear text".to_string(),
    ];
    let picked = dialoguer::Select::new()
        .with_prompt(format!(
            "K10 uses {auth} auth: over HTTP its credentials cross the VPC in clear text. Serve HTTPS?"
        ))
        .items(&items)
        .default(0)
        .interact()
        .map_err(|e| error::prompt(e, "pass --self-signed, --tls-secret SECRET, or --yes for HTTP only"))?;
    let chosen = match picked {
        0 => Settings { self_signed: true, ..s },
        1 => Settings {
            tls_secret: Some(secret_name(&k.namespace)?),
            ..s
        },
        _ => return Ok((plan, s)),
    };
    if let Some(t) = &chosen.tls_secret {
        prepare::check_tls_secret(&prepared.base, t).await?;
    }
    let found = match chosen.self_signed {
        true => prepare::self_signed_secret(&prepared.base).await?,
        false => tls::Existing::Absent,
    };
    let mut plan = plan::compute(
        &prepared.base,
        &prepared.vpc,
        prepared.hc.as_ref(),
        prepared.bc.as_ref(),
        &chosen,
    )?;
    tls::insert(&mut plan, k, &chosen, &found)?;
    Ok((plan, chosen))
}

fn secret_name(ns: &str) -> anyhow::Result<String> {
    dialoguer::Input::<String>::new()
        .with_prompt(format!("Name of the kubernetes.io/tls Secret in `{ns}`"))
        .validate_with(|v: &String| crate::validate::dns1123_subdomain(v))
        .interact_text()
        .map_err(|e| error::prompt(e, "pass --tls-secret SECRET"))
}

/// The summary's lines on the certificate served (with its fingerprint) and on clear text.
pub async fn summary(prepared: &Prepared, plan: &Plan) -> String {
    let mut out = String::new();
    if let Some(name) = &plan.certificate {
        match crate::apply::tls::served(&prepared.base, name).await {
            Ok(c) => out.push_str(&format!(
                "Certificate: secret/{name} for {}{}, valid until {}\n  SHA-256 fingerprint: {}\n",
                c.names.join(", "),
                if c.self_signed {
                    " (self-signed: pin this fingerprint)"
                } else {
                    ""
                },
                jiff::Timestamp::from_second(c.not_after)
                    .map(|t| t.strftime("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                c.fingerprint
            )),
            Err(e) => out.push_str(&format!("Certificate: secret/{name}: {e:#}\n")),
        }
    }
    if let Some(note) = tls::cleartext_note(&prepared.base.k10, plan) {
        out.push_str(&note);
        out.push('\n');
    }
    out
}

//! HTTP on the load balancer while K10's sign-in sends a password (basic auth) or a token: the
//! credentials cross the VPC, and every peered network, in clear text.

use k8s_openapi::api::networking::v1::Ingress;
use serde_json::json;

use crate::doctor::security::{self, has_tls, serves_http};
use crate::doctor::{Check, CheckId, Facts};
use crate::plan::tls::credentials_over_http;

pub fn check(f: &Facts) -> Check {
    let id = CheckId::Https;
    let Some(k) = f.k10() else {
        return Check::blocked(id, CheckId::K10, "K10 was not found");
    };
    let ings = f.ingresses();
    if ings.is_empty() {
        return Check::skip(id, "no Ingress routes to Service gateway: nothing is exposed");
    }
    let auth = k.auth.clone().unwrap_or_else(|| "no".into());
    let ev = json!({"auth": k.auth, "ingresses": ings.iter().map(|i| json!({
        "name": i.metadata.name, "servesHttp": serves_http(i), "tls": has_tls(i)})).collect::<Vec<_>>()});
    let http: Vec<&&Ingress> = ings.iter().filter(|i| serves_http(i)).collect();
    let names = |v: &[&&Ingress]| {
        v.iter()
            .map(|i| format!("ingress/{}", i.metadata.name.as_deref().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(first) = http.first() else {
        let all: Vec<&&Ingress> = ings.iter().collect();
        return Check::pass(
            id,
            format!(
                "{}: HTTPS only (kubernetes.io/ingress.allow-http: \"false\")",
                names(&all)
            ),
        )
        .evidence(ev);
    };
    if !credentials_over_http(k) {
        let why = format!(
            "{} serve(s) HTTP; K10 uses {auth} auth, which sends no password or token over it",
            names(&http)
        );
        return Check::pass(id, why).evidence(ev);
    }
    let what = if has_tls(first) {
        "serves HTTP besides HTTPS"
    } else {
        "serves HTTP only"
    };
    Check::warn(
        id,
        format!(
            "{} {what}, and K10 uses {auth} auth: its credentials cross the VPC (and any peered network) in clear text",
            names(&http)
        ),
    )
    .hint(repair(&f.namespace, &k.release, first))
    .evidence(ev)
}

/// The command that turns HTTP off with a certificate: install for its own Ingress; for another,
/// a patch of that Ingress with a `kubernetes.io/tls` Secret (install would make a second load
/// balancer). `TLS_SECRET` stands for one when the Ingress names none.
fn repair(ns: &str, release: &str, i: &Ingress) -> String {
    if security::made_by_install(&i.metadata) {
        return format!("`{}`", security::install_https_only(ns, release, i));
    }
    let name = i.metadata.name.as_deref().unwrap_or_default();
    let secret = security::tls_secrets(i)
        .first()
        .cloned()
        .unwrap_or_else(|| "TLS_SECRET".into());
    format!(
        "`kubectl -n {ns} patch ingress {name} -p '{{\"metadata\":{{\"annotations\":{{\"{}\":\"false\"}}}},\
         \"spec\":{{\"tls\":[{{\"secretName\":\"{secret}\"}}]}}}}'`",
        security::ALLOW_HTTP
    )
}

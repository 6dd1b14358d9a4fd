//! Table tests of doctor's Gateway mode, over fixtures (no simulator).

use serde_json::json;

use super::{evaluate, Check, CheckId, Facts, Outcome};
use crate::gateway::Kind;
use crate::state::Observed;

fn find(cs: &[Check], id: CheckId) -> Check {
    cs.iter()
        .find(|c| c.id == id)
        .cloned()
        .unwrap_or_else(|| panic!("no {id} in {cs:#?}"))
}

fn cond(t: &str, status: &str, reason: &str, msg: &str) -> serde_json::Value {
    json!({"type": t, "status": status, "reason": reason, "message": msg})
}

#[test]
fn a_working_gateway_setup_passes_with_gateway_checks_and_no_ingress_checks() {
    let cs = evaluate(&Facts::gateway_healthy());
    let fails: Vec<&Check> = cs.iter().filter(|c| c.result != Outcome::Pass).collect();
    assert!(fails.is_empty(), "{fails:#?}");
    for id in [
        CheckId::GatewayApi,
        CheckId::Gateway,
        CheckId::Route,
        CheckId::HealthPolicy,
    ] {
        assert_eq!(find(&cs, id).result, Outcome::Pass);
    }
    assert!(cs.iter().all(|c| c.id != CheckId::Ingress && c.id != CheckId::Address));
    assert!(find(&cs, CheckId::Gateway).finding.contains("10.128.0.101"));
}

#[test]
fn ingress_setups_keep_their_checks() {
    let ids: Vec<CheckId> = evaluate(&Facts::healthy()).iter().map(|c| c.id).collect();
    assert!(ids.contains(&CheckId::Ingress) && !ids.contains(&CheckId::Gateway));
}

/// (world, failing check, words of the finding, the hint's command)
fn broken() -> Vec<(&'static str, Observed, CheckId, &'static str, &'static str)> {
    let seen = Observed::gateway_installed;
    let mut off = seen();
    off.cluster.raw.network_config.gateway_api_config.channel = String::new();
    vec![
        (
            "gateway api off",
            off,
            CheckId::GatewayApi,
            "Gateway API is off",
            "`gcloud container clusters update kasten-demo --location us-central1-a --gateway-api=standard \
             --project kasten-demo`",
        ),
        (
            "no policy",
            Observed {
                gateway: crate::gateway::GatewayApi {
                    health_policies: vec![],
                    ..seen().gateway
                },
                ..seen()
            },
            CheckId::HealthPolicy,
            "probes `/`",
            "`kubectl kasten-ilb install -n kasten-io --via gateway`",
        ),
        (
            "policy on /",
            seen().edit_gateway_object(Kind::HealthCheckPolicy, "k10-ilb-health", |p| {
                p["spec"]["default"]["config"]["httpHealthCheck"]["requestPath"] = json!("/");
            }),
            CheckId::HealthPolicy,
            "probes HTTP /, but",
            "`kubectl -n kasten-io patch healthcheckpolicy k10-ilb-health --type=merge -p \
             '{\"spec\":{\"default\":{\"config\":{\"httpHealthCheck\":{\"port\":8000,\"requestPath\":\"/healthz\"},\
             \"type\":\"HTTP\"}}}}'`",
        ),
        (
            "wrong port",
            seen().edit_gateway_object(Kind::HttpRoute, "k10-ilb", |r| {
                r["spec"]["rules"][0]["backendRefs"][0]["port"] = json!(8000);
                r["status"]["parents"][0]["conditions"][1] =
                    cond("ResolvedRefs", "False", "BackendNotFound", "port 8000 not found");
            }),
            CheckId::Route,
            "backendRef gateway:8000 is not a port",
            "`kubectl -n kasten-io patch httproute k10-ilb --type=json -p \
             '[{\"op\":\"replace\",\"path\":\"/spec/rules/0/backendRefs/0/port\",\"value\":80}]'`",
        ),
        (
            "no matching parent",
            seen().edit_gateway_object(Kind::HttpRoute, "k10-ilb", |r| {
                r["spec"]["parentRefs"] = json!([{"name": "k10-ilb"}]);
                r["status"]["parents"][0]["conditions"][0] =
                    cond("Accepted", "False", "NoMatchingParent", "no listener matches");
            }),
            CheckId::Route,
            "NoMatchingParent",
            "`kubectl -n kasten-io patch httproute k10-ilb --type=merge -p '{\"spec\":{\"parentRefs\":[{\"name\":\
             \"k10-ilb\"}]}}'`",
        ),
        (
            "missing tls secret",
            seen().edit_gateway_object(Kind::Gateway, "k10-ilb", |g| {
                g["spec"]["listeners"] = json!([{"name": "https", "protocol": "HTTPS", "port": 443,
                    "tls": {"certificateRefs": [{"name": "k10-tls"}]}}]);
                g["status"]["listeners"] = json!([{"name": "https", "conditions": [
                    cond("ResolvedRefs", "False", "InvalidCertificateRef", "secret k10-tls not found")]}]);
            }),
            CheckId::Gateway,
            "InvalidCertificateRef",
            "`kubectl -n kasten-io create secret tls k10-tls --cert=tls.crt --key=tls.key`",
        ),
        (
            "not programmed",
            seen().edit_gateway_object(Kind::Gateway, "k10-ilb", |g| {
                g["status"]["conditions"][1] = cond("Programmed", "False", "Invalid", "no proxy-only subnet");
            }),
            CheckId::Gateway,
            "Programmed=False (Invalid): no proxy-only subnet",
            "`kubectl -n kasten-io describe gateway k10-ilb`",
        ),
    ]
}

#[test]
fn each_broken_gateway_world_fails_once_where_the_fix_is() {
    for (name, seen, id, words, hint) in broken() {
        let cs = evaluate(&Facts::gateway_healthy().with_observed(seen));
        let c = find(&cs, id);
        assert_eq!(c.result, Outcome::Fail, "{name}: {c:#?}");
        assert!(c.finding.contains(words), "{name}: {}", c.finding);
        assert!(
            c.hint.as_deref().unwrap_or_default().starts_with(hint),
            "{name}: {:?}",
            c.hint
        );
        let fails: Vec<CheckId> = cs.iter().filter(|c| c.is_fail()).map(|c| c.id).collect();
        assert_eq!(fails, [id], "{name}: one FAIL where the fix is");
    }
}

#[test]
fn no_proxy_subnet_explains_a_gateway_that_is_not_programmed() {
    let seen = Observed::gateway_installed().edit_gateway_object(Kind::Gateway, "k10-ilb", |g| {
        g["status"]["conditions"][1] = cond("Programmed", "False", "Invalid", "subnetwork required");
    });
    let f = Facts::gateway_healthy()
        .with_observed(seen)
        .with_vpc(crate::state::Vpc::healthy().without_proxy_subnet());
    let cs = evaluate(&f);
    assert_eq!(find(&cs, CheckId::ProxySubnet).result, Outcome::Fail);
    assert_eq!(
        find(&cs, CheckId::Gateway).result,
        Outcome::Skip {
            blocked_by: Some(CheckId::ProxySubnet)
        }
    );
}

#[test]
fn a_policy_gke_has_not_applied_yet_is_a_warning_naming_the_health_check() {
    let f = Facts::gateway_healthy().with_health_check(Some(crate::fixtures::health_check("/")));
    let c = find(&evaluate(&f), CheckId::HealthPolicy);
    assert_eq!(c.result, Outcome::Warn, "{c:#?}");
    assert!(c.finding.contains("still probes HTTP /"), "{}", c.finding);
    let f = Facts::gateway_healthy();
    assert!(find(&evaluate(&f), CheckId::HealthPolicy).finding.contains("probes it"));
}

//! Table tests for the security checks (issue 16): one world per finding, built in one line from
//! the fixtures, each check a pure function of the facts.

use serde_json::json;

use super::check::{CheckId, Outcome};
use super::security::{Security, Served};
use super::{evaluate, Facts};
use crate::fixtures::{firewall, from_json, ingress, IngressFixture};
use crate::gcp::model::{ForwardingRule, Peering};
use crate::state::{Observed, Vpc};
use crate::tls::CertInfo;

const DAY: i64 = 86_400;
const NOW: i64 = 1_800_000_000;
const HOST: &str = "k10.corp.internal";

fn run(f: &Facts, id: CheckId) -> super::Check {
    evaluate(f).into_iter().find(|c| c.id == id).expect("the check runs")
}

/// The recipe's Ingress with a host, a TLS Secret and HTTP off.
fn https_ingress() -> k8s_openapi::api::networking::v1::Ingress {
    let i = ingress().with_annotation("kubernetes.io/ingress.allow-http", "false");
    let mut v = serde_json::to_value(i).unwrap();
    v["spec"]["rules"][0]["host"] = json!(HOST);
    v["spec"]["tls"] = json!([{"hosts": [HOST], "secretName": "k10-tls"}]);
    from_json(v)
}

fn served(names: &[&str], days_left: i64) -> Served {
    Served {
        ingress: "k10-ingress".into(),
        source: "secret/k10-tls".into(),
        cert: Ok(CertInfo {
            names: names.iter().map(|s| s.to_string()).collect(),
            not_after: NOW + days_left * DAY + 60 * days_left.signum(),
            fingerprint: "AB:CD".into(),
            self_signed: true,
        }),
        ours: false,
    }
}

fn with_security(f: Facts, certs: Vec<Served>, frs: Vec<ForwardingRule>) -> Facts {
    Facts {
        security: Security {
            certificates: certs,
            forwarding_rules: Ok(frs),
            now: NOW,
        },
        ..f
    }
}

fn https_world(certs: Vec<Served>) -> Facts {
    let f = Facts::healthy().observed(|o| o.with_ingress(https_ingress()));
    with_security(f, certs, vec![])
}

#[test]
fn http_with_basic_or_token_auth_warns_with_a_command_that_adds_tls() {
    let cases: [(Facts, Outcome, &str); 5] = [
        (
            Facts::healthy(),
            Outcome::Warn,
            "basic auth: its credentials cross the VPC",
        ),
        (
            Facts::healthy().observed(|o| o.with_auth("token")),
            Outcome::Warn,
            "token auth",
        ),
        (
            Facts::healthy().observed(|o| o.with_auth("oidc")),
            Outcome::Pass,
            "sends no password or token",
        ),
        (https_world(vec![served(&[HOST], 90)]), Outcome::Pass, "HTTPS only"),
        (
            Facts::healthy().observed(Observed::without_ingresses),
            Outcome::Skip { blocked_by: None },
            "nothing is exposed",
        ),
    ];
    for (f, want, text) in cases {
        let c = run(&f, CheckId::Https);
        assert_eq!(c.result, want, "{c:#?}");
        assert!(c.finding.contains(text), "{c:#?}");
    }
    // The recipe's Ingress is not install's: a TLS Secret and a patch of that Ingress.
    let hint = run(&Facts::healthy(), CheckId::Https).hint.unwrap();
    let want = "`kubectl -n kasten-io patch ingress k10-ingress -p '{\"metadata\":{\"annotations\":\
                {\"kubernetes.io/ingress.allow-http\":\"false\"}},\
                \"spec\":{\"tls\":[{\"secretName\":\"TLS_SECRET\"}]}}'`";
    assert_eq!(hint, want);
}

#[test]
fn install_s_own_ingress_is_repaired_by_install_with_https_only() {
    let ours = ingress()
        .named("k10-ilb")
        .with_annotation("kubernetes.io/ingress.regional-static-ip-name", "k10-ip");
    let mut v = serde_json::to_value(ours).unwrap();
    v["metadata"]["labels"] = json!({"app.kubernetes.io/managed-by": "kubectl-kasten-ilb"});
    v["spec"]["rules"][0]["host"] = json!(HOST);
    v["spec"]["tls"] = json!([{"hosts": [HOST], "secretName": "k10-ilb-tls"}]);
    let f = Facts::healthy().observed(|o| o.with_ingress(from_json(v)));
    let c = run(&f, CheckId::Https);
    assert_eq!(c.result, Outcome::Warn, "{c:#?}");
    assert!(c.finding.contains("serves HTTP besides HTTPS"), "{c:#?}");
    assert_eq!(
        c.hint.as_deref(),
        Some(
            "`kubectl kasten-ilb install -n kasten-io --host k10.corp.internal --self-signed --static-ip k10-ip \
             --https-only`"
        )
    );
}

#[test]
fn certificates_expired_expiring_or_for_another_name() {
    let cases = [
        (vec![], Outcome::Skip { blocked_by: None }, "serves no certificate"),
        (vec![served(&[HOST], -3)], Outcome::Fail, "EXPIRED 3 day(s) ago"),
        (vec![served(&[HOST], 5)], Outcome::Warn, "expires in 5 day(s)"),
        (
            vec![served(&["other.corp.internal"], 90)],
            Outcome::Warn,
            "not for the Ingress's host",
        ),
        (
            vec![served(&["*.corp.internal"], 90)],
            Outcome::Pass,
            "valid 90 more day(s), SHA-256 AB:CD",
        ),
        // The worst of several decides.
        (vec![served(&[HOST], 90), served(&[HOST], -1)], Outcome::Fail, "EXPIRED"),
    ];
    for (certs, want, text) in cases {
        let c = run(&https_world(certs), CheckId::Certificate);
        assert_eq!(c.result, want, "{c:#?}");
        assert!(c.finding.contains(text), "{c:#?}");
        assert_eq!(
            c.hint.is_some(),
            matches!(want, Outcome::Warn | Outcome::Fail),
            "{c:#?}"
        );
    }
    let c = run(&https_world(vec![served(&[HOST], -3)]), CheckId::Certificate);
    assert!(c
        .hint
        .unwrap()
        .contains("kubectl -n kasten-io create secret tls k10-tls"));
    let unreadable = Served {
        cert: Err("tls.crt: not a PEM certificate".into()),
        ..served(&[], 0)
    };
    assert_eq!(
        run(&https_world(vec![unreadable]), CheckId::Certificate).result,
        Outcome::Fail
    );
}

fn forwarding_rule(global: bool) -> ForwardingRule {
    ForwardingRule {
        name: "k8s2-fr-abc".into(),
        ip_address: "10.128.0.100".into(),
        allow_global_access: Some(global),
        ..Default::default()
    }
}

#[test]
fn reach_names_the_vpc_peered_networks_and_with_global_access_every_region() {
    let peered = {
        let mut v = Vpc::healthy();
        let n = v.network.as_mut().unwrap();
        n.peerings = vec![Peering {
            name: "to-shared".into(),
            network: "https://www.googleapis.com/compute/v1/projects/other/global/networks/shared".into(),
            state: "ACTIVE".into(),
        }];
        v
    };
    let cases = [
        (
            with_security(Facts::healthy(), vec![], vec![forwarding_rule(false)]),
            Outcome::Pass,
            "us-central1 only",
        ),
        (
            with_security(Facts::healthy().with_vpc(peered), vec![], vec![forwarding_rule(false)]),
            Outcome::Pass,
            "through peering also shared (peering `to-shared`)",
        ),
        (
            with_security(Facts::healthy(), vec![], vec![forwarding_rule(true)]),
            Outcome::Warn,
            "every region of VPC default (europe-west1, us-central1, us-east1)",
        ),
    ];
    for (f, want, text) in cases {
        let c = run(&f, CheckId::Reach);
        assert_eq!(c.result, want, "{c:#?}");
        assert!(c.finding.contains(text), "{c:#?}");
    }
    let c = run(
        &with_security(Facts::healthy(), vec![], vec![forwarding_rule(true)]),
        CheckId::Reach,
    );
    assert_eq!(
        c.hint.as_deref(),
        Some(
            "`gcloud compute forwarding-rules update k8s2-fr-abc --region=us-central1 --no-allow-global-access \
             --project=kasten-demo`"
        )
    );
}

#[test]
fn a_rule_opening_the_container_port_to_the_internet_is_named() {
    let tcp = |p: &str| json!([{"IPProtocol": "tcp", "ports": [p]}]);
    let open = |name: &str, src: &str, port: &str| firewall(name, json!({"sourceRanges": [src], "allowed": tcp(port)}));
    let cases = [
        (
            Vpc::healthy(),
            Outcome::Pass,
            "no rule opens tcp:8000 on the pods to the internet",
        ),
        (
            Vpc::healthy().with_firewall(open("open-8000", "0.0.0.0/0", "8000")),
            Outcome::Warn,
            "`open-8000` (0.0.0.0/0)",
        ),
        (
            Vpc::healthy().with_firewall(open("office", "203.0.113.0/24", "8000")),
            Outcome::Warn,
            "`office`",
        ),
        (
            Vpc::healthy().with_firewall(open("web", "0.0.0.0/0", "80")),
            Outcome::Pass,
            "no rule opens",
        ),
        (
            Vpc::healthy().with_firewall(open("corp", "10.0.0.0/8", "8000")),
            Outcome::Pass,
            ", `corp`",
        ),
    ];
    for (vpc, want, text) in cases {
        let c = run(&Facts::healthy().with_vpc(vpc), CheckId::OpenFirewall);
        assert_eq!(c.result, want, "{c:#?}");
        assert!(c.finding.contains(text), "{c:#?}");
    }
}

#[test]
fn k10_auth_names_the_method_and_the_chart_check_an_outside_ingress_bypasses() {
    let cases = [
        (
            Facts::healthy(),
            Outcome::Pass,
            "basic (htpasswd): the chart's own check (authEnabled.check)",
        ),
        (
            Facts::healthy().observed(|o| o.with_auth("dex (OpenShift or LDAP)")),
            Outcome::Pass,
            "dex",
        ),
        (
            Facts::healthy().observed(|o| o.without_auth().without_ingresses()),
            Outcome::Warn,
            "would refuse to expose K10",
        ),
    ];
    for (f, want, text) in cases {
        let c = run(&f, CheckId::Auth);
        assert_eq!(c.result, want, "{c:#?}");
        assert!(c.finding.contains(text), "{c:#?}");
    }
    // Exposed without auth: the k10 check FAILs first, so this one names it as the root cause.
    let c = run(&Facts::healthy().observed(Observed::without_auth), CheckId::Auth);
    assert_eq!(
        c.result,
        Outcome::Skip {
            blocked_by: Some(CheckId::K10)
        },
        "{c:#?}"
    );
    assert!(c.finding.contains("bypasses it"), "{c:#?}");
}

//! Table tests: each check on worlds built in one line from fixtures (no simulator), and the
//! root-cause ordering on typed outcomes.

use serde_json::{json, Value};

use super::checks::*;
use super::*;
use crate::discover::Probe;
use crate::fixtures::*;
use crate::state::{Observed, Vpc, NEG_ANNOTATION, NEG_STATUS};
use crate::verify::CurlError;

const P: Outcome = Outcome::Pass;
const W: Outcome = Outcome::Warn;
const F: Outcome = Outcome::Fail;
const S: Outcome = Outcome::Skip { blocked_by: None };

fn blocked(by: CheckId) -> Outcome {
    Outcome::Skip { blocked_by: Some(by) }
}

/// One row: a world, the outcome, and words the finding and the hint must contain.
struct Row {
    name: String,
    facts: Facts,
    want: Outcome,
    finding: Vec<String>,
    hint: Vec<String>,
}

fn row(name: impl Into<String>, facts: Facts, want: Outcome, finding: &[&str], hint: &[&str]) -> Row {
    Row {
        name: name.into(),
        facts,
        want,
        finding: finding.iter().map(|s| s.to_string()).collect(),
        hint: hint.iter().map(|s| s.to_string()).collect(),
    }
}

/// Run `check` on every row; returns how many rows ran.
fn table(id: CheckId, check: fn(&Facts) -> Check, rows: Vec<Row>) -> usize {
    let n = rows.len();
    for r in rows {
        let c = check(&r.facts);
        let ctx = format!("{} / {}: {c:#?}", id, r.name);
        assert_eq!(c.id, id, "{ctx}");
        assert_eq!(c.result, r.want, "{ctx}");
        let text = c.text();
        for w in &r.finding {
            assert!(text.contains(w.as_str()), "finding lacks `{w}`: {ctx}");
        }
        let hint = c.hint.clone().unwrap_or_default();
        for w in &r.hint {
            assert!(hint.contains(w.as_str()), "hint lacks `{w}`: {ctx}");
        }
        match c.result {
            Outcome::Pass | Outcome::Skip { .. } => assert!(c.hint.is_none(), "PASS/SKIP with a hint: {ctx}"),
            Outcome::Fail if r.hint.is_empty() => {}
            Outcome::Fail | Outcome::Warn => assert!(c.hint.is_some(), "FAIL/WARN without a hint: {ctx}"),
        }
        assert!(c.text().lines().count() <= 1, "one-line finding: {ctx}");
    }
    n
}

fn h() -> Facts {
    Facts::healthy()
}

fn obs(f: impl FnOnce(Observed) -> Observed) -> Facts {
    h().observed(f)
}

fn vpc(v: Vpc) -> Facts {
    h().with_vpc(v)
}

/// The healthy world with one Ingress replaced.
fn ing(i: k8s_openapi::api::networking::v1::Ingress) -> Facts {
    obs(|o| o.with_ingress(i))
}

#[test]
fn context_table() {
    let rows = vec![
        row(
            "healthy",
            h(),
            P,
            &[
                CONTEXT,
                "is GKE cluster",
                "projects/kasten-demo/locations/us-central1-a",
            ],
            &[],
        ),
        row("no k10", h().without_k10(), P, &["is GKE cluster"], &[]),
        row(
            "shared vpc",
            obs(|o| o.with_network_project("host")),
            P,
            &["clusters/kasten-demo"],
            &[],
        ),
    ];
    table(CheckId::Context, context::check, rows);
}

#[test]
fn cluster_table() {
    let mut rows = vec![
        row(
            "healthy",
            h(),
            P,
            &["VPC-native, HttpLoadBalancing on, GKE 1.33.5-gke.1308000"],
            &[],
        ),
        row(
            "routes",
            obs(|o| o.not_vpc_native()),
            F,
            &["not VPC-native"],
            &["--enable-ip-alias"],
        ),
        row(
            "no lb",
            obs(|o| o.without_http_lb()),
            F,
            &["HttpLoadBalancing add-on is disabled"],
            &["--update-addons=HttpLoadBalancing=ENABLED", "--location us-central1-a"],
        ),
        row(
            "both",
            obs(|o| o.not_vpc_native().without_http_lb()),
            F,
            &["not VPC-native", "; the HttpLoad"],
            &["HttpLoadBalancing=ENABLED"],
        ),
        row(
            "all three",
            obs(|o| o.not_vpc_native().without_http_lb().with_version("1.15.0")),
            F,
            &["version 1.15.0 is not later"],
            &["HttpLoadBalancing=ENABLED"],
        ),
        row(
            "old and routes",
            obs(|o| o.not_vpc_native().with_version("1.10.1-gke.1")),
            F,
            &["1.10.1"],
            &["--enable-ip-alias"],
        ),
    ];
    for v in [
        "1.16.5-gke.11",
        "1.17.0-gke.1",
        "1.27.3-gke.100",
        "1.30.0",
        "1.33.5-gke.1308000",
        "2.0.0",
    ] {
        rows.push(row(format!("version {v}"), obs(|o| o.with_version(v)), P, &[v], &[]));
    }
    for v in ["1.16.5-gke.10", "1.16.4", "1.15.12-gke.2", "1.12.0", "1.9.7"] {
        let want = format!("version {v} is not later than 1.16.5-gke.10");
        rows.push(row(
            format!("version {v}"),
            obs(|o| o.with_version(v)),
            F,
            &[&want],
            &["clusters upgrade kasten-demo --location us-central1-a --master"],
        ));
    }
    table(CheckId::Cluster, cluster::check, rows);
}

#[test]
fn permissions_table() {
    let perms = |k: &[&str], g: &[&str]| Facts {
        denied_kube: Ok(k.iter().map(|s| s.to_string()).collect()),
        denied_gcp: Ok(g.iter().map(|s| s.to_string()).collect()),
        ..h()
    };
    let mut rows = permissions_rows_1();
    rows.extend(permissions_rows_2());
    for &(verb, _, res, sub) in super::observe::KUBE_NEEDS {
        let v = if sub.is_empty() {
            format!("{verb} {res}")
        } else {
            format!("{verb} {res}/{sub}")
        };
        let want = format!("Kubernetes denies: {v}");
        rows.push(row(v.clone(), perms(&[&v], &[]), F, &[&want], &["namespace RBAC"]));
    }
    for p in super::observe::GCP_NEEDS {
        let want = format!("IAM lacks: {p}");
        rows.push(row(*p, perms(&[], &[p]), F, &[&want], &["least-privilege"]));
    }
    table(CheckId::Permissions, permissions::check, rows);
}

fn permissions_rows_1() -> Vec<Row> {
    let perms = |k: &[&str], g: &[&str]| Facts {
        denied_kube: Ok(k.iter().map(|s| s.to_string()).collect()),
        denied_gcp: Ok(g.iter().map(|s| s.to_string()).collect()),
        ..h()
    };
    vec![
        row(
            "all allowed",
            h(),
            P,
            &["RBAC in kasten-io and IAM on kasten-demo allow everything"],
            &[],
        ),
        row(
            "both",
            perms(&["create pods/exec"], &["compute.firewalls.create"]),
            F,
            &["Kubernetes denies: create pods/exec; IAM lacks: compute.firewalls.create"],
            &["roles/compute.networkAdmin"],
        ),
        row(
            "rbac error",
            Facts {
                denied_kube: Err("403".into()),
                ..h()
            },
            W,
            &["could not ask: 403"],
            &["SelfSubjectAccessReview"],
        ),
    ]
}

fn permissions_rows_2() -> Vec<Row> {
    let perms = |k: &[&str], g: &[&str]| Facts {
        denied_kube: Ok(k.iter().map(|s| s.to_string()).collect()),
        denied_gcp: Ok(g.iter().map(|s| s.to_string()).collect()),
        ..h()
    };
    vec![
        row(
            "iam error",
            Facts {
                denied_gcp: Err("project not known yet".into()),
                ..h()
            },
            W,
            &["could not ask: project not known yet"],
            &["testIamPermissions"],
        ),
        row(
            "both errors",
            Facts {
                denied_kube: Err("a".into()),
                denied_gcp: Err("b".into()),
                ..h()
            },
            W,
            &["could not ask: a; b"],
            &[],
        ),
        row(
            "error beats denial",
            Facts {
                denied_kube: Err("x".into()),
                ..perms(&[], &["p"])
            },
            W,
            &["x"],
            &[],
        ),
    ]
}

/// A Shared VPC: the network's permissions are asked of the host project, not the cluster's.
fn shared(missing: &[&str], can_grant: bool, member: Option<&str>) -> Facts {
    let host = super::host_iam::HostIam {
        project: "host".into(),
        missing: missing.iter().map(|s| s.to_string()).collect(),
        can_grant,
        member: member.map(str::to_string),
    };
    Facts {
        denied_host: Some(Ok(host)),
        ..obs(|o| o.with_network_project("host"))
    }
}

#[test]
fn permissions_on_a_shared_vpc_table() {
    let grant = "gcloud projects add-iam-policy-binding host";
    let writes = &[
        "compute.subnetworks.create",
        "compute.subnetworks.update",
        "compute.firewalls.create",
    ];
    let rows = vec![
        row(
            "host allows all",
            shared(&[], false, None),
            P,
            &["IAM on kasten-demo and on host project host"],
            &[],
        ),
        row(
            "service project's own network permissions do not count",
            Facts {
                denied_gcp: Ok(vec!["compute.firewalls.create".into(), "compute.networks.get".into()]),
                ..shared(&[], false, None)
            },
            P,
            &["host project host allow"],
            &[],
        ),
        row(
            "service project still asked the rest",
            Facts {
                denied_gcp: Ok(vec!["compute.regionBackendServices.get".into()]),
                ..shared(&[], false, None)
            },
            F,
            &["IAM lacks: compute.regionBackendServices.get"],
            &["least-privilege"],
        ),
        row(
            "host writes denied, nobody to grant: who must",
            shared(writes, false, None),
            W,
            &[
                "Shared VPC host project host lacks compute.subnetworks.create",
                "compute.firewalls.create",
            ],
            &[
                "ask its owner or Shared VPC admin",
                &format!("`{grant} --member=user:ACCOUNT --role=roles/compute.networkAdmin --condition=None`"),
                "--role=roles/compute.securityAdmin",
                "kubectl kasten-ilb install -n kasten-io",
            ],
        ),
        row(
            "only firewall writes denied, caller may grant",
            shared(
                &["compute.firewalls.create"],
                true,
                Some("serviceAccount:ops@p.iam.gserviceaccount.com"),
            ),
            W,
            &["lacks compute.firewalls.create"],
            &[&format!(
                "grant them in host project host: `{grant} --member=serviceAccount:ops@p.iam.gserviceaccount.com \
                 --role=roles/compute.securityAdmin --condition=None`"
            )],
        ),
        row(
            "host reads denied: doctor cannot read the network",
            shared(&["compute.firewalls.list", "compute.networks.get"], true, None),
            F,
            &["host project host lacks compute.firewalls.list, compute.networks.get: doctor cannot read network"],
            &["--member=user:$(gcloud config get-value account) --role=roles/compute.networkViewer"],
        ),
        row(
            "host question failed",
            Facts {
                denied_host: Some(Err("403 on host".into())),
                ..obs(|o| o.with_network_project("host"))
            },
            W,
            &["could not ask: 403 on host"],
            &[],
        ),
    ];
    table(CheckId::Permissions, permissions::check, rows);
}

#[test]
fn k10_table() {
    let mut rows = k10_rows_1();
    rows.extend(k10_rows_2());
    rows.extend(k10_rows_readiness_gate());
    for auth in ["basic", "token", "oidc", "dex (OpenShift or LDAP)"] {
        let want = format!("auth: {auth}");
        rows.push(row(auth, obs(|o| o.with_auth(auth)), P, &[&want], &[]));
    }
    for (n, ready) in [(1, 1), (2, 1), (3, 3), (5, 2)] {
        let want = format!("{ready} ready gateway pod(s)");
        rows.push(row(
            format!("{ready}/{n} ready"),
            obs(|o| o.with_pods(n, ready)),
            P,
            &[&want],
            &[],
        ));
    }
    table(CheckId::K10, k10::check, rows);
}

/// Pods held back by the load balancer's readiness gate, and a Deployment scaled to 0.
#[rustfmt::skip]
fn k10_rows_readiness_gate() -> Vec<Row> {
    let waiting = |n: usize, ready: usize| obs(move |o| {
        let mut o = o.with_pods(n, ready);
        o.k10.pods.iter_mut().filter(|p| !p.ready).for_each(|p| p.waits_for_lb = true);
        o
    });
    let scaled_to_0 = obs(|o| {
        let mut o = o.with_pods(0, 0);
        o.k10.deployment.metadata.name = Some("gateway".into());
        o.k10.deployment.spec.replicas = Some(0);
        o
    });
    vec![
        row("all pods wait for the load balancer", waiting(1, 0), W,
            &["1 gateway pod(s) run but wait for the load balancer's readiness gate",
              "cloud.google.com/load-balancer-neg-ready"],
            &["Firewall, Health check or Backend health"]),
        row("a stalled rollout", waiting(2, 1), W, &["1 ready gateway pod(s), but 1 new pod(s) wait", "stalled"],
            &["10 minutes"]),
        row("scaled to 0", scaled_to_0, F, &["the gateway Deployment is scaled to 0 replicas"],
            &["`kubectl -n kasten-io scale deployment gateway --replicas=1`"]),
    ]
}

fn k10_rows_1() -> Vec<Row> {
    vec![
        row(
            "healthy",
            h(),
            P,
            &["release `k10`: 1 ready gateway pod(s), auth: basic"],
            &[],
        ),
        row(
            "missing",
            h().without_k10(),
            F,
            &["is not in namespace"],
            &["pass its namespace with -n"],
        ),
        row(
            "no ready pods",
            obs(|o| o.with_pods(2, 0)),
            F,
            &["no ready pods"],
            &["kubectl -n kasten-io describe deployment gateway"],
        ),
        row("no pods", obs(|o| o.with_pods(0, 0)), F, &["no ready pods"], &[]),
        row(
            "exposed without auth (the recipe's Ingress: uninstall would leave it)",
            obs(|o| o.without_auth()),
            F,
            &["NO authentication", "exposed"],
            &[
                "auth.tokenAuth.enabled=true",
                "`kubectl -n kasten-io delete ingress k10-ingress`",
            ],
        ),
        row(
            "exposed without auth through install's Ingress",
            obs(|o| {
                let mut i = ingress();
                let label = (
                    crate::state::MANAGED_BY_LABEL.to_string(),
                    crate::state::MANAGER.to_string(),
                );
                i.metadata.labels = Some([label].into());
                o.without_auth().with_ingress(i)
            }),
            F,
            &["NO authentication", "exposed"],
            &["`kubectl kasten-ilb uninstall -n kasten-io`"],
        ),
    ]
}

fn k10_rows_2() -> Vec<Row> {
    let no_ip = || ingress().with_ip(None);
    vec![
        row(
            "no auth, no ingress",
            obs(|o| o.without_auth().without_ingresses()),
            W,
            &["no authentication is configured"],
            &["helm upgrade"],
        ),
        row(
            "no auth, no address yet",
            obs(|o| o.without_auth().with_ingress(no_ip())),
            W,
            &["1 ready"],
            &[],
        ),
        row(
            "no auth, not ours",
            obs(|o| o.without_auth().with_ingress(ingress().with_backend_service("x"))),
            W,
            &["no authentication"],
            &[],
        ),
        row(
            "release",
            obs(|o| o.with_release("kasten")),
            P,
            &["release `kasten`"],
            &[],
        ),
        row(
            "no ready pods beats no auth",
            obs(|o| o.without_auth().with_pods(1, 0)),
            F,
            &["no ready pods"],
            &[],
        ),
    ]
}

#[test]
fn proxy_subnet_table() {
    let ps = |name: &str, purpose: &str, role: &str| proxy_subnet(name, "10.129.0.0/23", purpose, role);
    let fresh = || Vpc::healthy().without_proxy_subnet();
    let mut rows = proxy_subnet_rows_1();
    rows.extend(proxy_subnet_rows_2());
    for region in ["us-east1", "europe-west1", "asia-south1"] {
        let other = Subnetwork {
            region: format!("x/regions/{region}"),
            ..ps("elsewhere", "REGIONAL_MANAGED_PROXY", "ACTIVE")
        };
        rows.push(row(
            format!("active only in {region}"),
            vpc(fresh().with_proxy_subnet(other)),
            F,
            &["no ACTIVE proxy-only subnet"],
            &[],
        ));
        let f = obs(|o| o.with_region(region));
        let want = format!("no ACTIVE proxy-only subnet in {region}/default");
        rows.push(row(format!("cluster in {region}"), f, F, &[&want], &[]));
    }
    for purpose in ["PRIVATE", "PRIVATE_SERVICE_CONNECT", "GLOBAL_MANAGED_PROXY"] {
        let f = vpc(fresh().with_subnet(ps("not-proxy", purpose, "ACTIVE")));
        rows.push(row(format!("purpose {purpose}"), f, F, &["no ACTIVE"], &[]));
    }
    // install refuses to expose K10 without sign-in: the hint leads with the gcloud, not install.
    rows.push(row(
        "no auth method",
        vpc(fresh()).observed(|o| o.without_auth()),
        F,
        &["no ACTIVE proxy-only subnet"],
        &[
            "`gcloud compute networks subnets create proxy-only-default",
            "once K10 has an auth method",
        ],
    ));
    table(CheckId::ProxySubnet, proxy_subnet::check, rows);
}

fn proxy_subnet_rows_1() -> Vec<Row> {
    let ps = |name: &str, purpose: &str, role: &str| proxy_subnet(name, "10.129.0.0/23", purpose, role);
    let fresh = || Vpc::healthy().without_proxy_subnet();
    vec![
        row(
            "healthy",
            h(),
            P,
            &["`proxy-only-subnet` 10.120.0.0/23 is ACTIVE in us-central1/default"],
            &[],
        ),
        row(
            "none",
            vpc(fresh()),
            F,
            &["no ACTIVE proxy-only subnet in us-central1/default"],
            &[
                "kubectl kasten-ilb install",
                "--purpose=REGIONAL_MANAGED_PROXY --role=ACTIVE --region=us-central1 --network=default",
                "proxy-only-default",
            ],
        ),
        row(
            "backup only",
            vpc(fresh().with_proxy_subnet(ps("bk", "REGIONAL_MANAGED_PROXY", "BACKUP"))),
            F,
            &["only a BACKUP proxy-only subnet (`bk` 10.129.0.0/23)"],
            &["subnets update bk --role=ACTIVE --region=us-central1 --project=kasten-demo"],
        ),
        row(
            "legacy",
            vpc(fresh().with_proxy_subnet(ps("old", "INTERNAL_HTTPS_LOAD_BALANCER", "ACTIVE"))),
            W,
            &["legacy purpose"],
            &["REGIONAL_MANAGED_PROXY"],
        ),
    ]
}

fn proxy_subnet_rows_2() -> Vec<Row> {
    let ps = |name: &str, purpose: &str, role: &str| proxy_subnet(name, "10.129.0.0/23", purpose, role);
    let fresh = || Vpc::healthy().without_proxy_subnet();
    vec![
        row(
            "vpc unreadable",
            Facts {
                vpc: Err("403 compute.networks.get".into()),
                ..h()
            },
            F,
            &["could not read the VPC: 403"],
            &[],
        ),
        row(
            "backup beside active",
            vpc(Vpc::healthy().with_proxy_subnet(ps("bk", "REGIONAL_MANAGED_PROXY", "BACKUP"))),
            P,
            &["proxy-only-subnet"],
            &[],
        ),
        row(
            "shared vpc hint",
            obs(|o| o.with_network_project("host")).with_vpc(fresh().with_proxy_subnet(ps(
                "bk",
                "REGIONAL_MANAGED_PROXY",
                "BACKUP",
            ))),
            F,
            &["BACKUP"],
            &["--project=host"],
        ),
    ]
}

use crate::gcp::model::Subnetwork;

fn allow(name: &str, src: &str, ports: &[&str]) -> crate::gcp::model::Firewall {
    firewall(
        name,
        json!({"sourceRanges": [src], "allowed": [{"IPProtocol": "tcp", "ports": ports}]}),
    )
}

#[test]
fn firewall_table() {
    let mut rows = firewall_rows_1();
    rows.extend(firewall_rows_2());
    rows.extend(firewall_rows_health_checkers());
    rows.extend(firewall_rows_outrank());
    rows.extend(firewall_rows_3());
    rows.extend(firewall_rows_4());
    rows.extend(firewall_rows_5());
    table(CheckId::Firewall, firewall::check, rows);
}

fn firewall_rows_3() -> Vec<Row> {
    let base = || Vpc::healthy().without_firewall("allow-kasten-gateway-connection");
    let mut rows = vec![];
    for (src, ok) in [
        ("10.120.0.0/23", true),
        ("10.120.0.0/16", true),
        ("10.0.0.0/8", true),
        ("0.0.0.0/0", true),
        ("10.120.0.0/24", false),
        ("10.121.0.0/23", false),
        ("192.168.0.0/16", false),
        ("10.128.0.0/9", false),
    ] {
        let v = base().with_firewall(allow("r", src, &["8000"]));
        let (want, words): (Outcome, &[&str]) = match (ok, src) {
            (true, "0.0.0.0/0") => (W, &["0.0.0.0/0"]),
            (true, _) => (P, &["`r` lets"]),
            (false, _) => (F, &["no enabled INGRESS rule"]),
        };
        rows.push(row(format!("source {src}"), vpc(v), want, words, &[]));
    }
    for (ports, ok) in [
        (vec!["8000"], true),
        (vec!["7000-9000"], true),
        (vec!["1-65535"], true),
        (vec!["80", "8000"], true),
        (vec!["8080"], false),
        (vec!["8001-8010"], false),
        (vec!["443"], false),
    ] {
        let v = base().with_firewall(allow("r", PROXY_RANGE, &ports));
        let want = if ok { P } else { F };
        rows.push(row(format!("ports {ports:?}"), vpc(v), want, &[], &[]));
    }
    rows
}

fn firewall_rows_4() -> Vec<Row> {
    let base = || Vpc::healthy().without_firewall("allow-kasten-gateway-connection");
    let mut rows = vec![];
    for port in [8080, 9000, 3000] {
        let want = format!("tcp:{port}");
        let fix = format!("kasten-ilb-kasten-demo-proxy-to-{port}");
        let f = obs(|o| o.with_container_port(port));
        rows.push(row(format!("container port {port}"), f, F, &[&want], &[&fix]));
        // GKE's own rule opens the NEG target port to the health checkers.
        let v = Vpc::healthy().without_firewall("k8s-fw-l7--3f9c1a27b5d04e6f");
        let v = v.with_firewall(l7_firewall_for(port));
        let f = obs(|o| o.with_container_port(port)).with_vpc(v.with_firewall(allow(
            "p",
            PROXY_RANGE,
            &[&port.to_string()],
        )));
        rows.push(row(format!("container port {port} allowed"), f, P, &["`p` lets"], &[]));
    }
    for (tags, ok) in [
        (json!(["gke-kasten-demo-5e1d9b2c-node"]), true),
        (json!(["other-tag"]), false),
    ] {
        let rule = firewall(
            "tagged",
            json!({"sourceRanges": [PROXY_RANGE], "allowed": [{"IPProtocol": "tcp", "ports": ["8000"]}],
                   "targetTags": tags}),
        );
        rows.push(row(
            format!("target tags {tags}"),
            vpc(base().with_firewall(rule)),
            if ok { P } else { F },
            &[],
            &[],
        ));
    }
    rows
}

fn firewall_rows_5() -> Vec<Row> {
    let mut rows = vec![];
    for prio in [800, 900, 1000] {
        let d = firewall(
            "d",
            json!({"sourceRanges": [PROXY_RANGE], "denied": [{"IPProtocol": "tcp", "ports": ["8000"]}],
                   "priority": prio}),
        );
        rows.push(row(
            format!("deny at {prio}"),
            vpc(Vpc::healthy().with_firewall(d)),
            F,
            &["`d` denies"],
            &[],
        ));
    }
    let low = firewall(
        "late-deny",
        json!({"sourceRanges": [PROXY_RANGE], "denied": [{"IPProtocol": "tcp"}], "priority": 2000}),
    );
    rows.push(row(
        "deny below the allow",
        vpc(Vpc::healthy().with_firewall(low)),
        P,
        &[],
        &[],
    ));
    rows
}

/// Google's health checkers (35.191.0.0/16, 130.211.0.0/22) are checked apart from the proxies.
#[rustfmt::skip]
fn firewall_rows_health_checkers() -> Vec<Row> {
    let no_l7 = || Vpc::healthy().without_firewall("k8s-fw-l7--3f9c1a27b5d04e6f");
    let hc_deny = |prio: i64| firewall("deny-hc", json!({"sourceRanges": ["35.191.0.0/16", "130.211.0.0/22"],
        "denied": [{"IPProtocol": "tcp"}], "priority": prio}));
    vec![
        row("health checkers denied", vpc(Vpc::healthy().with_firewall(hc_deny(900))), F, &[
            "`deny-hc` denies Google's health checkers (35.191.0.0/16, 130.211.0.0/22) -> tcp:8000",
            "UNHEALTHY",
        ], &[
            "gcloud compute firewall-rules create kasten-ilb-kasten-demo-hc-to-8000 --network=default",
            "--rules=tcp:8000 --source-ranges=35.191.0.0/16,130.211.0.0/22 --destination-ranges=10.52.0.0/14",
            "--priority=899 --project=kasten-demo",
        ]),
        row("health checkers denied at priority 0", vpc(Vpc::healthy().with_firewall(hc_deny(0))), F,
            &["`deny-hc` denies Google's health checkers"], &["no allow rule can outrank `deny-hc` (priority 0)"]),
        row("health checkers denied below GKE's rule", vpc(Vpc::healthy().with_firewall(hc_deny(2000))), P, &[], &[]),
        row("GKE's rule missing", vpc(no_l7()), F, &[
            "no enabled INGRESS rule lets Google's health checkers", "`k8s-fw-l7--…` rule is missing",
        ], &["create kasten-ilb-kasten-demo-hc-to-8000", "--source-ranges=35.191.0.0/16,130.211.0.0/22"]),
        row("GKE's rule not written yet: no backends", Facts { bs: None, hc: None, ..vpc(no_l7()) }, P, &[], &[]),
        row("one health-check range only", vpc(no_l7().with_firewall(allow("hc1", "35.191.0.0/16", &["8000"]))), F,
            &["health checkers"], &[]),
        row("the proxies are named first", vpc(Vpc::healthy().with_firewall(hc_deny(900))
            .without_firewall("allow-kasten-gateway-connection")), F,
            &["no enabled INGRESS rule lets 10.120.0.0/23"], &[]),
    ]
}

/// An allow rule that already exists is given a lower priority number rather than made again.
#[rustfmt::skip]
fn firewall_rows_outrank() -> Vec<Row> {
    let mine = allow("kasten-ilb-kasten-demo-proxy-to-8000", PROXY_RANGE, &["8000"]);
    let deny = firewall("deny-10", json!({"sourceRanges": ["10.0.0.0/8"], "denied": [{"IPProtocol": "all"}],
        "priority": 500}));
    vec![row("deny outranks install's rule", vpc(Vpc::healthy().with_firewall(mine).with_firewall(deny)), F,
        &["`deny-10` denies"],
        &["`gcloud compute firewall-rules update kasten-ilb-kasten-demo-proxy-to-8000 --priority=499 \
           --project=kasten-demo`"])]
}

fn firewall_rows_1() -> Vec<Row> {
    let base = || Vpc::healthy().without_firewall("allow-kasten-gateway-connection");
    let deny = firewall(
        "deny-all",
        json!({"sourceRanges": ["0.0.0.0/0"], "denied": [{"IPProtocol": "tcp"}], "priority": 900}),
    );
    vec![
        row("healthy", h(), P, &["`allow-kasten-gateway-connection` lets 10.120.0.0/23 reach tcp:8000"], &[]),
        row("no rule", vpc(base()), F, &["no enabled INGRESS rule lets 10.120.0.0/23 reach tcp:8000"], &[
            "gcloud compute firewall-rules create kasten-ilb-kasten-demo-proxy-to-8000 --network=default",
            "--rules=tcp:8000 --source-ranges=10.120.0.0/23 --destination-ranges=10.52.0.0/14 --project=kasten-demo",
        ]),
        row("service port", vpc(base().with_firewall(allow("svc-port", PROXY_RANGE, &["80"]))), F, &[
            "`svc-port` allows tcp:80 from 10.120.0.0/23",
            "not the Service port",
        ], &["tcp:8000"]),
        row("deny outranks", vpc(Vpc::healthy().with_firewall(deny.clone())), F, &[
            "`deny-all` denies 10.120.0.0/23 -> tcp:8000",
        ], &[
            "gcloud compute firewall-rules create kasten-ilb-kasten-demo-proxy-to-8000 --network=default",
            "--source-ranges=10.120.0.0/23 --destination-ranges=10.52.0.0/14 --priority=899 --project=kasten-demo",
        ]),
        row("open to world", vpc(Vpc::healthy().with_firewall(allow("world", "0.0.0.0/0", &["8000"]))), W, &[
            "world open(s) tcp:8000 to 0.0.0.0/0",
        ], &["restrict the source ranges of world"]),
    ]
}

fn firewall_rows_2() -> Vec<Row> {
    let base = || Vpc::healthy().without_firewall("allow-kasten-gateway-connection");
    vec![
        row(
            "no proxy subnet",
            vpc(Vpc::healthy().without_proxy_subnet()),
            blocked(CheckId::ProxySubnet),
            &["blocked by proxy-subnet: there is no ACTIVE proxy-only subnet to allow"],
            &[],
        ),
        row(
            "vpc unreadable",
            Facts {
                vpc: Err("x".into()),
                ..h()
            },
            blocked(CheckId::ProxySubnet),
            &["blocked by proxy-subnet"],
            &[],
        ),
        row(
            "no k10",
            h().without_k10(),
            blocked(CheckId::K10),
            &["blocked by k10: the gateway's container port is unknown"],
            &[],
        ),
        row(
            "named port nobody declares",
            obs(|o| o.with_unknown_container_port()),
            blocked(CheckId::K10),
            &["container port is unknown"],
            &[],
        ),
        row(
            "disabled allow",
            vpc(base().with_firewall(crate::gcp::model::Firewall {
                disabled: true,
                ..gateway_firewall()
            })),
            F,
            &["no enabled INGRESS rule"],
            &[],
        ),
    ]
}

#[test]
fn service_table() {
    let bc = |hc: Value| h().with_backend_config("k10-bc", hc);
    let mut rows = service_rows_1();
    rows.extend(service_rows_2());
    for raw in [
        "{\"ingress\":false}",
        "{\"exposed_ports\":{\"80\":{}}}",
        "true",
        "{nope",
        "",
    ] {
        let f = obs(|o| o.with_service_annotation(NEG_ANNOTATION, raw));
        rows.push(row(
            format!("neg {raw}"),
            f,
            F,
            &["internal Ingress needs NEG backends"],
            &[],
        ));
    }
    for (t, i, ok) in [(5, 10, true), (10, 10, true), (11, 10, false), (60, 5, false)] {
        let f = bc(json!({"timeoutSec": t, "checkIntervalSec": i}));
        rows.push(row(format!("bc {t}/{i}"), f, if ok { P } else { F }, &[], &[]));
    }
    for raw in [
        "{\"ports\":{\"http\":\"k10-bc\"}}",
        "{\"ports\":{\"80\":\"k10-bc\"}}",
        "{\"default\":\"k10-bc\"}",
    ] {
        let f = Facts {
            backend_config: Some(backend_config(
                "k10-bc",
                json!({"timeoutSec": 30, "checkIntervalSec": 10}),
            )),
            ..obs(|o| o.with_backend_config(raw))
        };
        rows.push(row(format!("bc ref {raw}"), f, F, &["timeoutSec 30"], &[]));
    }
    table(CheckId::Service, service::check, rows);
}

fn service_rows_1() -> Vec<Row> {
    let bc = |hc: Value| h().with_backend_config("k10-bc", hc);
    vec![
        row(
            "healthy",
            h(),
            P,
            &["NEG enabled, NEG k8s1-3f9c1a27-kasten-io-gateway-80-5944df77"],
            &[],
        ),
        row(
            "no k10",
            h().without_k10(),
            blocked(CheckId::K10),
            &["blocked by k10: K10 not found"],
            &[],
        ),
        row(
            "no neg annotation",
            obs(|o| o.without_service_annotation(NEG_ANNOTATION)),
            F,
            &["no cloud.google.com/neg: {\"ingress\":true}"],
            &["annotate service gateway cloud.google.com/neg='{\"ingress\":true}'"],
        ),
        row(
            "no neg status yet",
            obs(|o| o.without_service_annotation(NEG_STATUS)),
            W,
            &["not written neg-status"],
            &["describe service gateway"],
        ),
        row(
            "no neg status, no ingress",
            obs(|o| o.without_service_annotation(NEG_STATUS).without_ingresses()),
            P,
            &["NEG enabled"],
            &[],
        ),
        row(
            "bc ok",
            bc(json!({"requestPath": "/healthz", "timeoutSec": 5, "checkIntervalSec": 10})),
            P,
            &["NEG enabled"],
            &[],
        ),
    ]
}

fn service_rows_2() -> Vec<Row> {
    let bc = |hc: Value| h().with_backend_config("k10-bc", hc);
    vec![
        row(
            "bc timeout > interval",
            bc(json!({"timeoutSec": 20, "checkIntervalSec": 10})),
            F,
            &["BackendConfig healthCheck timeoutSec 20 > checkIntervalSec 10"],
            &["kubectl kasten-ilb install -n kasten-io --health-check backendconfig"],
        ),
        row(
            "bc missing",
            obs(|o| o.with_backend_config("{\"default\":\"gone\"}")),
            F,
            &["the BackendConfig named in cloud.google.com/backend-config ({\"default\":\"gone\"}) does not exist"],
            &["fix or remove"],
        ),
        row(
            "bc invalid json",
            obs(|o| o.with_backend_config("{nope")),
            F,
            &["BackendConfig annotation is invalid json"],
            &[],
        ),
        row(
            "bc empty",
            obs(|o| o.with_backend_config("{}")),
            F,
            &["no BackendConfig's found in annotation"],
            &[],
        ),
        row(
            "bc other port",
            obs(|o| o.with_backend_config("{\"ports\":{\"81\":\"x\"}}")),
            F,
            &["no BackendConfig for service port exists."],
            &[],
        ),
        row(
            "neg beats bc",
            obs(|o| o.without_service_annotation(NEG_ANNOTATION).with_backend_config("{}")),
            F,
            &["no cloud.google.com/neg"],
            &[],
        ),
    ]
}

#[test]
fn health_check_table() {
    let hc = |path: &str| h().with_health_check(Some(health_check(path)));
    let mut rows = health_check_rows_1();
    rows.extend(health_check_rows_2());
    let probe = |scheme: &str, port: Value, host: bool| {
        Some(Probe {
            path: "/healthz".into(),
            port,
            scheme: scheme.into(),
            has_host: host,
        })
    };
    for (name, p, ok) in [
        ("https probe", probe("HTTPS", json!(8000), false), false),
        ("probe with host", probe("HTTP", json!(8000), true), false),
        ("probe on other port", probe("HTTP", json!(9000), false), false),
        ("probe by port name", probe("HTTP", json!("http"), false), false),
        ("no probe", None, false),
        ("plain probe", probe("HTTP", json!(8000), false), true),
    ] {
        let f = obs(|o| o.with_probe(p)).with_health_check(None);
        rows.push(row(name, f, if ok { P } else { F }, &[], &[]));
    }
    for path in ["/", "/other", "/k10", "/api/v1", "/kasten/"] {
        let want = format!("probes `{path}`");
        rows.push(row(
            format!("actual {path}"),
            obs(|o| o.without_container_port()).with_health_check(Some(health_check(path))),
            F,
            &[&want],
            &[],
        ));
    }
    for path in ["/k10/", "/k10/dashboard/", "/healthz"] {
        rows.push(row(format!("good {path}"), hc(path), P, &[path], &[]));
    }
    for release in ["kasten", "k10-prod"] {
        let path = format!("/{release}/healthz");
        let f = obs(|o| o.with_release(release).with_probe(None)).with_health_check(Some(health_check(&path)));
        rows.push(row(format!("release {release}"), f, P, &[&path], &[]));
    }
    table(CheckId::HealthCheck, health_check::check, rows);
}

fn health_check_rows_1() -> Vec<Row> {
    let hc = |path: &str| h().with_health_check(Some(health_check(path)));
    vec![
        row(
            "healthy",
            h(),
            P,
            &["`k8s1-3f9c1a27-kasten-io-gateway-80-5944df77` probes /healthz on the serving port"],
            &[],
        ),
        row(
            "no k10",
            h().without_k10(),
            blocked(CheckId::K10),
            &["K10 not found"],
            &[],
        ),
        row("release path", hc("/k10/healthz"), P, &["probes /k10/healthz"], &[]),
        row(
            "made before the port",
            obs(|o| o.without_container_port()).with_health_check(Some(health_check("/"))),
            F,
            &["probes `/`, which K10's gateway answers 404"],
            &["it adds the containerPort or a BackendConfig"],
        ),
        row(
            "stale after the port",
            hc("/"),
            F,
            &["probes `/` (404) though the pods now allow /healthz", "never re-reads"],
            &["adds a BackendConfig"],
        ),
        row(
            "fixed wrong port",
            h().with_health_check(Some(health_check_fixed_port("/healthz", 80))),
            F,
            &["probes port 80 but only 8000 is served"],
            &["set healthCheck.port: 8000 in the BackendConfig"],
        ),
        row(
            "fixed right port",
            h().with_health_check(Some(health_check_fixed_port("/healthz", 8000))),
            P,
            &[],
            &[],
        ),
    ]
}

fn health_check_rows_2() -> Vec<Row> {
    let before = || obs(|o| o.without_container_port()).with_health_check(None);
    vec![
        row(
            "predicted from probe",
            h().with_health_check(None),
            P,
            &["GKE will probe /healthz on :8000 (from the readinessProbe (containerPort declared))"],
            &[],
        ),
        row(
            "predicted default, ingress",
            before(),
            F,
            &["GKE would probe `/`", "GKE's default"],
            &[
                "declare the container port",
                "patch deployment gateway --type=json",
                "\"containerPort\":8000",
            ],
        ),
        row(
            "predicted default, no ingress",
            before().observed(|o| o.without_ingresses()),
            W,
            &["GKE would probe `/`"],
            &["before the Ingress exists"],
        ),
        row(
            "predicted from bc",
            before().with_backend_config("bc", json!({"requestPath": "/k10/healthz", "port": 8000})),
            P,
            &["GKE will probe /k10/healthz on :8000 (from the BackendConfig)"],
            &[],
        ),
        row(
            "bc without path",
            h().with_health_check(None)
                .with_backend_config("bc", json!({"timeoutSec": 5})),
            P,
            &["from the readinessProbe"],
            &[],
        ),
        row(
            "bc bad path",
            h().with_health_check(None)
                .with_backend_config("bc", json!({"requestPath": "/"})),
            F,
            &["(the BackendConfig)"],
            &[],
        ),
    ]
}

#[test]
fn ingress_table() {
    let mut rows = ingress_rows_1();
    rows.extend(ingress_rows_2());
    for (path, ty, ok) in [
        ("/k10/", "Prefix", true),
        ("/k10", "Prefix", true),
        ("/k10/*", "ImplementationSpecific", true),
        ("/", "ImplementationSpecific", true),
        ("/", "Exact", true),
        ("/k10/", "Exact", true),
        ("/k10", "ImplementationSpecific", false),
        ("/kasten/", "ImplementationSpecific", false),
    ] {
        let f = ing(ingress().with_path(path, ty));
        rows.push(row(format!("{ty} {path}"), f, if ok { P } else { F }, &[], &[]));
    }
    for class in ["gce-internal", "gce", "nginx", "traefik", "alb"] {
        let want = match class {
            "gce-internal" => P,
            "gce" => F,
            _ => W,
        };
        rows.push(row(
            format!("class {class}"),
            ing(ingress().with_class(Some(class))),
            want,
            &[],
            &[],
        ));
    }
    for port in [80, 443, 8000, 8080] {
        let f = ing(ingress().with_backend_port(json!({"number": port})));
        rows.push(row(format!("port {port}"), f, if port == 80 { P } else { F }, &[], &[]));
    }
    table(CheckId::Ingress, ingress::check, rows);
}

fn ingress_rows_1() -> Vec<Row> {
    vec![
        row(
            "healthy",
            h(),
            P,
            &["k10-ingress: class gce-internal, Prefix path to gateway"],
            &[],
        ),
        row(
            "none",
            obs(|o| o.without_ingresses()),
            F,
            &["no Ingress in `kasten-io` routes to Service gateway"],
            &["`kubectl kasten-ilb install -n kasten-io`"],
        ),
        row(
            "not to gateway",
            ing(ingress().with_backend_service("other")),
            F,
            &["no Ingress"],
            &[],
        ),
        row(
            "external",
            ing(ingress().with_class(None)),
            F,
            &["k10-ingress: SECURITY", "EXTERNAL"],
            &["annotate ingress k10-ingress kubernetes.io/ingress.class=gce-internal --overwrite"],
        ),
        row("gce", ing(ingress().with_class(Some("gce"))), F, &["SECURITY"], &[]),
        row(
            "class name only",
            ing(ingress().with_class(None).with_class_name("gce-internal")),
            F,
            &["only spec.ingressClassName (gce-internal) is set: GKE ignores it silently"],
            &["set the annotation"],
        ),
        row("annotation wins", ing(ingress().with_class_name("nginx")), P, &[], &[]),
        row(
            "nginx",
            ing(ingress().with_class(Some("nginx"))),
            W,
            &["class `nginx` is not GKE's"],
            &["another controller"],
        ),
        row(
            "exact path",
            ing(ingress().with_path("/k10/", "ImplementationSpecific")),
            F,
            &["path `/k10/` is ImplementationSpecific without `*`"],
            &[
                "`kubectl -n kasten-io patch ingress k10-ingress --type=json -p",
                "/spec/rules/0/http/paths/0/pathType",
                "pathType Prefix routes everything under /k10/",
            ],
        ),
    ]
}

fn ingress_rows_2() -> Vec<Row> {
    vec![
        row(
            "wrong port",
            ing(ingress().with_backend_port(json!({"number": 8080}))),
            F,
            &["backend port 8080 is not a port of Service gateway"],
            &["route to gateway port 80"],
        ),
        row(
            "port by name",
            ing(ingress().with_backend_port(json!({"name": "http"}))),
            P,
            &[],
            &[],
        ),
        row(
            "wrong port name",
            ing(ingress().with_backend_port(json!({"name": "web"}))),
            F,
            &["backend port \"web\""],
            &[],
        ),
        row(
            "wrong port, no k10",
            ing(ingress().with_backend_port(json!({"number": 1}))).without_k10(),
            P,
            &[],
            &[],
        ),
        row(
            "two problems",
            ing(ingress().with_class(None).with_path("/k10/", "ImplementationSpecific")),
            F,
            &["SECURITY", "; k10-ingress: path `/k10/`"],
            &["--overwrite"],
        ),
        row(
            "warn and fail",
            ing(ingress()
                .with_class(Some("nginx"))
                .with_backend_port(json!({"number": 1}))),
            F,
            &["not GKE's", "backend port 1"],
            &["another controller"],
        ),
        row(
            "two ingresses",
            obs(|o| o.and_ingress(ingress().named("second"))),
            P,
            &["k10-ingress, second: class"],
            &[],
        ),
        row(
            "second is external",
            obs(|o| o.and_ingress(ingress().named("b").with_class(None))),
            F,
            &["b: SECURITY"],
            &["annotate ingress b "],
        ),
    ]
}

#[test]
fn events_table() {
    let mut rows = events_rows_1();
    rows.extend(events_rows_2());
    rows.extend(events_rows_3());
    table(CheckId::Events, events::check, rows);
}

/// Controller messages doctor explains: (message, words of the cause, words of the fix).
const KNOWN_MESSAGES: &[(&str, &str, &str)] = &[
    (
        "A reserved and active subnetwork is required in the same region",
        "no ACTIVE proxy-only subnet",
        "--purpose=REGIONAL_MANAGED_PROXY",
    ),
    (
        "the given static IP name k10-ip doesn't translate to an existing static IP.",
        "the static IP named",
        "addresses create",
    ),
    (
        "gce-internal Ingress class must be configured with a static-ip to use both HTTP and HTTPS",
        "HTTP and HTTPS",
        "allow-http",
    ),
    ("both HTTP and HTTPS are disabled", "allow-http is false", "spec.tls"),
    (
        "Could not find TLS certificate in secret k10-tls",
        "TLS Secret",
        "create secret tls",
    ),
    (
        "IP_IN_USE_BY_ANOTHER_RESOURCE",
        "another forwarding rule",
        "reserve another",
    ),
    (
        "googleapi: Error 403: Quota 'SSL_CERTIFICATES' exceeded.",
        "quota",
        "Quotas",
    ),
    ("quotaExceeded", "quota", "Quotas"),
    (
        "Service gateway: expected \"NodePort\" or \"LoadBalancer\" when not using NEGs",
        "no NEG annotation",
        "cloud.google.com/neg=",
    ),
    (
        "could not find service \"kasten-io/gw\"",
        "names a Service that does not exist",
        "backend service name",
    ),
    (
        "could not find port \"8080\" in service",
        "Service port that does not exist",
        "port 80",
    ),
    (
        "error getting BackendConfig for port",
        "BackendConfig referenced",
        "cloud.google.com/backend-config",
    ),
    (
        "Failed to Attach 1 network endpoint(s)",
        "VPC-native",
        "VPC-native cluster",
    ),
];

fn events_rows_3() -> Vec<Row> {
    let ev = |kind: &str, name: &str, msg: &str| warning_event(kind, name, "Sync", msg);
    let no_ip = || h().observed(|o| o.with_ingress(ingress().with_ip(None)));
    let mut rows = vec![];
    let mut latest = no_ip().with_event(ev("Ingress", "k10-ingress", "first"));
    let mut second = ev("Ingress", "k10-ingress", "second");
    second.last_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        "2026-02-01T00:00:00Z".parse().expect("time"),
    ));
    latest.events.insert(0, second);
    rows.push(row("newest wins", latest, F, &["second"], &[]));
    for &(msg, cause, fix) in KNOWN_MESSAGES {
        for (with_ip, want) in [(false, F), (true, W)] {
            let f = if with_ip { h() } else { no_ip() };
            let f = f.with_event(ev("Ingress", "k10-ingress", msg));
            rows.push(row(
                format!("{msg} ip={with_ip}"),
                f,
                want,
                &[msg, "(cause: ", cause],
                &[fix],
            ));
        }
    }
    rows
}

fn events_rows_1() -> Vec<Row> {
    let ev = |kind: &str, name: &str, msg: &str| warning_event(kind, name, "Sync", msg);
    let no_ip = || h().observed(|o| o.with_ingress(ingress().with_ip(None)));
    vec![
        row(
            "healthy",
            h(),
            P,
            &["no Warning events for the Ingress or Service gateway"],
            &[],
        ),
        row("no ingress", obs(|o| o.without_ingresses()), S, &["no Ingress"], &[]),
        row(
            "unknown, no address",
            no_ip().with_event(ev("Ingress", "k10-ingress", "boom")),
            F,
            &["Sync k10-ingress: boom (cause: not a known message)"],
            &["`kubectl -n kasten-io describe ingress k10-ingress`"],
        ),
        row(
            "unknown, address",
            h().with_event(ev("Ingress", "k10-ingress", "boom")),
            W,
            &["boom"],
            &[],
        ),
    ]
}

fn events_rows_2() -> Vec<Row> {
    let ev = |kind: &str, name: &str, msg: &str| warning_event(kind, name, "Sync", msg);
    let no_ip = || h().observed(|o| o.with_ingress(ingress().with_ip(None)));
    vec![
        row(
            "service event",
            no_ip().with_event(ev("Service", "gateway", "boom")),
            F,
            &["Sync gateway: boom"],
            &[],
        ),
        row(
            "other ingress",
            no_ip().with_event(ev("Ingress", "other", "boom")),
            P,
            &[],
            &[],
        ),
        row(
            "other service",
            no_ip().with_event(ev("Service", "catalog-svc", "boom")),
            P,
            &[],
            &[],
        ),
        row(
            "normal event",
            no_ip().with_event(k8s_openapi::api::core::v1::Event {
                type_: Some("Normal".into()),
                ..ev("Ingress", "k10-ingress", "boom")
            }),
            P,
            &[],
            &[],
        ),
    ]
}

#[test]
fn address_table() {
    let with_ip = |ip: &str| ing(ingress().with_ip(Some(ip)));
    let mut rows = vec![
        row("healthy", h(), P, &["10.128.0.100 (internal)"], &[]),
        row("no ingress", obs(|o| o.without_ingresses()), S, &["no Ingress"], &[]),
        row(
            "no address",
            ing(ingress().with_ip(None)),
            F,
            &["the Ingress has no address yet"],
            &["Controller events and Proxy-only subnet"],
        ),
        row(
            "second has it",
            obs(|o| {
                o.with_ingress(ingress().with_ip(None))
                    .and_ingress(ingress().named("b"))
            }),
            P,
            &["10.128.0.100"],
            &[],
        ),
    ];
    for (ip, private) in [
        ("10.128.0.100", true),
        ("10.0.0.1", true),
        ("172.16.5.4", true),
        ("172.31.255.254", true),
        ("192.168.1.1", true),
        ("34.120.1.2", false),
        ("35.190.0.1", false),
        ("8.8.8.8", false),
        ("172.32.0.1", false),
    ] {
        let (want, word) = if private {
            (P, "(internal)")
        } else {
            (F, "is an EXTERNAL address")
        };
        let hint: &[&str] = if private {
            &[]
        } else {
            &[
                "`kubectl -n kasten-io annotate ingress k10-ingress kubernetes.io/ingress.class=gce-internal \
               --overwrite`",
            ]
        };
        rows.push(row(ip, with_ip(ip), want, &[ip, word], hint));
    }
    table(CheckId::Address, address::check, rows);
}

#[test]
fn negs_table() {
    use crate::fixtures::neg;
    let mut rows = negs_rows_1();
    rows.extend(negs_rows_2());
    rows.extend(negs_rows_gke_zones());
    for (pods, ready, sizes, ok) in [
        (2, 2, vec![(1, 1), (2, 1)], true),
        (3, 3, vec![(1, 1), (2, 1), (0, 1)], true),
        (2, 1, vec![(1, 1)], true),
        (2, 2, vec![(1, 2)], false),
        (3, 3, vec![(1, 1), (2, 1)], false),
        (3, 2, vec![(1, 1), (2, 1)], true),
        (1, 1, vec![(1, 2)], false),
    ] {
        let negs = sizes.iter().map(|&(z, n)| neg(ZONES[z], n)).collect();
        let f = obs(|o| o.with_pods(pods, ready)).with_negs(negs);
        rows.push(row(
            format!("{ready}/{pods} ready, {sizes:?}"),
            f,
            if ok { P } else { F },
            &[],
            &[],
        ));
    }
    table(CheckId::Negs, negs::check, rows);
}

fn negs_rows_1() -> Vec<Row> {
    use crate::fixtures::neg;
    vec![
        row(
            "healthy",
            h(),
            P,
            &["us-central1-b 1 (empty: us-central1-a, us-central1-c)"],
            &[],
        ),
        row(
            "no k10",
            h().without_k10(),
            blocked(CheckId::K10),
            &["blocked by k10: K10 not found"],
            &[],
        ),
        row(
            "no neg status",
            obs(|o| o.without_service_annotation(NEG_STATUS)),
            S,
            &["no NEG yet (Service gateway has no neg-status)"],
            &[],
        ),
        row(
            "list fails",
            Facts {
                negs: Err("403".into()),
                ..h()
            },
            F,
            &["cannot list NEGs: 403"],
            &[],
        ),
        row(
            "empty neg",
            h().with_negs(vec![neg(ZONES[1], 0)]),
            F,
            &["us-central1-b: NEG has 0 endpoint(s), 1 ready pod(s)"],
            &["kubectl -n kasten-io describe service gateway"],
        ),
    ]
}

fn negs_rows_2() -> Vec<Row> {
    use crate::fixtures::neg;
    vec![
        row(
            "missing zone",
            h().with_negs(vec![neg(ZONES[0], 1)]),
            F,
            &["us-central1-b: no NEG, 1 ready pod(s)"],
            &[],
        ),
        row("no negs", h().with_negs(vec![]), F, &["no NEG"], &[]),
        row(
            "extra empty zone",
            h().with_negs(vec![neg(ZONES[0], 0), neg(ZONES[1], 1)]),
            P,
            &["us-central1-b 1 (empty: us-central1-a)"],
            &[],
        ),
        row(
            "no ready pods",
            obs(|o| o.with_pods(1, 0)).with_negs(vec![neg(ZONES[1], 0)]),
            P,
            &["empty in us-central1-b"],
            &[],
        ),
    ]
}

/// GKE makes a NEG in every zone with nodes (empty where no gateway pod runs), and the system
/// default backend has NEGs of its own in the same zones.
fn negs_rows_gke_zones() -> Vec<Row> {
    use crate::fixtures::{default_backend_neg, neg};
    let [a, b, c] = ZONES;
    vec![
        row(
            "empty NEGs where no gateway pod runs",
            h().with_negs(vec![neg(a, 0), neg(b, 1), neg(c, 0)]),
            P,
            &["us-central1-b 1 (empty: us-central1-a, us-central1-c)"],
            &[],
        ),
        row(
            "the gateway pod's zone empty too",
            h().with_negs(vec![neg(a, 0), neg(b, 0), neg(c, 0)]),
            F,
            &["us-central1-b: NEG has 0 endpoint(s), 1 ready pod(s)"],
            &["kubectl -n kasten-io describe service gateway"],
        ),
        row(
            "the gateway pod's zone missing, the empty ones there",
            h().with_negs(vec![neg(a, 0), neg(c, 0)]),
            F,
            &["us-central1-b: no NEG, 1 ready pod(s)"],
            &[],
        ),
        row(
            "only the default backend's NEG in the gateway pod's zone",
            h().with_negs(vec![neg(a, 0), default_backend_neg(b, 1), neg(c, 0)]),
            F,
            &["us-central1-b: no NEG, 1 ready pod(s)"],
            &[],
        ),
        row(
            "the default backend's NEGs beside the gateway's",
            h().with_negs(vec![
                default_backend_neg(a, 1),
                neg(a, 0),
                neg(b, 1),
                default_backend_neg(c, 0),
            ]),
            P,
            &["us-central1-b 1 (empty: us-central1-a)"],
            &[],
        ),
    ]
}

#[test]
fn backends_table() {
    let mut rows = vec![
        row("healthy", h(), P, &["1/1 HEALTHY"], &[]),
        row(
            "no backend service",
            Facts {
                hc: None,
                bs: None,
                ..h()
            },
            S,
            &["no backend service yet"],
            &[],
        ),
        row("only the health check", Facts { bs: None, ..h() }, P, &["1/1"], &[]),
        row("only the backend service", Facts { hc: None, ..h() }, P, &["1/1"], &[]),
        row(
            "getHealth fails",
            Facts {
                health: Err("404".into()),
                ..h()
            },
            F,
            &["getHealth failed: 404"],
            &[],
        ),
        row(
            "no statuses",
            Facts {
                health: Ok(vec![]),
                ..h()
            },
            F,
            &["no endpoints have a health status"],
            &["see the NEGs check"],
        ),
        row(
            "empty group",
            h().with_health(&[]),
            F,
            &["no endpoints have a health status"],
            &[],
        ),
        row(
            "empty NEGs in the other zones answer no health status (not UNHEALTHY)",
            h().with_health(&["HEALTHY", "HEALTHY"]),
            P,
            &["2/2 HEALTHY"],
            &[],
        ),
        row(
            "only empty NEGs",
            Facts {
                health: Ok(ZONES.iter().map(|z| (z.to_string(), vec![])).collect()),
                ..h()
            },
            F,
            &["no endpoints have a health status"],
            &["see the NEGs check"],
        ),
        row(
            "unhealthy",
            h().with_health(&["UNHEALTHY"]),
            F,
            &["0/1 HEALTHY (UNHEALTHY: 10.52.1.10:8000)"],
            &["see the Firewall and Health check checks"],
        ),
    ];
    for states in [
        vec!["HEALTHY", "HEALTHY"],
        vec!["HEALTHY", "UNHEALTHY"],
        vec!["UNHEALTHY", "UNHEALTHY", "HEALTHY"],
        vec!["UNKNOWN"],
        vec!["DRAINING", "HEALTHY"],
        vec!["HEALTHY", "HEALTHY", "HEALTHY"],
        vec!["TIMEOUT"],
    ] {
        let healthy = states.iter().filter(|s| **s == "HEALTHY").count();
        let want_text = format!("{healthy}/{} HEALTHY", states.len());
        let want = if healthy == states.len() { P } else { F };
        rows.push(row(
            format!("{states:?}"),
            h().with_health(&states),
            want,
            &[&want_text],
            &[],
        ));
    }
    table(CheckId::Backends, backends::check, rows);
}

#[test]
fn e2e_table() {
    let curl = |page: (u16, &str), deep: (u16, &str)| h().with_curl(Some(Ok((page_of(page), page_of(deep)))));
    let k = (200, K10_PAGE);
    let mut rows = e2e_rows_1();
    rows.extend(e2e_rows_2());
    for code in [400, 401, 404, 500, 504] {
        let want = format!("HTTP {code} without");
        rows.push(row(
            format!("page {code}"),
            curl((code, "x"), k),
            F,
            &[&want],
            &["see the checks above"],
        ));
    }
    for code in [200, 301, 401] {
        let want = format!("(HTTP {code})");
        rows.push(row(format!("deep {code}"), curl(k, (code, "x")), P, &[&want], &[]));
    }
    table(CheckId::E2e, e2e::check, rows);
}

fn e2e_rows_1() -> Vec<Row> {
    let fail = |e: CurlFailure| h().with_curl(Some(Err(e)));
    vec![
        row(
            "healthy",
            h(),
            P,
            &[
                "HTTP 200 with <title>Kasten</title> from pod catalog-svc",
                "deeper paths reach K10",
            ],
            &[],
        ),
        row(
            "no address",
            ing(ingress().with_ip(None)).with_curl(None),
            S,
            &["no address"],
            &[],
        ),
        row("no exec", h().with_curl(None), S, &["skipped (--no-exec)"], &[]),
        row(
            "no curl pod",
            fail(CurlFailure::NoCurlPod { probe_pod: None }),
            W,
            &["no K10 pod with curl found"],
            &["pass --probe-pod POD"],
        ),
        row(
            "probe pod without curl",
            fail(CurlFailure::NoCurlPod {
                probe_pod: Some("tools".into()),
            }),
            W,
            &["--probe-pod tools has no curl"],
            &["--probe-pod"],
        ),
        row(
            "deep without curl",
            fail(CurlFailure::Curl(CurlError::NoCurl { pod: "p".into() })),
            W,
            &["pod p has no curl"],
            &["--probe-pod"],
        ),
        row(
            "refused",
            fail(CurlFailure::Curl(CurlError::Exited {
                code: 7,
                message: "refused".into(),
            })),
            F,
            &["curl exited 7: refused"],
            &["see the checks above"],
        ),
        row(
            "exec fails",
            fail(CurlFailure::Exec("pods \"p\" is forbidden".into())),
            F,
            &["forbidden"],
            &["see the checks above"],
        ),
    ]
}

fn e2e_rows_2() -> Vec<Row> {
    let curl = |page: (u16, &str), deep: (u16, &str)| h().with_curl(Some(Ok((page_of(page), page_of(deep)))));
    let fail = |e: CurlFailure| h().with_curl(Some(Err(e)));
    let k = (200, K10_PAGE);
    vec![
        row(
            "exec message mentioning curl",
            fail(CurlFailure::Exec("container has no curl".into())),
            F,
            &["has no curl"],
            &[],
        ),
        row(
            "default backend",
            curl((404, "default backend - backend NotFound"), k),
            F,
            &["default backend answered"],
            &[],
        ),
        row(
            "502",
            curl((502, "<html>502</html>"), k),
            F,
            &["502 from the load balancer: no healthy backend"],
            &[],
        ),
        row(
            "503",
            curl((503, "no healthy upstream"), k),
            F,
            &["503 from the load balancer"],
            &[],
        ),
        row(
            "403",
            curl((403, "forbidden"), k),
            F,
            &["HTTP 403 without <title>Kasten</title>"],
            &[],
        ),
        row(
            "200 not k10",
            curl((200, "<html>hello</html>"), k),
            F,
            &["HTTP 200 without"],
            &[],
        ),
        row(
            "exact path",
            curl(k, (404, "default backend - backend NotFound")),
            F,
            &["use pathType Prefix"],
            &[],
        ),
        row("deep 302", curl(k, (302, "")), P, &["(HTTP 302)"], &[]),
    ]
}

fn page_of((code, body): (u16, &str)) -> crate::verify::CurlResult {
    page(code, body)
}

// ---------------------------------------------------------------- whole worlds

fn outcome_of(checks: &[Check], id: CheckId) -> Outcome {
    checks.iter().find(|c| c.id == id).expect("every check runs").result
}

#[test]
fn the_healthy_world_passes_every_check() {
    let checks = evaluate(&Facts::healthy());
    assert_eq!(checks.len(), checks::ALL.len());
    let ids: Vec<CheckId> = checks.iter().map(|c| c.id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "checks run in CheckId order");
    // The security checks (issue 16) judge posture, not the chain: see doctor/checks/https.rs.
    for c in checks.iter().filter(|c| c.id < CheckId::Https) {
        assert_eq!(c.result, P, "{c:#?}");
    }
}

/// The world once the Ingress exists but the load balancer could not be made.
fn no_load_balancer(f: Facts) -> Facts {
    Facts {
        hc: None,
        bs: None,
        health: Ok(vec![]),
        curl: None,
        ..f.observed(|mut o| {
            o.ingresses = o.ingresses.into_iter().map(|i| i.with_ip(None)).collect();
            o
        })
    }
}

/// The load balancer exists but no backend is healthy: 502 from inside the cluster.
fn unhealthy(f: Facts) -> Facts {
    f.with_health(&["UNHEALTHY"])
        .with_curl(Some(Ok((page(502, "<html>502</html>"), page(502, "")))))
}

/// Broken worlds, each with the one check that must FAIL (the root cause).
fn broken_worlds() -> Vec<(&'static str, Facts, CheckId)> {
    let mut w = broken_worlds_1();
    w.extend(broken_worlds_2());
    w
}

fn broken_worlds_1() -> Vec<(&'static str, Facts, CheckId)> {
    let ev = |msg: &str| warning_event("Ingress", "k10-ingress", "Sync", msg);
    let exact = (page(200, K10_PAGE), page(404, "default backend - backend NotFound"));
    vec![
        (
            "no proxy-only subnet",
            no_load_balancer(vpc(Vpc::healthy().without_proxy_subnet()))
                .with_event(ev("A reserved and active subnetwork is required")),
            CheckId::ProxySubnet,
        ),
        (
            "backup proxy-only subnet",
            no_load_balancer(vpc(Vpc::healthy().without_proxy_subnet().with_proxy_subnet(
                proxy_subnet("bk", PROXY_RANGE, "REGIONAL_MANAGED_PROXY", "BACKUP"),
            ))),
            CheckId::ProxySubnet,
        ),
        (
            "no firewall rule",
            unhealthy(vpc(Vpc::healthy().without_firewall("allow-kasten-gateway-connection"))),
            CheckId::Firewall,
        ),
        (
            "service port rule",
            unhealthy(vpc(Vpc::healthy()
                .without_firewall("allow-kasten-gateway-connection")
                .with_firewall(allow("svc", PROXY_RANGE, &["80"])))),
            CheckId::Firewall,
        ),
        (
            "deny outranks",
            unhealthy(vpc(Vpc::healthy().with_firewall(firewall(
                "deny",
                json!({
            "sourceRanges": ["0.0.0.0/0"], "denied": [{"IPProtocol": "tcp"}], "priority": 10}),
            )))),
            CheckId::Firewall,
        ),
        (
            "stale health check",
            unhealthy(h().with_health_check(Some(health_check("/")))),
            CheckId::HealthCheck,
        ),
        (
            "fixed wrong port",
            unhealthy(h().with_health_check(Some(health_check_fixed_port("/healthz", 80)))),
            CheckId::HealthCheck,
        ),
        ("exposed without auth", obs(|o| o.without_auth()), CheckId::K10),
        (
            "no ready pods",
            unhealthy(obs(|o| o.with_pods(1, 0))).with_health(&[]),
            CheckId::K10,
        ),
        ("k10 missing", h().without_k10().with_curl(None), CheckId::K10),
        (
            "exact path",
            ing(ingress().with_path("/k10/", "ImplementationSpecific")).with_curl(Some(Ok(exact))),
            CheckId::Ingress,
        ),
    ]
}

fn broken_worlds_2() -> Vec<(&'static str, Facts, CheckId)> {
    let ev = |msg: &str| warning_event("Ingress", "k10-ingress", "Sync", msg);
    vec![
        (
            "wrong backend port",
            no_load_balancer(ing(ingress().with_backend_port(json!({"number": 8080}))))
                .with_event(ev("could not find port \"8080\" in service")),
            CheckId::Ingress,
        ),
        (
            "http lb disabled",
            no_load_balancer(obs(|o| o.without_http_lb())),
            CheckId::Cluster,
        ),
        (
            "routes-based",
            no_load_balancer(obs(|o| o.not_vpc_native())).with_negs(vec![]),
            CheckId::Cluster,
        ),
        (
            "invalid backendconfig",
            obs(|o| o.with_backend_config("{nope")),
            CheckId::Service,
        ),
        (
            "neg size mismatch",
            h().with_negs(vec![neg(ZONES[1], 0)]),
            CheckId::Negs,
        ),
        (
            "missing permissions",
            Facts {
                denied_gcp: Ok(vec!["compute.firewalls.create".into()]),
                ..h()
            },
            CheckId::Permissions,
        ),
        (
            "external ip",
            ing(ingress().with_ip(Some("34.120.1.2"))),
            CheckId::Address,
        ),
        ("no address yet", no_load_balancer(h()), CheckId::Address),
        (
            "unknown controller error",
            no_load_balancer(h()).with_event(ev("boom")),
            CheckId::Events,
        ),
        ("network policy drops the proxies", unhealthy(h()), CheckId::Backends),
        (
            "not the dashboard",
            h().with_curl(Some(Ok((page(403, "no"), page(200, K10_PAGE))))),
            CheckId::E2e,
        ),
    ]
}

#[test]
fn each_broken_world_has_exactly_one_fail_at_the_root_cause() {
    for (name, facts, root) in broken_worlds() {
        let checks = evaluate(&facts);
        let fails: Vec<CheckId> = checks.iter().filter(|c| c.is_fail()).map(|c| c.id).collect();
        assert_eq!(
            fails,
            vec![root],
            "{name}: {:#?}",
            checks.iter().map(|c| (c.id, c.result, c.text())).collect::<Vec<_>>()
        );
        let root_check = checks.iter().find(|c| c.id == root).expect("root");
        assert!(
            root_check.hint.is_some() || root == CheckId::Negs,
            "{name}: the root FAIL has a repair hint"
        );
        for c in &checks {
            if let Outcome::Skip { blocked_by: Some(by) } = c.result {
                assert!(c.hint.is_none(), "{name}: a blocked check has no hint: {c:#?}");
                assert!(c.text().starts_with(&format!("blocked by {by}: ")), "{name}: {c:#?}");
            }
        }
    }
}

#[test]
fn downstream_failures_name_the_root_cause() {
    let f = no_load_balancer(vpc(Vpc::healthy().without_proxy_subnet())).with_event(warning_event(
        "Ingress",
        "k10-ingress",
        "Sync",
        "A reserved and active subnetwork is required",
    ));
    let checks = evaluate(&f);
    assert_eq!(outcome_of(&checks, CheckId::Firewall), blocked(CheckId::ProxySubnet));
    assert_eq!(outcome_of(&checks, CheckId::Address), blocked(CheckId::ProxySubnet));
    assert_eq!(outcome_of(&checks, CheckId::Events), W);
    let events = checks.iter().find(|c| c.id == CheckId::Events).expect("events");
    assert!(events.text().ends_with("(explained by proxy-subnet)"), "{events:#?}");
    let f = unhealthy(vpc(Vpc::healthy().without_firewall("allow-kasten-gateway-connection")));
    let checks = evaluate(&f);
    assert_eq!(outcome_of(&checks, CheckId::Backends), blocked(CheckId::Firewall));
    assert_eq!(outcome_of(&checks, CheckId::E2e), blocked(CheckId::Firewall));
}

fn raw(id: CheckId, result: Outcome) -> Check {
    Check {
        id,
        result,
        finding: format!("{id} finding"),
        hint: Some(format!("fix {id}")),
        evidence: Value::Null,
    }
}

/// Checks in order, as (id, outcome).
type Checks = Vec<(CheckId, Outcome)>;

#[test]
fn root_causes_on_typed_outcomes() {
    use CheckId::*;
    // (checks in order, the outcomes root_causes must leave)
    let cases: Vec<(Checks, Vec<Outcome>)> = vec![
        (vec![(ProxySubnet, F), (Firewall, F)], vec![F, blocked(ProxySubnet)]),
        (
            vec![(Cluster, F), (Firewall, F), (E2e, F)],
            vec![F, blocked(Cluster), blocked(Cluster)],
        ),
        (
            vec![(K10, F), (Firewall, blocked(K10)), (Backends, F)],
            vec![F, blocked(K10), blocked(K10)],
        ),
        (
            vec![(Firewall, blocked(K10)), (Backends, F)],
            vec![blocked(K10), blocked(K10)],
        ),
        (vec![(Firewall, S), (Backends, F)], vec![S, F]),
        (vec![(Firewall, W), (Backends, F)], vec![W, F]),
        (vec![(Permissions, F), (Backends, F)], vec![F, F]),
        (vec![(Backends, F), (Firewall, F)], vec![F, F]),
        (
            vec![(Negs, F), (Backends, F), (E2e, F)],
            vec![F, blocked(Negs), blocked(Negs)],
        ),
        (
            vec![(Ingress, F), (Events, F), (Address, F)],
            vec![F, W, blocked(Ingress)],
        ),
        (vec![(Service, F), (Events, F), (Address, F)], vec![F, W, F]),
        (vec![(K10, F), (Events, F)], vec![F, F]),
        (vec![(Events, F), (Address, F)], vec![F, blocked(Events)]),
        (
            vec![(HealthCheck, F), (Backends, F), (E2e, F)],
            vec![F, blocked(HealthCheck), blocked(HealthCheck)],
        ),
        (vec![(ProxySubnet, F), (HealthCheck, F)], vec![F, F]),
        (vec![(K10, W), (E2e, F)], vec![W, F]),
        (vec![(E2e, P)], vec![P]),
    ];
    for (input, want) in cases {
        let checks: Vec<Check> = input.iter().map(|&(id, o)| raw(id, o)).collect();
        let got = root_causes(checks);
        let outcomes: Vec<Outcome> = got.iter().map(|c| c.result).collect();
        assert_eq!(outcomes, want, "{input:?}");
        for (c, &(_, before)) in got.iter().zip(&input) {
            if c.result != before && matches!(c.result, Outcome::Skip { .. }) {
                assert_eq!(c.hint, None, "{c:?}");
                assert_eq!(
                    c.finding,
                    format!("{} finding", c.id),
                    "the finding stays; the prefix is rendered"
                );
            }
        }
    }
}

#[test]
fn json_keeps_todays_ids_outcomes_and_texts() {
    let c = Check::blocked(CheckId::ProxySubnet, CheckId::K10, "why").hint("h");
    let v = serde_json::to_value(&c).expect("json");
    assert_eq!(
        v,
        json!({"id": "proxy-subnet", "title": "Proxy-only subnet", "result": "SKIP",
               "finding": "blocked by k10: why", "hint": "h", "evidence": null})
    );
    let ids: Vec<&str> = evaluate(&Facts::healthy()).iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "context",
            "cluster",
            "permissions",
            "k10",
            "proxy-subnet",
            "firewall",
            "service",
            "health-check",
            "ingress",
            "events",
            "address",
            "negs",
            "backends",
            "e2e",
            "https",
            "certificate",
            "reach",
            "open-firewall",
            "auth"
        ]
    );
    for o in [P, W, F, S, blocked(CheckId::Cluster)] {
        assert_eq!(serde_json::to_value(o).expect("json"), json!(o.label()));
    }
}

/// Issue 14: an Ingress with a deletionTimestamp is going away, whatever else it says; events of an
/// earlier Ingress of the same name (another uid) are history, not the current Ingress's.
#[test]
fn safety_rows() {
    let going = crate::fixtures::from_json::<k8s_openapi::api::networking::v1::Ingress>({
        let mut v = serde_json::to_value(ingress()).expect("json");
        v["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        v["metadata"]["finalizers"] = json!(["networking.gke.io/ingress-finalizer-V2"]);
        v
    });
    let rows = vec![row(
        "terminating",
        ing(going),
        F,
        &["is being deleted", "going away"],
        &[
            "wait --for=delete ingress/k10-ingress",
            "kubectl kasten-ilb -n kasten-io install",
        ],
    )];
    assert_eq!(table(CheckId::Ingress, ingress::check, rows), 1);
    let with_uid = |uid: &str| {
        let mut v = serde_json::to_value(ingress().with_ip(None)).expect("json");
        v["metadata"]["uid"] = json!(uid);
        crate::fixtures::from_json::<k8s_openapi::api::networking::v1::Ingress>(v)
    };
    let stale = |uid: &str| {
        let mut e = warning_event("Ingress", "k10-ingress", "Sync", "Could not find TLS certificate");
        e.involved_object.uid = Some(uid.into());
        e
    };
    let rows = vec![
        row(
            "an earlier Ingress's event",
            obs(|o| o.with_ingress(with_uid("new"))).with_event(stale("old")),
            P,
            &["no Warning events"],
            &[],
        ),
        row(
            "this Ingress's event",
            obs(|o| o.with_ingress(with_uid("new"))).with_event(stale("new")),
            F,
            &["Could not find TLS certificate"],
            &["create secret tls"],
        ),
    ];
    assert_eq!(table(CheckId::Events, events::check, rows), 2);
}

// ---------------------------------------------------------------- HTTPS gateway (issue 15)

#[test]
fn https_gateway_needs_https_from_the_load_balancer_and_an_https_health_check() {
    use crate::state::APP_PROTOCOLS;
    let https = |f: Facts| f.observed(|o| o.with_https_gateway());
    let app = |f: Facts| f.observed(|o| o.with_service_annotation(APP_PROTOCOLS, r#"{"http":"HTTPS"}"#));
    let annotate = concat!(
        "`kubectl -n kasten-io annotate service gateway ",
        r#"cloud.google.com/app-protocols='{"http":"HTTPS"}' --overwrite`"#
    );
    let service_rows = vec![
        row(
            "HTTPS gateway, LB speaks HTTP",
            https(h()),
            F,
            &["the gateway serves HTTPS", "the load balancer speaks HTTP"],
            &[annotate],
        ),
        row(
            "HTTPS gateway, LB speaks HTTPS",
            app(https(h())),
            P,
            &["NEG enabled"],
            &[],
        ),
        row(
            "HTTP gateway, LB speaks HTTPS",
            app(h()),
            F,
            &["serves plain HTTP"],
            &["annotate service gateway cloud.google.com/app-protocols-"],
        ),
    ];
    assert_eq!(table(CheckId::Service, service::check, service_rows), 3);
    let with_hc = |f: Facts, hc| f.with_health_check(Some(hc));
    let hc_rows = vec![
        row(
            "HTTP check on an HTTPS gateway",
            with_hc(app(https(h())), health_check("/healthz")),
            F,
            &["is HTTP, but the gateway serves HTTPS"],
            &[annotate],
        ),
        row(
            "HTTPS check on an HTTPS gateway",
            with_hc(app(https(h())), https_health_check("/healthz")),
            P,
            &["probes /healthz"],
            &[],
        ),
        row(
            "HTTPS check on an HTTP gateway",
            with_hc(h(), https_health_check("/healthz")),
            F,
            &["is HTTPS, but the gateway serves HTTP"],
            &["app-protocols-"],
        ),
        row(
            "predicted: HTTPS probe copied when the app protocol is HTTPS",
            app(https(h())).with_health_check(None),
            P,
            &["GKE will probe /healthz"],
            &[],
        ),
        row(
            "predicted: HTTP check for an HTTPS gateway",
            https(h()).with_health_check(None),
            F,
            &["the health check GKE will make is HTTP"],
            &[annotate],
        ),
        row(
            "BackendConfig says HTTP",
            with_hc(app(https(h())), health_check("/healthz"))
                .with_backend_config("k10-gateway-ilb", json!({"type": "HTTP", "requestPath": "/healthz"})),
            F,
            &["is HTTP"],
            &["healthCheck.type: HTTPS in the BackendConfig"],
        ),
    ];
    assert_eq!(table(CheckId::HealthCheck, health_check::check, hc_rows), 6);
}

#[test]
fn e2e_counts_only_k10s_basic_challenge_as_reaching_k10() {
    let challenged = |c: Option<&str>| crate::verify::CurlResult {
        challenge: c.map(str::to_string),
        ..page(401, "Unauthorized")
    };
    let curl = |c: Option<&str>| Some(Ok((challenged(c), challenged(c))));
    let basic = Some(r#"Basic realm="Kasten K10 gateway""#);
    let rows = vec![
        row(
            "basic auth: K10's challenge",
            h().with_curl(curl(basic)),
            P,
            &["HTTP 401 with K10's Basic challenge: the request reached K10's gateway"],
            &[],
        ),
        row(
            "401 without a challenge",
            h().with_curl(curl(None)),
            F,
            &["HTTP 401 without a WWW-Authenticate challenge"],
            &["see the checks above"],
        ),
        row(
            "token auth: a Basic challenge is not K10's",
            h().observed(|o| o.with_auth("token")).with_curl(curl(basic)),
            F,
            &["not K10's Basic challenge"],
            &[],
        ),
        row(
            "Veeam Kasten page",
            h().with_curl(Some(Ok((page(200, "<title>Veeam Kasten</title>"), page(200, ""))))),
            P,
            &["HTTP 200 with <title>Veeam Kasten</title>"],
            &[],
        ),
    ];
    assert_eq!(table(CheckId::E2e, e2e::check, rows), 4);
}

/// Hints name the namespace in use, never a fixed one: every broken world, with the namespace
/// changed, has no kubectl command in any hint that says `-n kasten-io` or lacks `-n k10-prod`.
#[test]
fn hints_name_the_namespace_in_use() {
    for (name, mut facts, _) in broken_worlds() {
        facts.namespace = "k10-prod".into();
        for c in evaluate(&facts) {
            let Some(hint) = &c.hint else { continue };
            for cmd in hint.split('`').skip(1).step_by(2) {
                let kubectl = cmd.starts_with("kubectl ") && !cmd.starts_with("kubectl config ");
                assert!(
                    !kubectl || (cmd.contains(" -n k10-prod") && !cmd.contains("kasten-io")),
                    "{name} / {:?}: {cmd}\n{hint}",
                    c.id
                );
            }
        }
    }
}

#[test]
fn a_list_that_came_back_answers_its_own_review() {
    use crate::doctor::observe::answered_by_reads;
    let names = |v: Vec<(&'static str, &str, &'static str, &str)>| v.into_iter().map(|n| n.2).collect::<Vec<_>>();
    assert_eq!(names(answered_by_reads(true, true)), ["deployments", "pods", "events"]);
    assert_eq!(names(answered_by_reads(false, true)), ["deployments", "pods"]);
    assert_eq!(names(answered_by_reads(true, false)), ["events"]);
    assert!(answered_by_reads(false, false).is_empty());
    // Only lists: patch, create and exec are never taken as read.
    assert!(answered_by_reads(true, true).iter().all(|n| n.0 == "list"));
}

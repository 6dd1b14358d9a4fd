//! Table tests of Gateway mode's plan, over fixtures (no simulator).

use serde_json::json;

use super::gateway::{self, compute, contains, Options};
use super::{Action, Change, Frontend, Settings};
use crate::cli::{PlanArgs, Via};
use crate::gateway::Kind;
use crate::state::{Observed, Vpc};

fn args() -> PlanArgs {
    PlanArgs {
        via: Via::Gateway,
        ..PlanArgs::default()
    }
}

fn plan_of(seen: &Observed, a: &PlanArgs) -> super::Plan {
    let s = Settings::from_args(a).unwrap();
    compute(seen, &Vpc::healthy(), &s, &Options::from_args(a).unwrap()).unwrap()
}

fn actions(p: &super::Plan) -> Vec<(&'static str, Action)> {
    p.steps.iter().map(|s| (s.id, s.action)).collect()
}

#[test]
fn fresh_cluster_enables_gateway_api_then_creates_the_objects() {
    let p = plan_of(&Observed::fresh(), &args());
    assert_eq!(
        actions(&p),
        [
            ("gateway-api", Action::Create),
            ("proxy-subnet", Action::Reuse),
            ("firewall", Action::Reuse),
            ("health-check-policy", Action::Create),
            ("gateway", Action::Create),
            ("http-route", Action::Create),
        ]
    );
    let api = p.step("gateway-api").unwrap();
    assert_eq!(
        api.command.as_deref(),
        Some(
            "gcloud container clusters update kasten-demo --location us-central1-a --gateway-api=standard \
             --project kasten-demo"
        )
    );
    assert!(matches!(&api.change, Change::EnableGatewayApi { body }
        if body["update"]["desiredGatewayApiConfig"]["channel"] == "CHANNEL_STANDARD"
            && body["name"] == "projects/kasten-demo/locations/us-central1-a/clusters/kasten-demo"));
    assert_eq!(p.frontend, Frontend::Gateway { name: "k10-ilb".into() });
    // No Deployment change in Gateway mode.
    assert!(p
        .steps
        .iter()
        .all(|s| !matches!(s.change, Change::PatchDeployment { .. })));
}

#[test]
fn the_manifests_say_what_the_issue_asks() {
    let p = plan_of(&Observed::fresh().with_gateway_api(), &args());
    let body = |id: &str| match &p.step(id).unwrap().change {
        Change::CreateObject { body } => body.clone(),
        other => panic!("{id}: {other:?}"),
    };
    let g = body("gateway");
    assert_eq!(g["spec"]["gatewayClassName"], "gke-l7-rilb");
    assert_eq!(
        g["spec"]["listeners"],
        json!([{"name": "http", "protocol": "HTTP", "port": 80}])
    );
    let r = body("http-route");
    assert_eq!(
        r["spec"]["rules"][0]["matches"][0]["path"],
        json!({"type": "PathPrefix", "value": "/k10"})
    );
    assert_eq!(
        r["spec"]["rules"][0]["backendRefs"][0],
        json!({"name": "gateway", "port": 80})
    );
    assert_eq!(r["spec"]["parentRefs"][0]["name"], "k10-ilb");
    let h = body("health-check-policy");
    assert_eq!(
        h["spec"]["default"]["config"],
        json!({"type": "HTTP", "httpHealthCheck": {"port": 8000, "requestPath": "/healthz"}})
    );
    assert_eq!(
        h["spec"]["targetRef"],
        json!({"group": "", "kind": "Service", "name": "gateway"})
    );
    assert_eq!(p.step("gateway-api").unwrap().action, Action::NoOp);
}

#[test]
fn options_become_listeners_addresses_and_policies() {
    let a = PlanArgs {
        tls_secret: Some("k10-tls".into()),
        host: Some("k10.corp".into()),
        static_ip: Some("k10-ip".into()),
        global_access: true,
        ..args()
    };
    let p = plan_of(&Observed::fresh().with_gateway_api(), &a);
    let Change::CreateObject { body: g } = &p.step("gateway").unwrap().change else {
        panic!()
    };
    assert_eq!(
        g["spec"]["listeners"][1]["tls"]["certificateRefs"][0]["name"],
        "k10-tls"
    );
    assert_eq!(
        g["spec"]["addresses"],
        json!([{"type": "NamedAddress", "value": "k10-ip"}])
    );
    let Change::CreateObject { body: pol } = &p.step("gateway-policy").unwrap().change else {
        panic!()
    };
    assert_eq!(pol["spec"]["default"]["allowGlobalAccess"], true);
    assert_eq!(pol["spec"]["targetRef"]["kind"], "Gateway");
    assert!(p.url("10.0.0.1").starts_with("https://k10.corp/k10/"));
}

#[test]
fn https_gateway_gets_an_https_health_check() {
    let seen = Observed::fresh().with_gateway_api().with_https_gateway();
    let p = plan_of(&seen, &args());
    let Change::CreateObject { body } = &p.step("health-check-policy").unwrap().change else {
        panic!()
    };
    assert_eq!(body["spec"]["default"]["config"]["type"], "HTTPS");
    assert_eq!(
        body["spec"]["default"]["config"]["httpsHealthCheck"]["requestPath"],
        "/healthz"
    );
}

#[test]
fn a_second_run_is_all_noop_and_drift_is_an_update() {
    let p = plan_of(&Observed::gateway_installed(), &args());
    assert!(p.is_noop(), "{:?}", actions(&p));
    // export --format yaml still lists every object of the setup.
    let yaml = crate::render::manifests(&Observed::gateway_installed().k10, &p, crate::cli::Output::Yaml).unwrap();
    for kind in [
        "kind: Gateway",
        "kind: HTTPRoute",
        "kind: HealthCheckPolicy\n",
        "name: k10-ilb-health",
    ] {
        assert!(yaml.contains(kind), "{kind} not in {yaml}");
    }
    let drifted = Observed::gateway_installed().edit_gateway_object(Kind::HttpRoute, "k10-ilb", |r| {
        r["spec"]["rules"][0]["backendRefs"][0]["port"] = json!(8000);
    });
    let p = plan_of(&drifted, &args());
    let step = p.step("http-route").unwrap();
    assert_eq!(step.action, Action::Update);
    assert!(
        step.diff
            .as_deref()
            .unwrap()
            .contains("backendRefs[0].port: 8000 -> 80"),
        "{:?}",
        step.diff
    );
}

#[test]
fn someone_elses_gateway_is_adopted_not_duplicated() {
    let theirs = Observed::gateway_installed().edit_gateway_object(Kind::Gateway, "k10-ilb", |g| {
        g["metadata"]["labels"] = json!({});
    });
    let p = plan_of(&theirs, &args());
    assert_eq!(p.step("gateway").unwrap().action, Action::Reuse);
}

#[test]
fn defaults_added_by_the_server_do_not_count_as_drift() {
    let want = json!({"parentRefs": [{"name": "g"}], "rules": [{"backendRefs": [{"name": "gateway", "port": 80}]}]});
    let have = json!({"parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "g"}],
        "rules": [{"backendRefs": [{"group": "", "kind": "Service", "name": "gateway", "port": 80, "weight": 1}],
                   "matches": [{"path": {"type": "PathPrefix", "value": "/"}}]}]});
    assert!(contains(&have, &want));
    assert!(!contains(&want, &have));
    let two = json!({"parentRefs": [{"name": "g"}, {"name": "h"}]});
    assert!(!contains(&two, &json!({"parentRefs": [{"name": "g"}]})));
}

#[test]
fn global_access_needs_gateway_mode_and_ingress_mode_recommends_gateway() {
    let a = PlanArgs {
        global_access: true,
        ..PlanArgs::default()
    };
    assert!(Options::from_args(&a).is_err());
    assert!(gateway::recommendation(&Observed::fresh()).is_none());
    let r = gateway::recommendation(&Observed::fresh().with_gateway_api()).unwrap();
    assert!(r.contains("--via gateway") && r.contains("migrate --to gateway"), "{r}");
}

//! GKE's NEGs as the real clients see them (issue 10 item 5): a NEG in every zone with nodes,
//! empty where no gateway pod runs, and the system default backend's own NEGs, health check and
//! backend service; doctor, install and status take the empty NEGs for what they are, and still
//! fail when the gateway pod's zone has an empty NEG.

mod common;

use common::*;
use serde_json::Value;

const REGION: &str = "us-central1";
const ZONES: [&str; 3] = ["us-central1-a", "us-central1-b", "us-central1-c"];

/// The zone of the node the first pod with `label=value` in `ns` runs on.
fn pod_zone(w: &TestWorld, ns: &str, label: &str, value: &str) -> String {
    let world = w.sim.world();
    let pod = world
        .kube_in_ns("Pod", ns)
        .into_iter()
        .find(|p| p["metadata"]["labels"][label] == value)
        .expect("the pod runs");
    let node = pod["spec"]["nodeName"].as_str().unwrap_or_default().to_string();
    let n = world.kube_get("Node", "", &node).expect("its node");
    n["metadata"]["labels"]["topology.kubernetes.io/zone"]
        .as_str()
        .unwrap()
        .to_string()
}

fn json_of(o: &std::process::Output) -> Value {
    serde_json::from_str(&ok(o)).expect("json")
}

/// `gcloud compute network-endpoint-groups list` for NEG names matching `part`: (zone, size).
fn negs(w: &TestWorld, part: &str) -> Option<Vec<(String, u64)>> {
    let filter = format!("--filter=name~{part}");
    let o = w.gcloud(&["compute", "network-endpoint-groups", "list", &filter, "--format=json"])?;
    let mut v: Vec<(String, u64)> = json_of(&o)
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let zone = g["zone"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
            (
                zone,
                g["size"]
                    .as_str()
                    .map_or_else(|| g["size"].as_u64().unwrap(), |s| s.parse().unwrap()),
            )
        })
        .collect();
    v.sort();
    Some(v)
}

/// One endpoint in `zone`, none elsewhere.
fn one_in(zone: &str) -> Vec<(String, u64)> {
    ZONES.iter().map(|z| (z.to_string(), u64::from(*z == zone))).collect()
}

/// `gcloud compute backend-services get-health`: (group zone, health states).
fn get_health(w: &TestWorld, bs: &str) -> Vec<(String, Vec<String>)> {
    let region = format!("--region={REGION}");
    let o = w
        .gcloud(&[
            "compute",
            "backend-services",
            "get-health",
            bs,
            &region,
            "--format=json",
        ])
        .unwrap();
    let mut v: Vec<(String, Vec<String>)> = json_of(&o)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let zone = e["backend"].as_str().unwrap().split("/zones/").nth(1).unwrap();
            let states = e["status"]["healthStatus"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| s["healthState"].as_str().unwrap().to_string())
                .collect();
            (zone.split('/').next().unwrap().to_string(), states)
        })
        .collect();
    v.sort();
    v
}

fn name_of(w: &TestWorld, kind: &str, part: &str) -> String {
    let region = format!("--regions={REGION}");
    let filter = format!("--filter=name~{part}");
    let o = w
        .gcloud(&["compute", kind, "list", &region, &filter, "--format=value(name)"])
        .unwrap();
    let names = ok(&o);
    let names: Vec<&str> = names.lines().collect();
    assert_eq!(names.len(), 1, "{kind} {part}: {names:?}");
    names[0].to_string()
}

#[test]
fn gke_makes_a_neg_in_every_zone_with_nodes_and_the_default_backend_gets_its_own() {
    let w = TestWorld::start("healthy");
    let Some(gateway) = negs(&w, "-kasten-io-gateway-80-") else {
        return;
    };
    let gw_zone = pod_zone(&w, "kasten-io", "service", "gateway");
    assert_eq!(gateway, one_in(&gw_zone), "the gateway's NEGs");
    let svc = json_of(
        &w.kubectl(&["-n", "kasten-io", "get", "service", "gateway", "-o", "json"])
            .unwrap(),
    );
    let status: Value = serde_json::from_str(
        svc["metadata"]["annotations"]["cloud.google.com/neg-status"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        status["zones"],
        serde_json::json!(ZONES),
        "neg-status lists every zone with nodes"
    );

    // The system default backend: its own NEGs, /healthz health check, backend service, and the
    // URL map's default service.
    let db_zone = pod_zone(&w, "kube-system", "k8s-app", "glbc");
    let default_negs = negs(&w, "-kube-system-default-http-backend-80-").unwrap();
    assert_eq!(default_negs, one_in(&db_zone), "the default backend's NEGs");
    let db = name_of(&w, "backend-services", "-kube-system-default-http-backend-80-");
    let region = format!("--region={REGION}");
    let hc = json_of(
        &w.gcloud(&["compute", "health-checks", "describe", &db, &region, "--format=json"])
            .unwrap(),
    );
    assert_eq!(hc["httpHealthCheck"]["requestPath"], "/healthz");
    let um = name_of(&w, "url-maps", "-kasten-io-k10-ingress-");
    let um = json_of(
        &w.gcloud(&["compute", "url-maps", "describe", &um, &region, "--format=json"])
            .unwrap(),
    );
    assert!(
        um["defaultService"].as_str().unwrap().ends_with(&format!("/{db}")),
        "{um:#}"
    );
    let db_health = get_health(&w, &db);
    assert_eq!(db_health.len(), 3, "a backend per zone: {db_health:?}");
    assert!(db_health
        .iter()
        .all(|(z, s)| s == &if *z == db_zone { vec!["HEALTHY"] } else { vec![] }));

    // getHealth on an empty NEG answers no healthStatus at all: not UNHEALTHY.
    let gw_bs = name_of(&w, "backend-services", "-kasten-io-gateway-80-");
    let h = get_health(&w, &gw_bs);
    let want: Vec<(String, Vec<String>)> = ZONES
        .iter()
        .map(|z| {
            let s = if *z == gw_zone {
                vec!["HEALTHY".to_string()]
            } else {
                vec![]
            };
            (z.to_string(), s)
        })
        .collect();
    assert_eq!(h, want);

    // doctor and status: all well, the empty NEGs named as such.
    let (code, report) = doctor_report(&w, &[]);
    assert_eq!(code, 0, "{report:#}");
    let negs_check = check_of(&report, "negs");
    assert_eq!(negs_check["result"], "PASS", "{negs_check:#}");
    let empty: Vec<&str> = ZONES.iter().copied().filter(|z| *z != gw_zone).collect();
    let summary = format!("{gw_zone} 1 (empty: {})", empty.join(", "));
    assert_eq!(negs_check["finding"], summary, "{negs_check:#}");
    assert_eq!(check_of(&report, "backends")["finding"], "1/1 HEALTHY");

    // The Ingress goes: its default backend's resources go with it.
    ok(&w
        .kubectl(&["-n", "kasten-io", "delete", "ingress", "k10-ingress", "--wait=true"])
        .unwrap());
    assert_eq!(negs(&w, "-kube-system-default-http-backend-").unwrap(), vec![]);
    let o = w
        .gcloud(&["compute", "backend-services", "list", "--format=value(name)"])
        .unwrap();
    assert_eq!(ok(&o).trim(), "", "no backend service is left");
}

#[test]
fn an_empty_neg_where_the_gateway_pod_runs_fails_doctor_and_status() {
    let w = TestWorld::start("fresh");
    ok(&w.run(&["install", "--yes"]));
    let gw_zone = pod_zone(&w, "kasten-io", "service", "gateway");
    let st = w.run(&["status"]);
    let empty: Vec<&str> = ZONES.iter().copied().filter(|z| *z != gw_zone).collect();
    let summary = format!("{gw_zone} 1 (empty: {})", empty.join(", "));
    assert!(stdout(&st).contains(&format!("NEGs       {summary}")), "{}", both(&st));
    assert_eq!(st.status.code(), Some(0), "{}", both(&st));
    // The NEG controller stops, and the gateway's endpoint leaves its zone's NEG.
    w.sim.with_world(|w| {
        w.controllers_paused = true;
        for (k, n) in w.compute.negs.iter_mut() {
            if k.starts_with(&format!("{gw_zone}/")) && k.contains("-kasten-io-gateway-") {
                n["size"] = serde_json::json!(0);
                n["endpoints"] = serde_json::json!([]);
            }
        }
    });
    let Some(listed) = negs(&w, "-kasten-io-gateway-80-") else {
        return;
    };
    assert!(listed.iter().all(|(_, n)| *n == 0), "{listed:?}");
    let (code, report) = doctor_report(&w, &[]);
    assert_ne!(code, 0);
    let negs_check = check_of(&report, "negs");
    assert_eq!(negs_check["result"], "FAIL", "{negs_check:#}");
    assert_eq!(
        negs_check["finding"],
        format!("{gw_zone}: NEG has 0 endpoint(s), 1 ready pod(s)"),
    );
    let backends = check_of(&report, "backends");
    assert!(
        backends["finding"]
            .as_str()
            .unwrap()
            .contains("no endpoints have a health status"),
        "{backends:#}"
    );
    let st = w.run(&["status"]);
    assert_ne!(st.status.code(), Some(0), "{}", both(&st));
}

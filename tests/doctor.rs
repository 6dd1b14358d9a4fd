//! `doctor` on gke-sim worlds: the healthy one passes every check; each broken one fails exactly
//! the check where the fix is (checks downstream of it are SKIPPED as blocked).

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

fn doctor_json(w: &TestWorld, extra: &[&str]) -> (i32, Value) {
    doctor_report(w, extra)
}

fn results(v: &Value) -> Vec<(String, String)> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Doctor on this world fails exactly `id` (exit 1), and nothing else.
fn only_fails(w: &TestWorld, id: &str) -> Value {
    let (code, v) = doctor_json(w, &[]);
    let fails: Vec<String> = results(&v)
        .into_iter()
        .filter(|(_, r)| r == "FAIL")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        fails,
        vec![id.to_string()],
        "{}",
        serde_json::to_string_pretty(&v).unwrap()
    );
    assert_eq!(code, 1);
    check_of(&v, id).clone()
}

#[test]
fn the_healthy_world_passes_every_check_and_doctor_writes_nothing() {
    let w = TestWorld::start("healthy");
    w.sim.clear_requests();
    let o = w.run(&["doctor"]);
    let out = ok(&o);
    insta::assert_snapshot!("doctor_healthy_table", out);
    let (code, v) = doctor_json(&w, &[]);
    assert_eq!(code, 0);
    assert_eq!(v["schemaVersion"], 1);
    // The chain's 14 checks pass; the security checks (issue 16) warn that HTTP carries basic auth's
    // credentials and skip the certificate (there is none).
    assert_eq!(v["summary"], json!({"pass": 17, "warn": 1, "fail": 0, "skip": 1}));
    let ids: Vec<String> = results(&v).into_iter().map(|(i, _)| i).collect();
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
    assert!(w.writes().is_empty(), "doctor wrote: {:?}", w.writes());
    let mut snap = v.clone();
    snap["checks"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .for_each(|c| c["evidence"] = json!("<evidence>"));
    insta::assert_json_snapshot!("doctor_healthy_json", snap);
    let y = ok(&w.run(&["doctor", "-o", "yaml"]));
    let yv: Value = serde_norway::from_str(&y).unwrap();
    assert_eq!(yv["summary"]["pass"], 17);
}

#[test]
fn cluster_fails_when_http_load_balancing_is_disabled() {
    let w = TestWorld::start("healthy");
    w.sim
        .with_world(|w| w.cluster["addonsConfig"]["httpLoadBalancing"] = json!({"disabled": true}));
    let c = only_fails(&w, "cluster");
    assert!(c["hint"]
        .as_str()
        .unwrap()
        .contains("--update-addons=HttpLoadBalancing=ENABLED"));
}

#[test]
fn cluster_fails_when_routes_based() {
    let w = TestWorld::start("healthy");
    w.sim
        .with_world(|w| w.cluster["ipAllocationPolicy"]["useIpAliases"] = json!(false));
    let c = only_fails(&w, "cluster");
    assert!(c["finding"].as_str().unwrap().contains("not VPC-native"));
}

#[test]
fn permissions_fail_when_iam_or_rbac_lack_a_verb() {
    let w = TestWorld::start("healthy");
    w.sim.with_world(|w| {
        w.denied_permissions = vec!["compute.firewalls.create".into()];
        w.denied_kube = vec!["patch deployments".into()];
    });
    let c = only_fails(&w, "permissions");
    let f = c["finding"].as_str().unwrap();
    assert!(
        f.contains("compute.firewalls.create") && f.contains("patch deployments"),
        "{f}"
    );
}

/// A list doctor made in K10's namespace answers its own access review, and so does the curl's
/// exec when it got in: on a healthy cluster only the five other reviews are asked; a list or an
/// exec RBAC refuses is still asked, and named.
#[test]
fn lists_doctor_made_answer_their_own_access_reviews() {
    let reviews = |w: &TestWorld| {
        w.sim
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/selfsubjectaccessreviews"))
            .count()
    };
    let w = TestWorld::start("healthy");
    w.sim.clear_requests();
    let (code, _) = doctor_json(&w, &[]);
    assert_eq!(code, 0);
    assert_eq!(
        reviews(&w),
        5,
        "list pods, deployments and events were answered by the lists, create pods/exec by the curl"
    );
    // A refused list, or a refused exec (asked after the curl), is asked about and named.
    let refused = |verb: &str| {
        w.sim.with_world(|w| w.denied_kube = vec![verb.into()]);
        w.sim.clear_requests();
        let (_, v) = doctor_json(&w, &[]);
        assert_eq!(reviews(&w), 6, "`{verb}`, refused, is asked about");
        let f = check_of(&v, "permissions")["finding"].as_str().unwrap().to_string();
        assert!(f.contains(verb), "{f}");
    };
    refused("list events");
    refused("create pods/exec");
    // With --no-exec the exec's review is asked at once, beside the others; they run beside the
    // second round of reads, so waiting for the lists costs nothing.
    w.sim.with_world(|w| w.denied_kube.clear());
    w.sim.clear_requests();
    doctor_json(&w, &["--no-exec"]);
    assert_eq!(reviews(&w), 6);
}

/// Gateway API is read after discovery says the cluster serves it: without it, two discovery
/// requests (404) instead of five lists; with it, the two and the five lists.
#[test]
fn gateway_api_is_listed_only_where_discovery_finds_it() {
    let gateway_api = |w: &TestWorld| {
        w.sim
            .requests()
            .iter()
            .filter(|r| r.path.contains("/gateway.networking.k8s.io/") || r.path.contains("/networking.gke.io/"))
            .map(|r| r.path.clone())
            .collect::<Vec<_>>()
    };
    let w = TestWorld::start("healthy");
    w.sim.clear_requests();
    assert_eq!(doctor_json(&w, &[]).0, 0);
    let mut paths = gateway_api(&w);
    paths.sort();
    assert_eq!(
        paths,
        ["/apis/gateway.networking.k8s.io/v1", "/apis/networking.gke.io/v1"]
    );
    let w = TestWorld::start("gateway-healthy");
    w.sim.clear_requests();
    assert_eq!(doctor_json(&w, &[]).0, 0);
    let paths = gateway_api(&w);
    assert_eq!(paths.len(), 7, "{paths:?}");
    assert!(paths.iter().any(|p| p.ends_with("/gateways")), "{paths:?}");
}

/// Google's side of the load balancer is read beside the in-cluster curl, not after it: with 100 ms
/// a call, the NEG list arrives before the exec could have ended (its answer 100 ms after it arrives,
/// then the container runtime's start), where it used to wait for the curl's end.
#[test]
fn googles_side_is_read_beside_the_curl() {
    let latency = Duration::from_millis(100);
    let w = TestWorld::with(gke_sim::SimConfig {
        latency,
        ..config("healthy")
    });
    w.sim.clear_requests();
    assert_eq!(doctor_json(&w, &[]).0, 0);
    let log = w.sim.requests();
    let exec = log.iter().find(|r| r.path.ends_with("/exec")).expect("the curl ran").at;
    let negs = log
        .iter()
        .find(|r| r.method == "GET" && r.path.contains("networkEndpointGroups"))
        .expect("the NEGs were read")
        .at;
    assert!(
        negs < exec + latency + gke_sim::exec::START,
        "NEG list at {negs:?}, exec at {exec:?}: the second round waited for the curl"
    );
}

/// K10's namespace-scoped RBAC (README's rules) does not let one read the namespace object: doctor
/// does not need to, and reads it only to tell a missing namespace from a missing Service.
#[test]
fn doctor_needs_no_cluster_scoped_namespace_read() {
    let w = TestWorld::start("healthy");
    w.sim.with_world(|w| w.denied_kube = vec!["get namespaces".into()]);
    w.sim.clear_requests();
    let (code, v) = doctor_json(&w, &[]);
    assert_eq!(code, 0, "{}", serde_json::to_string_pretty(&v).unwrap());
    assert!(!w
        .sim
        .requests()
        .iter()
        .any(|r| r.path == "/api/v1/namespaces/kasten-io"));
}

#[test]
fn k10_fails_without_ready_gateway_pods() {
    let w = TestWorld::start("healthy");
    w.sim.with_world(|w| {
        w.kube_get_mut("Deployment", "kasten-io", "gateway").unwrap()["metadata"]["annotations"]
            ["sim.kasten-ilb/not-ready"] = json!("true");
    });
    let c = only_fails(&w, "k10");
    assert!(c["finding"].as_str().unwrap().contains("no ready pods"));
}

#[test]
fn k10_fails_when_exposed_without_auth_and_warns_otherwise() {
    let w = TestWorld::start("no-auth");
    let (_, v) = doctor_json(&w, &[]);
    assert!(results(&v).contains(&("k10".into(), "WARN".into())));
    let w = TestWorld::start("healthy");
    w.sim.with_world(|w| {
        w.kube_delete("Secret", "kasten-io", "k10-basic-auth");
        for d in ["auth-svc", "dashboardbff-svc", "controllermanager-svc"] {
            let mut o = w.kube_get("Deployment", "kasten-io", d).cloned().unwrap();
            o["spec"]["template"]["spec"].as_object_mut().unwrap().remove("volumes");
            w.kube_put(o);
        }
    });
    let c = only_fails(&w, "k10");
    assert!(c["finding"].as_str().unwrap().contains("NO authentication"));
}

#[test]
fn proxy_subnet_fails_when_missing() {
    let w = TestWorld::start("no-proxy-subnet");
    let c = only_fails(&w, "proxy-subnet");
    assert!(c["hint"].as_str().unwrap().contains("--purpose=REGIONAL_MANAGED_PROXY"));
    let (_, v) = doctor_json(&w, &[]);
    let events = check_of(&v, "events");
    assert!(
        events["finding"]
            .as_str()
            .unwrap()
            .contains("A reserved and active subnetwork is required"),
        "the controller's words, verbatim"
    );
}

#[test]
fn proxy_subnet_fails_with_the_promotion_command_when_only_backup() {
    let w = TestWorld::start("healthy");
    w.sim.with_world(|w| {
        for s in w.compute.subnetworks.values_mut() {
            if s["purpose"] == "REGIONAL_MANAGED_PROXY" {
                s["role"] = json!("BACKUP");
            }
        }
    });
    let c = only_fails(&w, "proxy-subnet");
    assert!(c["hint"]
        .as_str()
        .unwrap()
        .contains("update proxy-only-subnet --role=ACTIVE"));
}

#[test]
fn firewall_fails_on_the_service_port_mistake() {
    let w = TestWorld::start("firewall-port-80");
    let c = only_fails(&w, "firewall");
    let f = c["finding"].as_str().unwrap();
    assert!(f.contains("tcp:80") && f.contains("container port tcp:8000"), "{f}");
}

#[test]
fn firewall_fails_when_a_deny_outranks_the_allow() {
    let w = TestWorld::start("healthy");
    w.sim.with_world(|w| {
        gke_sim::scenario::firewall(
            w,
            "deny-10",
            json!({"sourceRanges": ["10.0.0.0/8"], "denied": [{"IPProtocol": "all"}], "priority": 500}),
        )
    });
    let c = only_fails(&w, "firewall");
    assert!(c["finding"].as_str().unwrap().contains("deny-10"));
}

#[test]
fn service_fails_on_an_invalid_backendconfig_annotation() {
    let w = TestWorld::start("healthy");
    w.sim.with_world(|w| {
        w.controllers_paused = true;
        w.kube_get_mut("Service", "kasten-io", "gateway").unwrap()["metadata"]["annotations"]
            ["cloud.google.com/backend-config"] = json!("{not json");
    });
    let c = only_fails(&w, "service");
    assert!(c["finding"].as_str().unwrap().contains("invalid json"));
}

#[test]
fn health_check_fails_when_created_before_the_container_port() {
    let w = TestWorld::start("hc-on-root");
    let c = only_fails(&w, "health-check");
    assert!(
        c["finding"].as_str().unwrap().contains("never re-reads the probe"),
        "{c}"
    );
}

#[test]
fn ingress_fails_on_exact_path_external_class_and_class_name() {
    for (scenario, words) in [
        ("exact-path", "ImplementationSpecific"),
        ("external-ingress", "EXTERNAL, internet-facing"),
        ("ingress-class-name", "ignores it silently"),
    ] {
        let w = TestWorld::start(scenario);
        let c = only_fails(&w, "ingress");
        assert!(c["finding"].as_str().unwrap().contains(words), "{scenario}: {c}");
    }
}

#[test]
fn events_fail_on_a_missing_static_ip() {
    let w = TestWorld::start("fresh");
    w.sim.with_world(|w| {
        gke_sim::scenario::proxy_subnet(w, "proxy-only-subnet", "10.120.0.0/23", "REGIONAL_MANAGED_PROXY", "ACTIVE");
        gke_sim::scenario::firewall(w, "allow", json!({"sourceRanges": ["10.120.0.0/23"], "allowed": [{"IPProtocol": "tcp", "ports": ["8000"]}]}));
        gke_sim::scenario::add_container_port(w);
        w.kube_put(json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "k10-ingress", "namespace": "kasten-io", "annotations": {"kubernetes.io/ingress.class": "gce-internal", "kubernetes.io/ingress.regional-static-ip-name": "k10-ip"}},
            "spec": {"rules": [{"http": {"paths": [{"path": "/k10/", "pathType": "Prefix", "backend": {"service": {"name": "gateway", "port": {"number": 80}}}}]}}]}}));
    });
    let c = only_fails(&w, "events");
    assert!(c["finding"]
        .as_str()
        .unwrap()
        .contains("doesn't translate to an existing static IP"));
    assert!(c["hint"].as_str().unwrap().contains("gcloud compute addresses create"));
}

#[test]
fn address_fails_while_the_load_balancer_is_being_made() {
    let mut cfg = config("fresh");
    cfg.lb_delay = Duration::from_secs(3600);
    let w = TestWorld::with(cfg);
    w.sim.with_world(|w| {
        gke_sim::scenario::proxy_subnet(w, "proxy-only-subnet", "10.120.0.0/23", "REGIONAL_MANAGED_PROXY", "ACTIVE");
        gke_sim::scenario::firewall(w, "allow", json!({"sourceRanges": ["10.120.0.0/23"], "allowed": [{"IPProtocol": "tcp", "ports": ["8000"]}]}));
        gke_sim::scenario::add_container_port(w);
        w.controllers_paused = true;
        w.kube_put(json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "k10-ingress", "namespace": "kasten-io", "annotations": {"kubernetes.io/ingress.class": "gce-internal"}},
            "spec": {"rules": [{"http": {"paths": [{"path": "/k10/", "pathType": "Prefix", "backend": {"service": {"name": "gateway", "port": {"number": 80}}}}]}}]}}));
    });
    only_fails(&w, "address");
}

#[test]
fn negs_fail_when_sizes_do_not_match_ready_pods() {
    let w = TestWorld::start("healthy");
    w.sim.with_world(|w| {
        w.controllers_paused = true;
        for n in w.compute.negs.values_mut() {
            n["size"] = json!(0);
            n["endpoints"] = json!([]);
        }
    });
    let c = only_fails(&w, "negs");
    assert!(c["finding"].as_str().unwrap().contains("0 endpoint(s), 1 ready pod(s)"));
}

#[test]
fn backends_fail_when_a_network_policy_drops_the_proxies() {
    let w = TestWorld::start("healthy");
    w.sim.with_world(|w| {
        w.kube_delete("NetworkPolicy", "kasten-io", "allow-external");
    });
    let c = only_fails(&w, "backends");
    assert!(c["finding"].as_str().unwrap().contains("0/1 HEALTHY"), "{c}");
}

#[test]
fn e2e_fails_when_the_path_is_not_the_dashboards() {
    let w = TestWorld::start("fresh");
    let o = w.run(&["install", "--yes", "--path", "/dashboard/"]);
    assert_eq!(
        o.status.code(),
        Some(64),
        "install refuses a path the gateway does not serve: {}",
        both(&o)
    );
    assert!(stderr(&o).contains("use --path /k10/"), "{}", stderr(&o));
    ok(&w.run(&["install", "--yes"]));
    // Someone edits the Ingress to another path afterwards.
    w.sim.with_world(|w| {
        let i = w.kube_get_mut("Ingress", "kasten-io", "k10-ilb").expect("installed");
        i["spec"]["rules"][0]["http"]["paths"][0]["path"] = json!("/dashboard/");
    });
    let c = only_fails(&w, "e2e");
    assert!(
        c["finding"]
            .as_str()
            .unwrap()
            .contains("HTTP 404 without <title>Kasten</title>"),
        "{c}"
    );
}

#[test]
fn doctor_cannot_run_without_a_reachable_context_and_says_so() {
    let w = TestWorld::start("healthy");
    let kc = w.home.path().join("kc");
    std::fs::write(&kc, "apiVersion: v1\nkind: Config\nclusters:\n- cluster: {server: 'http://127.0.0.1:9'}\n  name: c\ncontexts:\n- context: {cluster: c, user: u}\n  name: gke_kasten-demo_us-central1-a_kasten-demo\ncurrent-context: gke_kasten-demo_us-central1-a_kasten-demo\nusers:\n- name: u\n  user: {token: t}\n").unwrap();
    let o = w
        .plugin()
        .args(["doctor", "--kubeconfig", kc.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(
        stderr(&o).contains("cannot reach the Kubernetes API server"),
        "{}",
        stderr(&o)
    );
    let o = w
        .plugin()
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
        .args(["doctor"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("gcloud auth application-default login"));
}

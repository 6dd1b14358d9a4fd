//! gke-sim answers as Google and Kubernetes do: the manual recipe runs end to end with the real
//! `gcloud` and `kubectl`, and each documented failure behaves as on GKE.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn wait_for(mut f: impl FnMut() -> bool, secs: u64) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

const INGRESS: &str = r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: k10-ingress
  namespace: kasten-io
  annotations:
    kubernetes.io/ingress.class: "gce-internal"
spec:
  rules:
  - http:
      paths:
      - path: /k10/
        pathType: ImplementationSpecific
        backend:
          service:
            name: gateway
            port:
              number: 80
"#;

fn ingress_ip(w: &TestWorld) -> Option<String> {
    w.sim
        .world()
        .kube_get("Ingress", "kasten-io", "k10-ingress")
        .and_then(|i| {
            i["status"]["loadBalancer"]["ingress"][0]["ip"]
                .as_str()
                .map(str::to_string)
        })
}

#[test]
fn the_manual_recipe_runs_end_to_end_with_the_real_clients() {
    let w = TestWorld::start("fresh");
    let Some(o) = w.gcloud(&[
        "compute",
        "networks",
        "subnets",
        "create",
        "proxy-only-subnet",
        "--purpose=REGIONAL_MANAGED_PROXY",
        "--role=ACTIVE",
        "--region=us-central1",
        "--network=default",
        "--range=10.120.0.0/23",
    ]) else {
        return;
    };
    assert!(o.status.success(), "{}", both(&o));
    assert!(both(&o).contains("Created ["), "{}", both(&o));
    let o = w
        .gcloud(&[
            "compute",
            "firewall-rules",
            "create",
            "allow-kasten-gateway-connection",
            "--allow=TCP:8000",
            "--source-ranges=10.120.0.0/23",
            "--network=default",
        ])
        .unwrap();
    assert!(o.status.success(), "{}", both(&o));
    let Some(o) = w.kubectl(&["get", "po", "-o", "wide", "-A"]) else {
        return;
    };
    let pods = ok(&o);
    for d in [
        "catalog-svc",
        "controllermanager-svc",
        "gateway",
        "frontend-svc",
        "prometheus-server",
    ] {
        assert!(pods.contains(d), "{d} missing from:\n{pods}");
    }
    assert!(pods.contains("Running") && pods.contains("IP"), "{pods}");
    let gw = ok(&w
        .kubectl(&[
            "-n",
            "kasten-io",
            "get",
            "pod",
            "-l",
            "service=gateway",
            "-o",
            "jsonpath={.items[0].metadata.name}",
        ])
        .unwrap());
    let host_net = ok(&w
        .kubectl(&[
            "-n",
            "kasten-io",
            "get",
            "pod",
            &gw,
            "-o",
            "jsonpath={.spec.hostNetwork}",
        ])
        .unwrap());
    assert_eq!(host_net, "");
    let o = w
        .kubectl(&[
            "-n",
            "kasten-io",
            "patch",
            "deployment",
            "gateway",
            "--type=json",
            "-p",
            r#"[{"op":"add","path":"/spec/template/spec/containers/0/ports","value":[{"containerPort":8000}]}]"#,
        ])
        .unwrap();
    assert!(ok(&o).contains("deployment.apps/gateway patched"));
    let f = w.home.path().join("ing.yaml");
    std::fs::write(&f, INGRESS).unwrap();
    assert!(ok(&w.kubectl(&["create", "-f", f.to_str().unwrap()]).unwrap())
        .contains("ingress.networking.k8s.io/k10-ingress created"));
    assert!(wait_for(|| ingress_ip(&w).is_some(), 20), "no address");
    let ip = ingress_ip(&w).unwrap();
    assert!(
        ip.starts_with("10.128.0."),
        "internal address from the node subnet: {ip}"
    );
    let ings = ok(&w.kubectl(&["get", "ingress", "-n", "kasten-io"]).unwrap());
    assert!(ings.contains("k10-ingress") && ings.contains(&ip), "{ings}");
    let evs = ok(&w
        .kubectl(&[
            "get",
            "events",
            "--all-namespaces",
            "--field-selector",
            "involvedObject.kind=Ingress",
        ])
        .unwrap());
    assert!(evs.contains("IP is now") && evs.contains("Scheduled for sync"), "{evs}");
    let negs = ok(&w.gcloud(&["compute", "network-endpoint-groups", "list"]).unwrap());
    assert!(
        negs.contains("k8s1-3f9c1a27-kasten-io-gateway-80-") && negs.contains("GCE_VM_IP_PORT"),
        "{negs}"
    );
    let page = ok(&w
        .kubectl(&[
            "-n",
            "kasten-io",
            "exec",
            "deployment/catalog-svc",
            "-c",
            "catalog-svc",
            "--",
            "curl",
            "-si",
            &format!("http://{ip}/k10/"),
        ])
        .unwrap());
    // K10 with basic auth: 401 and its Basic challenge.
    assert!(
        page.contains("HTTP/1.1 401") && page.contains("www-authenticate: Basic realm="),
        "{page}"
    );
    // The recipe's ImplementationSpecific path routes only the exact path.
    let deep = ok(&w
        .kubectl(&[
            "-n",
            "kasten-io",
            "exec",
            "deployment/catalog-svc",
            "-c",
            "catalog-svc",
            "--",
            "curl",
            "-s",
            &format!("http://{ip}/k10/dashboard/"),
        ])
        .unwrap());
    assert!(deep.contains("response 404 (backend NotFound)"), "{deep}");
}

#[test]
fn diagnosis_and_repair_commands_work() {
    let w = TestWorld::start("healthy");
    let Some(o) = w.gcloud(&[
        "compute",
        "networks",
        "subnets",
        "list",
        "--regions=us-central1",
        "--filter=purpose=REGIONAL_MANAGED_PROXY",
        "--format=value(name,ipCidrRange,role)",
    ]) else {
        return;
    };
    assert_eq!(ok(&o).trim(), "proxy-only-subnet\t10.120.0.0/23\tACTIVE");
    let d = ok(&w
        .gcloud(&[
            "compute",
            "networks",
            "subnets",
            "describe",
            "proxy-only-subnet",
            "--region=us-central1",
            "--format=json",
        ])
        .unwrap());
    let v: Value = serde_json::from_str(&d).unwrap();
    assert_eq!(v["purpose"], "REGIONAL_MANAGED_PROXY");
    let fw = ok(&w
        .gcloud(&[
            "compute",
            "firewall-rules",
            "describe",
            "allow-kasten-gateway-connection",
            "--format=json",
        ])
        .unwrap());
    assert!(fw.contains("\"8000\""), "{fw}");
    let bs = ok(&w
        .gcloud(&[
            "compute",
            "backend-services",
            "list",
            "--regions=us-central1",
            // The gateway's (the Ingress's default backend has one too).
            "--filter=name~-kasten-io-gateway-",
            "--format=value(name)",
        ])
        .unwrap());
    let bs = bs.trim().to_string();
    let health = ok(&w
        .gcloud(&["compute", "backend-services", "get-health", &bs, "--region=us-central1"])
        .unwrap());
    assert!(health.contains("healthState: HEALTHY"), "{health}");
    let hc = ok(&w
        .gcloud(&[
            "compute",
            "health-checks",
            "describe",
            &bs,
            "--region=us-central1",
            "--format=value(httpHealthCheck.requestPath)",
        ])
        .unwrap());
    assert_eq!(hc.trim(), "/healthz");
    // Health is computed, not set, from the health checkers' ranges: closing the proxy-only range
    // leaves the backends HEALTHY; closing GKE's own rule for the health checkers does not.
    let get_health = || {
        ok(&w
            .gcloud(&["compute", "backend-services", "get-health", &bs, "--region=us-central1"])
            .unwrap())
    };
    let set_disabled =
        |rule: &str, flag: &str| ok(&w.gcloud(&["compute", "firewall-rules", "update", rule, flag]).unwrap());
    set_disabled("allow-kasten-gateway-connection", "--disabled");
    assert!(get_health().contains("healthState: HEALTHY"), "proxy range closed");
    set_disabled("k8s-fw-l7--3f9c1a27b5d04e6f", "--disabled");
    let health = get_health();
    assert!(health.contains("healthState: UNHEALTHY"), "{health}");
    set_disabled("k8s-fw-l7--3f9c1a27b5d04e6f", "--no-disabled");
    ok(&w
        .gcloud(&[
            "compute",
            "firewall-rules",
            "delete",
            "allow-kasten-gateway-connection",
            "--quiet",
        ])
        .unwrap());
    assert!(!w
        .sim
        .world()
        .compute
        .firewalls
        .contains_key("allow-kasten-gateway-connection"));
    // A BACKUP subnet, then promote it: the old ACTIVE one drains as BACKUP.
    ok(&w
        .gcloud(&[
            "compute",
            "networks",
            "subnets",
            "create",
            "proxy-b",
            "--purpose=REGIONAL_MANAGED_PROXY",
            "--role=BACKUP",
            "--region=us-central1",
            "--network=default",
            "--range=10.122.0.0/23",
        ])
        .unwrap());
    ok(&w
        .gcloud(&[
            "compute",
            "networks",
            "subnets",
            "update",
            "proxy-b",
            "--region=us-central1",
            "--role=ACTIVE",
        ])
        .unwrap());
    let roles = ok(&w
        .gcloud(&[
            "compute",
            "networks",
            "subnets",
            "list",
            "--regions=us-central1",
            "--filter=purpose=REGIONAL_MANAGED_PROXY",
            "--format=value(name,role)",
            "--sort-by=name",
        ])
        .unwrap());
    assert_eq!(roles.trim(), "proxy-b\tACTIVE\nproxy-only-subnet\tBACKUP");
    let c = ok(&w
        .gcloud(&[
            "container",
            "clusters",
            "describe",
            "kasten-demo",
            "--zone",
            "us-central1-a",
            "--format=value(currentMasterVersion,ipAllocationPolicy.useIpAliases)",
        ])
        .unwrap());
    assert_eq!(c.trim(), "1.33.5-gke.1308000\tTrue");
    // kubectl: get -o yaml, annotate, label, merge and strategic patches, scale, delete.
    let y = ok(&w
        .kubectl(&["-n", "kasten-io", "get", "deployment", "gateway", "-o", "yaml"])
        .unwrap());
    assert!(y.contains("containerPort: 8000"), "{y}");
    ok(&w
        .kubectl(&["-n", "kasten-io", "annotate", "service", "gateway", "example.com/x=1"])
        .unwrap());
    ok(&w
        .kubectl(&["-n", "kasten-io", "label", "ingress", "k10-ingress", "team=ops"])
        .unwrap());
    ok(&w
        .kubectl(&[
            "-n",
            "kasten-io",
            "patch",
            "ingress",
            "k10-ingress",
            "--type=merge",
            "-p",
            r#"{"metadata":{"annotations":{"a":"b"}}}"#,
        ])
        .unwrap());
    ok(&w
        .kubectl(&[
            "-n",
            "kasten-io",
            "patch",
            "deployment",
            "gateway",
            "-p",
            r#"{"spec":{"template":{"metadata":{"labels":{"x":"y"}}}}}"#,
        ])
        .unwrap());
    ok(&w
        .kubectl(&["-n", "kasten-io", "scale", "deployment", "gateway", "--replicas=2"])
        .unwrap());
    assert!(wait_for(
        || w.sim
            .world()
            .kube_in_ns("Pod", "kasten-io")
            .iter()
            .filter(|p| p["metadata"]["labels"]["service"] == "gateway")
            .count()
            == 2,
        5
    ));
    let world = w.sim.world();
    let svc = world.kube_get("Service", "kasten-io", "gateway").unwrap();
    assert_eq!(svc["metadata"]["annotations"]["example.com/x"], "1");
    drop(world);
    ok(&w
        .kubectl(&["-n", "kasten-io", "delete", "ingress", "k10-ingress"])
        .unwrap());
    assert!(
        wait_for(
            || w.sim.world().kube_get("Ingress", "kasten-io", "k10-ingress").is_none(),
            10
        ),
        "finalizer released"
    );
    assert!(
        w.sim.world().compute.forwarding_rules.is_empty(),
        "load balancer garbage-collected"
    );
    let bc = w.home.path().join("bc.yaml");
    std::fs::write(&bc, "apiVersion: cloud.google.com/v1\nkind: BackendConfig\nmetadata:\n  name: hc\n  namespace: kasten-io\nspec:\n  healthCheck:\n    requestPath: /k10/\n    port: 8000\n").unwrap();
    ok(&w.kubectl(&["apply", "-f", bc.to_str().unwrap()]).unwrap());
    ok(&w.kubectl(&["apply", "-f", bc.to_str().unwrap()]).unwrap());
    assert!(ok(&w
        .kubectl(&["-n", "kasten-io", "get", "backendconfig", "hc", "-o", "yaml"])
        .unwrap())
    .contains("requestPath: /k10/"));
    ok(&w
        .gcloud(&[
            "container",
            "clusters",
            "update",
            "kasten-demo",
            "--zone",
            "us-central1-a",
            "--update-addons=HttpLoadBalancing=DISABLED",
        ])
        .unwrap());
    assert_eq!(
        w.sim.world().cluster["addonsConfig"]["httpLoadBalancing"]["disabled"],
        true
    );
}

#[test]
fn no_active_proxy_subnet_gives_googles_warning_and_no_address() {
    let w = TestWorld::start("no-proxy-subnet");
    let world = w.sim.world();
    let ing = world.kube_get("Ingress", "kasten-io", "k10-ingress").unwrap();
    assert!(ing["status"]["loadBalancer"]["ingress"].is_null(), "{ing}");
    let evs = world.kube_in_ns("Event", "kasten-io");
    let warn = evs.iter().find(|e| e["type"] == "Warning").expect("a warning event");
    assert_eq!(warn["reason"], "Sync");
    assert!(
        warn["message"].as_str().unwrap().contains(
            "A reserved and active subnetwork is required in the same region and VPC as the forwarding rule."
        ),
        "{warn}"
    );
}

#[test]
fn ingress_class_name_alone_is_ignored_silently() {
    let w = TestWorld::start("ingress-class-name");
    std::thread::sleep(Duration::from_millis(600));
    let world = w.sim.world();
    let ing = world.kube_get("Ingress", "kasten-io", "k10-ingress").unwrap();
    assert!(ing["status"]["loadBalancer"]["ingress"].is_null());
    assert!(ing["metadata"]["finalizers"].is_null(), "not even a finalizer");
    assert!(
        world
            .kube_in_ns("Event", "kasten-io")
            .iter()
            .all(|e| e["involvedObject"]["kind"] != "Ingress"),
        "no events"
    );
}

#[test]
fn no_class_makes_an_external_load_balancer() {
    let w = TestWorld::start("external-ingress");
    let world = w.sim.world();
    let ip = world.kube_get("Ingress", "kasten-io", "k10-ingress").unwrap()["status"]["loadBalancer"]["ingress"][0]
        ["ip"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(ip.starts_with("34."), "public-looking address: {ip}");
    assert!(world
        .compute
        .global_forwarding_rules
        .values()
        .any(|f| f["loadBalancingScheme"] == "EXTERNAL_MANAGED"));
}

#[test]
fn http_load_balancing_disabled_means_nothing_happens() {
    let w = TestWorld::start("no-http-lb");
    w.sim.with_world(|w| {
        w.kube_put(serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "x", "namespace": "kasten-io", "annotations": {"kubernetes.io/ingress.class": "gce-internal"}},
            "spec": {"defaultBackend": {"service": {"name": "gateway", "port": {"number": 80}}}}}));
    });
    std::thread::sleep(Duration::from_millis(500));
    let world = w.sim.world();
    assert!(world.kube_get("Ingress", "kasten-io", "x").unwrap()["status"]["loadBalancer"]["ingress"].is_null());
    assert!(world.compute.negs.is_empty() && world.compute.forwarding_rules.is_empty());
}

#[test]
fn compute_rejects_what_google_rejects() {
    let w = TestWorld::start("healthy");
    // (name, role, range, words in Google's error)
    let cases = [
        (
            "second",
            "ACTIVE",
            "10.122.0.0/23",
            "already exists in region us-central1",
        ),
        ("small", "BACKUP", "10.124.0.0/27", "/26 or shorter"),
        ("auto", "BACKUP", "10.129.0.0/23", "10.128.0.0/9"),
        (
            "pods",
            "BACKUP",
            "10.52.0.0/23",
            "secondary range 'gke-kasten-demo-pods-5e1d9b2c'",
        ),
    ];
    for (name, role, range, words) in cases {
        let (role, range) = (format!("--role={role}"), format!("--range={range}"));
        let args = [
            "compute",
            "networks",
            "subnets",
            "create",
            name,
            "--purpose=REGIONAL_MANAGED_PROXY",
            &role,
            "--region=us-central1",
            "--network=default",
            &range,
        ];
        let Some(o) = w.gcloud(&args) else { return };
        assert!(!o.status.success() && both(&o).contains(words), "{name}: {}", both(&o));
    }
    // Unknown fields and bad enums, as a client with a typo would send them.
    let token = w.sim.world().access_token.clone();
    let url = format!(
        "{}/compute/v1/projects/kasten-demo/regions/us-central1/subnetworks",
        w.sim.base_url
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let post = |body: &str| {
        rt.block_on(async {
            let r = reqwest::Client::new()
                .post(&url)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    };
    let (code, body) = post(r#"{"name":"x","network":"global/networks/default","ipCidrRnage":"10.130.0.0/23"}"#);
    assert_eq!(code, 400);
    assert!(body.contains("Unknown name \\\"ipCidrRnage\\\""), "{body}");
    let (code, body) = post(
        r#"{"name":"x","network":"global/networks/default","ipCidrRange":"10.90.0.0/23","purpose":"REGIONAL_PROXY","role":"ACTIVE"}"#,
    );
    assert_eq!(code, 400);
    assert!(body.contains("TYPE_ENUM"), "{body}");
    // No token: 401 in Google's shape.
    let r = rt.block_on(async { reqwest::get(&url).await.unwrap().status().as_u16() });
    assert_eq!(r, 401);
}

#[test]
fn lists_page_like_google_with_2000_rules_and_500_subnets() {
    let w = TestWorld::start("fresh");
    w.sim.with_world(|w| {
        for i in 0..2000 {
            gke_sim::scenario::firewall(w, &format!("rule-{i:04}"), serde_json::json!({"sourceRanges": ["192.168.0.0/24"], "allowed": [{"IPProtocol": "tcp", "ports": ["443"]}]}));
        }
        for i in 0..500u32 {
            gke_sim::scenario::subnet(w, "us-east1", &format!("s-{i:03}"), &format!("172.20.{}.{}/26", i / 4, (i % 4) * 64));
        }
    });
    let Some(o) = w.gcloud(&["compute", "firewall-rules", "list", "--format=value(name)"]) else {
        return;
    };
    let names = ok(&o);
    assert_eq!(names.lines().filter(|l| l.starts_with("rule-")).count(), 2000);
    let o = w
        .gcloud(&[
            "compute",
            "networks",
            "subnets",
            "list",
            "--regions=us-east1",
            "--format=value(name)",
        ])
        .unwrap();
    assert_eq!(ok(&o).lines().filter(|l| l.starts_with("s-")).count(), 500);
    let pages = w
        .sim
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/global/firewalls") && r.query.contains("pageToken"))
        .count();
    assert!(pages >= 4, "gcloud followed nextPageToken ({pages} follow-up pages)");
}

#[test]
fn latency_and_error_rate_apply_in_a_fixed_sequence() {
    let run = |seed: u64| {
        let w = TestWorld::with(gke_sim::SimConfig {
            error_rate: 0.3,
            seed,
            ..config("fresh")
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let url = format!("{}/api/v1/namespaces/kasten-io/pods", w.sim.base_url);
        rt.block_on(async {
            let mut codes = vec![];
            for _ in 0..20 {
                codes.push(reqwest::get(&url).await.unwrap().status().as_u16());
            }
            codes
        })
    };
    let a = run(7);
    assert_eq!(a, run(7), "same seed, same sequence");
    assert!(a.iter().any(|c| *c == 429 || *c == 503) && a.contains(&200), "{a:?}");
    let w = TestWorld::with(gke_sim::SimConfig {
        latency: Duration::from_millis(150),
        ..config("fresh")
    });
    let t = Instant::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        reqwest::get(format!("{}/api/v1/namespaces", w.sim.base_url))
            .await
            .unwrap()
    });
    assert!(t.elapsed() >= Duration::from_millis(150));
}

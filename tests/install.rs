//! `install` against gke-sim, checked afterwards with the real gcloud and kubectl.

mod common;

use common::*;
use serde_json::Value;

fn proxy_subnets(w: &TestWorld) -> Vec<Value> {
    w.sim
        .world()
        .compute
        .subnetworks
        .values()
        .filter(|s| s["purpose"] == "REGIONAL_MANAGED_PROXY" || s["purpose"] == "INTERNAL_HTTPS_LOAD_BALANCER")
        .cloned()
        .collect()
}

#[test]
fn install_exposes_k10_on_an_internal_load_balancer() {
    let w = TestWorld::start("fresh");
    let o = w.run(&["install", "--yes"]);
    let out = ok(&o);
    let err = stderr(&o);
    assert!(
        out.contains("K10 dashboard (inside the VPC only): http://10.128.0."),
        "{out}"
    );
    assert!(
        err.contains("Verified curl http://10.128.0.")
            && err.contains("HTTP 401 with K10's Basic challenge: the request reached K10's gateway"),
        "{err}"
    );
    insta::assert_snapshot!("install_fresh_stdout", stable(&out));

    // The result, seen with the real clients.
    if let Some(o) = w.gcloud(&[
        "compute",
        "networks",
        "subnets",
        "list",
        "--filter=purpose=REGIONAL_MANAGED_PROXY",
        "--format=value(name,ipCidrRange,role)",
    ]) {
        assert_eq!(ok(&o).trim(), "proxy-only-default\t10.120.0.0/23\tACTIVE");
        let fw = ok(&w
            .gcloud(&[
                "compute",
                "firewall-rules",
                "describe",
                "kasten-ilb-kasten-demo-proxy-to-8000",
                "--format=json",
            ])
            .unwrap());
        let fw: Value = serde_json::from_str(&fw).unwrap();
        assert_eq!(fw["sourceRanges"], serde_json::json!(["10.120.0.0/23"]));
        assert_eq!(
            fw["allowed"],
            serde_json::json!([{"IPProtocol": "tcp", "ports": ["8000"]}])
        );
        assert_eq!(
            fw["destinationRanges"],
            serde_json::json!(["10.52.0.0/14"]),
            "scoped to the cluster's pods, nothing wider"
        );
    }
    if let Some(o) = w.kubectl(&["-n", "kasten-io", "get", "ingress", "k10-ilb", "-o", "json"]) {
        let ing: Value = serde_json::from_str(&ok(&o)).unwrap();
        assert_eq!(
            ing["metadata"]["annotations"]["kubernetes.io/ingress.class"],
            "gce-internal"
        );
        assert_eq!(ing["spec"]["rules"][0]["http"]["paths"][0]["pathType"], "Prefix");
        let ip = ing["status"]["loadBalancer"]["ingress"][0]["ip"]
            .as_str()
            .unwrap()
            .to_string();
        let page = ok(&w
            .kubectl(&[
                "-n",
                "kasten-io",
                "exec",
                "deploy/catalog-svc",
                "-c",
                "catalog-svc",
                "--",
                "curl",
                "-si",
                &format!("http://{ip}/k10/"),
            ])
            .unwrap());
        // K10 with basic auth challenges a request without credentials.
        assert!(
            page.contains("HTTP/1.1 401") && page.contains("www-authenticate: Basic realm="),
            "{page}"
        );
        let deep = ok(&w
            .kubectl(&[
                "-n",
                "kasten-io",
                "exec",
                "deploy/catalog-svc",
                "-c",
                "catalog-svc",
                "--",
                "curl",
                "-si",
                &format!("http://{ip}/k10/dashboard/settings"),
            ])
            .unwrap());
        assert!(
            deep.contains("www-authenticate: Basic realm=") && !deep.contains("backend NotFound"),
            "{deep}"
        );
    }
}

#[test]
fn a_second_run_plans_nothing_and_writes_nothing() {
    let w = TestWorld::start("fresh");
    ok(&w.run(&["install", "--yes"]));
    w.sim.clear_requests();
    let o = w.run(&["install", "--yes"]);
    let out = ok(&o);
    assert!(stderr(&o).contains("Unchanged"), "{}", stderr(&o));
    for l in out.lines().filter(|l| l.starts_with("│ ")) {
        assert!(l.contains("NoOp") || l.contains("Step"), "not NoOp: {l}");
    }
    assert_eq!(w.writes().len(), 0, "writes on rerun: {:?}", w.writes());
}

#[test]
fn an_existing_proxy_only_subnet_is_reused() {
    let w = TestWorld::start("existing-proxy-subnet");
    let out = ok(&w.run(&["install", "--yes"]));
    assert!(
        out.contains("Reuse") && out.contains("team-proxy-only 10.100.0.0/23"),
        "{out}"
    );
    let subnets = proxy_subnets(&w);
    assert_eq!(subnets.len(), 1, "{subnets:?}");
    let fw = w
        .sim
        .world()
        .compute
        .firewalls
        .get("kasten-ilb-kasten-demo-proxy-to-8000")
        .cloned()
        .unwrap();
    assert_eq!(fw["sourceRanges"][0], "10.100.0.0/23");
}

#[test]
fn a_backup_subnet_is_promoted_and_a_legacy_one_reused() {
    let w = TestWorld::start("backup-proxy-subnet");
    let out = ok(&w.run(&["install", "--yes"]));
    assert!(out.contains("promote it to ACTIVE"), "{out}");
    assert_eq!(proxy_subnets(&w)[0]["role"], "ACTIVE");
    let w = TestWorld::start("legacy-proxy-subnet");
    let out = ok(&w.run(&["install", "--yes"]));
    assert!(out.contains("legacy purpose INTERNAL_HTTPS_LOAD_BALANCER"), "{out}");
    assert_eq!(proxy_subnets(&w).len(), 1);
}

#[test]
fn a_chosen_range_overlaps_nothing() {
    let w = TestWorld::start("fresh");
    // Occupy the first candidates so the picker must skip them.
    w.sim.with_world(|w| {
        gke_sim::scenario::subnet(w, "us-east1", "taken-a", "10.120.0.0/22");
        gke_sim::scenario::subnet(w, "europe-west1", "taken-b", "10.120.4.0/23");
    });
    ok(&w.run(&["install", "--yes"]));
    let s = proxy_subnets(&w);
    let range: ipnet::Ipv4Net = s[0]["ipCidrRange"].as_str().unwrap().parse().unwrap();
    assert_eq!(range.to_string(), "10.120.6.0/23");
    let world = w.sim.world();
    for other in world.compute.subnetworks.values().filter(|o| o["name"] != s[0]["name"]) {
        let mut ranges = vec![other["ipCidrRange"].as_str().unwrap().to_string()];
        for sr in other["secondaryIpRanges"].as_array().into_iter().flatten() {
            ranges.push(sr["ipCidrRange"].as_str().unwrap().to_string());
        }
        for r in ranges {
            let r: ipnet::Ipv4Net = r.parse().unwrap();
            assert!(
                !(r.contains(&range.network()) || range.contains(&r.network())),
                "{range} overlaps {r}"
            );
        }
    }
}

#[test]
fn a_custom_vpc_gets_a_range_inside_10_128_too() {
    let w = TestWorld::start("custom-vpc");
    let out = ok(&w.run(&["install", "--yes", "--proxy-subnet-range", "10.129.0.0/23"]));
    assert!(out.contains("proxy-only-corp-vpc 10.129.0.0/23"), "{out}");
}

#[test]
fn dry_run_writes_nothing_and_prints_manifests() {
    let w = TestWorld::start("fresh");
    let before = w.fingerprint();
    let o = w.run(&["install", "--dry-run"]);
    let out = ok(&o);
    assert!(out.contains("Create") && stderr(&o).contains("dry run: nothing was changed"));
    let o = w.run(&["install", "--dry-run", "-o", "yaml"]);
    let yaml = ok(&o);
    let mut kinds = vec![];
    for doc in yaml.split("---\n").filter(|d| !d.trim().is_empty()) {
        let v: Value = serde_norway::from_str(doc).unwrap();
        match v["kind"].as_str().unwrap() {
            "Ingress" => {
                let _: k8s_openapi::api::networking::v1::Ingress =
                    serde_json::from_value(v.clone()).expect("parses as an Ingress");
            }
            "Deployment" => {
                let _: k8s_openapi::api::apps::v1::Deployment =
                    serde_json::from_value(v.clone()).expect("parses as a Deployment");
            }
            "Service" => {
                let _: k8s_openapi::api::core::v1::Service =
                    serde_json::from_value(v.clone()).expect("parses as a Service");
            }
            k => panic!("unexpected kind {k}"),
        }
        kinds.push(v["kind"].as_str().unwrap().to_string());
    }
    assert_eq!(kinds, vec!["Deployment", "Ingress"]);
    assert_eq!(w.writes().len(), 0, "{:?}", w.writes());
    assert_eq!(w.fingerprint(), before);
}

#[test]
fn without_a_terminal_install_needs_yes() {
    let w = TestWorld::start("fresh");
    let before = w.fingerprint();
    let o = w.run(&["install"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(stderr(&o).contains("pass --yes"), "{}", stderr(&o));
    assert_eq!(w.fingerprint(), before);
}

#[test]
fn a_health_check_on_root_is_repaired_with_a_backendconfig() {
    let w = TestWorld::start("hc-on-root");
    let o = w.run(&["install", "--yes"]);
    let out = ok(&o);
    assert!(out.contains("GKE never re-reads the probe"), "{out}");
    let world = w.sim.world();
    let svc = world.kube_get("Service", "kasten-io", "gateway").unwrap();
    assert_eq!(
        svc["metadata"]["annotations"]["cloud.google.com/backend-config"],
        "{\"default\":\"k10-gateway-ilb\"}"
    );
    let hc = world.compute.health_checks.values().next().unwrap();
    assert_eq!(hc["httpHealthCheck"]["requestPath"], "/healthz");
}

#[test]
fn backendconfig_strategy_on_request() {
    let w = TestWorld::start("fresh");
    ok(&w.run(&["install", "--yes", "--health-check", "backendconfig"]));
    let world = w.sim.world();
    let bc = world.kube_get("BackendConfig", "kasten-io", "k10-gateway-ilb").unwrap();
    assert_eq!(bc["spec"]["healthCheck"]["port"], 8000);
    let d = world.kube_get("Deployment", "kasten-io", "gateway").unwrap();
    assert!(
        d["spec"]["template"]["spec"]["containers"][0]["ports"].is_null(),
        "deployment untouched"
    );
}

fn tls_secret(w: &TestWorld) {
    w.sim.with_world(|w| {
        w.kube_put(
            serde_json::json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": "k10-tls", "namespace": "kasten-io"}, "data": {"tls.crt": "", "tls.key": ""}}),
        );
    });
}

#[test]
fn a_static_ip_host_and_tls_are_honoured() {
    let w = TestWorld::start("fresh");
    let create = [
        "compute",
        "addresses",
        "create",
        "k10-ip",
        "--region=us-central1",
        "--subnet=default",
        "--purpose=SHARED_LOADBALANCER_VIP",
    ];
    match w.gcloud(&create) {
        Some(o) => drop(ok(&o)),
        None => w.sim.with_world(|w| {
            let ip = w.alloc_internal_ip();
            let address = serde_json::json!({"name": "k10-ip", "address": ip, "addressType": "INTERNAL",
                "purpose": "SHARED_LOADBALANCER_VIP"});
            w.compute.addresses.insert("us-central1/k10-ip".into(), address);
        }),
    }
    let reserved = w.sim.world().compute.addresses["us-central1/k10-ip"]["address"]
        .as_str()
        .unwrap()
        .to_string();
    tls_secret(&w);
    let o = w.run(&[
        "install",
        "--yes",
        "--static-ip",
        "k10-ip",
        "--host",
        "k10.corp.internal",
        "--tls-secret",
        "k10-tls",
    ]);
    let out = ok(&o);
    assert!(
        out.contains(&format!("http://k10.corp.internal/k10/ (address {reserved})")),
        "{out}"
    );
    let ing = w
        .sim
        .world()
        .kube_get("Ingress", "kasten-io", "k10-ilb")
        .cloned()
        .unwrap();
    assert_eq!(
        ing["metadata"]["annotations"]["kubernetes.io/ingress.regional-static-ip-name"],
        "k10-ip"
    );
    assert!(
        ing["metadata"]["annotations"]["kubernetes.io/ingress.allow-http"].is_null(),
        "HTTP and HTTPS together on the static IP"
    );
    assert_eq!(ing["spec"]["tls"][0]["hosts"][0], "k10.corp.internal");
    assert_eq!(ing["spec"]["rules"][0]["host"], "k10.corp.internal");
    assert_eq!(ing["status"]["loadBalancer"]["ingress"][0]["ip"], reserved.as_str());
}

#[test]
fn tls_without_a_static_ip_serves_https_only() {
    let w = TestWorld::start("fresh");
    tls_secret(&w);
    let o = w.run(&[
        "install",
        "--yes",
        "--host",
        "k10.corp.internal",
        "--tls-secret",
        "k10-tls",
    ]);
    let out = ok(&o);
    let err = stderr(&o);
    assert!(err.contains("HTTPS only"), "{err}");
    assert!(err.contains("Verified curl https://k10.corp.internal/k10/"), "{err}");
    assert!(out.contains("https://k10.corp.internal/k10/"), "{out}");
    let ing = w
        .sim
        .world()
        .kube_get("Ingress", "kasten-io", "k10-ilb")
        .cloned()
        .unwrap();
    assert_eq!(
        ing["metadata"]["annotations"]["kubernetes.io/ingress.allow-http"],
        "false"
    );
    assert!(
        w.sim
            .world()
            .kube_in_ns("Event", "kasten-io")
            .iter()
            .all(|e| e["type"] != "Warning"),
        "no WillNotConfigureFrontend"
    );
}

/// install refuses a TLS Secret that does not exist before any change (issue 14); an Ingress made
/// another way that names one gets the controller's event, which doctor explains.
#[test]
fn a_missing_tls_secret_is_refused_by_install_and_explained_by_doctor() {
    let w = TestWorld::start("fresh");
    let before = w.fingerprint();
    let o = w.run(&[
        "install",
        "--yes",
        "--host",
        "k10.corp.internal",
        "--tls-secret",
        "nope",
        "--timeout",
        "4s",
    ]);
    assert_eq!(o.status.code(), Some(64), "{}", both(&o));
    assert!(stderr(&o).contains("there is no Secret `nope`"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("kubectl -n kasten-io create secret tls nope"),
        "{}",
        stderr(&o)
    );
    assert_eq!(w.fingerprint(), before, "nothing changed");
    let ing = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: k10-tls\n  \
               namespace: kasten-io\n  annotations: {kubernetes.io/ingress.class: gce-internal, \
               kubernetes.io/ingress.allow-http: \"false\"}\nspec:\n  \
               tls: [{hosts: [k10.corp.internal], secretName: nope}]\n  rules:\n  - host: k10.corp.internal\n    \
               http:\n      paths: [{path: /k10/, pathType: Prefix, \
               backend: {service: {name: gateway, port: {number: 80}}}}]\n";
    let f = w.home.path().join("ing.yaml");
    std::fs::write(&f, ing).unwrap();
    let Some(o) = w.kubectl(&["create", "-f", f.to_str().unwrap()]) else {
        return;
    };
    ok(&o);
    let start = std::time::Instant::now();
    let ev = loop {
        let d = w.run(&["doctor", "-o", "json"]);
        let v: Value = serde_json::from_slice(&d.stdout).unwrap();
        let ev = check_of(&v, "events").clone();
        if ev.to_string().contains("Could not find TLS") || start.elapsed() > std::time::Duration::from_secs(20) {
            break ev;
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    };
    // FAIL, or WARN when explained by a missing proxy-only subnet upstream (this world has none).
    assert_ne!(ev["result"], "PASS", "{ev}");
    assert!(ev.to_string().contains("Could not find TLS certificate"), "{ev}");
    assert!(ev["hint"].as_str().unwrap().contains("create secret tls"), "{ev}");
}

/// A copy of the world's kubeconfig with the context renamed (and the nodes' providerID changed).
fn renamed_kubeconfig(w: &TestWorld, name: &str) -> std::path::PathBuf {
    let kc = std::fs::read_to_string(w.sim.kubeconfig_path())
        .unwrap()
        .replace("gke_kasten-demo_us-central1-a_kasten-demo", name);
    let path = w.home.path().join("renamed-kubeconfig");
    std::fs::write(&path, kc).unwrap();
    path
}

#[test]
fn a_renamed_context_is_found_from_the_nodes_and_the_endpoint() {
    let w = TestWorld::start("fresh");
    let kc = renamed_kubeconfig(&w, "prod-eu");
    let o = w
        .plugin()
        .args(["install", "--dry-run", "--kubeconfig", kc.to_str().unwrap()])
        .output()
        .unwrap();
    let out = ok(&o);
    assert!(
        out.contains("Context   prod-eu")
            && out.contains("projects/kasten-demo/locations/us-central1-a/clusters/kasten-demo"),
        "{out}"
    );
    assert!(
        w.sim
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/locations/-/clusters")),
        "clusters.list was asked"
    );
}

#[test]
fn a_context_that_is_not_gke_is_refused_and_nothing_changes() {
    let w = TestWorld::start("fresh");
    w.sim.with_world(|w| {
        for mut n in w.kube_in_ns("Node", "") {
            n["spec"]["providerID"] = serde_json::json!("kind://docker/kind/kind-worker");
            w.kube_put(n);
        }
    });
    let before = w.fingerprint();
    let kc = renamed_kubeconfig(&w, "kind-dev");
    let o = w
        .plugin()
        .args(["install", "--yes", "--kubeconfig", kc.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(
        stderr(&o).contains("does not look like a GKE cluster") && stderr(&o).contains("hint:"),
        "{}",
        stderr(&o)
    );
    assert_eq!(w.fingerprint(), before);
}

#[test]
fn an_existing_rule_that_covers_the_range_is_reused_and_named() {
    // The recipe without its subnet step: its firewall rule already allows 10.120.0.0/23.
    let w = TestWorld::start("no-proxy-subnet");
    let o = w.run(&["install", "--yes"]);
    let out = ok(&o);
    let fw_line = out
        .lines()
        .find(|l| l.contains("Firewall rule") && l.contains("┆"))
        .unwrap();
    assert!(
        fw_line.contains("Reuse") && fw_line.contains("allow-kasten-gateway-connection"),
        "{fw_line}"
    );
    // The recipe's Ingress already routes to gateway: adopted, not doubled (issue 10).
    assert!(
        out.lines()
            .any(|l| l.contains("Ingress") && l.contains("Reuse") && l.contains("k10-ingress")),
        "{out}"
    );
    assert!(
        !w.sim
            .world()
            .compute
            .firewalls
            .keys()
            .any(|k| k.starts_with("kasten-ilb-")),
        "no second rule"
    );
}

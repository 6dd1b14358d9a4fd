//! uninstall and status: install then uninstall leaves the world as it was; a second uninstall
//! does nothing; what install did not create stays.

mod common;

use common::*;
use serde_json::{json, Value};

/// The parts of the world install may touch, normalized (no resourceVersion, generation, status).
fn snapshot(w: &TestWorld) -> Value {
    let world = w.sim.world();
    let strip = |mut v: Value| {
        if let Some(m) = v["metadata"].as_object_mut() {
            for k in ["resourceVersion", "generation", "creationTimestamp", "uid"] {
                m.remove(k);
            }
        }
        if let Some(m) = v.as_object_mut() {
            m.remove("status");
        }
        v
    };
    let gateway = strip(world.kube_get("Deployment", "kasten-io", "gateway").cloned().unwrap());
    let svc = strip(world.kube_get("Service", "kasten-io", "gateway").cloned().unwrap());
    let ings: Vec<Value> = world
        .kube_in_ns("Ingress", "kasten-io")
        .into_iter()
        .map(strip)
        .collect();
    let bcs: Vec<Value> = world
        .kube_in_ns("BackendConfig", "kasten-io")
        .into_iter()
        .map(strip)
        .collect();
    let fws: Vec<String> = world.compute.firewalls.keys().cloned().collect();
    let subnets: Vec<String> = world.compute.subnetworks.keys().cloned().collect();
    json!({"gateway": gateway["spec"], "gatewayAnnotations": gateway["metadata"]["annotations"], "service": svc,
        "ingresses": ings, "backendconfigs": bcs, "firewalls": fws, "subnets": subnets})
}

fn real_clients_view(w: &TestWorld) -> Option<(String, String, String)> {
    let fw = ok(&w.gcloud(&[
        "compute",
        "firewall-rules",
        "list",
        "--format=value(name,sourceRanges.list(),allowed[].map().firewall_rule().list())",
        "--sort-by=name",
    ])?);
    let subnets = ok(&w.gcloud(&[
        "compute",
        "networks",
        "subnets",
        "list",
        "--format=value(name,region.basename(),ipCidrRange)",
        "--sort-by=name",
    ])?);
    let jsonpath = "jsonpath={range .items[*]}{.kind}/{.metadata.name} {.metadata.annotations} \
                    {.spec.template.spec.containers[0].ports}{\"\\n\"}{end}";
    let mut k = ok(&w.kubectl(&[
        "-n",
        "kasten-io",
        "get",
        "deployment/gateway",
        "service/gateway",
        "-o",
        jsonpath,
    ])?);
    k.push_str(&ok(&w.kubectl(&[
        "-n",
        "kasten-io",
        "get",
        "ingress,backendconfig",
        "-o",
        "name",
    ])?));
    Some((fw, subnets, k))
}

fn round_trip(scenario: &str, setup: impl FnOnce(&TestWorld)) {
    let w = TestWorld::start(scenario);
    setup(&w);
    let before = snapshot(&w);
    let before_real = real_clients_view(&w);
    ok(&w.run(&["install", "--yes"]));
    assert_ne!(snapshot(&w)["ingresses"], before["ingresses"]);
    let o = w.run(&["uninstall", "--yes", "--delete-proxy-subnet"]);
    ok(&o);
    assert_eq!(snapshot(&w), before, "uninstall left the world as it was\n{}", both(&o));
    if let Some(b) = before_real {
        assert_eq!(real_clients_view(&w).unwrap(), b, "as gcloud and kubectl see it");
    }
    w.sim.clear_requests();
    let o = w.run(&["uninstall", "--yes"]);
    ok(&o);
    assert!(stderr(&o).contains("Nothing"), "{}", both(&o));
    assert!(w.writes().is_empty(), "second uninstall wrote {:?}", w.writes());
}

#[test]
fn install_then_uninstall_restores_a_fresh_world() {
    round_trip("fresh", |_| {});
}

#[test]
fn uninstall_keeps_what_existed_before_install() {
    round_trip("existing-proxy-subnet", |w| {
        w.sim.with_world(|w| {
            gke_sim::scenario::firewall(
                w,
                "team-allow-8000",
                json!({"sourceRanges": ["192.168.10.0/24"], "allowed": [{"IPProtocol": "tcp", "ports": ["8000"]}]}),
            )
        });
    });
}

#[test]
fn the_proxy_subnet_stays_unless_asked_and_unused() {
    let w = TestWorld::start("fresh");
    ok(&w.run(&["install", "--yes"]));
    let o = w.run(&["uninstall", "--yes"]);
    ok(&o);
    assert!(stderr(&o).contains("pass --delete-proxy-subnet"), "{}", stderr(&o));
    assert!(w
        .sim
        .world()
        .compute
        .subnetworks
        .contains_key("us-central1/proxy-only-default"));
    // Another internal load balancer still uses it: refuse, and say which.
    ok(&w.run(&["install", "--yes"]));
    w.sim.with_world(|w| {
        let rule = json!({"name": "other-lb", "IPAddress": "10.128.0.200", "loadBalancingScheme": "INTERNAL_MANAGED",
            "network": w.network_url("default"), "selfLink": "x"});
        w.compute.forwarding_rules.insert("us-central1/other-lb".into(), rule);
    });
    let o = w.run(&["uninstall", "--yes", "--delete-proxy-subnet"]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert!(
        both(&o).contains("still used by forwarding rule(s) other-lb"),
        "{}",
        both(&o)
    );
    assert!(stdout(&o).contains("Not removed:"));
}

#[test]
fn uninstall_dry_run_removes_nothing() {
    let w = TestWorld::start("fresh");
    ok(&w.run(&["install", "--yes"]));
    let before = w.fingerprint();
    let out = ok(&w.run(&["uninstall", "--dry-run"]));
    assert!(
        out.contains("ingress/k10-ilb") && out.contains("kasten-ilb-kasten-demo-proxy-to-8000"),
        "{out}"
    );
    assert_eq!(w.fingerprint(), before);
}

#[test]
fn status_shows_url_health_and_drift() {
    let w = TestWorld::start("fresh");
    ok(&w.run(&["install", "--yes"]));
    let out = ok(&w.run(&["status"]));
    insta::assert_snapshot!("status_after_install", out);
    // A helm upgrade that drops the containerPort is drift.
    w.sim.with_world(|w| {
        let mut d = w.kube_get("Deployment", "kasten-io", "gateway").cloned().unwrap();
        d["spec"]["template"]["spec"]["containers"][0]
            .as_object_mut()
            .unwrap()
            .remove("ports");
        w.kube_put(d);
    });
    let o = w.run(&["status", "-o", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v["drift"][0]
            .as_str()
            .unwrap()
            .contains("no longer declares the containerPort"),
        "{v}"
    );
}

fn gcp_state(w: &TestWorld) -> Value {
    let world = w.sim.world();
    let subnets: Vec<Value> = world
        .compute
        .subnetworks
        .values()
        .filter(|s| s["purpose"] == "REGIONAL_MANAGED_PROXY")
        .map(|s| {
            json!([
                s["name"],
                s["ipCidrRange"],
                s["role"],
                s["network"].as_str().unwrap().rsplit('/').next(),
                s["description"]
            ])
        })
        .collect();
    let fws: Vec<Value> = world
        .compute
        .firewalls
        .values()
        .filter(|f| f["name"].as_str().unwrap().starts_with("kasten-ilb-"))
        .map(|f| {
            json!([
                f["name"],
                f["direction"],
                f["priority"],
                f["sourceRanges"],
                f["destinationRanges"],
                f["allowed"],
                f["description"],
                f["disabled"]
            ])
        })
        .collect();
    json!({"subnets": subnets, "firewalls": fws})
}

#[test]
fn export_gcloud_commands_make_the_same_gcp_state_as_install() {
    let a = TestWorld::start("fresh");
    let script = ok(&a.run(&["export", "--format", "gcloud"]));
    insta::assert_snapshot!("export_gcloud", script.replace(&a.sim.base_url, "[SIM]"));
    if which("gcloud").is_none() {
        eprintln!("SKIP: gcloud is not installed");
        return;
    }
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env_clear()
        .envs(a.envs())
        .output()
        .unwrap();
    ok(&o);
    let b = TestWorld::start("fresh");
    ok(&b.run(&["install", "--yes"]));
    let (sa, sb) = (gcp_state(&a), gcp_state(&b));
    assert_eq!(sa, sb);
    assert_eq!(sa["firewalls"].as_array().unwrap().len(), 1);
}

#[test]
fn export_helm_values_and_manifests() {
    let w = TestWorld::start("fresh");
    let before = w.fingerprint();
    let values = ok(&w.run(&["export", "--format", "helm-values"]));
    insta::assert_snapshot!("export_helm_values", values);
    let v: Value = serde_norway::from_str(&values).unwrap();
    assert_eq!(
        v["ingress"],
        json!({"create": true, "name": "k10-ilb", "class": "gce-internal", "urlPath": "k10", "pathType": "Prefix"})
    );
    assert!(
        values.contains("containerPort 8000"),
        "says what the chart cannot express"
    );
    let yaml = ok(&w.run(&["export", "--format", "yaml"]));
    for doc in yaml.split("---\n").filter(|d| !d.trim().is_empty()) {
        let v: Value = serde_norway::from_str(doc).unwrap();
        match v["kind"].as_str().unwrap() {
            "Ingress" => drop(serde_json::from_value::<k8s_openapi::api::networking::v1::Ingress>(v).unwrap()),
            "Deployment" => drop(serde_json::from_value::<k8s_openapi::api::apps::v1::Deployment>(v).unwrap()),
            k => panic!("unexpected {k}"),
        }
    }
    assert_eq!(w.fingerprint(), before, "export is read-only");
}

#[test]
fn status_watch_redraws_on_a_change_without_polling() {
    use std::io::{BufRead, BufReader};
    let w = TestWorld::start("fresh");
    ok(&w.run(&["install", "--yes"]));
    let mut child = std::process::Command::new(BIN)
        .args(["status", "--watch"])
        .env_clear()
        .envs(w.envs())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if line.starts_with("Ingress") && tx.send(line).is_err() {
                return;
            }
        }
    });
    rx.recv_timeout(std::time::Duration::from_secs(20))
        .expect("first screen");
    std::thread::sleep(std::time::Duration::from_millis(300));
    w.sim.clear_requests();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let idle = w.sim.requests().len();
    assert!(idle <= 2, "no busy loop while nothing changes ({idle} requests)");
    w.sim.with_world(|w| {
        w.kube_get_mut("Service", "kasten-io", "gateway").unwrap()["metadata"]["labels"]["touched"] = json!("yes");
        let s = w.kube_get("Service", "kasten-io", "gateway").cloned().unwrap();
        w.kube_put(s);
    });
    let second = rx.recv_timeout(std::time::Duration::from_secs(10));
    let _ = child.kill();
    let _ = child.wait();
    assert!(second.is_ok(), "redrawn after the change");
}

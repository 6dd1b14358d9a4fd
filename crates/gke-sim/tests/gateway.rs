//! Gateway API mode (issue 11), checked with the real `kubectl` and `gcloud`: enabling it, the
//! CRDs, GKE's GatewayClasses, and GKE's Gateway controller for `gke-l7-rilb` (status, Google
//! resources, the data plane, the failure worlds). A part says SKIP only where a client is missing.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use gke_sim::{Sim, SimConfig};
use serde_json::Value;

struct World {
    sim: Sim,
    home: tempfile::TempDir,
}

fn which(bin: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(bin)).find(|p| p.is_file()))
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    assert!(
        !o.status.success(),
        "expected a failure, got: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

impl World {
    /// A world in this scenario, or `None` (after saying SKIP) when a client is not installed.
    fn start(scenario: &str) -> Option<World> {
        if !Self::clients() {
            return None;
        }
        let cfg = SimConfig {
            scenario: scenario.into(),
            lb_delay: Duration::from_millis(300),
            op_delay: Duration::from_millis(50),
            ..SimConfig::default()
        };
        Some(World {
            sim: Sim::spawn(cfg, None).expect("gke-sim starts"),
            home: tempfile::tempdir().unwrap(),
        })
    }

    /// A world in this scenario once its Gateway `k10-ilb` is programmed, with the Gateway.
    fn programmed(scenario: &str) -> Option<(World, Value)> {
        let w = Self::start(scenario)?;
        let g = w.wait_condition("k10-ilb", "Programmed", "True");
        Some((w, g))
    }

    /// Both clients installed? Otherwise say SKIP once.
    fn clients() -> bool {
        let missing: Vec<&str> = ["kubectl", "gcloud"]
            .into_iter()
            .filter(|b| which(b).is_none())
            .collect();
        if !missing.is_empty() {
            eprintln!(
                "SKIP: {} not installed on this machine; this test is skipped",
                missing.join(" and ")
            );
        }
        missing.is_empty()
    }

    fn command(&self, bin: &str, args: &[&str]) -> Command {
        let mut c = Command::new(bin);
        c.env_clear().envs(self.sim.env()).args(args);
        c.env("HOME", self.home.path())
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        c.env("KUBECACHEDIR", self.home.path().join("kcache"));
        c
    }

    fn kubectl(&self, args: &[&str]) -> Output {
        self.command("kubectl", args).output().expect("kubectl runs")
    }

    fn gcloud(&self, args: &[&str]) -> Output {
        self.command("gcloud", args).output().expect("gcloud runs")
    }

    fn apply(&self, yaml: &str) -> Output {
        let mut c = self.command("kubectl", &["apply", "-f", "-"]);
        let mut child = c
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(yaml.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    /// `kubectl patch KIND k10-ilb --type=TYPE -p BODY` in kasten-io.
    fn patch(&self, kind: &str, typ: &str, body: &str) {
        let t = format!("--type={typ}");
        ok(&self.kubectl(&["-n", "kasten-io", "patch", kind, "k10-ilb", &t, "-p", body]));
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["-o", "json"]);
        serde_json::from_str(&ok(&self.kubectl(&a))).unwrap()
    }

    /// Wait until the Gateway's condition has this status; returns the Gateway.
    fn wait_condition(&self, gw: &str, typ: &str, status: &str) -> Value {
        eventually(&format!("{typ} {status}"), || {
            let g = self.json(&["-n", "kasten-io", "get", "gateway", gw]);
            let conds = g["status"]["conditions"].as_array().cloned().unwrap_or_default();
            let hit = conds.iter().any(|c| c["type"] == typ && c["status"] == status);
            when(hit, g)
        })
    }

    fn curl(&self, url: &str) -> String {
        let args = [
            "-n",
            "kasten-io",
            "exec",
            "deployment/catalog-svc",
            "-c",
            "catalog-svc",
            "--",
            "curl",
            "-si",
            url,
        ];
        ok(&self.kubectl(&args))
    }
}

/// `v` when `hit`, else what was seen instead.
fn when<T: std::fmt::Display>(hit: bool, v: T) -> Result<T, String> {
    if hit {
        Ok(v)
    } else {
        Err(v.to_string())
    }
}

/// Poll `f` until it gives `Ok` (20 s at most); the last `Err` says what was seen.
fn eventually<T>(what: &str, mut f: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match f() {
            Ok(v) => return v,
            Err(seen) if Instant::now() >= deadline => panic!("never: {what}; last seen:\n{seen}"),
            Err(_) => std::thread::sleep(Duration::from_millis(150)),
        }
    }
}

fn create_proxy_subnet(w: &World) {
    let args = [
        "compute",
        "networks",
        "subnets",
        "create",
        "proxy-only-subnet",
        "--purpose=REGIONAL_MANAGED_PROXY",
    ];
    let more = [
        "--role=ACTIVE",
        "--region=us-central1",
        "--network=default",
        "--range=10.120.0.0/23",
    ];
    ok(&w.gcloud(&[&args[..], &more[..]].concat()));
}

/// `gcloud container clusters update kasten-demo --gateway-api=VALUE`.
fn set_gateway_api(w: &World, value: &str) {
    let flag = format!("--gateway-api={value}");
    ok(&w.gcloud(&[
        "container",
        "clusters",
        "update",
        "kasten-demo",
        "--zone",
        "us-central1-a",
        &flag,
    ]));
}

/// The cluster's Gateway API channel, as gcloud shows it.
fn channel(w: &World) -> String {
    let format = "--format=value(networkConfig.gatewayApiConfig.channel)";
    ok(&w.gcloud(&[
        "container",
        "clusters",
        "describe",
        "kasten-demo",
        "--zone",
        "us-central1-a",
        format,
    ]))
}

fn condition<'a>(conds: &'a Value, typ: &str) -> &'a Value {
    conds
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == typ))
        .unwrap_or(&Value::Null)
}

#[test]
fn gateway_api_is_off_until_gcloud_enables_it_then_the_crds_and_classes_appear() {
    let Some(w) = World::start("fresh") else { return };
    let e = err(&w.kubectl(&["get", "gateways", "-A"]));
    assert!(
        e.contains("the server doesn't have a resource type \"gateways\""),
        "{e}"
    );
    let e = err(&w.kubectl(&["get", "healthcheckpolicies", "-A"]));
    assert!(e.contains("doesn't have a resource type"), "{e}");
    let d = channel(&w);
    assert_eq!(d.trim(), "", "Gateway API is off in `fresh`");
    w.sim.clear_requests();
    set_gateway_api(&w, "standard");
    let puts: Vec<_> = w.sim.requests().into_iter().filter(|r| r.method == "PUT").collect();
    assert!(
        puts.iter().any(|r| r.path.ends_with("/clusters/kasten-demo")),
        "{puts:?}"
    );
    let d = channel(&w);
    assert_eq!(d.trim(), "CHANNEL_STANDARD");
    let classes = ok(&w.kubectl(&["get", "gatewayclass"]));
    let header = classes.lines().next().unwrap_or_default();
    assert!(
        header.split_whitespace().eq(["NAME", "CONTROLLER", "ACCEPTED", "AGE"]),
        "{classes}"
    );
    for class in [
        "gke-l7-global-external-managed",
        "gke-l7-regional-external-managed",
        "gke-l7-rilb",
        "gke-l7-gxlb",
    ] {
        let line = classes
            .lines()
            .find(|l| l.starts_with(class))
            .unwrap_or_else(|| panic!("{class}: {classes}"));
        assert!(
            line.contains("networking.gke.io/gateway") && line.contains("True"),
            "{line}"
        );
    }
    assert!(
        ok(&w.kubectl(&["get", "gc", "gke-l7-rilb"])).contains("gke-l7-rilb"),
        "short name gc"
    );
}

const MANIFESTS: &str = "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: k10-ilb, namespace: kasten-io}
spec:
  gatewayClassName: gke-l7-rilb
  listeners: [{name: http, protocol: HTTP, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: k10-ilb, namespace: kasten-io}
spec:
  parentRefs: [{name: k10-ilb}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /k10}}]
    backendRefs: [{name: gateway, port: 80}]
---
apiVersion: networking.gke.io/v1
kind: HealthCheckPolicy
metadata: {name: k10-ilb, namespace: kasten-io}
spec:
  default:
    config: {type: HTTP, httpHealthCheck: {port: 8000, requestPath: /healthz}}
  targetRef: {group: \"\", kind: Service, name: gateway}
---
apiVersion: networking.gke.io/v1
kind: GCPGatewayPolicy
metadata: {name: k10-ilb, namespace: kasten-io}
spec:
  default: {allowGlobalAccess: true}
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: k10-ilb}
";

#[test]
fn kubectl_applies_gets_describes_and_deletes_each_kind() {
    let Some(w) = World::start("gateway-fresh") else { return };
    let out = ok(&w.apply(MANIFESTS));
    for created in [
        "gateway.gateway.networking.k8s.io/k10-ilb created",
        "httproute.gateway.networking.k8s.io/k10-ilb created",
        "healthcheckpolicy.networking.gke.io/k10-ilb created",
        "gcpgatewaypolicy.networking.gke.io/k10-ilb created",
    ] {
        assert!(out.contains(created), "{out}");
    }
    let bad = MANIFESTS
        .split("---")
        .next()
        .unwrap()
        .replace("  gatewayClassName: gke-l7-rilb\n", "");
    let e = err(&w.apply(&bad.replace("name: k10-ilb,", "name: bad,")));
    assert!(e.contains("spec.gatewayClassName: Required value"), "{e}");
    let again = ok(&w.apply(MANIFESTS));
    assert!(
        again.matches("unchanged").count() == 4,
        "a second apply changes nothing: {again}"
    );
    let gtw = ok(&w.kubectl(&["-n", "kasten-io", "get", "gtw"]));
    let header = gtw.lines().next().unwrap_or_default();
    assert!(
        header
            .split_whitespace()
            .eq(["NAME", "CLASS", "ADDRESS", "PROGRAMMED", "AGE"]),
        "{gtw}"
    );
    let routes = ok(&w.kubectl(&["-n", "kasten-io", "get", "httproutes"]));
    assert!(
        routes
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .eq(["NAME", "HOSTNAMES", "AGE"]),
        "{routes}"
    );
    for kind in ["gateway", "httproute", "healthcheckpolicy", "gcpgatewaypolicy"] {
        let listed = ok(&w.kubectl(&["-n", "kasten-io", "get", kind]));
        assert!(listed.contains("k10-ilb"), "{kind}: {listed}");
        let d = ok(&w.kubectl(&["-n", "kasten-io", "describe", kind, "k10-ilb"]));
        assert!(
            d.contains("Name:         k10-ilb") && d.contains("Spec:"),
            "{kind}: {d}"
        );
    }
    for kind in ["httproute", "healthcheckpolicy", "gcpgatewaypolicy", "gateway"] {
        let out = ok(&w.kubectl(&["-n", "kasten-io", "delete", kind, "k10-ilb", "--wait=true"]));
        assert!(out.contains("deleted"), "{kind}: {out}");
        let e = err(&w.kubectl(&["-n", "kasten-io", "get", kind, "k10-ilb"]));
        assert!(e.contains("NotFound"), "{kind}: {e}");
    }
}

#[test]
fn a_gateway_applied_with_kubectl_is_programmed_and_serves_k10_through_its_address() {
    let Some(w) = World::start("gateway-fresh") else { return };
    create_proxy_subnet(&w);
    ok(&w.gcloud(&[
        "compute",
        "firewall-rules",
        "create",
        "allow-kasten-gateway-connection",
        "--network=default",
        "--source-ranges=10.120.0.0/23",
        "--allow=tcp:8000",
    ]));
    ok(&w.apply(MANIFESTS));
    let g = w.wait_condition("k10-ilb", "Programmed", "True");
    let ip = g["status"]["addresses"][0]["value"].as_str().unwrap().to_string();
    assert!(
        ip.starts_with("10.128.") && g["status"]["addresses"][0]["type"] == "IPAddress",
        "{g:#}"
    );
    assert_eq!(condition(&g["status"]["conditions"], "Accepted")["reason"], "Accepted");
    assert_eq!(g["metadata"]["finalizers"][0], "gateway.finalizer.networking.gke.io");
    let l = &g["status"]["listeners"][0];
    assert_eq!(l["attachedRoutes"], 1, "{l:#}");
    for typ in ["Accepted", "ResolvedRefs", "Programmed"] {
        assert_eq!(condition(&l["conditions"], typ)["status"], "True", "{typ}: {l:#}");
    }
    let r = w.json(&["-n", "kasten-io", "get", "httproute", "k10-ilb"]);
    let parent = &r["status"]["parents"][0];
    assert_eq!(parent["controllerName"], "networking.gke.io/gateway");
    assert_eq!(condition(&parent["conditions"], "Accepted")["status"], "True", "{r:#}");
    assert_eq!(
        condition(&parent["conditions"], "ResolvedRefs")["status"],
        "True",
        "{r:#}"
    );
    let page = w.curl(&format!("http://{ip}/k10/"));
    assert!(
        page.contains("HTTP/1.1 401") && page.contains("www-authenticate: Basic realm="),
        "{page}"
    );
    let other = w.curl(&format!("http://{ip}/elsewhere"));
    assert!(
        other.contains("HTTP/1.1 404"),
        "unmatched paths go to the 404 backend: {other}"
    );
}

fn route_parent_condition(w: &World, typ: &str) -> Value {
    let r = w.json(&["-n", "kasten-io", "get", "httproute", "k10-ilb"]);
    condition(&r["status"]["parents"][0]["conditions"], typ).clone()
}

fn listener<'a>(g: &'a Value, name: &str) -> &'a Value {
    let ls = g["status"]["listeners"].as_array();
    ls.and_then(|l| l.iter().find(|l| l["name"] == name))
        .unwrap_or(&Value::Null)
}

#[test]
fn without_a_health_check_policy_the_check_probes_root_and_the_gateway_answers_503() {
    let Some((w, g)) = World::programmed("gateway-no-policy") else {
        return;
    };
    let ip = g["status"]["addresses"][0]["value"].as_str().unwrap().to_string();
    let hcs = ok(&w.gcloud(&[
        "compute",
        "health-checks",
        "list",
        "--regions=us-central1",
        "--format=json",
    ]));
    let hcs: Value = serde_json::from_str(&hcs).unwrap();
    let hc = hcs
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"].as_str().unwrap().starts_with("gkegw1-"))
        .unwrap();
    assert_eq!(hc["httpHealthCheck"]["requestPath"], "/", "{hc:#}");
    assert_eq!(hc["httpHealthCheck"]["portSpecification"], "USE_SERVING_PORT", "{hc:#}");
    let bs = hc["name"].as_str().unwrap();
    let health = ok(&w.gcloud(&["compute", "backend-services", "get-health", bs, "--region=us-central1"]));
    assert!(health.contains("UNHEALTHY") && !health.contains(" HEALTHY"), "{health}");
    let page = w.curl(&format!("http://{ip}/k10/"));
    assert!(
        page.contains("HTTP/1.1 503") && page.contains("no healthy upstream"),
        "{page}"
    );
    // Adding the policy re-configures the health check in place (no Gateway change).
    ok(&w.apply(MANIFESTS.split("---").nth(2).unwrap()));
    eventually("the policy takes effect", || {
        let page = w.curl(&format!("http://{ip}/k10/"));
        when(page.contains("HTTP/1.1 401"), page).map(drop)
    });
    let health = ok(&w.gcloud(&["compute", "backend-services", "get-health", bs, "--region=us-central1"]));
    assert!(health.contains("HEALTHY") && !health.contains("UNHEALTHY"), "{health}");
}

#[test]
fn a_route_to_a_port_the_service_does_not_have_is_not_resolved() {
    let Some((w, _)) = World::programmed("gateway-wrong-port") else {
        return;
    };
    let c = route_parent_condition(&w, "ResolvedRefs");
    assert_eq!(c["status"], "False", "{c:#}");
    assert_eq!(c["reason"], "BackendNotFound", "{c:#}");
    assert!(c["message"].as_str().unwrap().contains("has no port 8000"), "{c:#}");
    assert_eq!(route_parent_condition(&w, "Accepted")["status"], "True");
    let d = ok(&w.kubectl(&["-n", "kasten-io", "describe", "gateway", "k10-ilb"]));
    assert!(
        d.contains("Error GWCER104: HTTPRoute \"kasten-io/k10-ilb\" is misconfigured"),
        "{d}"
    );
    // Deleting the Service: BackendNotFound, naming it.
    w.patch(
        "httproute",
        "json",
        r#"[{"op": "replace", "path": "/spec/rules/0/backendRefs/0/name", "value": "nope"}]"#,
    );
    eventually("BackendNotFound names the Service", || {
        let c = route_parent_condition(&w, "ResolvedRefs");
        let hit = c["message"]
            .as_str()
            .unwrap_or_default()
            .contains("\"kasten-io/nope\" not found");
        when(hit, c).map(drop)
    });
}

#[test]
fn an_https_listener_without_its_secret_is_not_resolved() {
    let Some((w, g)) = World::programmed("gateway-missing-tls") else {
        return;
    };
    let https = listener(&g, "https");
    let c = condition(&https["conditions"], "ResolvedRefs");
    assert_eq!(
        (c["status"].as_str(), c["reason"].as_str()),
        (Some("False"), Some("InvalidCertificateRef")),
        "{g:#}"
    );
    assert!(
        c["message"].as_str().unwrap().contains("kasten-io/k10-ilb-tls"),
        "{c:#}"
    );
    assert_eq!(condition(&https["conditions"], "Programmed")["status"], "False");
    assert_eq!(
        condition(&listener(&g, "http")["conditions"], "Programmed")["status"],
        "True"
    );
    assert_eq!(
        condition(&g["status"]["conditions"], "Accepted")["reason"],
        "ListenersNotValid"
    );
    // The Secret appears: the listener resolves and gets its own forwarding rule on 443.
    let secret =
        "apiVersion: v1\nkind: Secret\nmetadata: {name: k10-ilb-tls, namespace: kasten-io}\ntype: kubernetes.io/tls\n\
                  stringData: {tls.crt: x, tls.key: y}\n";
    ok(&w.apply(secret));
    eventually("the https listener resolves", || {
        let g = w.json(&["-n", "kasten-io", "get", "gateway", "k10-ilb"]);
        let hit = condition(&listener(&g, "https")["conditions"], "ResolvedRefs")["status"] == "True";
        when(hit, g).map(drop)
    });
    let frs = ok(&w.gcloud(&[
        "compute",
        "forwarding-rules",
        "list",
        "--regions=us-central1",
        "--format=value(name,portRange)",
    ]));
    assert!(
        frs.lines().any(|l| l.starts_with("gkegw1-") && l.ends_with("443-443")),
        "{frs}"
    );
}

#[test]
fn without_a_proxy_only_subnet_the_gateway_is_not_programmed_until_one_exists() {
    let Some(w) = World::start("gateway-no-proxy-subnet") else {
        return;
    };
    let g = w.wait_condition("k10-ilb", "Programmed", "False");
    let c = condition(&g["status"]["conditions"], "Programmed");
    assert_eq!(c["reason"], "NoResources", "{g:#}");
    let msg = c["message"].as_str().unwrap();
    assert!(
        msg.contains("A reserved and active subnetwork is required in the same region and VPC as the forwarding rule."),
        "{msg}"
    );
    assert!(g["status"]["addresses"].is_null(), "{g:#}");
    let evs = ok(&w.kubectl(&[
        "-n",
        "kasten-io",
        "get",
        "events",
        "--field-selector",
        "involvedObject.kind=Gateway",
    ]));
    assert!(
        evs.contains("Warning") && evs.contains("SYNC") && evs.contains("reserved and active subnetwork"),
        "{evs}"
    );
    create_proxy_subnet(&w);
    w.wait_condition("k10-ilb", "Programmed", "True");
}

#[test]
fn deleting_the_gateway_deletes_its_google_resources() {
    let Some((w, g)) = World::programmed("gateway-healthy") else {
        return;
    };
    let list = |coll: &str| {
        let global = ["firewall-rules", "network-endpoint-groups"].contains(&coll);
        let scope = if global {
            "--format=value(name)"
        } else {
            "--regions=us-central1"
        };
        ok(&w.gcloud(&["compute", coll, "list", scope, "--format=value(name)"]))
    };
    for coll in ["forwarding-rules", "backend-services", "firewall-rules"] {
        assert!(list(coll).contains("gkegw1-"), "{coll}: {}", list(coll));
    }
    assert!(list("network-endpoint-groups").contains("k8s1-"), "the Gateway's NEGs");
    let ann = &g["metadata"]["annotations"]["networking.gke.io/forwarding-rules"];
    assert!(
        ann.as_str().is_some_and(|a| a.contains("/forwardingRules/gkegw1-")),
        "{g:#}"
    );
    ok(&w.kubectl(&["-n", "kasten-io", "delete", "gateway", "k10-ilb", "--wait=true"]));
    for coll in [
        "forwarding-rules",
        "target-http-proxies",
        "url-maps",
        "backend-services",
        "health-checks",
        "firewall-rules",
    ] {
        assert!(!list(coll).contains("gkegw1-"), "{coll}: {}", list(coll));
    }
    assert!(
        !list("network-endpoint-groups").contains("k8s1-"),
        "{}",
        list("network-endpoint-groups")
    );
    let svc = w.json(&["-n", "kasten-io", "get", "service", "gateway"]);
    assert!(
        svc["metadata"]["annotations"]["cloud.google.com/neg-status"].is_null(),
        "{svc:#}"
    );
}

#[test]
fn gcp_gateway_policy_allow_global_access_reaches_the_forwarding_rule() {
    let Some((w, _)) = World::programmed("gateway-healthy") else {
        return;
    };
    let ga = || {
        ok(&w.gcloud(&[
            "compute",
            "forwarding-rules",
            "list",
            "--regions=us-central1",
            "--format=value(name,allowGlobalAccess)",
        ]))
    };
    assert!(
        ga().lines().any(|l| l.starts_with("gkegw1-") && !l.contains("True")),
        "{}",
        ga()
    );
    ok(&w.apply(MANIFESTS.split("---").nth(3).unwrap()));
    eventually("allowGlobalAccess on the forwarding rule", || {
        let out = ga();
        let hit = out.lines().any(|l| l.starts_with("gkegw1-") && l.ends_with("True"));
        when(hit, out).map(drop)
    });
    let p = w.json(&["-n", "kasten-io", "get", "gcpgatewaypolicy", "k10-ilb"]);
    assert_eq!(
        condition(&p["status"]["conditions"], "Attached")["status"],
        "True",
        "{p:#}"
    );
    let h = w.json(&["-n", "kasten-io", "get", "healthcheckpolicy", "k10-ilb-health"]);
    assert_eq!(
        condition(&h["status"]["conditions"], "Attached")["reason"],
        "Attached",
        "{h:#}"
    );
}

#[test]
fn disabling_gateway_api_hides_the_crds_again() {
    let Some(w) = World::start("gateway-fresh") else { return };
    assert_eq!(channel(&w).trim(), "CHANNEL_STANDARD");
    assert!(ok(&w.kubectl(&["get", "gatewayclasses"])).contains("gke-l7-rilb"));
    set_gateway_api(&w, "disabled");
    assert_eq!(channel(&w).trim(), "CHANNEL_DISABLED");
    // kubectl's discovery cache still names the kind, so the list itself is not found.
    let e = err(&w.kubectl(&["get", "gatewayclasses"]));
    assert!(e.contains("the server could not find the requested resource"), "{e}");
    let fresh = w.home.path().join("fresh-cache");
    let e = err(&w.kubectl(&["get", "gatewayclasses", "--cache-dir", fresh.to_str().unwrap()]));
    assert!(e.contains("doesn't have a resource type \"gatewayclasses\""), "{e}");
}

#[test]
fn kubectl_wait_sees_the_gateway_become_programmed() {
    let Some(w) = World::start("gateway-fresh") else { return };
    create_proxy_subnet(&w);
    ok(&w.apply(MANIFESTS));
    let out = ok(&w.kubectl(&[
        "-n",
        "kasten-io",
        "wait",
        "--for=condition=Programmed",
        "gateway/k10-ilb",
        "--timeout=30s",
    ]));
    assert!(out.contains("condition met"), "{out}");
    let d = ok(&w.kubectl(&["-n", "kasten-io", "describe", "gateway", "k10-ilb"]));
    assert!(
        d.contains("SYNC on kasten-io/k10-ilb was a success"),
        "the event shows in describe: {d}"
    );
}

#[test]
fn a_named_address_gives_the_gateway_its_static_ip_and_an_unknown_one_is_not_usable() {
    let Some((w, _)) = World::programmed("gateway-healthy") else {
        return;
    };
    let patch = r#"{"spec": {"addresses": [{"type": "NamedAddress", "value": "k10-ilb-ip"}]}}"#;
    w.patch("gateway", "merge", patch);
    let g = w.wait_condition("k10-ilb", "Programmed", "False");
    assert_eq!(
        condition(&g["status"]["conditions"], "Programmed")["reason"],
        "AddressNotUsable",
        "{g:#}"
    );
    ok(&w.gcloud(&[
        "compute",
        "addresses",
        "create",
        "k10-ilb-ip",
        "--region=us-central1",
        "--subnet=default",
        "--addresses=10.128.0.50",
    ]));
    let g = w.wait_condition("k10-ilb", "Programmed", "True");
    assert_eq!(g["status"]["addresses"][0]["value"], "10.128.0.50", "{g:#}");
    let frs = ok(&w.gcloud(&[
        "compute",
        "forwarding-rules",
        "list",
        "--regions=us-central1",
        "--format=value(name,IPAddress)",
    ]));
    assert!(
        frs.lines()
            .any(|l| l.starts_with("gkegw1-") && l.ends_with("10.128.0.50")),
        "{frs}"
    );
}

#[test]
fn a_route_gateway_listeners_do_not_accept_says_why() {
    let Some((w, _)) = World::programmed("gateway-healthy") else {
        return;
    };
    let patch = r#"[{"op": "add", "path": "/spec/parentRefs/0/sectionName", "value": "https"}]"#;
    w.patch("httproute", "json", patch);
    eventually("NoMatchingParent", || {
        let c = route_parent_condition(&w, "Accepted");
        when(c["reason"] == "NoMatchingParent" && c["status"] == "False", c).map(drop)
    });
    let g = w.json(&["-n", "kasten-io", "get", "gateway", "k10-ilb"]);
    assert_eq!(listener(&g, "http")["attachedRoutes"], 0, "{g:#}");
    let bss = ok(&w.gcloud(&[
        "compute",
        "backend-services",
        "list",
        "--regions=us-central1",
        "--format=value(name)",
    ]));
    assert!(
        !bss.contains("gkegw1-"),
        "a backend service no route uses any more goes: {bss}"
    );
    // A route in another namespace, while the listener allows only its own.
    let other = MANIFESTS
        .split("---")
        .nth(1)
        .unwrap()
        .replace("namespace: kasten-io}", "namespace: default}");
    let other = other.replace(
        "parentRefs: [{name: k10-ilb}]",
        "parentRefs: [{name: k10-ilb, namespace: kasten-io}]",
    );
    ok(&w.apply(&other));
    eventually("NotAllowedByListeners", || {
        let r = w.json(&["-n", "default", "get", "httproute", "k10-ilb"]);
        let c = condition(&r["status"]["parents"][0]["conditions"], "Accepted").clone();
        when(c["reason"] == "NotAllowedByListeners", r).map(drop)
    });
}

#[test]
fn new_pods_behind_the_gateway_carry_the_neg_readiness_gate_which_opens_once_healthy() {
    let Some((w, _)) = World::programmed("gateway-healthy") else {
        return;
    };
    ok(&w.kubectl(&[
        "-n",
        "kasten-io",
        "delete",
        "pod",
        "-l",
        "service=gateway",
        "--wait=false",
    ]));
    let pod = eventually("a new gateway pod, gated and Ready", || {
        let pods = w.json(&["-n", "kasten-io", "get", "pods", "-l", "service=gateway"]);
        let p = pods["items"]
            .as_array()
            .and_then(|i| i.first())
            .cloned()
            .unwrap_or_default();
        let gated = p["spec"]["readinessGates"][0]["conditionType"] == "cloud.google.com/load-balancer-neg-ready";
        let gate = condition(&p["status"]["conditions"], "cloud.google.com/load-balancer-neg-ready");
        when(gated && gate["status"] == "True", pods).map(|_| p)
    });
    let gate = condition(&pod["status"]["conditions"], "cloud.google.com/load-balancer-neg-ready");
    assert_eq!(gate["reason"], "LoadBalancerNegReady", "{pod:#}");
    assert!(
        gate["message"]
            .as_str()
            .unwrap()
            .contains("attached to BackendService \"gkegw1-"),
        "{gate:#}"
    );
}

#[test]
fn a_programmed_gateway_world_is_idle() {
    // No test client needed: the controller must not keep rewriting what it wrote.
    let cfg = SimConfig {
        scenario: "gateway-wrong-port".into(),
        lb_delay: Duration::from_millis(200),
        ..SimConfig::default()
    };
    let sim = Sim::spawn(cfg, None).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let before = sim.world().controller_passes;
    let rv = sim.world().resource_version;
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(
        sim.world().controller_passes,
        before,
        "no pass without a write or a due timer"
    );
    assert_eq!(sim.world().resource_version, rv, "no write either");
    let w = sim.world();
    let gw = w.kube_get("Gateway", "kasten-io", "k10-ilb").unwrap();
    let warned = w.kube_in_ns("Event", "kasten-io").into_iter().filter(|e| {
        e["involvedObject"]["uid"] == gw["metadata"]["uid"] && e["message"].as_str().unwrap().contains("GWCER104")
    });
    assert_eq!(
        warned.map(|e| e["count"].as_i64().unwrap()).collect::<Vec<_>>(),
        [1],
        "one translation warning"
    );
}

#[test]
fn an_ingress_and_a_gateway_share_the_negs_and_each_keeps_serving_when_the_other_goes() {
    let Some(w) = World::start("healthy") else { return };
    set_gateway_api(&w, "standard");
    ok(&w.apply(MANIFESTS));
    let g = w.wait_condition("k10-ilb", "Programmed", "True");
    let gw_ip = g["status"]["addresses"][0]["value"].as_str().unwrap().to_string();
    let ing = w.json(&["-n", "kasten-io", "get", "ingress", "k10-ingress"]);
    let ing_ip = ing["status"]["loadBalancer"]["ingress"][0]["ip"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(gw_ip, ing_ip);
    for ip in [&gw_ip, &ing_ip] {
        let page = w.curl(&format!("http://{ip}/k10/"));
        assert!(page.contains("HTTP/1.1 401"), "{ip}: {page}");
    }
    // The gateway's NEGs (the Ingress's default backend has its own, which go with the Ingress).
    let negs = || {
        ok(&w.gcloud(&[
            "compute",
            "network-endpoint-groups",
            "list",
            "--filter=name~-kasten-io-gateway-",
            "--format=value(name,id)",
        ]))
    };
    let before = negs();
    assert!(before.contains("k8s1-3f9c1a27-kasten-io-gateway-80-"), "{before}");
    // The Gateway goes: the Ingress keeps its NEGs and serves.
    ok(&w.kubectl(&["-n", "kasten-io", "delete", "gateway", "k10-ilb", "--wait=true"]));
    assert_eq!(
        negs(),
        before,
        "the Gateway's garbage collection leaves the NEGs the Ingress uses"
    );
    let page = w.curl(&format!("http://{ing_ip}/k10/"));
    assert!(page.contains("HTTP/1.1 401"), "the Ingress still serves: {page}");
    // The Gateway again, then the Ingress goes.
    ok(&w.apply(MANIFESTS));
    let g = w.wait_condition("k10-ilb", "Programmed", "True");
    let gw_ip = g["status"]["addresses"][0]["value"].as_str().unwrap().to_string();
    ok(&w.kubectl(&["-n", "kasten-io", "delete", "ingress", "k10-ingress", "--wait=true"]));
    assert_eq!(
        negs(),
        before,
        "the Ingress's garbage collection leaves the NEGs the Gateway uses"
    );
    let page = w.curl(&format!("http://{gw_ip}/k10/"));
    assert!(page.contains("HTTP/1.1 401"), "the Gateway still serves: {page}");
    let svc = w.json(&["-n", "kasten-io", "get", "service", "gateway"]);
    assert!(
        svc["metadata"]["annotations"]["cloud.google.com/neg-status"].is_string(),
        "{svc:#}"
    );
}

#[test]
fn without_the_proxy_range_rule_backends_stay_healthy_but_requests_through_the_gateway_fail() {
    let Some((w, g)) = World::programmed("gateway-healthy") else {
        return;
    };
    let ip = g["status"]["addresses"][0]["value"].as_str().unwrap().to_string();
    assert!(w.curl(&format!("http://{ip}/k10/")).contains("HTTP/1.1 401"));
    ok(&w.gcloud(&[
        "compute",
        "firewall-rules",
        "delete",
        "allow-kasten-gateway-connection",
        "--quiet",
    ]));
    let page = w.curl(&format!("http://{ip}/k10/"));
    assert!(
        page.contains("HTTP/1.1 503") && page.contains("upstream connect error"),
        "{page}"
    );
    let bs = g["metadata"]["annotations"]["networking.gke.io/backend-services"]
        .as_str()
        .unwrap();
    let bs = bs.rsplit('/').next().unwrap();
    let health = ok(&w.gcloud(&["compute", "backend-services", "get-health", bs, "--region=us-central1"]));
    assert!(health.contains("HEALTHY") && !health.contains("UNHEALTHY"), "{health}");
}

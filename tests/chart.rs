//! The real K10 charts (issue 15), with the real kubectl and gcloud where they are installed:
//! a release not named `k10`, the HTTPS gateway, and what K10 answers without credentials.

mod common;

use common::*;
use serde_json::Value;

fn doctor(w: &TestWorld) -> (i32, Value) {
    doctor_report(w, &[])
}

fn check<'a>(v: &'a Value, id: &str) -> &'a Value {
    check_of(v, id)
}

/// The security checks (issue 16) judge posture, not the chain: HTTP with basic or token auth is a
/// WARN there, and with no certificate there is none to check.
const POSTURE: [&str; 2] = ["https", "certificate"];

fn assert_all_pass(w: &TestWorld) -> Value {
    let (code, v) = doctor(w);
    let not_pass: Vec<&Value> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["result"] != "PASS" && !POSTURE.iter().any(|id| c["id"] == *id))
        .collect();
    assert!(
        not_pass.is_empty(),
        "{}",
        serde_json::to_string_pretty(&not_pass).unwrap()
    );
    assert_eq!(code, 0);
    v
}

/// The load balancer's address for an Ingress, as the sim has it.
fn ingress_ip(w: &TestWorld, name: &str) -> String {
    let i = w
        .sim
        .world()
        .kube_get("Ingress", "kasten-io", name)
        .cloned()
        .expect("the Ingress");
    i["status"]["loadBalancer"]["ingress"][0]["ip"]
        .as_str()
        .expect("an address")
        .to_string()
}

/// curl from the catalog pod, through the real kubectl when it is installed, else the sim's exec.
fn curl_in_cluster(w: &TestWorld, url: &str) -> String {
    let args = ["curl", "-sS", "-i", url];
    let mut kargs = vec![
        "-n",
        "kasten-io",
        "exec",
        "deploy/catalog-svc",
        "-c",
        "catalog-svc",
        "--",
    ];
    kargs.extend_from_slice(&args);
    match w.kubectl(&kargs) {
        Some(o) => format!("{}{}", stdout(&o), stderr(&o)),
        None => {
            let a: Vec<String> = args[1..].iter().map(|s| s.to_string()).collect();
            let r = gke_sim::exec::curl(&w.sim.world(), "kasten-io", &a);
            format!("{}{}", r.stdout, r.stderr)
        }
    }
}

#[test]
fn a_release_named_backup_works_end_to_end() {
    let w = TestWorld::start("backup-release");
    if let Some(o) = w.kubectl(&[
        "-n",
        "kasten-io",
        "get",
        "configmap",
        "k10-gateway",
        "-o",
        "jsonpath={.data.PREFIX_PATH}",
    ]) {
        assert_eq!(ok(&o), "/backup", "the chart's PREFIX_PATH for release backup");
    }
    let wrong = w.run(&["install", "--yes", "--path", "/k10/"]);
    assert_eq!(wrong.status.code(), Some(64), "{}", both(&wrong));
    let err = stderr(&wrong);
    assert!(
        err.contains("its PREFIX_PATH is `/backup` (ConfigMap k10-gateway)") && err.contains("use --path /backup/"),
        "{err}"
    );
    let o = w.run(&["install", "--yes"]);
    let err = ok(&o) + &stderr(&o);
    assert!(err.contains("HTTP 200 with <title>Veeam Kasten</title>"), "{err}");
    if let Some(o) = w.kubectl(&[
        "-n",
        "kasten-io",
        "get",
        "ingress",
        "backup-ilb",
        "-o",
        "jsonpath={.spec.rules[0].http.paths[0].path}",
    ]) {
        assert_eq!(ok(&o), "/backup/");
    }
    let v = assert_all_pass(&w);
    let k10 = check(&v, "k10")["finding"].as_str().unwrap().to_string();
    assert!(k10.contains("release `backup`") && k10.contains("auth: token"), "{k10}");
    let ip = ingress_ip(&w, "backup-ilb");
    let page = curl_in_cluster(&w, &format!("http://{ip}/backup/"));
    assert!(page.contains("<title>Veeam Kasten</title>"), "{page}");
    let other = curl_in_cluster(&w, &format!("http://{ip}/k10/"));
    assert!(
        other.contains("HTTP/1.1 404"),
        "only the release's prefix is routed and served: {other}"
    );
}

#[test]
fn https_gateway_is_unhealthy_over_http_and_install_makes_the_lb_speak_https() {
    let w = TestWorld::start("https-gateway");
    let o = w.run(&["install", "--yes"]);
    let err = ok(&o) + &stderr(&o);
    assert!(
        err.contains("cloud.google.com/app-protocols"),
        "the plan shows the step: {err}"
    );
    assert_all_pass(&w);
    let svc = w
        .sim
        .world()
        .kube_get("Service", "kasten-io", "gateway")
        .cloned()
        .unwrap();
    assert_eq!(
        svc["metadata"]["annotations"]["kasten-ilb.kasten.io/added-annotations"]
            .as_str()
            .unwrap()
            .split(',')
            .filter(|k| *k == "cloud.google.com/app-protocols")
            .count(),
        1,
        "recorded for uninstall: {svc}"
    );
    let neg = {
        let raw = svc["metadata"]["annotations"]["cloud.google.com/neg-status"]
            .as_str()
            .unwrap();
        let v: Value = serde_json::from_str(raw).unwrap();
        v["network_endpoint_groups"]["80"].as_str().unwrap().to_string()
    };
    if let Some(o) = w.gcloud(&[
        "compute",
        "health-checks",
        "describe",
        &neg,
        "--region",
        "us-central1",
        "--format",
        "value(type,httpsHealthCheck.requestPath)",
    ]) {
        assert_eq!(ok(&o).trim(), "HTTPS\t/healthz", "GKE copied the HTTPS probe");
    }
    // Without the annotation the load balancer speaks HTTP to a TLS port.
    let cmd = [
        "-n",
        "kasten-io",
        "annotate",
        "service",
        "gateway",
        "cloud.google.com/app-protocols-",
    ];
    match w.kubectl(&cmd) {
        Some(o) => drop(ok(&o)),
        None => w.sim.with_world(|w| {
            let s = w.kube_get_mut("Service", "kasten-io", "gateway").unwrap();
            s["metadata"]["annotations"]
                .as_object_mut()
                .unwrap()
                .remove("cloud.google.com/app-protocols");
        }),
    }
    let ip = ingress_ip(&w, "k10-ilb");
    let page = curl_in_cluster(&w, &format!("http://{ip}/k10/"));
    assert!(
        page.contains("HTTP/1.1 502") || page.contains("HTTP/1.1 503"),
        "no healthy backend over HTTP: {page}"
    );
    let (code, v) = doctor(&w);
    assert_eq!(code, 1);
    let service = check(&v, "service");
    assert_eq!(service["result"], "FAIL", "{service}");
    let hint = service["hint"].as_str().unwrap();
    let want = concat!(
        "kubectl -n kasten-io annotate service gateway ",
        r#"cloud.google.com/app-protocols='{"http":"HTTPS"}' --overwrite"#
    );
    assert!(hint.contains(want), "{hint}");
    assert!(
        check(&v, "backends")["finding"]
            .as_str()
            .unwrap_or_default()
            .contains("0/1 HEALTHY")
            || check(&v, "backends")["result"] != "PASS",
        "{v}"
    );
    // The repair, as doctor prints it, through the real kubectl.
    let repair = [
        "-n",
        "kasten-io",
        "annotate",
        "service",
        "gateway",
        r#"cloud.google.com/app-protocols={"http":"HTTPS"}"#,
        "--overwrite",
    ];
    match w.kubectl(&repair) {
        Some(o) => drop(ok(&o)),
        None => return,
    }
    assert_all_pass(&w);
    // install recorded the annotation it added (before the repair): uninstall takes it back.
    ok(&w.run(&["uninstall", "--yes"]));
    let svc = w
        .sim
        .world()
        .kube_get("Service", "kasten-io", "gateway")
        .cloned()
        .unwrap();
    assert!(
        svc["metadata"]["annotations"]
            .get("cloud.google.com/app-protocols")
            .is_none(),
        "{svc}"
    );
}

#[test]
fn basic_auth_answers_401_with_k10s_challenge_and_install_counts_it() {
    let w = TestWorld::start("fresh");
    let o = w.run(&["install", "--yes"]);
    let err = ok(&o) + &stderr(&o);
    assert!(
        err.contains("HTTP 401 with K10's Basic challenge: the request reached K10's gateway"),
        "{err}"
    );
    let v = assert_all_pass(&w);
    let e2e = check(&v, "e2e");
    assert!(
        e2e["finding"]
            .as_str()
            .unwrap()
            .contains("the request reached K10's gateway"),
        "{e2e}"
    );
    assert_eq!(e2e["evidence"]["challenge"], r#"Basic realm="Kasten K10 gateway""#);
    let ip = ingress_ip(&w, "k10-ilb");
    let page = curl_in_cluster(&w, &format!("http://{ip}/k10/"));
    assert!(page.contains("HTTP/1.1 401"), "{page}");
    assert!(
        page.contains(r#"www-authenticate: Basic realm="Kasten K10 gateway""#),
        "{page}"
    );
    // GKE's default backend answers other paths: its 404 is not K10's.
    let other = curl_in_cluster(&w, &format!("http://{ip}/elsewhere/"));
    assert!(
        other.contains("HTTP/1.1 404") && !other.contains("www-authenticate"),
        "{other}"
    );
}

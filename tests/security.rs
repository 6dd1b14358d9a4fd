//! Issue 16, security posture: install's TLS choices (flags, and on a real terminal), and doctor's
//! security checks, one gke-sim world per finding, checked with the real kubectl and gcloud.

mod common;

use common::*;
use serde_json::Value;

const HOST: &str = "k10.corp.internal";

/// The SHA-256 fingerprint (`AB:CD:...`) of the first PEM certificate in `pem`.
fn pem_fingerprint(pem: &str) -> String {
    use sha2::Digest;
    let b64: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    let der = base64_decode(&b64);
    sha2::Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn base64_decode(s: &str) -> Vec<u8> {
    gke_sim::certs::base64_decode(s)
}

/// The fingerprint the summary printed.
fn printed_fingerprint(out: &str) -> String {
    out.lines()
        .find_map(|l| l.trim().strip_prefix("SHA-256 fingerprint: "))
        .unwrap_or_else(|| panic!("no fingerprint in:\n{out}"))
        .to_string()
}

fn ingress(w: &TestWorld) -> Value {
    w.sim
        .world()
        .kube_get("Ingress", "kasten-io", "k10-ilb")
        .cloned()
        .expect("the Ingress")
}

fn secret_of(w: &TestWorld, name: &str) -> Option<Value> {
    w.sim.world().kube_get("Secret", "kasten-io", name).cloned()
}

#[test]
fn install_self_signed_makes_an_owned_tls_secret_prints_its_fingerprint_and_uninstall_removes_it() {
    let w = TestWorld::start("fresh");
    let o = w.run(&["install", "--yes", "--self-signed", "--host", HOST, "-vvv"]);
    let out = ok(&o);
    let all = both(&o);
    assert!(!all.contains("PRIVATE KEY"), "the key was printed:\n{all}");
    let s = secret_of(&w, "k10-ilb-tls").expect("the Secret exists");
    assert_eq!(s["type"], "kubernetes.io/tls");
    assert_eq!(
        s["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "kubectl-kasten-ilb"
    );
    let key_b64 = s["data"]["tls.key"].as_str().unwrap();
    assert!(!all.contains(key_b64), "the key's base64 was printed");
    let printed = printed_fingerprint(&out);
    if let Some(k) = w.kubectl(&[
        "-n",
        "kasten-io",
        "get",
        "secret",
        "k10-ilb-tls",
        "-o",
        "jsonpath={.data.tls\\.crt}",
    ]) {
        let pem = String::from_utf8(base64_decode(&stdout(&k))).unwrap();
        assert_eq!(
            pem_fingerprint(&pem),
            printed,
            "kubectl's tls.crt has the printed fingerprint"
        );
    }
    assert!(out.contains(&format!("https://{HOST}/k10/")), "{out}");
    assert!(!out.contains("clear text"), "{out}");
    let ing = ingress(&w);
    assert_eq!(ing["spec"]["tls"][0]["secretName"], "k10-ilb-tls");
    assert_eq!(
        ing["metadata"]["annotations"]["kubernetes.io/ingress.allow-http"],
        "false"
    );
    // A second run changes nothing (the Secret is install's, for this host).
    let again = ok(&w.run(&["install", "--yes", "--self-signed", "--host", HOST]));
    assert!(again.contains("Unchanged") || !again.contains("Create "), "{again}");
    assert_eq!(printed_fingerprint(&again), printed);
    let u = ok(&w.run(&["uninstall", "--yes"]));
    assert!(u.contains("secret/k10-ilb-tls"), "{u}");
    assert!(secret_of(&w, "k10-ilb-tls").is_none(), "uninstall removed the Secret");
}

#[test]
fn uninstall_removes_only_install_s_secret() {
    let w = TestWorld::start("fresh");
    ok(&w.run(&["install", "--yes", "--self-signed", "--host", HOST]));
    w.sim.with_world(|w| {
        let mut other = w.kube_get("Secret", "kasten-io", "k10-ilb-tls").cloned().unwrap();
        other["metadata"]["name"] = "someone-elses".into();
        other["metadata"]["labels"] = serde_json::json!({});
        w.kube_put(other);
    });
    ok(&w.run(&["uninstall", "--yes"]));
    assert!(secret_of(&w, "k10-ilb-tls").is_none());
    assert!(
        secret_of(&w, "someone-elses").is_some(),
        "a Secret install did not make is kept"
    );
}

#[test]
fn http_only_install_says_credentials_cross_the_vpc_in_clear_text_and_how_to_add_tls() {
    let w = TestWorld::start("fresh");
    let out = ok(&w.run(&["install", "--yes"]));
    assert!(out.contains("credentials cross the VPC"), "{out}");
    assert!(out.contains("--self-signed") && out.contains("--tls-secret"), "{out}");
}

#[test]
fn https_only_with_a_static_ip_turns_http_off() {
    let w = TestWorld::start("fresh");
    w.sim.with_world(|w| {
        let ip = w.alloc_internal_ip();
        let address = serde_json::json!({"name": "k10-ip", "address": ip, "addressType": "INTERNAL",
            "purpose": "SHARED_LOADBALANCER_VIP"});
        w.compute.addresses.insert("us-central1/k10-ip".into(), address);
    });
    let mut args = vec![
        "install",
        "--yes",
        "--self-signed",
        "--host",
        HOST,
        "--static-ip",
        "k10-ip",
    ];
    let both_ways = ok(&w.run(&args));
    assert!(both_ways.contains("serves HTTP as well as HTTPS"), "{both_ways}");
    let ann = |w: &TestWorld| ingress(w)["metadata"]["annotations"]["kubernetes.io/ingress.allow-http"].clone();
    assert_eq!(ann(&w), Value::Null);
    args.push("--https-only");
    let off = ok(&w.run(&args));
    assert_eq!(ann(&w), "false");
    assert!(!off.contains("clear text"), "{off}");
}

#[test]
fn https_only_without_a_certificate_is_a_usage_error_that_changes_nothing() {
    let w = TestWorld::start("fresh");
    let before = w.fingerprint();
    let o = w.run(&["install", "--yes", "--https-only"]);
    assert_eq!(o.status.code(), Some(64), "{}", both(&o));
    assert!(stderr(&o).contains("--self-signed"), "{}", stderr(&o));
    assert_eq!(w.fingerprint(), before);
}

#[test]
fn self_signed_refuses_a_secret_install_did_not_make() {
    let w = TestWorld::start("fresh");
    w.sim.with_world(|w| {
        w.kube_put(
            serde_json::json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                "metadata": {"name": "k10-ilb-tls", "namespace": "kasten-io"},
                "data": {"tls.crt": "", "tls.key": ""}}),
        )
    });
    let before = w.fingerprint();
    let o = w.run(&["install", "--yes", "--self-signed", "--host", HOST]);
    assert_eq!(o.status.code(), Some(64), "{}", both(&o));
    assert!(stderr(&o).contains("--tls-secret k10-ilb-tls"), "{}", stderr(&o));
    assert_eq!(w.fingerprint(), before);
}

/// doctor in `scenario`: the check `id`, with the whole report on failure.
fn doctor_check(scenario: &str, id: &str) -> (TestWorld, Value) {
    let w = TestWorld::start(scenario);
    let (_, v) = doctor_report(&w, &[]);
    let c = check_of(&v, id).clone();
    (w, c)
}

#[test]
fn an_expired_certificate_fails_and_kubectl_shows_the_same_certificate() {
    let (w, c) = doctor_check("tls-expired", "certificate");
    assert_eq!(c["result"], "FAIL", "{c}");
    assert!(c["finding"].as_str().unwrap().contains("EXPIRED 3 day(s) ago"), "{c}");
    assert!(c["hint"].as_str().unwrap().contains("create secret tls k10-tls"), "{c}");
    let fp = c["evidence"][0]["sha256"].as_str().unwrap().to_string();
    if let Some(k) = w.kubectl(&[
        "-n",
        "kasten-io",
        "get",
        "secret",
        "k10-tls",
        "-o",
        "jsonpath={.data.tls\\.crt}",
    ]) {
        let pem = String::from_utf8(base64_decode(&stdout(&k))).unwrap();
        assert_eq!(pem_fingerprint(&pem), fp, "doctor read the certificate kubectl shows");
    }
    // Served HTTPS only: no HTTP warning.
    let (_, v) = doctor_report(&w, &[]);
    assert_eq!(check_of(&v, "https")["result"], "PASS", "{v}");
}

#[test]
fn an_expiring_certificate_and_one_for_another_name_warn() {
    let (_, c) = doctor_check("tls-expiring", "certificate");
    assert_eq!(c["result"], "WARN", "{c}");
    assert!(c["finding"].as_str().unwrap().contains("expires in"), "{c}");
    let (_, c) = doctor_check("tls-wrong-name", "certificate");
    assert_eq!(c["result"], "WARN", "{c}");
    let f = c["finding"].as_str().unwrap();
    assert!(
        f.contains("other.corp.internal") && f.contains("not for the Ingress's host k10.corp.internal"),
        "{c}"
    );
    let (_, c) = doctor_check("tls-good", "certificate");
    assert_eq!(c["result"], "PASS", "{c}");
}

#[test]
fn a_rule_opening_8000_to_the_internet_is_named_and_gcloud_sees_it() {
    let (w, c) = doctor_check("open-firewall", "open-firewall");
    assert_eq!(c["result"], "WARN", "{c}");
    assert!(
        c["finding"]
            .as_str()
            .unwrap()
            .contains("`allow-dashboard-anywhere` (0.0.0.0/0)"),
        "{c}"
    );
    if let Some(o) = w.gcloud(&[
        "compute",
        "firewall-rules",
        "describe",
        "allow-dashboard-anywhere",
        "--format=json",
    ]) {
        let r: Value = serde_json::from_slice(&ok_bytes(&o)).unwrap();
        assert_eq!(r["sourceRanges"], serde_json::json!(["0.0.0.0/0"]));
    }
    let (_, c) = doctor_check("healthy", "open-firewall");
    assert_eq!(c["result"], "PASS", "{c}");
}

#[test]
fn reach_names_the_peered_network_and_every_region_with_global_access() {
    let (w, c) = doctor_check("peered-vpc", "reach");
    assert_eq!(c["result"], "PASS", "{c}");
    assert!(
        c["finding"]
            .as_str()
            .unwrap()
            .contains("through peering also shared (peering `to-shared-services`)"),
        "{c}"
    );
    if let Some(o) = w.gcloud(&[
        "compute",
        "networks",
        "peerings",
        "list",
        "--network=default",
        "--format=json",
    ]) {
        assert!(stdout(&o).contains("to-shared-services"), "{}", both(&o));
    }
    let (w, c) = doctor_check("global-access", "reach");
    assert_eq!(c["result"], "WARN", "{c}");
    let f = c["finding"].as_str().unwrap();
    assert!(
        f.contains("has global access") && f.contains("europe-west1") && f.contains("us-east1"),
        "{c}"
    );
    assert!(c["hint"].as_str().unwrap().contains("--no-allow-global-access"), "{c}");
    let fr = c["evidence"]["globalAccess"][0].as_str().unwrap().to_string();
    if let Some(o) = w.gcloud(&[
        "compute",
        "forwarding-rules",
        "describe",
        &fr,
        "--region=us-central1",
        "--format=json",
    ]) {
        let r: Value = serde_json::from_slice(&ok_bytes(&o)).unwrap();
        assert_eq!(r["allowGlobalAccess"], true);
    }
    let (_, c) = doctor_check("healthy", "reach");
    assert_eq!(c["result"], "PASS", "{c}");
    assert!(c["finding"].as_str().unwrap().contains("us-central1 only"), "{c}");
}

#[test]
fn http_with_basic_auth_warns_and_the_hint_repairs_it() {
    let (w, c) = doctor_check("healthy", "https");
    assert_eq!(c["result"], "WARN", "{c}");
    let hint = c["hint"].as_str().unwrap();
    // The recipe's Ingress: patch it with a TLS Secret (the scenario's own certificate helper makes one).
    let cmd = hint.trim_matches('`').replace("TLS_SECRET", "k10-tls");
    w.sim.with_world(|w| {
        let made = gke_sim::certs::make(&["k10.corp.internal"], -1, 90);
        w.kube_put(gke_sim::certs::tls_secret("kasten-io", "k10-tls", &made));
    });
    let args = shell_words(&cmd);
    assert_eq!(args[0], "kubectl", "{cmd}");
    let argv: Vec<&str> = args[1..].iter().map(String::as_str).collect();
    let Some(o) = w.kubectl(&argv) else { return };
    ok(&o);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, v) = doctor_report(&w, &[]);
        if check_of(&v, "https")["result"] == "PASS" {
            assert_eq!(check_of(&v, "certificate")["result"], "PASS", "{v}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{v}");
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

#[test]
fn k10_auth_names_the_method_and_the_chart_check() {
    let (_, c) = doctor_check("healthy", "auth");
    assert_eq!(c["result"], "PASS", "{c}");
    assert!(c["finding"].as_str().unwrap().starts_with("basic (htpasswd)"), "{c}");
    let (_, c) = doctor_check("backup-release", "auth");
    assert!(c["finding"].as_str().unwrap().starts_with("token"), "{c}");
    let w = TestWorld::start("no-auth");
    let (_, v) = doctor_report(&w, &[]);
    let c = check_of(&v, "auth");
    assert_eq!(c["result"], "WARN", "{c}");
    assert!(c["finding"].as_str().unwrap().contains("authEnabled.check"), "{c}");
}

fn ok_bytes(o: &std::process::Output) -> Vec<u8> {
    ok(o);
    o.stdout.clone()
}

/// Split a command line the way a POSIX shell does for single-quoted words (enough for hints).
fn shell_words(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted, mut any) = (vec![], String::new(), false, false);
    for ch in s.chars() {
        match ch {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[test]
fn a_regional_ssl_certificate_is_read_like_gcloud_lists_it() {
    let (w, c) = doctor_check("tls-regional-cert", "certificate");
    assert_eq!(c["result"], "WARN", "{c}");
    assert!(
        c["finding"]
            .as_str()
            .unwrap()
            .contains("sslCertificate k10-regional (k10.corp.internal) expires in"),
        "{c}"
    );
    assert!(
        c["hint"]
            .as_str()
            .unwrap()
            .contains("gcloud compute ssl-certificates create k10-regional-new"),
        "{c}"
    );
    let (_, v) = doctor_report(&w, &[]);
    assert_eq!(check_of(&v, "e2e")["result"], "PASS", "curl went over HTTPS: {v}");
    let Some(o) = w.gcloud(&[
        "compute",
        "ssl-certificates",
        "list",
        "--regions=us-central1",
        "--format=json",
    ]) else {
        return;
    };
    let list: Value = serde_json::from_slice(&ok_bytes(&o)).unwrap();
    assert_eq!(list[0]["name"], "k10-regional", "{list}");
    assert_eq!(
        list[0]["subjectAlternativeNames"],
        serde_json::json!(["k10.corp.internal"])
    );
    assert!(
        list[0].get("privateKey").is_none(),
        "Compute never returns the key: {list}"
    );
    // insert (schema-checked, the names and expiry read from the certificate) and delete, with gcloud.
    let made = gke_sim::certs::make(&["new.corp.internal"], -1, 30);
    let dir = tempfile::tempdir().unwrap();
    let (crt, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&crt, &made.cert_pem).unwrap();
    std::fs::write(&key, &made.key_pem).unwrap();
    let (crt, key) = (crt.display().to_string(), key.display().to_string());
    let create = [
        "compute",
        "ssl-certificates",
        "create",
        "k10-new",
        "--region=us-central1",
    ];
    let o = w.gcloud(
        &[
            &create[..],
            &[&format!("--certificate={crt}"), &format!("--private-key={key}")],
        ]
        .concat(),
    );
    ok(&o.unwrap());
    let c = w.sim.world().compute.ssl_certificates["us-central1/k10-new"].clone();
    assert_eq!(c["subjectAlternativeNames"], serde_json::json!(["new.corp.internal"]));
    ok(&w
        .gcloud(&[
            "compute",
            "ssl-certificates",
            "delete",
            "k10-new",
            "--region=us-central1",
            "--quiet",
        ])
        .unwrap());
    assert!(!w
        .sim
        .world()
        .compute
        .ssl_certificates
        .contains_key("us-central1/k10-new"));
}

#[test]
fn curl_through_the_https_frontend_needs_k_for_a_self_signed_certificate() {
    let w = TestWorld::start("tls-good");
    let pod = "catalog-svc-19xh3b65kf-7tu7j";
    let resolve = "k10.corp.internal:443:10.128.0.100";
    let url = "https://k10.corp.internal/k10/";
    let curl = |extra: &[&str]| {
        let mut a = vec![
            "-n",
            "kasten-io",
            "exec",
            pod,
            "--",
            "curl",
            "-sS",
            "--resolve",
            resolve,
        ];
        a.extend_from_slice(extra);
        a.push(url);
        w.kubectl(&a)
    };
    let Some(o) = curl(&[]) else { return };
    assert_eq!(o.status.code(), Some(60), "{}", both(&o));
    assert!(
        stderr(&o).contains("SSL certificate problem: self-signed certificate"),
        "{}",
        both(&o)
    );
    let o = curl(&["-k", "-o", "/dev/null", "-w", "%{http_code} %{ssl_verify_result}"]).unwrap();
    assert_eq!(ok(&o).trim(), "401 18");
    // Plain HTTP is off (allow-http: "false"): nothing listens on port 80.
    let a = [
        "-n",
        "kasten-io",
        "exec",
        pod,
        "--",
        "curl",
        "-sS",
        "-m",
        "5",
        "http://10.128.0.100/k10/",
    ];
    let o = w.kubectl(&a).unwrap();
    assert_eq!(o.status.code(), Some(28), "{}", both(&o));
}

#[test]
fn export_and_dry_run_name_the_secret_but_never_carry_a_key() {
    let w = TestWorld::start("fresh");
    let before = w.fingerprint();
    let values = ok(&w.run(&["export", "--format", "helm-values", "--self-signed", "--host", HOST]));
    assert!(
        values.contains("the TLS Secret `k10-ilb-tls` for k10.corp.internal: a key is never exported"),
        "{values}"
    );
    assert!(values.contains("secretName: k10-ilb-tls"), "{values}");
    let yaml = ok(&w.run(&["install", "--dry-run", "-o", "yaml", "--self-signed", "--host", HOST]));
    assert!(yaml.contains("secretName: k10-ilb-tls"), "{yaml}");
    assert!(!yaml.contains("tls.key") && !yaml.contains("PRIVATE KEY"), "{yaml}");
    assert_eq!(w.fingerprint(), before, "export and --dry-run change nothing");
}

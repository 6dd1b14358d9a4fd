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
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let bytes: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=').collect();
    let mut out = vec![];
    for chunk in bytes.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, c)| n | u32::from(val(*c)) << (18 - 6 * i));
        let take = chunk.len() - 1;
        out.extend_from_slice(&n.to_be_bytes()[1..1 + take]);
    }
    out
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

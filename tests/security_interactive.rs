//! install's TLS offer on a real terminal (tmux): with basic auth, `--host` and no certificate,
//! install asks whether to serve HTTPS; each answer is applied as the matching flags would be.

mod common;

use std::time::Duration;

use common::tmux::Tmux;
use common::*;

/// How long a screen may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(40);

const ASK: &str = "Serve HTTPS?";
const ARGS: &str = "install --proxy-subnet-range 10.90.0.0/23 --host k10.corp.internal";

fn tmux_missing() -> bool {
    let missing = which("tmux").is_none();
    if missing {
        eprintln!("SKIP: tmux is not installed (.ci/run installs it)");
    }
    missing
}

fn secret_exists(w: &TestWorld) -> bool {
    w.sim.world().kube_get("Secret", "kasten-io", "k10-ilb-tls").is_some()
}

#[test]
fn choosing_self_signed_on_a_terminal_serves_https_with_a_new_certificate() {
    if tmux_missing() {
        return;
    }
    let w = TestWorld::start("fresh");
    let t = Tmux::start(&w, "sec-self", ARGS, PATIENCE);
    let s = t.wait_for(ASK);
    assert!(s.contains("K10 uses basic auth"), "{s}");
    assert!(
        s.contains("Continue HTTP-only: credentials cross the VPC in clear text"),
        "{s}"
    );
    t.keys(&["Enter"]);
    let s = t.wait_for("Apply these changes? [y/N]");
    assert!(
        s.contains("secret/k10-ilb-tls (self-signed for k10.corp.internal)"),
        "{s}"
    );
    t.keys(&["y"]);
    let s = t.wait_for("EXIT=");
    assert!(s.contains("EXIT=0") && s.contains("SHA-256 fingerprint:"), "{s}");
    assert!(secret_exists(&w));
    let ing = w
        .sim
        .world()
        .kube_get("Ingress", "kasten-io", "k10-ilb")
        .cloned()
        .unwrap();
    assert_eq!(ing["spec"]["tls"][0]["secretName"], "k10-ilb-tls");
}

#[test]
fn choosing_http_only_on_a_terminal_says_so_and_makes_no_certificate() {
    if tmux_missing() {
        return;
    }
    let w = TestWorld::start("fresh");
    let t = Tmux::start(&w, "sec-http", ARGS, PATIENCE);
    t.wait_for(ASK);
    t.keys(&["Down", "Down", "Enter"]);
    t.wait_for("Apply these changes? [y/N]");
    t.keys(&["y"]);
    let s = t.wait_for("EXIT=");
    assert!(s.contains("EXIT=0") && s.contains("credentials cross the VPC"), "{s}");
    assert!(!secret_exists(&w));
}

#[test]
fn choosing_an_existing_secret_on_a_terminal_asks_its_name() {
    if tmux_missing() {
        return;
    }
    let w = TestWorld::start("fresh");
    w.sim.with_world(|w| {
        let made = gke_sim::certs::make(&["k10.corp.internal"], -1, 90);
        w.kube_put(gke_sim::certs::tls_secret("kasten-io", "corp-tls", &made));
    });
    let t = Tmux::start(&w, "sec-secret", ARGS, PATIENCE);
    t.wait_for(ASK);
    t.keys(&["Down", "Enter"]);
    t.wait_for("Name of the kubernetes.io/tls Secret");
    t.keys(&["corp-tls", "Enter"]);
    t.wait_for("Apply these changes? [y/N]");
    t.keys(&["y"]);
    let s = t.wait_for("EXIT=");
    assert!(
        s.contains("EXIT=0") && s.contains("Certificate: secret/corp-tls"),
        "{s}"
    );
    assert!(!secret_exists(&w), "no self-signed Secret when one is given");
}

#[test]
fn without_host_or_with_yes_nothing_is_asked() {
    if tmux_missing() {
        return;
    }
    let w = TestWorld::start("fresh");
    let t = Tmux::start(&w, "sec-nohost", "install --proxy-subnet-range 10.90.0.0/23", PATIENCE);
    let s = t.wait_for("Apply these changes? [y/N]");
    assert!(!s.contains(ASK), "{s}");
    t.keys(&["n"]);
    t.wait_for("EXIT=1");
    let t = Tmux::start(&w, "sec-yes", &format!("{ARGS} --yes"), PATIENCE);
    let s = t.wait_for("EXIT=");
    assert!(!s.contains(ASK) && s.contains("EXIT=0"), "{s}");
    assert!(!secret_exists(&w));
}

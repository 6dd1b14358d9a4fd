//! install's TLS offer on a real terminal (tmux): with basic auth, `--host` and no certificate,
//! install asks whether to serve HTTPS; each answer is applied as the matching flags would be.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(w: &TestWorld, tag: &str, args: &str) -> Tmux {
        let env: String = w.envs().iter().map(|(k, v)| format!("{k}='{v}' ")).collect();
        let t = Tmux {
            socket: format!("kasten-ilb-sec-{tag}-{}", std::process::id()),
        };
        let cmd = format!("env -i {env} {BIN} {args}; echo EXIT=$?; sleep 30");
        t.run(&["new-session", "-d", "-s", "t", "-x", "220", "-y", "60", &cmd]);
        t
    }
    fn run(&self, args: &[&str]) -> String {
        let o = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
    fn keys(&self, keys: &[&str]) {
        let mut a = vec!["send-keys", "-t", "t"];
        a.extend_from_slice(keys);
        self.run(&a);
    }
    fn wait_for(&self, text: &str) -> String {
        let end = Instant::now() + Duration::from_secs(40);
        loop {
            let s = self.run(&["capture-pane", "-p", "-J", "-S", "-300", "-t", "t"]);
            if s.contains(text) {
                return s;
            }
            assert!(Instant::now() < end, "`{text}` never appeared on:\n{s}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

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
    let t = Tmux::start(&w, "self", ARGS);
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
    let t = Tmux::start(&w, "http", ARGS);
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
    let t = Tmux::start(&w, "secret", ARGS);
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
    let t = Tmux::start(&w, "nohost", "install --proxy-subnet-range 10.90.0.0/23");
    let s = t.wait_for("Apply these changes? [y/N]");
    assert!(!s.contains(ASK), "{s}");
    t.keys(&["n"]);
    t.wait_for("EXIT=1");
    let t = Tmux::start(&w, "yes", &format!("{ARGS} --yes"));
    let s = t.wait_for("EXIT=");
    assert!(!s.contains(ASK) && s.contains("EXIT=0"), "{s}");
    assert!(!secret_exists(&w));
}

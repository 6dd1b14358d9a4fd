//! The interactive path on a real terminal (tmux): install asks for the proxy-only range (and
//! asks again when an answer overlaps something), shows the plan, asks for confirmation, applies.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

struct Tmux {
    socket: String,
}

impl Tmux {
    /// A detached 220x60 session running `cmd` with the world's environment (and nothing else).
    fn start(w: &TestWorld, tag: &str, args: &str) -> Tmux {
        let env: String = w.envs().iter().map(|(k, v)| format!("{k}='{v}' ")).collect();
        let t = Tmux {
            socket: format!("kasten-ilb-test-{tag}-{}", std::process::id()),
        };
        t.run(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "220",
            "-y",
            "60",
            &format!("env -i {env} {BIN} {args}; echo EXIT=$?; sleep 30"),
        ]);
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
    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-J", "-S", "-200", "-t", "t"])
    }
    fn wait_for(&self, text: &str) -> String {
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.screen();
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

#[test]
fn install_asks_for_the_range_and_for_confirmation_on_a_terminal() {
    if which("tmux").is_none() {
        eprintln!("SKIP: tmux is not installed (.ci/run installs it)");
        return;
    }
    let w = TestWorld::start("fresh");
    let t = Tmux::start(&w, "yes", "install");
    t.wait_for("Range for the new proxy-only subnet [10.120.0.0/23]");
    // An overlapping answer is refused in place, with what it overlaps, and asked again.
    t.run(&["send-keys", "-t", "t", "10.140.0.0/23", "Enter"]);
    let s = t.wait_for("overlaps subnet `default` in asia-east1");
    let (err_at, ask_at) = (
        s.find("overlaps subnet").unwrap(),
        s.rfind("Range for the new proxy-only subnet").unwrap(),
    );
    assert!(ask_at > err_at, "asked again after the error:\n{s}");
    t.run(&["send-keys", "-t", "t", "10.90.0.0/23", "Enter"]);
    let s = t.wait_for("Apply these changes? [y/N]");
    assert!(s.contains("proxy-only-default 10.90.0.0/23"), "{s}");
    t.run(&["send-keys", "-t", "t", "y"]);
    let s = t.wait_for("EXIT=");
    assert!(
        s.contains("EXIT=0") && s.contains("K10 dashboard (inside the VPC only)"),
        "{s}"
    );
    let world = w.sim.world();
    assert_eq!(
        world.compute.subnetworks["us-central1/proxy-only-default"]["ipCidrRange"],
        "10.90.0.0/23"
    );
}

#[test]
fn answering_no_changes_nothing() {
    if which("tmux").is_none() {
        eprintln!("SKIP: tmux is not installed (.ci/run installs it)");
        return;
    }
    let w = TestWorld::start("fresh");
    let before = w.fingerprint();
    let t = Tmux::start(&w, "no", "install --proxy-subnet-range 10.90.0.0/23");
    t.wait_for("Apply these changes? [y/N]");
    t.run(&["send-keys", "-t", "t", "n"]);
    let s = t.wait_for("EXIT=");
    assert!(s.contains("nothing was changed") && s.contains("EXIT=1"), "{s}");
    assert_eq!(w.fingerprint(), before);
}

/// Ctrl-C at a prompt is an interruption (exit 130), not a usage error, and nothing changes.
#[test]
fn ctrl_c_at_a_prompt_exits_130_and_changes_nothing() {
    if which("tmux").is_none() {
        eprintln!("SKIP: tmux is not installed (.ci/run installs it)");
        return;
    }
    let w = TestWorld::start("fresh");
    let before = w.fingerprint();
    let t = Tmux::start(&w, "ctrlc", "install --proxy-subnet-range 10.90.0.0/23");
    t.wait_for("Apply these changes? [y/N]");
    t.run(&["send-keys", "-t", "t", "C-c"]);
    let s = t.wait_for("EXIT=");
    assert!(s.contains("EXIT=130"), "{s}");
    assert!(s.contains("interrupted"), "{s}");
    assert_eq!(w.fingerprint(), before);
    assert!(w.writes().is_empty(), "{:?}", w.writes());
}

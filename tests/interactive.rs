//! The interactive path on a real terminal (tmux): install asks for the proxy-only range (and
//! asks again when an answer overlaps something), shows the plan, asks for confirmation, applies.

mod common;

use std::time::Duration;

use common::tmux::Tmux;
use common::*;

/// How long a screen may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(30);

#[test]
fn install_asks_for_the_range_and_for_confirmation_on_a_terminal() {
    if which("tmux").is_none() {
        eprintln!("SKIP: tmux is not installed (.ci/run installs it)");
        return;
    }
    let w = TestWorld::start("fresh");
    let t = Tmux::start(&w, "yes", "install", PATIENCE);
    t.wait_for("Range for the new proxy-only subnet [10.120.0.0/23]");
    // An overlapping answer is refused in place, with what it overlaps, and asked again.
    t.keys(&["10.140.0.0/23", "Enter"]);
    let s = t.wait_for("overlaps subnet `default` in asia-east1");
    let (err_at, ask_at) = (
        s.find("overlaps subnet").unwrap(),
        s.rfind("Range for the new proxy-only subnet").unwrap(),
    );
    assert!(ask_at > err_at, "asked again after the error:\n{s}");
    t.keys(&["10.90.0.0/23", "Enter"]);
    let s = t.wait_for("Apply these changes? [y/N]");
    assert!(s.contains("proxy-only-default 10.90.0.0/23"), "{s}");
    t.keys(&["y"]);
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
    let t = Tmux::start(&w, "no", "install --proxy-subnet-range 10.90.0.0/23", PATIENCE);
    t.wait_for("Apply these changes? [y/N]");
    t.keys(&["n"]);
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
    let t = Tmux::start(&w, "ctrlc", "install --proxy-subnet-range 10.90.0.0/23", PATIENCE);
    t.wait_for("Apply these changes? [y/N]");
    t.keys(&["C-c"]);
    let s = t.wait_for("EXIT=");
    assert!(s.contains("EXIT=130"), "{s}");
    assert!(s.contains("interrupted"), "{s}");
    assert_eq!(w.fingerprint(), before);
    assert!(w.writes().is_empty(), "{:?}", w.writes());
}

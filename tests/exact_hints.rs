//! Doctor's hints that were not single commands (issue 10, item D): followed as printed, they
//! repair the world.

mod common;

use std::time::{Duration, Instant};

use common::*;

#[test]
fn a_network_policy_that_drops_the_load_balancer_is_repaired_by_the_backends_hint() {
    let w = TestWorld::start("healthy");
    if which("kubectl").is_none() || which("bash").is_none() {
        eprintln!("SKIP: kubectl or bash is not installed");
        return;
    }
    w.sim.with_world(|w| {
        w.kube_delete("NetworkPolicy", "kasten-io", "allow-external");
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let hint = loop {
        let (_, report) = doctor_report(&w, &["--no-exec"]);
        let c = check_of(&report, "backends");
        if c["result"] == "FAIL" {
            break c["hint"].as_str().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "{c}");
        std::thread::sleep(Duration::from_millis(300));
    };
    let cmd = hint.split('`').nth(1).unwrap();
    assert!(cmd.starts_with("kubectl -n kasten-io apply -f - <<< "), "{hint}");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(cmd)
        .env_clear()
        .envs(w.envs())
        .output()
        .expect("bash runs");
    ok(&out);
    while doctor_report(&w, &["--no-exec"]).0 != 0 {
        assert!(
            Instant::now() < deadline + Duration::from_secs(20),
            "{}",
            doctor_report(&w, &[]).1
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

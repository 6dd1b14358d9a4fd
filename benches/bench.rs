//! Benchmarks that print numbers (not timed tests). Run: `cargo bench --bench bench`.
//!
//! 1. doctor vs the manual diagnostic sequence with the real clients, against gke-sim with 50 ms
//!    added latency: medians, the ratio, doctor's request count and critical path in round trips.
//!    1b. The same doctor on a Gateway setup (gke-sim's `gateway-healthy`).
//! 2. Scale: 5,000 firewall rules, 1,000 subnets, 200 NEGs: doctor's wall time and peak memory.
//! 3. install's own time beyond the simulated load-balancer delay.
//! 4. Startup (`--help`) and the size of the binary.

use std::process::Command;
use std::time::{Duration, Instant};

use gke_sim::{Sim, SimConfig};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-kasten_ilb");
const RUNS: usize = 5;

fn envs(sim: &Sim, home: &std::path::Path) -> Vec<(String, String)> {
    let mut e = sim.env();
    e.push(("HOME".into(), home.display().to_string()));
    e.push(("PATH".into(), std::env::var("PATH").unwrap_or_default()));
    e.push(("NO_COLOR".into(), "1".into()));
    e.push(("KASTEN_ILB_USE_METADATA_SERVER".into(), "0".into()));
    e
}

/// Run a command, return (wall time, peak RSS in KiB, success).
///
/// Peak RSS is the child's `VmHWM` from /proc, sampled until it exits: `ru_maxrss` would also count
/// the memory the child shared with this process before `exec` (the simulated world lives here).
fn run(cmd: &mut Command) -> (Duration, u64, bool) {
    let t = Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_file) {
            if let Some(kb) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kb);
            }
        }
        if let Some(st) = child.try_wait().expect("wait") {
            return (t.elapsed(), peak, st.success());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn have(bin: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
}

/// doctor's median time, its request count and its critical path in round trips (arrivals
/// separated by more than half the 50 ms latency), over [`RUNS`] runs that must all pass.
fn measure_doctor(sim: &Sim, env: &[(String, String)]) -> (Duration, usize, usize) {
    let mut doctor_times = vec![];
    let mut requests = 0;
    let mut rounds = 0;
    for _ in 0..RUNS {
        sim.clear_requests();
        let (t, _, ok) = run(Command::new(BIN).arg("doctor").env_clear().envs(env.to_vec()));
        assert!(ok, "doctor passes");
        doctor_times.push(t);
        let log = sim.requests();
        requests = log.len();
        let mut at: Vec<Duration> = log.iter().map(|r| r.at).collect();
        at.sort();
        rounds = 1 + at
            .windows(2)
            .filter(|w| w[1] - w[0] > Duration::from_millis(25))
            .count();
    }
    (median(doctor_times), requests, rounds)
}

/// doctor on a Gateway setup (issue 11), same latency.
fn gateway_doctor(home: &std::path::Path) {
    let sim = Sim::spawn(
        SimConfig {
            scenario: "gateway-healthy".into(),
            latency: Duration::from_millis(50),
            ..SimConfig::default()
        },
        None,
    )
    .unwrap();
    let env = envs(&sim, home);
    // The controller programs the Gateway after its delay: wait for doctor to pass once.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !run(Command::new(BIN).arg("doctor").env_clear().envs(env.clone())).2 {
        assert!(Instant::now() < deadline, "doctor passes on gateway-healthy");
    }
    let (t, requests, rounds) = measure_doctor(&sim, &env);
    println!("\n[1b] diagnosis of a Gateway setup at 50 ms API latency (world: gateway-healthy)");
    println!(
        "doctor: {} (median of {RUNS}), {requests} requests, critical path {rounds} round trips",
        ms(t)
    );
}

fn main() {
    kubectl_kasten_ilb::init_crypto();
    let home = tempfile::tempdir().unwrap();
    println!("kubectl-kasten-ilb benchmarks ({} runs each, medians)", RUNS);
    println!(
        "machine: {} cores, {}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| m.lines().next().map(|l| l
                .split_whitespace()
                .nth(1)
                .map(|k| format!("{} GiB RAM", k.parse::<u64>().unwrap_or(0) / 1024 / 1024))
                .unwrap_or_default()))
            .unwrap_or_default()
    );

    // ---- 1. doctor vs the manual sequence, 50 ms latency
    let sim = Sim::spawn(
        SimConfig {
            scenario: "healthy".into(),
            latency: Duration::from_millis(50),
            ..SimConfig::default()
        },
        None,
    )
    .unwrap();
    let env = envs(&sim, home.path());
    let (doctor, requests, rounds) = measure_doctor(&sim, &env);
    println!("\n[1] diagnosis at 50 ms API latency (world: healthy)");
    println!(
        "doctor: {} (median of {RUNS}), {requests} requests, critical path {rounds} round trips",
        ms(doctor)
    );
    if have("kubectl") && have("gcloud") {
        let ip = sim.world().kube_get("Ingress", "kasten-io", "k10-ingress").unwrap()["status"]["loadBalancer"]
            ["ingress"][0]["ip"]
            .as_str()
            .unwrap()
            .to_string();
        let bs = sim.world().compute.backend_services.values().next().unwrap()["name"]
            .as_str()
            .unwrap()
            .to_string();
        let cache = home.path().join("kc").display().to_string();
        let k = |args: &[&str]| {
            let mut c = Command::new("kubectl");
            c.arg("--cache-dir")
                .arg(&cache)
                .args(args)
                .env_clear()
                .envs(env.clone());
            c
        };
        let g = |args: &[&str]| {
            let mut c = Command::new("gcloud");
            c.args(args).env_clear().envs(env.clone());
            c
        };
        let url = format!("http://{ip}/k10/");
        let mut manual_times = vec![];
        for _ in 0..RUNS {
            let mut steps: Vec<Command> = vec![
                k(&["get", "ingress", "-n", "kasten-io"]),
                k(&[
                    "get",
                    "events",
                    "-n",
                    "kasten-io",
                    "--field-selector",
                    "involvedObject.kind=Ingress",
                ]),
                g(&["compute", "network-endpoint-groups", "list"]),
                g(&[
                    "compute",
                    "networks",
                    "subnets",
                    "list",
                    "--filter=purpose=REGIONAL_MANAGED_PROXY",
                ]),
                g(&["compute", "firewall-rules", "list"]),
                g(&[
                    "container",
                    "clusters",
                    "describe",
                    "kasten-demo",
                    "--zone",
                    "us-central1-a",
                ]),
                k(&["-n", "kasten-io", "get", "deployment", "gateway", "-o", "yaml"]),
                g(&[
                    "compute",
                    "backend-services",
                    "get-health",
                    &bs,
                    "--region",
                    "us-central1",
                ]),
                k(&[
                    "-n",
                    "kasten-io",
                    "exec",
                    "deploy/catalog-svc",
                    "-c",
                    "catalog-svc",
                    "--",
                    "curl",
                    "-s",
                    &url,
                ]),
            ];
            let t = Instant::now();
            for c in steps.iter_mut() {
                let (_, _, ok) = run(c);
                assert!(ok, "manual step failed: {c:?}");
            }
            manual_times.push(t.elapsed());
        }
        let manual = median(manual_times);
        println!("manual sequence (4 kubectl + 5 gcloud commands): {}", ms(manual));
        println!(
            "ratio: doctor is {:.1}x faster",
            manual.as_secs_f64() / doctor.as_secs_f64()
        );
    } else {
        println!("manual sequence: SKIPPED (kubectl or gcloud not installed)");
    }
    drop(sim);
    gateway_doctor(home.path());

    // ---- 2. scale
    let sim = Sim::spawn(
        SimConfig {
            scenario: "scale".into(),
            lb_delay: Duration::from_millis(300),
            ..SimConfig::default()
        },
        None,
    )
    .unwrap();
    let env = envs(&sim, home.path());
    let (_, _, ok) = run(Command::new(BIN)
        .args(["install", "--yes"])
        .env_clear()
        .envs(env.clone()));
    assert!(ok, "install on the scale world");
    let mut times = vec![];
    let mut peak = 0;
    for _ in 0..RUNS {
        let (t, rss, ok) = run(Command::new(BIN).arg("doctor").env_clear().envs(env.clone()));
        assert!(ok);
        times.push(t);
        peak = peak.max(rss);
    }
    let (fw, sn, negs) = {
        let w = sim.world();
        (
            w.compute.firewalls.len(),
            w.compute.subnetworks.len(),
            w.compute.negs.len(),
        )
    };
    println!("\n[2] scale: {fw} firewall rules, {sn} subnets, {negs} NEGs");
    println!(
        "doctor: {} (median), peak RSS {:.1} MiB",
        ms(median(times)),
        peak as f64 / 1024.0
    );
    drop(sim);

    // ---- 3. install overhead beyond the simulated load-balancer delay
    let delay = Duration::from_secs(3);
    let mut over = vec![];
    let mut walls = vec![];
    for _ in 0..RUNS {
        let sim = Sim::spawn(
            SimConfig {
                scenario: "fresh".into(),
                lb_delay: delay,
                ..SimConfig::default()
            },
            None,
        )
        .unwrap();
        let env = envs(&sim, home.path());
        let (t, _, ok) = run(Command::new(BIN).args(["install", "--yes"]).env_clear().envs(env));
        assert!(ok);
        let op_waits = SimConfig::default().op_delay * 2; // subnet and firewall operations
        walls.push(t);
        over.push(t.saturating_sub(delay + op_waits));
    }
    println!(
        "\n[3] install on a fresh world, load balancer ready after {} s",
        delay.as_secs()
    );
    println!(
        "install: {} wall, {} beyond the load-balancer delay and the two operation waits",
        ms(median(walls)),
        ms(median(over))
    );

    // ---- 4. startup and size
    let mut helps = vec![];
    for _ in 0..20 {
        let (t, _, ok) = run(Command::new(BIN).arg("--help"));
        assert!(ok);
        helps.push(t);
    }
    let size = std::fs::metadata(BIN).map(|m| m.len()).unwrap_or(0);
    println!("\n[4] startup and size");
    println!("--help: {} (median of 20)", ms(median(helps)));
    println!(
        "binary: {:.1} MiB ({size} bytes) at {BIN}",
        size as f64 / 1024.0 / 1024.0
    );
}

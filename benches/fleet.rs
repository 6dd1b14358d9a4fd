//! Fleet benchmarks that print numbers (not timed tests). Run: `cargo bench --bench fleet`.
//!
//! Against `gke-sim --clusters N` (in this process) with 50 ms added to every API call:
//! 1. 100 clusters: `doctor --all-contexts` (default --parallel 8, and 16): wall time, requests per
//!    cluster, peak RSS; single-cluster doctor once per context in sequence; the same in a parallel
//!    shell loop (`xargs -P 8`).
//! 2. 1,000 clusters: `doctor --all-contexts` finishes; wall time and peak RSS.
//!
//! Wall time and peak RSS come from `/usr/bin/time -f '%e %M'` (GNU time: the largest resident set
//! of the command and of every child it waited for).

use std::process::Command;
use std::time::Duration;

use gke_sim::fleet::{FleetConfig, FleetSim};
use gke_sim::SimConfig;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-kasten_ilb");
const TIME: &str = "/usr/bin/time";

fn envs(sim: &FleetSim, home: &std::path::Path) -> Vec<(String, String)> {
    let mut e = sim.env();
    e.push(("HOME".into(), home.display().to_string()));
    e.push(("PATH".into(), std::env::var("PATH").unwrap_or_default()));
    e.push(("NO_COLOR".into(), "1".into()));
    e.push(("KASTEN_ILB_USE_METADATA_SERVER".into(), "0".into()));
    e
}

/// `sh -c script` under GNU time: (wall seconds, peak RSS in MiB).
fn timed(sim: &FleetSim, home: &std::path::Path, script: &str) -> (f64, f64) {
    let out = Command::new(TIME)
        .args(["-f", "%e %M", "sh", "-c", script])
        .env_clear()
        .envs(envs(sim, home))
        .env("BIN", BIN)
        .stdout(std::process::Stdio::null())
        .output()
        .expect("time runs");
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.lines().last().unwrap_or_default();
    let mut it = last.split_whitespace();
    let wall: f64 = it.next().and_then(|w| w.parse().ok()).unwrap_or(f64::NAN);
    let kib: f64 = it.next().and_then(|k| k.parse().ok()).unwrap_or(f64::NAN);
    (wall, kib / 1024.0)
}

fn start(clusters: usize) -> FleetSim {
    let cfg = SimConfig {
        latency: Duration::from_millis(50),
        lb_delay: Duration::from_millis(300),
        ..SimConfig::default()
    };
    let fc = FleetConfig {
        clusters,
        ..FleetConfig::default()
    };
    FleetSim::spawn(cfg, fc, None).expect("the fleet starts")
}

fn contexts_file(sim: &FleetSim, home: &std::path::Path) -> std::path::PathBuf {
    let names: Vec<String> = sim.fleet.members.iter().map(|m| m.context.clone()).collect();
    let path = home.join("contexts");
    std::fs::write(&path, names.join("\n") + "\n").unwrap();
    path
}

/// Requests per cluster in the simulator's log: (Kubernetes, Google) over `clusters`.
fn per_cluster(sim: &FleetSim, clusters: usize) -> (f64, f64) {
    let log = sim.requests();
    let kube = log.iter().filter(|r| r.path.starts_with("/clusters/")).count();
    let google = log.len() - kube;
    (kube as f64 / clusters as f64, google as f64 / clusters as f64)
}

fn fleet_run(sim: &FleetSim, home: &std::path::Path, parallel: u16) -> (f64, f64) {
    sim.clear_requests();
    timed(
        sim,
        home,
        &format!("\"$BIN\" doctor --all-contexts --parallel {parallel} -o json"),
    )
}

fn hundred(home: &std::path::Path) {
    let n = 100;
    let sim = start(n);
    let list = contexts_file(&sim, home);
    let (wall8, rss8) = fleet_run(&sim, home, 8);
    let (kube, google) = per_cluster(&sim, n);
    let (wall16, rss16) = fleet_run(&sim, home, 16);
    println!("100 clusters, 50 ms per API call:");
    println!("  doctor --all-contexts (--parallel 8):   {wall8:.2} s, peak RSS {rss8:.1} MiB");
    println!("  doctor --all-contexts --parallel 16:    {wall16:.2} s, peak RSS {rss16:.1} MiB");
    println!("  requests per cluster: {kube:.1} Kubernetes + {google:.1} Google (shared reads once per project)");
    let l = list.display();
    let xargs = format!("xargs -P 8 -I{{}} \"$BIN\" doctor --context {{}} -o json < {l} > /dev/null");
    let (wall_x, rss_x) = timed(&sim, home, &xargs);
    println!("  xargs -P 8, single doctor per context:  {wall_x:.2} s, peak RSS {rss_x:.1} MiB (largest process)");
    let seq = format!("while read c; do \"$BIN\" doctor --context \"$c\" -o json > /dev/null; done < {l}");
    let (wall_s, _) = timed(&sim, home, &seq);
    println!("  single doctor per context in sequence:  {wall_s:.2} s");
    println!(
        "  speed-up of --all-contexts (--parallel 8): {:.1}x over xargs -P 8, {:.1}x over the sequence",
        wall_x / wall8,
        wall_s / wall8
    );
}

fn thousand(home: &std::path::Path) {
    let n = 1000;
    let sim = start(n);
    let (wall, rss) = fleet_run(&sim, home, 8);
    let (wall16, rss16) = fleet_run(&sim, home, 16);
    let ok = sim
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/api/v1/nodes"))
        .count();
    println!("1,000 clusters, 50 ms per API call:");
    println!("  doctor --all-contexts (--parallel 8):   {wall:.2} s, peak RSS {rss:.1} MiB");
    println!("  doctor --all-contexts --parallel 16:    {wall16:.2} s, peak RSS {rss16:.1} MiB ({ok} clusters read)");
}

fn main() {
    kubectl_kasten_ilb::init_crypto();
    if !std::path::Path::new(TIME).exists() {
        println!("SKIP: {TIME} (GNU time) is not installed");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    println!(
        "kubectl-kasten-ilb fleet benchmarks ({} cores)",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    hundred(home.path());
    if std::env::args().any(|a| a == "--quick") {
        return;
    }
    thousand(home.path());
}

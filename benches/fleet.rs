//! Fleet benchmarks that print numbers (not timed tests). Run: `cargo bench --bench fleet`.
//!
//! Against `gke-sim --clusters N` (in this process) with 50 ms added to every API call:
//! 1. 100 clusters: `doctor --all-contexts` (default --parallel 8, 16, 32, 64, 100): wall time, requests per
//!    cluster, peak RSS, and each cluster's sequential round trips (the critical path, from the
//!    simulator's request log); single-cluster doctor once per context in sequence; the same in a
//!    parallel shell loop (`xargs -P 8`, and `-P 32`); single doctor alone on one cluster of each
//!    scenario, with its round trips over every request (Google's included).
//! 2. 1,000 clusters: `doctor --all-contexts` (--parallel 8 and 32) finishes; wall time and peak RSS.
//!
//! Wall time and peak RSS come from `/usr/bin/time -f '%e %M'` (GNU time: the largest resident set
//! of the command and of every child it waited for). The 100-cluster `--all-contexts` and `xargs`
//! timings are each run three times: the median is printed, with the range, and speed-ups are
//! medians over medians. Then `--parallel 100` and `xargs -P 8` run in five pairs, one right after
//! the other (which goes first alternates): each pair's ratio sees about the same host load, so the
//! median of the five moves less with it than a ratio of medians taken minutes apart.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use gke_sim::fleet::{round_trips, FleetConfig, FleetRequest, FleetSim};
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
    let sim = FleetSim::spawn(cfg, fc, None).expect("the fleet starts");
    settle(&sim);
    sim
}

/// Wait (30 s at most) until no world's controllers made a pass for half a second: the worlds'
/// start-up work (the Ingresses' programming delay) is not the first measured run's.
fn settle(sim: &FleetSim) {
    let passes = || -> u64 {
        sim.fleet
            .members
            .iter()
            .map(|m| m.world.lock().unwrap().controller_passes)
            .sum()
    };
    let until = std::time::Instant::now() + Duration::from_secs(30);
    let mut last = passes();
    while std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(500));
        let now = passes();
        if now == last {
            return;
        }
        last = now;
    }
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

/// Each cluster's own requests in a fleet run (its Kubernetes API and its Container API GET; the
/// project-wide Google reads are nobody's): (mean sequential round trips, the most, mean seconds
/// from its first request's start to its last one's end).
fn fleet_round_trips(sim: &FleetSim) -> (f64, usize, f64) {
    let log = sim.requests();
    let mut by: BTreeMap<&str, Vec<&FleetRequest>> = BTreeMap::new();
    for r in &log {
        if let Some(c) = r.cluster() {
            by.entry(c).or_default().push(r);
        }
    }
    let trips: Vec<usize> = by.values().map(|rs| round_trips(rs)).collect();
    let spans: Vec<f64> = by
        .values()
        .map(|rs| {
            let a = rs.iter().map(|r| r.start).min().unwrap_or_default();
            let b = rs.iter().filter_map(|r| r.end).max().unwrap_or_default();
            b.saturating_sub(a).as_secs_f64()
        })
        .collect();
    let n = trips.len().max(1) as f64;
    (
        trips.iter().sum::<usize>() as f64 / n,
        trips.iter().copied().max().unwrap_or(0),
        spans.iter().sum::<f64>() / n,
    )
}

/// Single doctor on one cluster of each scenario of the rotation, alone: (scenario, wall seconds,
/// requests, sequential round trips over every request it made, Google included).
fn single_round_trips(sim: &FleetSim, home: &std::path::Path) -> Vec<(String, f64, usize, usize)> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = vec![];
    for m in &sim.fleet.members {
        if !seen.insert(m.scenario.clone()) {
            continue;
        }
        sim.clear_requests();
        let (wall, _) = timed(sim, home, &format!("\"$BIN\" doctor --context {} -o json", m.context));
        let log = sim.requests();
        let all: Vec<&FleetRequest> = log.iter().collect();
        out.push((m.scenario.clone(), wall, log.len(), round_trips(&all)));
    }
    out
}

/// Runs of each 100-cluster timing: one run on a shared 2-core machine varies by about a tenth, so
/// the median of three is printed, with the range.
const RUNS: usize = 3;

/// Wall times of repeated runs: the median, and the fastest and slowest.
struct Walls(Vec<f64>);

impl Walls {
    fn median(&self) -> f64 {
        let mut w = self.0.clone();
        w.sort_by(f64::total_cmp);
        w[w.len() / 2]
    }
}

impl std::fmt::Display for Walls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lo = self.0.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = self.0.iter().copied().fold(0.0, f64::max);
        write!(
            f,
            "{:.2} s (median of {}: {lo:.2}-{hi:.2})",
            self.median(),
            self.0.len()
        )
    }
}

/// `run` RUNS times: the walls, and the largest peak RSS.
fn repeated(mut run: impl FnMut() -> (f64, f64)) -> (Walls, f64) {
    let (mut walls, mut rss) = (vec![], 0.0f64);
    for _ in 0..RUNS {
        let (w, r) = run();
        walls.push(w);
        rss = rss.max(r);
    }
    (Walls(walls), rss)
}

/// Pairs of runs, `--all-contexts --parallel 100` and `xargs -P 8`, one right after the other.
const PAIRS: usize = 5;

/// `xargs -P 8` over `--parallel 100` in each of [`PAIRS`] pairs of runs, the fleet first in every
/// other pair: on a virtual machine whose host load drifts by a tenth within minutes, runs taken
/// together are what a ratio can trust.
fn paired(sim: &FleetSim, home: &std::path::Path, list: &std::path::Path) -> Walls {
    Walls(
        (0..PAIRS)
            .map(|i| {
                let (fleet, shell) = if i % 2 == 0 {
                    let (fleet, _) = fleet_run(sim, home, 100);
                    (fleet, xargs(sim, home, list, 8).0)
                } else {
                    let (shell, _) = xargs(sim, home, list, 8);
                    (fleet_run(sim, home, 100).0, shell)
                };
                shell / fleet
            })
            .collect(),
    )
}

fn fleet_run(sim: &FleetSim, home: &std::path::Path, parallel: u16) -> (f64, f64) {
    sim.clear_requests();
    timed(
        sim,
        home,
        &format!("\"$BIN\" doctor --all-contexts --parallel {parallel} -o json"),
    )
}

fn xargs(sim: &FleetSim, home: &std::path::Path, list: &std::path::Path, parallel: u16) -> (f64, f64) {
    let l = list.display();
    let script = format!("xargs -P {parallel} -I{{}} \"$BIN\" doctor --context {{}} -o json < {l} > /dev/null");
    timed(sim, home, &script)
}

fn hundred(home: &std::path::Path) {
    let n = 100;
    let sim = start(n);
    let list = contexts_file(&sim, home);
    println!("100 clusters, 50 ms per API call:");
    let mut at8 = (0.0, 0.0, 0.0);
    let mut walls = vec![];
    for parallel in [8u16, 16, 32, 64, 100] {
        let (runs, rss) = repeated(|| fleet_run(&sim, home, parallel));
        let wall = runs.median();
        walls.push((parallel, wall));
        let (trips, most, span) = fleet_round_trips(&sim);
        println!(
            "  doctor --all-contexts --parallel {parallel:<3}: {runs}, peak RSS {rss:.1} MiB; a cluster's own \
             requests: {trips:.1} round trips one after another (at most {most}), {span:.2} s first to last"
        );
        if parallel == 8 {
            let (kube, google) = per_cluster(&sim, n);
            println!(
                "  requests per cluster: {kube:.1} Kubernetes + {google:.1} Google (shared reads once per project)"
            );
            at8 = (wall, trips, span);
        }
    }
    let (runs_x, rss_x) = repeated(|| xargs(&sim, home, &list, 8));
    let wall_x = runs_x.median();
    println!("  xargs -P 8, single doctor per context:  {runs_x}, peak RSS {rss_x:.1} MiB (largest process)");
    let (runs_x32, _) = repeated(|| xargs(&sim, home, &list, 32));
    println!("  xargs -P 32, single doctor per context: {runs_x32}");
    let l = list.display();
    let seq = format!("while read c; do \"$BIN\" doctor --context \"$c\" -o json > /dev/null; done < {l}");
    let (wall_s, _) = timed(&sim, home, &seq);
    println!(
        "  single doctor per context in sequence:  {wall_s:.2} s ({:.2} s a cluster)",
        wall_s / n as f64
    );
    println!(
        "  speed-up of --all-contexts (--parallel 8): {:.1}x over xargs -P 8, {:.1}x over the sequence",
        wall_x / at8.0,
        wall_s / at8.0
    );
    for (parallel, wall) in walls.iter().skip(1) {
        println!(
            "  speed-up of --all-contexts --parallel {parallel}: {:.1}x over xargs -P 8",
            wall_x / wall
        );
    }
    let ratios = paired(&sim, home, &list);
    let (lo, hi) = ratios
        .0
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(l, h), r| (l.min(*r), h.max(*r)));
    println!(
        "  speed-up of --parallel 100 over xargs -P 8, {PAIRS} pairs of runs taken together: {:.1}x \
         (median; {lo:.1}x-{hi:.1}x)",
        ratios.median()
    );
    println!("  single doctor alone, one cluster of each scenario (every request, Google included):");
    for (scenario, wall, reqs, trips) in single_round_trips(&sim, home) {
        println!("    {scenario:<18} {wall:.2} s, {reqs} requests, {trips} round trips one after another");
    }
    // The log ends an exec when its WebSocket upgrade is answered; the runtime's start follows.
    let path = at8.2 + gke_sim::exec::START.as_secs_f64();
    println!(
        "  bound at --parallel 8: {n} clusters x ({:.2} s + the exec's {:.2} s start) / 8 = {:.2} s",
        at8.2,
        gke_sim::exec::START.as_secs_f64(),
        n as f64 * path / 8.0
    );
}

fn thousand(home: &std::path::Path) {
    let n = 1000;
    let sim = start(n);
    println!("1,000 clusters, 50 ms per API call:");
    for parallel in [8u16, 32] {
        let (wall, rss) = fleet_run(&sim, home, parallel);
        let read = sim
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/api/v1/nodes"))
            .count();
        println!(
            "  doctor --all-contexts --parallel {parallel:<2}: {wall:.2} s, peak RSS {rss:.1} MiB ({read} clusters read)"
        );
    }
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

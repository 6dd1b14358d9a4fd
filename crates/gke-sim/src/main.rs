//! `gke-sim`: run a simulated GKE project on 127.0.0.1 until SIGINT/SIGTERM.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::PossibleValuesParser;
use clap::Parser;
use gke_sim::fleet::{FleetConfig, FleetSim};
use gke_sim::{scenario::all_scenarios, Sim, SimConfig};

#[derive(Parser, Debug)]
#[command(
    name = "gke-sim",
    version,
    about = "A simulated GKE project (Kubernetes API, Compute, Container) on 127.0.0.1",
    after_help = "When ready, writes the env file and prints `ready`. Then:\n  source ENV_FILE && kubectl get pods -n kasten-io && gcloud compute networks subnets list"
)]
struct Args {
    /// Starting state of the world
    #[arg(long, default_value = "fresh", value_parser = PossibleValuesParser::new(all_scenarios().map(|s| s.0)))]
    scenario: String,
    /// Where to write the shell `export` lines for kubectl, gcloud and the plugin
    #[arg(long, default_value = "gke-sim.env")]
    env_file: PathBuf,
    /// Delay every response by N milliseconds
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Answer this share of API requests with 429 or 503 (0.0 to 1.0); with --clusters, drawn per
    /// cluster for Kubernetes requests and per project for Google's
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Seed of the error sequence
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How long the simulated ingress controller waits before it acts (ms)
    #[arg(long, default_value_t = 1500)]
    lb_delay_ms: u64,
    /// Apply the Nth write request (Lease writes not counted), then hold its response open until the
    /// client goes away; prints `gke-sim: holding write #N ...` on stderr when it does
    #[arg(long, value_name = "N")]
    hold_write: Option<usize>,
    /// Whether the ingress controller adds the proxy-only range to its own `k8s-fw-l7--<uid>` rule:
    /// `code` as ingress-gce's source does, `docs` as GKE's how-to page says (see FIDELITY.md)
    #[arg(long, default_value = "docs", value_parser = ["code", "docs"])]
    controller_firewall: String,
    /// Directory for the kubeconfig, ADC file and gcloud config (default: beside the env file)
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Serve a fleet of N clusters across a few projects and regions, one kubeconfig context each
    /// (healthy and broken ones by index, plus unreachable, non-GKE, expired and duplicate contexts)
    #[arg(long, value_name = "N", conflicts_with = "scenario")]
    clusters: Option<usize>,
    /// With --clusters: leave out the unreachable, non-GKE, expired and duplicate contexts
    #[arg(long, requires = "clusters")]
    no_fleet_extras: bool,
    /// With --clusters: cluster NAME's Kubernetes API answers MS milliseconds later than the others
    /// (repeatable, or a comma list; e.g. fleet-003=400)
    #[arg(long, value_name = "NAME=MS", value_delimiter = ',', requires = "clusters", value_parser = cluster_latency)]
    cluster_latency: Vec<(String, Duration)>,
    /// With --clusters: add a healthy cluster (context gke_kasten-fleet-prod_us-central1-a_overloaded)
    /// whose API server answers each request only after MS milliseconds
    #[arg(long, value_name = "MS", requires = "clusters")]
    overloaded_cluster_ms: Option<u64>,
    /// List the scenarios and exit
    #[arg(long)]
    list_scenarios: bool,
}

/// `NAME=MS` of --cluster-latency.
fn cluster_latency(s: &str) -> Result<(String, Duration), String> {
    let (name, ms) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not NAME=MS (e.g. fleet-003=400)"))?;
    let ms: u64 = ms
        .parse()
        .map_err(|_| format!("`{ms}` is not a number of milliseconds"))?;
    Ok((name.to_string(), Duration::from_millis(ms)))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.list_scenarios {
        for (name, desc) in all_scenarios() {
            println!("{name:24} {desc}");
        }
        return Ok(());
    }
    if !(0.0..=1.0).contains(&args.error_rate) {
        anyhow::bail!("--error-rate must be between 0.0 and 1.0 (got {})", args.error_rate);
    }
    let cfg = SimConfig {
        scenario: args.scenario,
        latency: Duration::from_millis(args.latency_ms),
        error_rate: args.error_rate,
        seed: args.seed,
        lb_delay: Duration::from_millis(args.lb_delay_ms),
        hold_write: args.hold_write,
        controller_firewall: args.controller_firewall.parse().map_err(anyhow::Error::msg)?,
        ..SimConfig::default()
    };
    let dir = args.state_dir.unwrap_or_else(|| {
        let parent = args
            .env_file
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    p.to_path_buf()
                }
            })
            .unwrap_or_else(|| PathBuf::from("."));
        parent.join(format!(
            "{}.d",
            args.env_file
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| "gke-sim".into())
        ))
    });
    let stop: Box<dyn FnOnce()> = match args.clusters {
        Some(n) => {
            let fc = FleetConfig {
                clusters: n,
                extras: !args.no_fleet_extras,
                cluster_latency: args.cluster_latency.into_iter().collect(),
                overloaded: args.overloaded_cluster_ms.map(Duration::from_millis),
            };
            let fleet = FleetSim::spawn(cfg, fc, Some(dir))?;
            fleet.write_env_file(&args.env_file)?;
            Box::new(move || fleet.stop())
        }
        None => {
            let sim = Sim::spawn(cfg, Some(dir))?;
            sim.write_env_file(&args.env_file)?;
            Box::new(move || sim.stop())
        }
    };
    println!("ready");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        anyhow::Ok(())
    })?;
    stop();
    Ok(())
}

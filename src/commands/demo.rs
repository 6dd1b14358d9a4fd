//! `demo`: start the simulated GKE project (gke-sim, scenario `fresh`) in-process, run install
//! with its real output, then doctor, and print the dashboard URL. No cloud account, no packet
//! beyond 127.0.0.1.

use clap::Parser;

use crate::cli::{Cli, Command, DemoArgs, Global};
use crate::error::exit;
use crate::printer::Printer;

pub async fn run(_g: &Global, a: &DemoArgs, p: &Printer) -> anyhow::Result<u8> {
    p.status(
        "Starting",
        "a simulated GKE project on 127.0.0.1 (gke-sim, scenario `fresh`: K10 installed, nothing exposed)",
    );
    let cfg = gke_sim::SimConfig {
        lb_delay: a.lb_delay,
        ..Default::default()
    };
    let sim = gke_sim::Sim::spawn(cfg, None)?;
    for (k, v) in sim.env() {
        // The plugin needs the kubeconfig, the endpoints and the ADC file; set them for this process.
        std::env::set_var(k, v);
    }
    let kubeconfig = sim.kubeconfig_path().display().to_string();
    let parse = |args: &[&str]| Cli::try_parse_from(std::iter::once("kubectl-kasten_ilb").chain(args.iter().copied()));
    let install = parse(&["install", "--yes", "--kubeconfig", &kubeconfig])?;
    let doctor = parse(&["doctor", "--kubeconfig", &kubeconfig])?;
    p.out("$ kubectl kasten-ilb install --yes\n");
    let Command::Install(ia) = &install.command else {
        unreachable!()
    };
    crate::commands::install::run(&install.global, ia, p).await?;
    p.out("\n$ kubectl kasten-ilb doctor\n");
    let Command::Doctor(da) = &doctor.command else {
        unreachable!()
    };
    let code = crate::commands::doctor::run(&doctor.global, da, p).await?;
    p.out("\nThat was a simulation: the address above exists only inside gke-sim. On a real cluster, run the same commands.");
    drop(sim);
    Ok(if code == exit::OK { exit::OK } else { code })
}

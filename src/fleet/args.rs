//! The fleet flags of `doctor` and `status` (clap derive only; doc comments are the help).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

#[derive(Args, Debug, Clone, Default)]
pub struct FleetArgs {
    /// Check every context of the kubeconfig, concurrently (a fleet)
    #[arg(long, conflicts_with = "contexts")]
    pub all_contexts: bool,
    /// Check the contexts whose name matches REGEX (repeatable, or a comma list)
    #[arg(long = "contexts", value_name = "REGEX", value_delimiter = ',')]
    pub contexts: Vec<String>,
    /// With a fleet: how many clusters are checked at once
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub parallel: u16,
    /// With a fleet: the deadline of each cluster (e.g. 60s, 2m)
    #[arg(long, default_value = "60s", value_parser = crate::cli::parse_duration, value_name = "DURATION")]
    pub per_cluster_timeout: Duration,
    /// With a fleet: also write a JUnit XML report to FILE (a test case per cluster and check)
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

impl FleetArgs {
    /// Whether a fleet was asked for.
    pub fn is_fleet(&self) -> bool {
        self.all_contexts || !self.contexts.is_empty()
    }
}

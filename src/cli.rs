//! Command-line interface (clap derive only; doc comments are the help).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub const EXAMPLES: &str = "\
Examples:
  # Expose K10 on an internal load balancer (plan, confirm, apply, verify)
  kubectl kasten-ilb install

  # Show what would change, write nothing
  kubectl kasten-ilb install --dry-run

  # Find out why the internal dashboard does not answer
  kubectl kasten-ilb doctor

  # Remove what install made (and nothing else)
  kubectl kasten-ilb uninstall --yes

  # Try it all against a simulated GKE project
  kubectl kasten-ilb demo";

#[derive(Parser, Debug)]
#[command(
    name = "kubectl-kasten_ilb",
    version = crate::VERSION,
    about = "Expose the Kasten K10 dashboard on a GKE internal load balancer, reachable only from inside your VPC",
    long_about = None,
    after_help = EXAMPLES,
    propagate_version = true,
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: the current context)
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Namespace K10 is installed in
    #[arg(short = 'n', long, global = true, default_value = "kasten-io", value_name = "NS")]
    pub namespace: String,
    /// Google Cloud project of the cluster (default: from the context name or the nodes)
    #[arg(long, global = true, value_name = "ID")]
    pub project: Option<String>,
    /// Cluster location, a zone or region (default: from the context name)
    #[arg(long, global = true, value_name = "LOCATION")]
    pub location: Option<String>,
    /// GKE cluster name (default: from the context name)
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,
    /// VPC network (default: the cluster's network)
    #[arg(long, global = true, value_name = "NAME")]
    pub network: Option<String>,
    /// Region of the load balancer (default: the cluster's region)
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// More detail on stderr (-v retries and requests, -vv more)
    #[arg(short = 'v', long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Never colour output (also: NO_COLOR)
    #[arg(long, global = true)]
    pub no_color: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Plan, confirm and apply everything an internal K10 dashboard needs, then verify it
    #[command(
        after_help = "Examples:\n  kubectl kasten-ilb install\n  kubectl kasten-ilb install --dry-run -o yaml\n  kubectl kasten-ilb install --yes --proxy-subnet-range 10.120.0.0/23"
    )]
    Install(InstallArgs),
    /// Check every link of the chain, read-only, and say which one is broken and how to fix it
    #[command(
        after_help = "Exit status: 0 no FAIL (WARN allowed), 1 a check FAILed, 2 doctor could not run.\n\nExamples:\n  kubectl kasten-ilb doctor\n  kubectl kasten-ilb doctor -o json"
    )]
    Doctor(DoctorArgs),
    /// Remove what install created, in reverse order, and nothing else
    #[command(
        after_help = "Examples:\n  kubectl kasten-ilb uninstall --dry-run\n  kubectl kasten-ilb uninstall --yes --delete-proxy-subnet"
    )]
    Uninstall(UninstallArgs),
    /// One screen: URL, address, NEGs, backend health, recent controller events, drift
    Status(StatusArgs),
    /// Print what install would do as files for GitOps: K10 chart values, gcloud commands, or manifests
    #[command(
        after_help = "Examples:\n  kubectl kasten-ilb export --format helm-values > k10-ilb-values.yaml\n  kubectl kasten-ilb export --format gcloud > gcp-side.sh\n  kubectl kasten-ilb export --format yaml > k10-ilb.yaml"
    )]
    Export(ExportArgs),
    /// Run install and doctor against a built-in simulated GKE project (no cloud account needed)
    Demo(DemoArgs),
    /// Print shell completions
    #[command(
        after_help = "Examples:\n  source <(kubectl kasten-ilb completion bash)\n  kubectl kasten-ilb completion zsh > \"${fpath[1]}/_kubectl-kasten_ilb\""
    )]
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HealthCheckMode {
    /// patch-deployment when the readinessProbe is HTTP on the serving port, else backendconfig
    #[default]
    Auto,
    /// Add the containerPort to the gateway Deployment (GKE then copies the readinessProbe)
    PatchDeployment,
    /// A BackendConfig with an explicit health check, referenced from Service gateway
    Backendconfig,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Table,
    Json,
    Yaml,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration: use e.g. 90s, 15m or 1h"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("`{s}` is not a duration: use e.g. 90s, 15m or 1h")),
    };
    if secs == 0 {
        return Err("the timeout must be more than 0s".into());
    }
    Ok(Duration::from_secs(secs))
}

/// What the plan is made of (shared by install and export).
#[derive(Args, Debug, Clone, Default)]
pub struct PlanArgs {
    /// Range for a new proxy-only subnet (default: a free /23 chosen automatically)
    #[arg(long, value_name = "CIDR")]
    pub proxy_subnet_range: Option<String>,
    /// How the load balancer's health check is made to pass
    #[arg(long, value_enum, default_value = "auto")]
    pub health_check: HealthCheckMode,
    /// Name of the Ingress (default: <release>-ilb)
    #[arg(long, value_name = "NAME")]
    pub ingress_name: Option<String>,
    /// URL path of the dashboard (default: /<release>/)
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
    /// A reserved regional internal address (by name) for the load balancer
    #[arg(long, value_name = "NAME")]
    pub static_ip: Option<String>,
    /// Host name the Ingress rule matches (default: any)
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// TLS Secret for HTTPS (HTTP and HTTPS together need --static-ip on GKE)
    #[arg(long, value_name = "SECRET")]
    pub tls_secret: Option<String>,
    /// Expose a K10 that has no authentication configured (the K10 chart refuses this)
    #[arg(long)]
    pub allow_unauthenticated: bool,
}

#[derive(Args, Debug, Clone)]
pub struct InstallArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Apply without asking (required when stdin is not a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Print the plan (and, with -o yaml, the manifests) and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Pod (with curl) to run the in-cluster check from (default: a K10 pod that has curl)
    #[arg(long, value_name = "POD")]
    pub probe_pod: Option<String>,
    /// Deadline for the whole apply-and-verify (e.g. 90s, 15m)
    #[arg(long, default_value = "15m", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Duration,
    /// With --dry-run: print the plan as a table, or the Kubernetes manifests as yaml/json
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Output,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// Values for the K10 Helm chart (ingress.*), with what the chart cannot express
    HelmValues,
    /// The gcloud commands for the Google Cloud side (proxy-only subnet, firewall rule)
    Gcloud,
    /// The Kubernetes manifests install would apply
    Yaml,
}

#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// What to print
    #[arg(long, value_enum, default_value = "helm-values")]
    pub format: ExportFormat,
}

#[derive(Args, Debug, Clone)]
pub struct DoctorArgs {
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Output,
    /// Skip the in-cluster curl check (it needs pods/exec)
    #[arg(long)]
    pub no_exec: bool,
    /// Pod (with curl) to run the in-cluster check from
    #[arg(long, value_name = "POD")]
    pub probe_pod: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct UninstallArgs {
    /// Remove without asking (required when stdin is not a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Print what would be removed and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Also delete the proxy-only subnet, if install created it and no load balancer uses it
    #[arg(long)]
    pub delete_proxy_subnet: bool,
    /// Deadline for waiting on GKE to release the load balancer
    #[arg(long, default_value = "10m", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Duration,
}

#[derive(Args, Debug, Clone)]
pub struct StatusArgs {
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Output,
    /// Refresh on every change of the Ingress or Service gateway (a watch), until interrupted
    #[arg(short = 'w', long)]
    pub watch: bool,
}

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Simulated load-balancer provisioning time
    #[arg(long, default_value = "3s", value_parser = parse_duration, value_name = "DURATION")]
    pub lb_delay: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("abc").is_err());
        assert!(parse_duration("5d").is_err());
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

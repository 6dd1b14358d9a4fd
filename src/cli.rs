//! Command-line interface (clap derive only; doc comments are the help).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The examples under the top-level help (the demo only in builds that have it).
#[cfg(feature = "demo")]
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

#[cfg(not(feature = "demo"))]
pub const EXAMPLES: &str = "\
Examples:
  # Expose K10 on an internal load balancer (plan, confirm, apply, verify)
  kubectl kasten-ilb install

  # Show what would change, write nothing
  kubectl kasten-ilb install --dry-run

  # Find out why the internal dashboard does not answer
  kubectl kasten-ilb doctor

  # Remove what install made (and nothing else)
  kubectl kasten-ilb uninstall --yes";

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
    /// Kubeconfig file (default: $KUBECONFIG or ~/.kube/config)
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: the current context)
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The kubeconfig cluster to use (default: the context's)
    #[arg(long = "cluster", global = true, value_name = "NAME")]
    pub kube_cluster: Option<String>,
    /// The kubeconfig user to use (default: the context's)
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// Username to impersonate in Kubernetes requests
    #[arg(long = "as", global = true, value_name = "USER")]
    pub as_user: Option<String>,
    /// Group to impersonate (repeatable; needs --as)
    #[arg(long = "as-group", global = true, value_name = "GROUP", requires = "as_user")]
    pub as_group: Vec<String>,
    /// UID to impersonate (needs --as)
    #[arg(long = "as-uid", global = true, value_name = "UID", requires = "as_user")]
    pub as_uid: Option<String>,
    /// Limit for each Kubernetes request (e.g. 30s, 1m30s; 0: none)
    #[arg(long, global = true, value_parser = parse_request_timeout, value_name = "DURATION")]
    pub request_timeout: Option<Duration>,
    /// Namespace K10 is installed in
    #[arg(short = 'n', long, global = true, default_value = "kasten-io", value_name = "NS")]
    pub namespace: String,
    /// GCP project (default: from the context name or the nodes)
    #[arg(long, global = true, value_name = "ID")]
    pub project: Option<String>,
    /// GKE location, a zone or region (default: from the context name)
    #[arg(long, global = true, value_name = "LOCATION")]
    pub location: Option<String>,
    /// GKE cluster name (default: from the context name)
    #[arg(long = "gke-cluster", global = true, value_name = "NAME")]
    pub cluster: Option<String>,
    /// VPC network (default: the cluster's network)
    #[arg(long, global = true, value_name = "NAME")]
    pub network: Option<String>,
    /// Region of the load balancer (default: the cluster's region)
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// More detail on stderr: -v retries, -vv more (also -v=N)
    #[arg(short = 'v', long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Never colour output (also: NO_COLOR)
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// Rewrite kubectl's verbosity spellings (`-v=N`, `--v=N`, `--v N`) into N times `-v`, so that
/// clap's counter reads them; everything after `--` is left alone.
pub fn kubectl_verbosity(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut it = args.into_iter().peekable();
    while let Some(a) = it.next() {
        if a == "--" {
            out.push(a);
            out.extend(it);
            break;
        }
        let s = a.to_str().unwrap_or_default();
        let level = if let Some(n) = s.strip_prefix("-v=").or_else(|| s.strip_prefix("--v=")) {
            n.parse::<u8>().ok()
        } else if s == "--v" {
            let n = it.peek().and_then(|n| n.to_str()).and_then(|n| n.parse::<u8>().ok());
            if n.is_some() {
                it.next();
            }
            n
        } else {
            None
        };
        match level {
            Some(0) => {}
            Some(n) => out.push(format!("-{}", "v".repeat(usize::from(n.min(9)))).into()),
            // Not ours, or not a number: clap reads it (and rejects a bad level with its message).
            None => out.push(a),
        }
    }
    out
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
    /// Move the dashboard between an Ingress and a Gateway without losing it (both answer meanwhile)
    #[command(after_help = "Examples:\n  kubectl kasten-ilb migrate --to gateway\n  \
                      kubectl kasten-ilb migrate --to ingress --yes")]
    Migrate(MigrateArgs),
    /// Run install and doctor against a built-in simulated GKE project (no cloud account needed)
    #[cfg(feature = "demo")]
    Demo(DemoArgs),
    /// Print shell completions
    #[command(after_help = "Examples:\n  source <(kubectl kasten-ilb completion bash)\n  \
kubectl kasten-ilb completion zsh > \"${fpath[1]}/_kubectl-kasten_ilb\"\n\n  \
# kubectl 1.26+: `kubectl kasten-ilb <TAB>` completes through this helper\n  \
kubectl kasten-ilb completion install-kubectl-helper")]
    Completion(CompletionArgs),
}

impl Command {
    /// The fleet a `doctor` or `status` checks (`--all-contexts`, `--contexts`), if it checks one.
    pub fn fleet(&self) -> Option<&crate::fleet::FleetArgs> {
        let f = match self {
            Command::Doctor(a) => &a.fleet,
            Command::Status(a) => &a.fleet,
            _ => return None,
        };
        f.is_fleet().then_some(f)
    }
}

#[derive(Args, Debug, Clone)]
#[command(args_conflicts_with_subcommands = true, arg_required_else_help = true)]
pub struct CompletionArgs {
    /// The shell to print completions for
    #[arg(value_enum)]
    pub shell: Option<clap_complete::Shell>,
    #[command(subcommand)]
    pub action: Option<CompletionAction>,
}

#[derive(Subcommand, Debug, Clone)]
pub enum CompletionAction {
    /// Write the `kubectl_complete-kasten_ilb` helper that `kubectl kasten-ilb <TAB>` needs (kubectl 1.26+)
    #[command(
        after_help = "kubectl completes a plugin's arguments by running `kubectl_complete-<plugin>` from PATH; \
krew installs only the plugin itself, so this writes the helper next to it.\n\nExamples:\n  \
kubectl kasten-ilb completion install-kubectl-helper\n  \
kubectl kasten-ilb completion install-kubectl-helper --dir ~/.local/bin"
    )]
    InstallKubectlHelper {
        /// Directory to write it to (default: the plugin's directory on PATH)
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
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

/// A duration as kubectl and Go write them (`90s`, `15m`, `1h`, `1m30s`, `1h 5m`; a bare number is
/// seconds), parsed by jiff's friendly format.
fn parse_any_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let bad = || format!("`{s}` is not a duration: use e.g. 90s, 1m30s, 15m or 1h");
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
        return s.parse::<u64>().map(Duration::from_secs).map_err(|_| bad());
    }
    let d: jiff::SignedDuration = s.parse().map_err(|_| bad())?;
    Duration::try_from(d).map_err(|_| format!("`{s}` is negative: a duration is 0s or more"))
}

pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = parse_any_duration(s)?;
    if d.is_zero() {
        return Err("the timeout must be more than 0s".into());
    }
    Ok(d)
}

/// kubectl's `--request-timeout`: `0` means no timeout.
fn parse_request_timeout(s: &str) -> Result<Duration, String> {
    parse_any_duration(s)
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
    /// Make a self-signed certificate for --host, kept in a kubernetes.io/tls Secret install owns
    #[arg(long, conflicts_with = "tls_secret")]
    pub self_signed: bool,
    /// Serve HTTPS only, no HTTP (with --tls-secret or --self-signed)
    #[arg(long)]
    pub https_only: bool,
    /// Expose a K10 that has no authentication configured (the K10 chart refuses this)
    #[arg(long)]
    pub allow_unauthenticated: bool,
    /// What exposes the dashboard: a gce-internal Ingress, or a Gateway (GKE Gateway API, gke-l7-rilb)
    #[arg(long, value_enum, default_value = "ingress")]
    pub via: Via,
    /// Gateway mode: reachable from every region of the VPC (GCPGatewayPolicy allowGlobalAccess)
    #[arg(long)]
    pub global_access: bool,
}

/// What exposes the gateway on the internal load balancer.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Via {
    /// A gce-internal Ingress (GKE Ingress, the default)
    #[default]
    Ingress,
    /// A Gateway of class gke-l7-rilb with an HTTPRoute and a HealthCheckPolicy (GKE Gateway API)
    Gateway,
}

#[derive(Args, Debug, Clone)]
pub struct MigrateArgs {
    /// Where to move the dashboard: to a Gateway, or back to an Ingress
    #[arg(long, value_enum)]
    pub to: Via,
    /// Delete the old front end without asking (required when stdin is not a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Pod (with curl) to run the in-cluster check from (default: a K10 pod that has curl)
    #[arg(long, value_name = "POD")]
    pub probe_pod: Option<String>,
    /// Deadline for the whole migration (e.g. 90s, 15m)
    #[arg(long, default_value = "15m", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Duration,
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
    /// Deadline for the whole apply-and-verify, waiting for the lock included (e.g. 90s, 15m)
    #[arg(long, default_value = "15m", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Duration,
    /// If another run holds the lock (a Lease in K10's namespace), stop at once instead of waiting
    #[arg(long)]
    pub no_wait: bool,
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
    #[command(flatten)]
    pub fleet: crate::fleet::FleetArgs,
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
    /// Deadline for waiting on the lock and on GKE to release the load balancer
    #[arg(long, default_value = "10m", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Duration,
    /// If another run holds the lock (a Lease in K10's namespace), stop at once instead of waiting
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Args, Debug, Clone)]
pub struct StatusArgs {
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Output,
    /// Refresh on every change of the Ingress or Service gateway (a watch), until interrupted
    #[arg(short = 'w', long, conflicts_with_all = ["all_contexts", "contexts"])]
    pub watch: bool,
    #[command(flatten)]
    pub fleet: crate::fleet::FleetArgs,
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
        assert!(parse_duration("5x").is_err());
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1h 5m").unwrap(), Duration::from_secs(3900));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("-5s").is_err());
        assert_eq!(parse_request_timeout("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_request_timeout("2m").unwrap(), Duration::from_secs(120));
    }

    fn words(v: &[&str]) -> Vec<std::ffi::OsString> {
        v.iter().map(Into::into).collect()
    }

    #[test]
    fn kubectl_verbosity_spellings_become_counts() {
        let got = kubectl_verbosity(words(&["x", "-v=3", "doctor", "--v=2", "--v", "1", "--v=0", "-vv"]));
        assert_eq!(got, words(&["x", "-vvv", "doctor", "-vv", "-v", "-vv"]));
        // After `--`, and words that are not a level, are left for clap.
        let got = kubectl_verbosity(words(&["x", "-v=high", "--", "-v=2"]));
        assert_eq!(got, words(&["x", "-v=high", "--", "-v=2"]));
        let cli = Cli::try_parse_from(kubectl_verbosity(words(&["x", "doctor", "-v=2"]))).unwrap();
        assert_eq!(cli.global.verbose, 2);
        assert!(Cli::try_parse_from(kubectl_verbosity(words(&["x", "doctor", "-v=high"]))).is_err());
    }

    #[test]
    fn kubectl_flags_parse_where_kubectl_has_them() {
        let cli = Cli::try_parse_from([
            "x",
            "doctor",
            "--cluster",
            "kc-cluster",
            "--gke-cluster",
            "gke",
            "--user",
            "u",
            "--as",
            "jane",
            "--as-group",
            "a",
            "--as-group",
            "b",
            "--as-uid",
            "42",
            "--request-timeout",
            "1m30s",
        ])
        .unwrap();
        let g = cli.global;
        assert_eq!(g.kube_cluster.as_deref(), Some("kc-cluster"));
        assert_eq!(g.cluster.as_deref(), Some("gke"));
        assert_eq!(g.user.as_deref(), Some("u"));
        assert_eq!(g.as_user.as_deref(), Some("jane"));
        assert_eq!(g.as_group, ["a", "b"]);
        assert_eq!(g.as_uid.as_deref(), Some("42"));
        assert_eq!(g.request_timeout, Some(Duration::from_secs(90)));
        // kubectl refuses groups without a user to impersonate; so do we.
        assert!(Cli::try_parse_from(["x", "doctor", "--as-group", "a"]).is_err());
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

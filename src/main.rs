//! `kubectl-kasten_ilb`: parse, set up the printer, run, map the error to an exit status.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use kubectl_kasten_ilb::cli::{Cli, Command};
use kubectl_kasten_ilb::error::{self, exit};
use kubectl_kasten_ilb::printer::Printer;

/// `kubectl kasten-ilb` when run as a kubectl plugin (kubectl execs `kubectl-kasten_ilb`).
fn display_name() -> &'static str {
    let argv0 = std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
        .unwrap_or_default();
    if argv0.starts_with("kubectl-") {
        "kubectl kasten-ilb"
    } else {
        "kubectl-kasten_ilb"
    }
}

fn main() -> ExitCode {
    kubectl_kasten_ilb::init_crypto();
    let name = display_name();
    let cmd = Cli::command().name(name).bin_name(name);
    let cli = match cmd.try_get_matches().and_then(|m| Cli::from_arg_matches(&m)) {
        Ok(c) => c,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp
                | clap::error::ErrorKind::DisplayVersion
                | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => exit::OK,
                _ => exit::USAGE,
            };
            let _ = e.print();
            return ExitCode::from(
                if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    exit::USAGE
                } else {
                    code
                },
            );
        }
    };
    if let Command::Completion { shell } = &cli.command {
        let mut c = Cli::command();
        clap_complete::generate(
            *shell,
            &mut c,
            name.replace(' ', "-")
                .replace("kubectl-kasten-ilb", "kubectl-kasten_ilb"),
            &mut std::io::stdout(),
        );
        return ExitCode::from(exit::OK);
    }
    let printer = Printer::new(cli.global.no_color, cli.global.verbose);
    init_tracing(cli.global.verbose);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            printer.error(&format!("cannot start the async runtime: {e}"), None);
            return ExitCode::from(exit::FAILED);
        }
    };
    let result = rt.block_on(async {
        tokio::select! {
            r = kubectl_kasten_ilb::commands::run(cli, &printer) => r,
            _ = tokio::signal::ctrl_c() => Err(anyhow::Error::new(error::CliError {
                kind: error::Kind::Interrupted,
                message: "interrupted".into(),
                hint: Some("every step is safe to repeat: run the same command again to finish (or `kubectl kasten-ilb uninstall` to undo)".into()),
            })),
        }
    });
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => match error::find(&e) {
            Some(c) => {
                printer.error(&format!("{e:#}"), c.hint.as_deref());
                ExitCode::from(c.exit_code())
            }
            None => {
                printer.error(
                    &format!("{e:#}"),
                    Some("run `kubectl kasten-ilb doctor` to see the state of each link"),
                );
                ExitCode::from(exit::FAILED)
            }
        },
    }
}

/// Our own logs at -vv and more; other crates stay at warn so no header or token is ever logged.
fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 | 1 => "warn",
        2 => "kubectl_kasten_ilb=debug,warn",
        _ => "kubectl_kasten_ilb=trace,warn",
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .with_target(false)
        .try_init();
}

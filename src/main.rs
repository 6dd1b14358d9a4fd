//! `kubectl-kasten_ilb`: parse, set up the printer, run, map the error to an exit status.
#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use std::io::Write;

use kubectl_kasten_ilb::cli::{Cli, Command, CompletionAction, CompletionArgs};
use kubectl_kasten_ilb::complete;
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
    tune_allocator();
    kubectl_kasten_ilb::init_crypto();
    quiet_panic_on_closed_pipe();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "__complete") {
        // kubectl's completion helper: Cobra's protocol, never an error on the terminal.
        let words: Vec<String> = args[2..].iter().map(|w| w.to_string_lossy().into_owned()).collect();
        return match kubectl_kasten_ilb::complete::run(&words) {
            Ok(()) => ExitCode::from(exit::OK),
            Err(e) => quiet_on_closed_pipe(e),
        };
    }
    let name = display_name();
    let cmd = Cli::command().name(name).bin_name(name);
    let args = kubectl_kasten_ilb::cli::kubectl_verbosity(args);
    let cli = match cmd.try_get_matches_from(args).and_then(|m| Cli::from_arg_matches(&m)) {
        Ok(c) => c,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => exit::OK,
                _ => exit::USAGE,
            };
            // Help piped into `head` meets a closed pipe: that is not an error.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if let Command::Completion(c) = &cli.command {
        return completion(c, name);
    }
    let printer = Printer::new(cli.global.no_color, cli.global.verbose);
    init_tracing(cli.global.verbose, printer.color);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers(&cli.command))
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
            _ = tokio::signal::ctrl_c() => {
                // The command stopped where it was; its lock is released now, not 30s from now.
                kubectl_kasten_ilb::lock::release_held().await;
                Err(anyhow::Error::new(error::CliError {
                    kind: error::Kind::Interrupted,
                    message: "interrupted".into(),
                    hint: Some(
                        "every step is safe to repeat: run the same command again to finish (or `kubectl kasten-ilb \
                         uninstall` to undo)"
                            .into(),
                    ),
                }))
            }
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

/// `completion SHELL` and `completion install-kubectl-helper`.
fn completion(c: &CompletionArgs, name: &str) -> ExitCode {
    let printer = Printer::new(false, 0);
    if let Some(CompletionAction::InstallKubectlHelper { dir }) = &c.action {
        if cfg!(windows) {
            printer.error(
                "the kubectl completion helper is a sh script: not available on Windows",
                Some("in PowerShell: `kubectl kasten-ilb completion powershell | Out-String | Invoke-Expression`"),
            );
            return ExitCode::from(exit::USAGE);
        }
        let Some(dir) = dir.clone().or_else(complete::default_helper_dir) else {
            printer.error(
                "cannot tell where the plugin is",
                Some("pass --dir DIR, a directory on PATH"),
            );
            return ExitCode::from(exit::USAGE);
        };
        return match complete::install_helper(&dir) {
            Ok(path) => {
                printer.status("Installed", &format!("{}", path.display()));
                let on_path = std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d == dir));
                if !on_path {
                    printer.warn(&format!(
                        "{} is not on PATH: kubectl will not find the helper",
                        dir.display()
                    ));
                }
                printer.note("`kubectl kasten-ilb <TAB>` now completes in shells where kubectl's completion is loaded");
                ExitCode::from(exit::OK)
            }
            Err(e) => {
                printer.error(
                    &format!("cannot write {}: {e}", dir.join(complete::HELPER_NAME).display()),
                    Some("pass --dir DIR, a writable directory on PATH"),
                );
                ExitCode::from(exit::FAILED)
            }
        };
    }
    let Some(shell) = c.shell else {
        unreachable!("clap requires a shell or a subcommand")
    };
    // Generated into memory, then written once: a closed pipe (`| head`) is not a panic.
    let mut script = Vec::new();
    let bin = name
        .replace(' ', "-")
        .replace("kubectl-kasten-ilb", "kubectl-kasten_ilb");
    clap_complete::generate(shell, &mut Cli::command(), bin, &mut script);
    match std::io::stdout().lock().write_all(&script) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => quiet_on_closed_pipe(e),
    }
}

/// The safety net under the printer: a `println!`/`eprintln!` that meets a closed pipe (the reader,
/// `| head -1`, has what it wanted) ends the process quietly with 0 instead of a panic message, as
/// the default SIGPIPE would. Every other panic keeps Rust's report.
fn quiet_panic_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if msg.starts_with("failed printing to std") && msg.contains("Broken pipe") {
            std::process::exit(i32::from(exit::OK));
        }
        default(info);
    }));
}

/// A reader that went away (`| head -1`) is what the user asked for: exit 0, say nothing.
fn quiet_on_closed_pipe(e: std::io::Error) -> ExitCode {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return ExitCode::from(exit::OK);
    }
    let _ = writeln!(std::io::stderr(), "error: cannot write to stdout: {e}");
    ExitCode::from(exit::FAILED)
}

/// Libraries' logs stay off at the default verbosity and at -v: what a retry means is said once
/// per retry by the printer (`retry: ...` at -v), and a retry that succeeds is not an error. From
/// -vv, our own request log (`kube::log` and `gcp`, headers redacted) and libraries' warnings; the
/// colour setting is the printer's.
fn init_tracing(verbose: u8, color: bool) {
    let level = match verbose {
        0 | 1 => "off",
        2 => "kubectl_kasten_ilb=debug,warn",
        _ => "kubectl_kasten_ilb=trace,warn",
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(color && std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .with_target(false)
        .without_time()
        .try_init();
}

/// One cluster's reads are I/O: two workers serve them. A fleet's clusters are tasks of their own,
/// and their decoding and TLS use the machine's cores, up to one per cluster checked at once.
fn workers(command: &Command) -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    match command.fleet() {
        Some(f) => cores.min(usize::from(f.parallel)).max(2),
        None => 2,
    }
}

/// glibc's allocator asks the kernel for memory in small steps: the main heap grows by what an
/// allocation needs plus `M_TOP_PAD` (128 KiB by default), and a worker thread's arena starts with
/// that much and is then made usable page range by page range (`mprotect`). A fleet run at
/// `--parallel 100` made about 10,500 such calls; with a 16 MiB pad, about 2,500, and its system
/// time fell by an eighth. Pages count once written: peak memory grew by about 1 MiB at 100
/// clusters and 8 MiB at 1,000 (BENCHMARKS.md, round 8). Setting the pad also fixes glibc's mmap
/// and trim thresholds at their defaults instead of letting them adapt.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt sets one of glibc's allocator parameters; it is called before any other
    // thread exists, and a value it refuses leaves the default in place.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, 16 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

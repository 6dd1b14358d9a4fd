//! One module per subcommand; each turns settings into a plan or a report and returns an exit status.

#[cfg(feature = "demo")]
pub mod demo;
pub mod doctor;
pub mod export;
pub mod install;
pub mod migrate;
pub mod status;
pub mod tls_choice;
pub mod uninstall;

use crate::cli::{Cli, Command};
use crate::printer::Printer;

pub async fn run(cli: Cli, p: &Printer) -> anyhow::Result<u8> {
    if !matches!(cli.command, Command::Demo(_) | Command::Completion { .. }) {
        // Every value is checked before anything is read or changed.
        crate::validate::namespace(&cli.global.namespace).map_err(crate::validate::Rejected::into_error)?;
    }
    match &cli.command {
        Command::Install(a) => install::run(&cli.global, a, p).await,
        Command::Doctor(a) => doctor::run(&cli.global, a, p).await,
        Command::Uninstall(a) => uninstall::run(&cli.global, a, p).await,
        Command::Status(a) => status::run(&cli.global, a, p).await,
        Command::Export(a) => export::run(&cli.global, a, p).await,
        Command::Migrate(a) => migrate::run(&cli.global, a, p).await,
        #[cfg(feature = "demo")]
        Command::Demo(a) => demo::run(&cli.global, a, p).await,
        Command::Completion(_) => unreachable!("handled in main"),
    }
}

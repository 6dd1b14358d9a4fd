//! `doctor --all-contexts` / `--contexts REGEX` and the same for `status`: select, check, print.

use std::sync::Arc;

use super::{contexts, junit, render, run, FleetArgs, Row};
use crate::cli::{DoctorArgs, Global, Output, StatusArgs};
use crate::error;
use crate::printer::Printer;

/// Doctor on every selected cluster; the exit status is the worst of the fleet.
pub async fn doctor(g: &Global, a: &DoctorArgs, p: &Printer) -> anyhow::Result<u8> {
    let f = &a.fleet;
    let (kc, targets) = contexts::select(g, f)?;
    let shared = run::Shared::new(kc, g, p)?;
    let a = Arc::new(a.clone());
    let rows = run::each(targets, f, p, |t| {
        let (s, a) = (shared.clone(), a.clone());
        async move { run::doctor_one(t, &s, &a).await }
    })
    .await;
    finish(rows, a.output, f, p, "doctor")
}

/// Status on every selected cluster: a row each (FAIL: drift, no address, unhealthy backends).
pub async fn status(g: &Global, a: &StatusArgs, p: &Printer) -> anyhow::Result<u8> {
    let f = &a.fleet;
    let (kc, targets) = contexts::select(g, f)?;
    let shared = run::Shared::new(kc, g, p)?;
    let rows = run::each(targets, f, p, |t| {
        let s = shared.clone();
        async move { run::status_one(t, &s).await }
    })
    .await;
    finish(rows, a.output, f, p, "status")
}

/// Sort worst first, print, write the JUnit file, and return the fleet's exit status.
pub fn finish(mut rows: Vec<Row>, output: Output, f: &FleetArgs, p: &Printer, command: &str) -> anyhow::Result<u8> {
    super::sort(&mut rows);
    match output {
        Output::Table => p.out(&render::table(p, &rows)),
        out => p.out(&render::document(&rows, out)?),
    }
    if let Some(path) = &f.junit {
        std::fs::write(path, junit::report(&rows, command)).map_err(|e| {
            error::environment(
                format!("cannot write the JUnit report {}: {e}", path.display()),
                "pass --junit a path in a writable directory",
            )
        })?;
    }
    Ok(super::exit_code(&rows))
}

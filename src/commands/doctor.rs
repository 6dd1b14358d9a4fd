//! `doctor`: read everything ([`crate::doctor::gather`]), run the checks, print the report. The
//! checks themselves live in `src/doctor/`.

use crate::cli::{DoctorArgs, Global, Output};
use crate::doctor::{self, render, Outcome};
use crate::error::exit;
use crate::printer::Printer;

pub use crate::doctor::checks::events::explain_event;
pub use crate::doctor::observe::GCP_NEEDS;
pub use crate::doctor::render::render_table;
pub use crate::doctor::{Check, CheckId};

pub async fn run(g: &Global, a: &DoctorArgs, p: &Printer) -> anyhow::Result<u8> {
    if a.fleet.is_fleet() {
        return crate::fleet::command::doctor(g, a, p).await;
    }
    let facts = doctor::gather(g, a, p).await?;
    let checks = doctor::evaluate(&facts);
    match a.output {
        Output::Table => render::table_report(p, &checks).iter().for_each(|part| p.out(part)),
        out => p.out(&render::document(&facts, &checks, out)?),
    }
    let fails = render::count(&checks, Outcome::Fail);
    Ok(if fails > 0 { exit::FAILED } else { exit::OK })
}

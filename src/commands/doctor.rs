use crate::cli::Global;
use crate::printer::Printer;

pub async fn run(_g: &Global, _a: &crate::cli::DoctorArgs, _p: &Printer) -> anyhow::Result<u8> {
    Err(crate::error::failed("not built yet", "use install"))
}

//! Doctor's report: a table with hints and a summary, or a JSON/YAML document.

use serde_json::json;

use super::{Check, Facts, Outcome};
use crate::cli::Output;
use crate::printer::{Printer, Tone};

/// How many checks have an outcome of this kind.
pub fn count(checks: &[Check], o: Outcome) -> usize {
    checks.iter().filter(|c| c.result.same_kind(o)).count()
}

const SKIP: Outcome = Outcome::Skip { blocked_by: None };

pub fn render_table(p: &Printer, checks: &[Check]) -> String {
    let rows = checks
        .iter()
        .map(|c| {
            let tone = match c.result {
                Outcome::Pass => Tone::Good,
                Outcome::Warn => Tone::Warn,
                Outcome::Fail => Tone::Bad,
                Outcome::Skip { .. } => Tone::Dim,
            };
            vec![
                (c.title().to_string(), Tone::Plain),
                (c.result.label().to_string(), tone),
                (c.text(), Tone::Plain),
            ]
        })
        .collect();
    p.table(&["Check", "Result", "Finding"], rows)
}

/// The table, the hints of WARN and FAIL checks, and the summary: each part printed as a line.
pub fn table_report(p: &Printer, checks: &[Check]) -> Vec<String> {
    let mut out = vec![render_table(p, checks)];
    let hints: Vec<String> = checks
        .iter()
        .filter(|c| matches!(c.result, Outcome::Fail | Outcome::Warn))
        .filter_map(|c| c.hint.as_ref().map(|h| format!("hint ({}): {h}", c.id)))
        .collect();
    if !hints.is_empty() {
        out.push(format!("\n{}", hints.join("\n")));
    }
    out.push(format!(
        "\nSummary: {} PASS, {} WARN, {} FAIL, {} SKIP",
        count(checks, Outcome::Pass),
        count(checks, Outcome::Warn),
        count(checks, Outcome::Fail),
        count(checks, SKIP)
    ));
    out
}

/// The JSON (or YAML) document: schema version, where doctor looked, the summary and the checks.
pub fn document(f: &Facts, checks: &[Check], out: Output) -> anyhow::Result<String> {
    let doc = report(f, checks);
    Ok(if out == Output::Json {
        serde_json::to_string_pretty(&doc)?
    } else {
        serde_norway::to_string(&doc)?
    })
}

/// The report as a JSON value (a fleet's report holds one per cluster).
pub fn report(f: &Facts, checks: &[Check]) -> serde_json::Value {
    json!({
        "schemaVersion": 1,
        "context": f.context,
        "cluster": f.cluster().path(),
        "namespace": f.namespace,
        "summary": {
            "pass": count(checks, Outcome::Pass), "warn": count(checks, Outcome::Warn),
            "fail": count(checks, Outcome::Fail), "skip": count(checks, SKIP),
        },
        "checks": checks,
    })
}

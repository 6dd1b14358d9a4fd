//! The fleet's report: a table worst first with a summary line, or one JSON/YAML document whose
//! clusters carry single doctor's report.

use serde_json::{json, Value};

use super::{Checked, Row, Verdict};
use crate::cli::Output;
use crate::printer::{Printer, Tone};

fn tone(v: Verdict) -> Tone {
    match v {
        Verdict::Pass => Tone::Good,
        Verdict::Warn | Verdict::Unmanaged => Tone::Warn,
        Verdict::Fail | Verdict::Error => Tone::Bad,
    }
}

/// `projects/P/locations/L/clusters/C` as `P/L/C`.
fn short_cluster(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["projects", p, "locations", l, "clusters", c] => format!("{p}/{l}/{c}"),
        _ => path.to_string(),
    }
}

fn context_cell(r: &Row) -> String {
    match r.aliases.as_slice() {
        [] => r.context.clone(),
        a => format!("{} (also {})", r.context, a.join(", ")),
    }
}

fn row_cells(r: &Row) -> Vec<(String, Tone)> {
    let (what, finding, _) = r.first_problem().unwrap_or_default();
    let problem = match what.as_str() {
        "" => r.note().unwrap_or_default(),
        "error" | "status" => finding,
        w => format!("{w}: {finding}"),
    };
    vec![
        (context_cell(r), Tone::Plain),
        (
            r.cluster.as_deref().map(short_cluster).unwrap_or_else(|| "-".into()),
            Tone::Plain,
        ),
        (r.mode.label().to_string(), Tone::Plain),
        (r.verdict().label().to_string(), tone(r.verdict())),
        (problem, Tone::Plain),
    ]
}

/// How many rows have this verdict.
pub fn count(rows: &[Row], v: Verdict) -> usize {
    rows.iter().filter(|r| r.verdict() == v).count()
}

pub fn summary(rows: &[Row]) -> String {
    let aliases: usize = rows.iter().map(|r| r.aliases.len()).sum();
    let dup = match aliases {
        0 => String::new(),
        1 => " (1 more context for a cluster already listed)".into(),
        n => format!(" ({n} more contexts for clusters already listed)"),
    };
    // Only status has UNMANAGED rows: doctor's line stays as it was.
    let unmanaged = match count(rows, Verdict::Unmanaged) {
        0 => String::new(),
        n => format!(", {n} UNMANAGED"),
    };
    format!(
        "Summary: {} clusters{dup}: {} PASS{unmanaged}, {} WARN, {} FAIL, {} ERROR",
        rows.len(),
        count(rows, Verdict::Pass),
        count(rows, Verdict::Warn),
        count(rows, Verdict::Fail),
        count(rows, Verdict::Error),
    )
}

/// The table (rows sorted by the caller), the hint of each row's first FAIL or error, and the
/// summary line.
pub fn table(p: &Printer, rows: &[Row]) -> String {
    let header = ["Context", "Cluster", "Mode", "Verdict", "First FAIL"];
    let mut out = p.table(&header, rows.iter().map(row_cells).collect());
    let hints: Vec<String> = rows
        .iter()
        .filter_map(|r| Some(format!("hint ({}): {}", r.context, r.first_problem()?.2?)))
        .collect();
    if !hints.is_empty() {
        out.push_str(&format!("\n\n{}", hints.join("\n")));
    }
    format!("{out}\n\n{}", summary(rows))
}

/// One cluster in the fleet's document. Serialised from the rows as they are (a cluster's report is
/// borrowed, not copied: building a `Value` of the whole document copied each report three times,
/// a tenth of a 100-cluster run's CPU). Fields are in the order of their names, as the document's
/// other maps are (serde_json sorts keys).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterDoc<'a> {
    aliases: &'a [String],
    cluster: Option<&'a str>,
    context: &'a str,
    error: Value,
    exit_status: u8,
    first_fail: Option<Value>,
    mode: &'static str,
    note: Option<String>,
    report: &'a Value,
    seconds: f64,
    verdict: &'static str,
}

/// The fleet's document: its clusters, then the summary.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    clusters: Vec<ClusterDoc<'a>>,
    kind: &'static str,
    schema_version: u32,
    summary: Value,
}

static NO_REPORT: Value = Value::Null;

fn cluster_doc(r: &Row) -> ClusterDoc<'_> {
    let (report, error) = match &r.outcome {
        Checked::Report { doc, .. } | Checked::Status { doc, .. } => (doc, Value::Null),
        Checked::Error { message, hint, .. } => (&NO_REPORT, json!({"message": message, "hint": hint})),
    };
    let first_fail = match &r.outcome {
        Checked::Report { .. } | Checked::Status { .. } => r
            .first_problem()
            .map(|(check, finding, hint)| json!({"check": check, "finding": finding, "hint": hint})),
        Checked::Error { .. } => None,
    };
    ClusterDoc {
        aliases: &r.aliases,
        cluster: r.cluster.as_deref(),
        context: &r.context,
        error,
        exit_status: r.exit_code(),
        first_fail,
        mode: r.mode.label(),
        note: r.note(),
        report,
        seconds: (r.elapsed.as_millis() as f64) / 1000.0,
        verdict: r.verdict().label(),
    }
}

/// One document: schema version, the summary, and per cluster single doctor's report (or why
/// there is none).
pub fn document(rows: &[Row], out: Output) -> anyhow::Result<String> {
    let doc = Document {
        clusters: rows.iter().map(cluster_doc).collect(),
        kind: "FleetReport",
        schema_version: 1,
        summary: json!({
            "clusters": rows.len(),
            "pass": count(rows, Verdict::Pass), "unmanaged": count(rows, Verdict::Unmanaged),
            "warn": count(rows, Verdict::Warn),
            "fail": count(rows, Verdict::Fail), "error": count(rows, Verdict::Error),
            "exitStatus": super::exit_code(rows),
        }),
    };
    Ok(match out {
        Output::Json => serde_json::to_string_pretty(&doc)?,
        _ => serde_norway::to_string(&doc)?,
    })
}

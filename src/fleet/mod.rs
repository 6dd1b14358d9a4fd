//! Fleet: `doctor` and `status` across many kubeconfig contexts at once.
//!
//! [`contexts`] picks the contexts and folds the ones for the same cluster together; [`run`]
//! checks the clusters concurrently (at most `--parallel` at once, each with its own deadline)
//! through the single-cluster code (doctor's `gather_with`, `evaluate`, `report`), sharing one
//! Google client whose quota is per project and API ([`crate::gcp::quota`]); every cluster ends as a
//! [`Row`], whatever went wrong with it. [`render`] prints the table, JSON or YAML, and
//! [`junit`] writes the JUnit file.

pub mod args;
pub mod command;
pub mod contexts;
pub mod junit;
pub mod render;
pub mod run;

use std::time::Duration;

use serde_json::Value;

pub use args::FleetArgs;

use crate::doctor::{Check, Outcome};
use crate::error::exit;

/// How the dashboard is exposed on a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A gce-internal Ingress routes to Service gateway.
    Ingress,
    /// A `gke-l7-rilb` Gateway serves the dashboard (doctor's Gateway mode).
    Gateway,
    /// Neither yet.
    None,
}

impl Mode {
    pub fn label(self) -> &'static str {
        match self {
            Mode::Ingress => "Ingress",
            Mode::Gateway => "Gateway",
            Mode::None => "none",
        }
    }
}

/// The verdict of one cluster, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Pass,
    /// Status on a front end install did not make: it is shown, its drift is not tracked.
    Unmanaged,
    Warn,
    Fail,
    /// Could not be checked (unreachable, credentials, not GKE, timed out).
    Error,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Unmanaged => "UNMANAGED",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
            Verdict::Error => "ERROR",
        }
    }
}

/// What checking one cluster gave.
#[derive(Debug, Clone)]
pub enum Checked {
    /// Doctor ran: its checks, and its report (the single-cluster JSON document).
    Report { checks: Vec<Check>, doc: Value },
    /// Status ran: its document, the first thing wrong (drift, no address, unhealthy backends), and
    /// whether install made the front end.
    Status {
        doc: Value,
        problem: Option<String>,
        managed: bool,
    },
    /// The command could not run: why, the fix, and the exit status it would have given alone.
    Error {
        message: String,
        hint: Option<String>,
        code: u8,
    },
}

/// One cluster of the fleet.
#[derive(Debug, Clone)]
pub struct Row {
    pub context: String,
    pub aliases: Vec<String>,
    /// `projects/P/locations/L/clusters/C`, when it was found.
    pub cluster: Option<String>,
    pub mode: Mode,
    pub outcome: Checked,
    pub elapsed: Duration,
}

impl Row {
    pub fn verdict(&self) -> Verdict {
        match &self.outcome {
            Checked::Error { .. } => Verdict::Error,
            Checked::Report { checks, .. } if checks.iter().any(Check::is_fail) => Verdict::Fail,
            Checked::Report { checks, .. } if checks.iter().any(|c| c.result == Outcome::Warn) => Verdict::Warn,
            Checked::Report { .. } => Verdict::Pass,
            Checked::Status { problem: Some(_), .. } => Verdict::Fail,
            Checked::Status { managed: false, .. } => Verdict::Unmanaged,
            Checked::Status { .. } => Verdict::Pass,
        }
    }

    /// The exit status single doctor gives for this cluster.
    pub fn exit_code(&self) -> u8 {
        match (&self.outcome, self.verdict()) {
            (Checked::Error { code, .. }, _) => *code,
            (_, Verdict::Fail) => exit::FAILED,
            _ => exit::OK,
        }
    }

    /// The first FAIL (or the error): what, the finding, the hint.
    pub fn first_problem(&self) -> Option<(String, String, Option<String>)> {
        match &self.outcome {
            Checked::Error { message, hint, .. } => Some(("error".into(), message.clone(), hint.clone())),
            Checked::Report { checks, .. } => checks
                .iter()
                .find(|c| c.is_fail())
                .map(|c| (c.title().to_string(), c.text(), c.hint.clone())),
            Checked::Status { problem, .. } => problem.clone().map(|p| ("status".into(), p, None)),
        }
    }

    /// What an UNMANAGED row says instead of a FAIL: the front end is not install's, and its URL.
    pub fn note(&self) -> Option<String> {
        if self.verdict() != Verdict::Unmanaged {
            return None;
        }
        let Checked::Status { doc, .. } = &self.outcome else {
            return None;
        };
        let url = doc["url"].as_str().unwrap_or("no address yet");
        Some(format!("{url}; {}", crate::commands::status::UNMANAGED))
    }
}

/// Worst first, then by context name.
pub fn sort(rows: &mut [Row]) {
    rows.sort_by(|a, b| b.verdict().cmp(&a.verdict()).then_with(|| a.context.cmp(&b.context)));
}

/// The fleet's exit status: the worst of its clusters' (2 could not run > 1 FAIL > 0).
pub fn exit_code(rows: &[Row]) -> u8 {
    rows.iter().map(Row::exit_code).max().unwrap_or(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_row(context: &str, problem: Option<&str>, managed: bool) -> Row {
        Row {
            context: context.into(),
            aliases: vec![],
            cluster: None,
            mode: Mode::Ingress,
            outcome: Checked::Status {
                doc: serde_json::json!({"url": "http://10.0.0.9/k10/"}),
                problem: problem.map(String::from),
                managed,
            },
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn a_front_end_install_did_not_make_is_unmanaged_unless_something_is_wrong() {
        let mut rows = vec![
            status_row("a-ours", None, true),
            status_row("b-recipe", None, false),
            status_row("c-recipe-broken", Some("no address yet"), false),
        ];
        sort(&mut rows);
        let order: Vec<(&str, Verdict)> = rows.iter().map(|r| (r.context.as_str(), r.verdict())).collect();
        assert_eq!(
            order,
            [
                ("c-recipe-broken", Verdict::Fail),
                ("b-recipe", Verdict::Unmanaged),
                ("a-ours", Verdict::Pass)
            ]
        );
        assert_eq!(rows[1].exit_code(), exit::OK);
        assert_eq!(exit_code(&rows[1..]), exit::OK);
        let note = rows[1].note().unwrap();
        assert!(
            note.starts_with("http://10.0.0.9/k10/; not made by kubectl-kasten-ilb"),
            "{note}"
        );
        assert!(rows[0].note().is_none() && rows[2].note().is_none());
        assert!(rows[1].first_problem().is_none());
        let summary = render::summary(&rows);
        assert!(
            summary.ends_with("1 PASS, 1 UNMANAGED, 0 WARN, 1 FAIL, 0 ERROR"),
            "{summary}"
        );
        assert!(!render::summary(&rows[..1]).contains("UNMANAGED"));
    }
}

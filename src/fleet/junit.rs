//! The JUnit XML report for CI dashboards: a test suite per cluster, a test case per check (a FAIL
//! is a `<failure>` with the finding and the hint, a SKIP is `<skipped>`), and for a cluster that
//! could not be checked one `<error>` test case; with `status`, one test case per cluster.

use std::fmt::Write;

use super::{Checked, Row};
use crate::doctor::{Check, Outcome};

/// Text for XML 1.0 attributes and content: markup escaped, characters XML cannot hold dropped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

fn case(out: &mut String, suite: &str, c: &Check) {
    let head = format!(
        "    <testcase classname=\"{}\" name=\"{}\"",
        escape(suite),
        escape(c.title())
    );
    let body = match c.result {
        Outcome::Fail => {
            let hint = c.hint.as_deref().map(|h| format!("hint: {h}")).unwrap_or_default();
            format!(
                "<failure type=\"FAIL\" message=\"{}\">{}</failure>",
                escape(&c.text()),
                escape(&hint)
            )
        }
        Outcome::Skip { .. } => format!("<skipped message=\"{}\"/>", escape(&c.text())),
        Outcome::Warn => format!("<system-out>WARN: {}</system-out>", escape(&c.text())),
        Outcome::Pass => String::new(),
    };
    let _ = if body.is_empty() {
        writeln!(out, "{head}/>")
    } else {
        writeln!(out, "{head}>{body}</testcase>")
    };
}

fn suite(out: &mut String, r: &Row, command: &str) {
    let name = escape(&r.context);
    let secs = r.elapsed.as_secs_f64();
    match &r.outcome {
        Checked::Report { checks, .. } => {
            let fails = checks.iter().filter(|c| c.is_fail()).count();
            let skips = checks
                .iter()
                .filter(|c| matches!(c.result, Outcome::Skip { .. }))
                .count();
            let _ = writeln!(
                out,
                "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{fails}\" errors=\"0\" skipped=\"{skips}\" \
                 time=\"{secs:.3}\">",
                checks.len()
            );
            checks.iter().for_each(|c| case(out, &r.context, c));
        }
        Checked::Status { problem, .. } => {
            let failed = usize::from(problem.is_some());
            let _ = writeln!(
                out,
                "  <testsuite name=\"{name}\" tests=\"1\" failures=\"{failed}\" errors=\"0\" skipped=\"0\" \
                 time=\"{secs:.3}\">"
            );
            let body = match (problem, r.note()) {
                (Some(p), _) => format!("><failure type=\"FAIL\" message=\"{}\"/></testcase>", escape(p)),
                (None, Some(note)) => format!("><system-out>{}</system-out></testcase>", escape(&note)),
                (None, None) => "/>".into(),
            };
            let _ = writeln!(out, "    <testcase classname=\"{name}\" name=\"status\"{body}");
        }
        Checked::Error { message, hint, .. } => {
            let _ = writeln!(
                out,
                "  <testsuite name=\"{name}\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"{secs:.3}\">"
            );
            let hint = hint.as_deref().map(|h| format!("hint: {h}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "    <testcase classname=\"{name}\" name=\"{command}\"><error type=\"ERROR\" message=\"{}\">{}</error>\
                 </testcase>",
                escape(message),
                escape(&hint)
            );
        }
    }
    out.push_str("  </testsuite>\n");
}

/// The whole report of `command` (`doctor` or `status`).
pub fn report(rows: &[Row], command: &str) -> String {
    let tests: usize = rows.iter().map(tests).sum();
    let failures: usize = rows.iter().map(failures).sum();
    let errors = rows
        .iter()
        .filter(|r| matches!(r.outcome, Checked::Error { .. }))
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"kubectl kasten-ilb {command}\" tests=\"{tests}\" failures=\"{failures}\" \
         errors=\"{errors}\">"
    );
    rows.iter().for_each(|r| suite(&mut out, r, command));
    out.push_str("</testsuites>\n");
    out
}

fn tests(r: &Row) -> usize {
    match &r.outcome {
        Checked::Report { checks, .. } => checks.len(),
        Checked::Status { .. } | Checked::Error { .. } => 1,
    }
}

fn failures(r: &Row) -> usize {
    match &r.outcome {
        Checked::Report { checks, .. } => checks.iter().filter(|c| c.is_fail()).count(),
        Checked::Status { problem, .. } => usize::from(problem.is_some()),
        Checked::Error { .. } => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_control_characters_are_escaped() {
        assert_eq!(
            escape(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;"
        );
        assert_eq!(escape("a\u{1}b\tc\u{ffff}"), "ab\tc");
    }
}

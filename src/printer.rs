//! The one printer: data on stdout, status, progress and warnings on stderr; colour only on a
//! terminal and never with `--no-color` or `NO_COLOR`.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use comfy_table::{presets, Cell, Color, ColumnConstraint, ContentArrangement, Table, Width};

/// A line on stderr that never panics: a closed stderr (`2>&1 | head`) only loses the line.
macro_rules! err_line {
    ($($t:tt)*) => {{
        let _ = writeln!(std::io::stderr().lock(), $($t)*);
    }};
}

#[derive(Clone)]
pub struct Printer {
    pub color: bool,
    pub stderr_tty: bool,
    pub stdin_tty: bool,
    pub verbose: u8,
    /// Columns tables must fit in: `COLUMNS`, else stdout's terminal; `None` when neither.
    pub width: Option<usize>,
    /// Set when stdout has been closed (a pipe to `head`): stop writing, exit quietly.
    broken: Arc<AtomicBool>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Tone {
    Good,
    Warn,
    Bad,
    Dim,
    Plain,
}

impl Printer {
    pub fn new(no_color: bool, verbose: u8) -> Printer {
        let no_color_env = std::env::var_os(crate::env::NO_COLOR).is_some_and(|v| !v.is_empty());
        let stdout_tty = std::io::stdout().is_terminal();
        let stderr_tty = std::io::stderr().is_terminal();
        let color = stdout_tty && !no_color && !no_color_env;
        // The other writers (prompts and spinners through `console`) follow the same setting.
        dialoguer::console::set_colors_enabled(color);
        dialoguer::console::set_colors_enabled_stderr(color && stderr_tty);
        Printer {
            color,
            stderr_tty,
            stdin_tty: std::io::stdin().is_terminal(),
            verbose,
            width: terminal_width(stdout_tty),
            broken: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A printer for tests and snapshots: no colour, no terminal.
    pub fn plain() -> Printer {
        Printer {
            color: false,
            stderr_tty: false,
            stdin_tty: false,
            verbose: 0,
            width: None,
            broken: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The same printer, with tables fitted to `width` columns.
    pub fn with_width(mut self, width: Option<usize>) -> Printer {
        self.width = width;
        self
    }

    /// Data and results: stdout.
    pub fn out(&self, text: &str) {
        if self.broken.load(Ordering::Relaxed) {
            return;
        }
        let mut o = std::io::stdout().lock();
        let r = if text.ends_with('\n') {
            o.write_all(text.as_bytes())
        } else {
            writeln!(o, "{text}")
        };
        if r.is_err() {
            self.broken.store(true, Ordering::Relaxed);
        }
    }

    /// Text for the reader that is not data (a plan shown while stdout carries manifests): stderr.
    pub fn err(&self, text: &str) {
        err_line!("{}", text.trim_end_matches('\n'));
    }

    /// Status lines: stderr, cargo-style right-aligned verb.
    pub fn status(&self, verb: &str, msg: &str) {
        let v = format!("{verb:>12}");
        let v = if self.stderr_color() {
            format!("\x1b[1;32m{v}\x1b[0m")
        } else {
            v
        };
        err_line!("{v} {msg}");
    }

    pub fn warn(&self, msg: &str) {
        let p = if self.stderr_color() {
            "\x1b[1;33mwarning\x1b[0m"
        } else {
            "warning"
        };
        err_line!("{p}: {msg}");
    }

    pub fn note(&self, msg: &str) {
        let p = if self.stderr_color() {
            "\x1b[1;36mnote\x1b[0m"
        } else {
            "note"
        };
        err_line!("{p}: {msg}");
    }

    pub fn error(&self, msg: &str, hint: Option<&str>) {
        let p = if self.stderr_color() {
            "\x1b[1;31merror\x1b[0m"
        } else {
            "error"
        };
        err_line!("{p}: {msg}");
        if let Some(h) = hint {
            let p = if self.stderr_color() {
                "\x1b[1;36mhint\x1b[0m"
            } else {
                "hint"
            };
            err_line!("\n{p}: {h}");
        }
    }

    /// Verbose detail (`-v`): stderr.
    pub fn verbose(&self, level: u8, msg: &str) {
        if self.verbose >= level {
            err_line!("{:>12} {msg}", "");
        }
    }

    fn stderr_color(&self) -> bool {
        self.color && self.stderr_tty
    }

    pub fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Relaxed)
    }

    pub fn paint(&self, text: &str, tone: Tone) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match tone {
            Tone::Good => "32",
            Tone::Warn => "33",
            Tone::Bad => "31",
            Tone::Dim => "2",
            Tone::Plain => return text.to_string(),
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    /// Render a table (not printed: callers decide where it goes, tests snapshot it).
    ///
    /// Without a known width (not a terminal, no `COLUMNS`): one line per row, greppable and
    /// stable. With one: the table as is if it fits; else cells wrap at spaces, each column at
    /// least as wide as its longest word, so a resource name is never split; and when even that
    /// does not fit, one `key: value` block per row.
    pub fn table(&self, header: &[&str], rows: Vec<Vec<(String, Tone)>>) -> String {
        let Some(width) = self.width else {
            return self.grid(header, rows, None);
        };
        let cols = header.len();
        let widest = |f: &dyn Fn(&str) -> usize| -> Vec<usize> {
            (0..cols)
                .map(|i| {
                    let body = rows.iter().filter_map(|r| r.get(i)).map(|(t, _)| f(t));
                    body.chain(std::iter::once(f(header[i]))).max().unwrap_or(0)
                })
                .collect()
        };
        let line = widest(&|t: &str| t.lines().map(text_width).max().unwrap_or(0));
        let word = widest(&|t: &str| t.split_whitespace().map(text_width).max().unwrap_or(0));
        // UTF8_FULL_CONDENSED: `│ a ┆ b │` is 3 columns per cell plus 1.
        let frame = 3 * cols + 1;
        if line.iter().sum::<usize>() + frame <= width {
            self.grid(header, rows, None)
        } else if word.iter().sum::<usize>() + frame <= width {
            self.grid(header, rows, Some((width, word)))
        } else {
            vertical(header, &rows)
        }
    }

    /// `wrap`: the terminal width and each column's narrowest width (its longest word).
    fn grid(&self, header: &[&str], rows: Vec<Vec<(String, Tone)>>, wrap: Option<(usize, Vec<usize>)>) -> String {
        let mut t = Table::new();
        t.load_style(presets::UTF8_FULL_CONDENSED);
        if !self.color {
            t.force_no_tty();
        }
        t.set_header(header.iter().map(Cell::new));
        match &wrap {
            Some((width, _)) => {
                t.set_content_arrangement(ContentArrangement::Dynamic);
                t.set_width(u16::try_from(*width).unwrap_or(u16::MAX));
            }
            // Fits, or no width known: one line per row.
            None => {
                t.set_content_arrangement(ContentArrangement::Disabled);
            }
        }
        for r in rows {
            t.add_row(r.into_iter().map(|(text, tone)| {
                let c = Cell::new(text);
                if !self.color {
                    return c;
                }
                match tone {
                    Tone::Good => c.fg(Color::Green),
                    Tone::Warn => c.fg(Color::Yellow),
                    Tone::Bad => c.fg(Color::Red),
                    Tone::Dim => c.fg(Color::DarkGrey),
                    Tone::Plain => c,
                }
            }));
        }
        if let Some((_, words)) = wrap {
            for (col, w) in t.column_iter_mut().zip(words) {
                // Content plus one space of padding on each side.
                let w = u16::try_from(w + 2).unwrap_or(u16::MAX);
                col.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(w)));
            }
        }
        t.to_string()
    }

    /// A progress indicator: a spinner on a terminal, plain lines otherwise.
    pub fn progress(&self, msg: &str) -> Progress {
        if self.stderr_tty {
            let pb = indicatif::ProgressBar::new_spinner();
            pb.enable_steady_tick(Duration::from_millis(120));
            pb.set_message(msg.to_string());
            Progress {
                bar: Some(pb),
                printer: self.clone(),
                last: String::new(),
            }
        } else {
            self.status("Waiting", msg);
            Progress {
                bar: None,
                printer: self.clone(),
                last: msg.to_string(),
            }
        }
    }
}

/// `COLUMNS` when set to a number (as shells and `COLUMNS=80 cmd` do), else the terminal's width.
fn terminal_width(stdout_tty: bool) -> Option<usize> {
    let from_env = std::env::var(crate::env::COLUMNS)
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok());
    from_env.filter(|c| *c > 0).or_else(|| {
        if !stdout_tty {
            return None;
        }
        terminal_size::terminal_size().map(|(terminal_size::Width(w), _)| usize::from(w))
    })
}

/// Display width of a cell's text (what the terminal draws).
fn text_width(s: &str) -> usize {
    s.chars().count()
}

/// One block per row: `Header: value`, headers padded to one width, a blank line between rows.
fn vertical(header: &[&str], rows: &[Vec<(String, Tone)>]) -> String {
    let key = header.iter().map(|h| text_width(h)).max().unwrap_or(0) + 1;
    let mut out = String::new();
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for (h, (text, _)) in header.iter().zip(r) {
            let mut lines = text.lines();
            let first = lines.next().unwrap_or_default();
            out.push_str(format!("{:<key$} {first}", format!("{h}:")).trim_end());
            out.push('\n');
            for l in lines {
                out.push_str(&format!("{:<key$} {l}\n", ""));
            }
        }
    }
    out.trim_end_matches('\n').to_string()
}

pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    printer: Printer,
    last: String,
}

impl Progress {
    pub fn set(&mut self, msg: &str) {
        match &self.bar {
            Some(b) => b.set_message(msg.to_string()),
            // Not a terminal: transient states are not logged, only `println` lines and the finish.
            None => self.last = msg.to_string(),
        }
    }

    /// A line that stays (an event, a milestone).
    pub fn println(&self, msg: &str) {
        match &self.bar {
            Some(b) => b.println(format!("{:>12} {msg}", "")),
            None => err_line!("{:>12} {msg}", ""),
        }
    }

    pub fn finish(self, verb: &str, msg: &str) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        self.printer.status(verb, msg);
    }

    pub fn abandon(self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Vec<(String, Tone)>> {
        let row = |a: &str, b: &str, c: &str| {
            vec![
                (a.to_string(), Tone::Plain),
                (b.to_string(), Tone::Good),
                (c.to_string(), Tone::Plain),
            ]
        };
        vec![
            row(
                "Proxy-only subnet",
                "PASS",
                "`proxy-only-subnet` 10.120.0.0/23 is ACTIVE in us-central1/default",
            ),
            row(
                "Health check",
                "PASS",
                "`k8s1-3f9c1a27-kasten-io-gateway-80-5944df77` probes /healthz",
            ),
        ]
    }

    fn table(width: Option<usize>) -> String {
        Printer::plain()
            .with_width(width)
            .table(&["Check", "Result", "Finding"], rows())
    }

    fn widest_line(s: &str) -> usize {
        s.lines().map(text_width).max().unwrap_or(0)
    }

    #[test]
    fn a_table_that_fits_or_no_known_width_is_one_line_per_row() {
        let unknown = table(None);
        assert_eq!(table(Some(200)), unknown);
        assert_eq!(
            unknown.lines().count(),
            2 + 4,
            "borders, header, separator, rows:\n{unknown}"
        );
    }

    #[test]
    fn a_narrower_terminal_wraps_at_spaces_and_never_splits_a_name() {
        let t = table(Some(80));
        assert!(widest_line(&t) <= 80, "\n{t}");
        assert!(t.lines().count() > 5, "wrapped:\n{t}");
        for name in [
            "`proxy-only-subnet`",
            "10.120.0.0/23",
            "us-central1/default",
            "`k8s1-3f9c1a27-kasten-io-gateway-80-5944df77`",
        ] {
            assert!(t.contains(name), "{name} is whole:\n{t}");
        }
        insta::assert_snapshot!("table_80_columns", t);
    }

    #[test]
    fn a_terminal_too_narrow_for_the_longest_name_gets_one_block_per_row() {
        let t = table(Some(50));
        assert!(!t.contains('│'), "no grid:\n{t}");
        insta::assert_snapshot!("table_50_columns", t);
        let first = t.split("\n\n").next().unwrap();
        assert_eq!(
            first,
            "Check:   Proxy-only subnet\nResult:  PASS\n\
Finding: `proxy-only-subnet` 10.120.0.0/23 is ACTIVE in us-central1/default"
        );
    }
}

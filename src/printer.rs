//! The one printer: data on stdout, status, progress and warnings on stderr; colour only on a
//! terminal and never with `--no-color` or `NO_COLOR`.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use comfy_table::{presets, Cell, Color, ContentArrangement, Table};

#[derive(Clone)]
pub struct Printer {
    pub color: bool,
    pub stderr_tty: bool,
    pub stdin_tty: bool,
    pub verbose: u8,
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
        Printer {
            color: stdout_tty && !no_color && !no_color_env,
            stderr_tty,
            stdin_tty: std::io::stdin().is_terminal(),
            verbose,
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
            broken: Arc::new(AtomicBool::new(false)),
        }
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

    /// Status lines: stderr, cargo-style right-aligned verb.
    pub fn status(&self, verb: &str, msg: &str) {
        let v = format!("{verb:>12}");
        let v = if self.stderr_color() {
            format!("\x1b[1;32m{v}\x1b[0m")
        } else {
            v
        };
        eprintln!("{v} {msg}");
    }

    pub fn warn(&self, msg: &str) {
        let p = if self.stderr_color() {
            "\x1b[1;33mwarning\x1b[0m"
        } else {
            "warning"
        };
        eprintln!("{p}: {msg}");
    }

    pub fn note(&self, msg: &str) {
        let p = if self.stderr_color() {
            "\x1b[1;36mnote\x1b[0m"
        } else {
            "note"
        };
        eprintln!("{p}: {msg}");
    }

    pub fn error(&self, msg: &str, hint: Option<&str>) {
        let p = if self.stderr_color() {
            "\x1b[1;31merror\x1b[0m"
        } else {
            "error"
        };
        eprintln!("{p}: {msg}");
        if let Some(h) = hint {
            let p = if self.stderr_color() {
                "\x1b[1;36mhint\x1b[0m"
            } else {
                "hint"
            };
            eprintln!("\n{p}: {h}");
        }
    }

    /// Verbose detail (`-v`): stderr.
    pub fn verbose(&self, level: u8, msg: &str) {
        if self.verbose >= level {
            eprintln!("{:>12} {msg}", "");
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
    pub fn table(&self, header: &[&str], rows: Vec<Vec<(String, Tone)>>) -> String {
        let mut t = Table::new();
        t.load_style(presets::UTF8_FULL_CONDENSED);
        if self.color {
            t.set_content_arrangement(ContentArrangement::Dynamic);
        } else {
            // Not a terminal: one line per row (greppable, stable for logs and snapshots).
            t.force_no_tty();
            t.set_content_arrangement(ContentArrangement::Disabled);
        }
        t.set_header(header.iter().map(Cell::new));
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
            None => eprintln!("{:>12} {msg}", ""),
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

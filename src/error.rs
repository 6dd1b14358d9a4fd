//! Errors that know how the program should end: what went wrong, a hint that fixes it, and the
//! exit status.

use std::fmt;

/// Exit statuses (documented in README.md).
pub mod exit {
    /// Everything worked (doctor: no FAIL).
    pub const OK: u8 = 0;
    /// A step failed, or doctor found a FAIL.
    pub const FAILED: u8 = 1;
    /// Could not run: no context, no credentials, cluster or K10 not found, permission denied.
    pub const ENVIRONMENT: u8 = 2;
    /// Bad command-line input (a malformed flag value, flags that do not go together).
    pub const USAGE: u8 = 64;
    /// Interrupted (Ctrl-C).
    pub const INTERRUPTED: u8 = 130;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Usage,
    Environment,
    Failed,
    Interrupted,
}

/// An error with a user-facing message, an optional `hint:` and an exit status.
#[derive(Debug)]
pub struct CliError {
    pub kind: Kind,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            Kind::Usage => exit::USAGE,
            Kind::Environment => exit::ENVIRONMENT,
            Kind::Failed => exit::FAILED,
            Kind::Interrupted => exit::INTERRUPTED,
        }
    }
}

fn make(kind: Kind, message: impl Into<String>, hint: Option<String>) -> anyhow::Error {
    anyhow::Error::new(CliError {
        kind,
        message: message.into(),
        hint,
    })
}

pub fn usage(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    make(Kind::Usage, message, Some(hint.into()))
}

pub fn environment(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    make(Kind::Environment, message, Some(hint.into()))
}

pub fn failed(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    make(Kind::Failed, message, Some(hint.into()))
}

/// The first `CliError` in an error chain, if any.
/// A prompt that could not be answered: Ctrl-C at the prompt is an interruption (exit 130), any
/// other failure a usage error (answer with flags instead).
pub fn prompt(e: dialoguer::Error, hint: &str) -> anyhow::Error {
    let dialoguer::Error::IO(io) = &e;
    if io.kind() == std::io::ErrorKind::Interrupted {
        return anyhow::Error::new(CliError {
            kind: Kind::Interrupted,
            message: "interrupted at the prompt: nothing was changed".into(),
            hint: None,
        });
    }
    usage(format!("cannot read the answer: {e}"), hint)
}

pub fn find(err: &anyhow::Error) -> Option<&CliError> {
    err.chain().find_map(|e| e.downcast_ref::<CliError>())
}

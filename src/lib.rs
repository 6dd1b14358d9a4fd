//! kubectl-kasten-ilb: expose the Kasten K10 dashboard on a GKE internal load balancer.
//!
//! Thin commands (`commands/`) over a typed plan (`plan`), observed state (`state`, `discover`),
//! and small clients at the HTTP edge (`kube`, `gcp`). All output goes through `printer`.

// Everything a user sees goes through `printer` (one place for colour, pipes and verbosity).
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]

pub mod apply;
pub mod cidr;
pub mod cli;
pub mod commands;
pub mod complete;
pub mod discover;
pub mod doctor;
pub mod env;
pub mod error;
pub mod firewall;
#[cfg(test)]
mod fixtures;
pub mod fleet;
pub mod gateway;
pub mod gcp;
pub mod http_log;
pub mod kube;
pub mod lock;
pub mod plan;
pub mod prepare;
pub mod printer;
pub mod render;
pub mod shared_vpc;
pub mod state;
pub mod tls;
pub mod validate;
pub mod verify;

pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("KASTEN_ILB_GIT_COMMIT"), ")");

/// Install rustls' ring provider: the one crypto stack (call first in `main` and in tests).
pub fn init_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

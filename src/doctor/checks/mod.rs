//! One file per check. Adding a check: a file here, its [`CheckId`](super::CheckId), and a line in
//! [`ALL`].

use super::{Check, Facts};

pub mod address;
pub mod auth;
pub mod backends;
pub mod certificate;
pub mod cluster;
pub mod context;
pub mod e2e;
pub mod event_fixes;
pub mod events;
pub mod firewall;
pub mod gateway;
pub mod gateway_api;
pub mod health_check;
pub mod health_policy;
pub mod https;
pub mod ingress;
pub mod k10;
pub mod negs;
pub mod netpol_fix;
pub mod open_firewall;
pub mod permissions;
pub mod proxy_subnet;
pub mod reach;
pub mod route;
pub mod service;
pub mod xpn;

/// The checks, in the order doctor runs and prints them.
pub const ALL: &[fn(&Facts) -> Check] = &[
    context::check,
    cluster::check,
    permissions::check,
    k10::check,
    proxy_subnet::check,
    firewall::check,
    service::check,
    health_check::check,
    ingress::check,
    events::check,
    address::check,
    negs::check,
    backends::check,
    e2e::check,
    https::check,
    certificate::check,
    reach::check,
    open_firewall::check,
    auth::check,
];

/// Gateway mode's checks, in order: the Ingress checks give way to the Gateway API's.
pub const GATEWAY: &[fn(&Facts) -> Check] = &[
    context::check,
    cluster::check,
    permissions::check,
    k10::check,
    gateway_api::check,
    proxy_subnet::check,
    firewall::check,
    health_policy::check,
    gateway::check,
    route::check,
    negs::check,
    backends::check,
    e2e::check,
    // Security: the front-end-independent checks; `https`, `certificate` and `reach` read the
    // Ingress and its forwarding rule, and do not cover a Gateway yet.
    open_firewall::check,
    auth::check,
];

/// The checks for the setup at hand: Gateway mode's when a Gateway serves the dashboard and no
/// Ingress does, else [`ALL`].
pub fn for_facts(f: &Facts) -> &'static [fn(&Facts) -> Check] {
    if gateway::mode(f) {
        GATEWAY
    } else {
        ALL
    }
}

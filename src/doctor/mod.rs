//! `doctor`: check every link of the chain, read-only, and say which one is broken and how to fix
//! it. [`observe`] reads everything into plain [`Facts`]; each check under [`checks`] is a pure
//! function of them, so every check runs even after another failed; [`root_causes`] then turns
//! the FAILs that an upstream FAIL explains into SKIPs naming it; [`render`] prints the report.

pub mod check;
pub mod checks;
#[cfg(test)]
mod gateway_tests;
pub mod host_iam;
pub mod observe;
pub mod render;
pub mod security;
#[cfg(test)]
mod security_tests;
#[cfg(test)]
mod tests;

pub use check::{Check, CheckId, Outcome};
pub use observe::{gather, CurlFailure, Facts};

/// Run every check on what was read, then keep one FAIL per root cause.
pub fn evaluate(f: &Facts) -> Vec<Check> {
    root_causes(checks::for_facts(f).iter().map(|check| check(f)).collect())
}

/// Checks whose FAIL explains a controller warning (the warning is then evidence, not a cause).
const EXPLAIN_EVENTS: &[CheckId] = &[
    CheckId::Cluster,
    CheckId::ProxySubnet,
    CheckId::Service,
    CheckId::Ingress,
];

/// A FAIL whose dependency ([`CheckId::depends_on`]) failed or was blocked becomes a SKIP blocked
/// by the root cause, so each broken world shows one FAIL where the fix is.
pub fn root_causes(mut checks: Vec<Check>) -> Vec<Check> {
    for i in 0..checks.len() {
        let (done, rest) = checks.split_at_mut(i);
        let c = &mut rest[0];
        if c.id == CheckId::Events && c.is_fail() {
            if let Some(up) = done.iter().find(|u| u.is_fail() && EXPLAIN_EVENTS.contains(&u.id)) {
                c.result = Outcome::Warn;
                c.finding = format!("{} (explained by {})", c.finding, up.id);
            }
        }
        if !c.is_fail() {
            continue;
        }
        let deps = c.id.depends_on();
        let root = done
            .iter()
            .filter(|u| deps.contains(&u.id))
            .find_map(|u| match u.result {
                Outcome::Fail => Some(u.id),
                Outcome::Skip { blocked_by } => blocked_by,
                _ => None,
            });
        if let Some(root) = root {
            c.result = Outcome::Skip { blocked_by: Some(root) };
            c.hint = None;
        }
    }
    checks
}

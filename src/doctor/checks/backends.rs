//! Every endpoint behind the backend service is HEALTHY.

use serde_json::json;

use crate::doctor::{Check, CheckId, Facts};
use crate::verify;

pub fn check(f: &Facts) -> Check {
    let id = CheckId::Backends;
    if f.bs.is_none() && f.hc.is_none() {
        return Check::skip(id, "no backend service yet");
    }
    let h = match &f.health {
        Ok(h) => h,
        Err(e) => return Check::fail(id, format!("getHealth failed: {e}")),
    };
    let (healthy, total) = verify::healthy_count(h);
    let bad: Vec<String> = h
        .iter()
        .flat_map(|(_, s)| s)
        .filter(|s| s.health_state != "HEALTHY")
        .map(|s| format!("{}:{}", s.ip_address, s.port.unwrap_or(0)))
        .collect();
    let ev = json!({"healthy": healthy, "total": total, "unhealthy": bad});
    let c = if total == 0 {
        Check::fail(id, "no endpoints have a health status").hint("see the NEGs check")
    } else if healthy == total {
        Check::pass(id, format!("{healthy}/{total} HEALTHY"))
    } else {
        Check::fail(id, format!("{healthy}/{total} HEALTHY (UNHEALTHY: {})", bad.join(", ")))
            .hint(super::netpol_fix::hint(f))
    };
    c.evidence(ev)
}

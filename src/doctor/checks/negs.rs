//! The gateway's NEGs hold one endpoint per ready pod, in each zone that has ready pods.

use serde_json::json;

use crate::doctor::{Check, CheckId, Facts};
use crate::gcp::model::short;
use crate::state;
use crate::verify;

pub fn check(f: &Facts) -> Check {
    let id = CheckId::Negs;
    let Some(k) = f.k10() else {
        return Check::blocked(id, CheckId::K10, "K10 not found");
    };
    if state::neg_name(k).is_none() {
        return Check::skip(id, "no NEG yet (Service gateway has no neg-status)");
    }
    let negs = match &f.negs {
        Ok(n) => n,
        Err(e) => return Check::fail(id, format!("cannot list NEGs: {e}")),
    };
    let ev = json!(negs
        .iter()
        .map(|g| json!({"name": g.name, "zone": short(&g.zone), "size": g.size}))
        .collect::<Vec<_>>());
    let c = match verify::neg_mismatch(negs, &verify::ready_per_zone(&f.seen)) {
        None => {
            let sizes: Vec<String> = negs.iter().map(|g| format!("{} {}", short(&g.zone), g.size)).collect();
            Check::pass(id, sizes.join(", "))
        }
        Some(m) => Check::fail(id, m).hint(format!(
            "check the targetPort of Service gateway and its NEG events: `kubectl -n {} describe service gateway`",
            f.namespace
        )),
    };
    c.evidence(ev)
}

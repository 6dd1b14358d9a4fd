//! The gateway's NEGs hold one endpoint per ready pod, in each zone that has ready pods. GKE also
//! keeps an empty NEG in every other zone with nodes: those are fine. NEGs of another name (the
//! system default backend's) are not the gateway's.

use serde_json::json;

use crate::doctor::{Check, CheckId, Facts};
use crate::gcp::model::{short, NetworkEndpointGroup};
use crate::state;
use crate::verify;

pub fn check(f: &Facts) -> Check {
    let id = CheckId::Negs;
    let Some(k) = f.k10() else {
        return Check::blocked(id, CheckId::K10, "K10 not found");
    };
    let Some(name) = state::neg_name(k) else {
        return Check::skip(id, "no NEG yet (Service gateway has no neg-status)");
    };
    let negs: Vec<NetworkEndpointGroup> = match &f.negs {
        Ok(n) => n.iter().filter(|g| g.name == name).cloned().collect(),
        Err(e) => return Check::fail(id, format!("cannot list NEGs: {e}")),
    };
    let ev = json!(negs
        .iter()
        .map(|g| json!({"name": g.name, "zone": short(&g.zone), "size": g.size}))
        .collect::<Vec<_>>());
    let c = match verify::neg_mismatch(&negs, &verify::ready_per_zone(&f.seen)) {
        None => Check::pass(id, verify::neg_summary(&negs)),
        Some(m) => Check::fail(id, m).hint(format!(
            "check the targetPort of Service gateway and its NEG events: `kubectl -n {} describe service gateway`",
            f.namespace
        )),
    };
    c.evidence(ev)
}

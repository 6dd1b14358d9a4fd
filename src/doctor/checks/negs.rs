//! The gateway's NEGs hold one endpoint per ready pod, in each zone that has ready pods.

use std::collections::BTreeMap;

use serde_json::json;

use crate::doctor::{Check, CheckId, Facts};
use crate::gcp::model::short;
use crate::state::{self, Observed};
use crate::verify;

/// Ready gateway pods per zone.
pub fn ready_per_zone(o: &Observed) -> BTreeMap<String, u64> {
    let zones = o.node_zones();
    let mut m = BTreeMap::new();
    for p in o.k10.pods.iter().filter(|p| p.ready) {
        *m.entry(zones.get(&p.node).cloned().unwrap_or_else(|| "?".into()))
            .or_insert(0) += 1;
    }
    m
}

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
    let c = match verify::neg_mismatch(negs, &ready_per_zone(&f.seen)) {
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

//! Gateway mode: Gateway API is on (`networkConfig.gatewayApiConfig.channel`) and the cluster
//! serves GKE's `gke-l7-rilb` GatewayClass.

use serde_json::json;

use crate::doctor::{Check, CheckId, Facts};
use crate::gateway;

pub fn check(f: &Facts) -> Check {
    let id = CheckId::GatewayApi;
    let c = f.cluster();
    let api = &f.seen.gateway;
    let ev = json!({"channel": gateway::channel(c), "classes": api.classes.iter()
        .filter_map(|k| k.metadata.name.clone()).collect::<Vec<_>>()});
    let Some(channel) = gateway::channel(c) else {
        return Check::fail(
            id,
            format!(
                "Gateway API is off on cluster {}: no controller acts on Gateways",
                c.r.cluster
            ),
        )
        .hint(format!("`{}`", gateway::enable_command(c)))
        .evidence(ev);
    };
    match api.class(gateway::CLASS) {
        Some(_) => Check::pass(id, format!("{channel}, GatewayClass {} served", gateway::CLASS)).evidence(ev),
        None => Check::fail(
            id,
            format!(
                "{channel} is set, but the cluster does not serve GatewayClass {}",
                gateway::CLASS
            ),
        )
        .hint(format!("`{}` (GKE reinstalls its classes)", gateway::enable_command(c)))
        .evidence(ev),
    }
}

//! What the internal Application Load Balancer's controller says when an Ingress asks for what it
//! cannot build: texts from ingress-gce and Compute, in one place (see FIDELITY.md).

use serde_json::{json, Value};

use crate::world::World;

/// The two Warning `Sync` events of a `spec.tls` Secret that does not exist: current ingress-gce
/// fails the whole sync in `NewEnv` (translator.go, wrapped by controller.go and sync.go); older
/// builds said "Could not find TLS certificate" (still in `toRuntimeInfo`). The newest comes last.
pub fn missing_tls_secret(secret: &str) -> [String; 2] {
    let not_found = format!("secrets \"{secret}\" not found");
    [
        format!(
            "Error syncing to GCP: error running load balancer syncing routine: error initializing translator env: \
             {not_found}"
        ),
        format!("Could not find TLS certificate: {not_found}"),
    ]
}

/// Compute's answer to a forwarding rule whose static address lies in a proxy-only subnet
/// (kubernetes/ingress-gce#1852), as the controller wraps it.
pub const NOT_PRIVATE: &str = "googleapi: Error 400: Invalid value for field 'resource.subnetwork': \
     Forwarding rule's subnetwork must have purpose=PRIVATE., invalid";

/// Whether a reserved address belongs to a proxy-only subnet.
pub fn in_proxy_only_subnet(w: &World, address: &Value) -> bool {
    let Some(url) = address["subnetwork"].as_str() else {
        return false;
    };
    let key = url
        .rsplit("/regions/")
        .next()
        .unwrap_or_default()
        .replace("/subnetworks/", "/");
    w.compute.subnetworks.get(&key).is_some_and(|s| {
        matches!(
            s["purpose"].as_str(),
            Some("REGIONAL_MANAGED_PROXY" | "INTERNAL_HTTPS_LOAD_BALANCER")
        )
    })
}

/// HTTP and HTTPS on one internal address: besides `k8s2-fr-…` (port range `80-80`, to the target
/// HTTP proxy), a second forwarding rule `k8s2-fs-…` (`443-443`) to a target HTTPS proxy
/// `k8s2-ts-…` on the same URL map and IP; without both, neither exists. `names`: (url map, fs, ts).
pub fn sync_https_rule(w: &mut World, region: &str, http_rule: &Value, names: (&str, &str, &str), wanted: bool) {
    let (um, fs, ts) = names;
    let (fs_key, ts_key) = (format!("{region}/{fs}"), format!("{region}/{ts}"));
    if !wanted {
        w.compute.forwarding_rules.remove(&fs_key);
        w.compute.target_proxies.remove(&ts_key);
        return;
    }
    let scope = w.region_url(region);
    let proxy = json!({"kind": "compute#targetHttpsProxy", "name": ts, "urlMap": format!("{scope}/urlMaps/{um}"),
        "selfLink": format!("{scope}/targetHttpsProxies/{ts}"), "region": scope});
    let mut rule = http_rule.clone();
    rule["name"] = json!(fs);
    rule["portRange"] = json!("443-443");
    rule["target"] = json!(format!("{scope}/targetHttpsProxies/{ts}"));
    rule["selfLink"] = json!(format!("{scope}/forwardingRules/{fs}"));
    if w.compute.target_proxies.get(&ts_key) != Some(&proxy) {
        w.compute.target_proxies.insert(ts_key, proxy);
    }
    if w.compute.forwarding_rules.get(&fs_key) != Some(&rule) {
        w.compute.forwarding_rules.insert(fs_key, rule);
    }
}

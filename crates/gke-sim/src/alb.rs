//! What the internal Application Load Balancer's controller says when an Ingress asks for what it
//! cannot build: texts from ingress-gce and Compute, in one place (see FIDELITY.md).

use serde_json::Value;

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

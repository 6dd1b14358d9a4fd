//! Scenarios for doctor's security checks (issue 16): the recipe's working Ingress served over
//! HTTPS with a real certificate (expired, expiring, for another name), a firewall rule that opens
//! the gateway's port to the internet, a peered VPC, and global access on the forwarding rule.

use serde_json::json;

use super::NAMESPACE;
use crate::certs;
use crate::world::World;

/// The host the TLS scenarios serve (listed in `super::SCENARIOS`).
pub const HOST: &str = "k10.corp.internal";

/// Build `name` if it is one of these scenarios.
pub fn build(w: &mut World, name: &str) -> bool {
    match name {
        "tls-expired" => https(w, &[HOST], -400, -3),
        "tls-expiring" => https(w, &[HOST], -300, 5),
        "tls-wrong-name" => https(w, &["other.corp.internal"], -1, 300),
        "tls-good" => https(w, &[HOST], -1, 300),
        "tls-regional-cert" => regional(w),
        "open-firewall" => {
            super::healthy(w);
            crate::world::compute::firewall(
                w,
                "allow-dashboard-anywhere",
                json!({"sourceRanges": ["0.0.0.0/0"], "allowed": [{"IPProtocol": "tcp", "ports": ["8000"]}]}),
            );
        }
        "peered-vpc" => {
            super::healthy(w);
            let net = w.network.clone();
            if let Some(n) = w.compute.networks.get_mut(&net) {
                n["peerings"] = json!([{"name": "to-shared-services",
                    "network": "https://www.googleapis.com/compute/v1/projects/shared-services/global/networks/shared",
                    "state": "ACTIVE", "stateDetails": "[2026-01-01T00:00:00.000-08:00]: Connected.",
                    "autoCreateRoutes": true, "exportCustomRoutes": false, "importCustomRoutes": false,
                    "exchangeSubnetRoutes": true, "stackType": "IPV4_ONLY"}]);
            }
        }
        "global-access" => {
            super::healthy(w);
            for fr in w.compute.forwarding_rules.values_mut() {
                fr["allowGlobalAccess"] = json!(true);
            }
        }
        _ => return false,
    }
    true
}

/// The recipe's working state, served HTTPS only for `HOST` with regional SSL certificate
/// `k10-regional` (named by `ingress.gcp.kubernetes.io/pre-shared-cert`), expiring in 10 days.
fn regional(w: &mut World) {
    super::healthy_infra(w);
    super::add_container_port(w);
    let made = certs::make(&[HOST], -80, 10);
    let region = w.region.clone();
    let link = format!("{}/sslCertificates/k10-regional", w.region_url(&region));
    let id = w.new_id();
    let not_after = time::OffsetDateTime::now_utc().unix_timestamp() + 10 * 86_400;
    w.compute.ssl_certificates.insert(
        format!("{region}/k10-regional"),
        json!({"kind": "compute#sslCertificate", "id": id, "name": "k10-regional", "type": "SELF_MANAGED",
            "certificate": made.cert_pem, "privateKey": made.key_pem, "subjectAlternativeNames": [HOST],
            "expireTime": crate::world::rfc3339(not_after - 1_795_000_000), "region": w.region_url(&region),
            "selfLink": link, "creationTimestamp": crate::world::rfc3339(-86_400 * 80)}),
    );
    w.kube_put(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "k10-ingress", "namespace": NAMESPACE, "annotations": {
            "kubernetes.io/ingress.class": "gce-internal", "kubernetes.io/ingress.allow-http": "false",
            "ingress.gcp.kubernetes.io/pre-shared-cert": "k10-regional"}},
        "spec": {"rules": [{"host": HOST, "http": {"paths": [{"path": "/k10/", "pathType": "Prefix",
            "backend": {"service": {"name": "gateway", "port": {"number": 80}}}}]}}]},
    }));
    crate::controller::settle(w);
}

/// The recipe's working state, served HTTPS only for `HOST` from TLS Secret `k10-tls` holding a
/// certificate for `names`, valid from `from` to `to` days around now.
fn https(w: &mut World, names: &[&str], from: i64, to: i64) {
    super::healthy_infra(w);
    super::add_container_port(w);
    let made = certs::make(names, from, to);
    w.kube_put(certs::tls_secret(NAMESPACE, "k10-tls", &made));
    w.kube_put(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "k10-ingress", "namespace": NAMESPACE, "annotations": {
            "kubernetes.io/ingress.class": "gce-internal", "kubernetes.io/ingress.allow-http": "false"}},
        "spec": {"tls": [{"hosts": [HOST], "secretName": "k10-tls"}],
            "rules": [{"host": HOST, "http": {"paths": [{"path": "/k10/", "pathType": "Prefix",
                "backend": {"service": {"name": "gateway", "port": {"number": 80}}}}]}}]},
    }));
    crate::controller::settle(w);
}

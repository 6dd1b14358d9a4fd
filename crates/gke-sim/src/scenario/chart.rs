//! Scenarios for how the K10 chart can be configured (issue 15, FIDELITY.md): the HTTPS gateway
//! (`secrets.tlsSecret`), a release not named `k10`, token auth and the "Veeam Kasten" page.

use serde_json::{json, Value};

use super::{NAMESPACE, RELEASE};
use crate::k10_gateway::TITLE_ANNOTATION;
use crate::world::World;

/// ConfigMap `k10-gateway` as the chart renders it (no labels: the template has none).
pub fn gateway_config_map(w: &mut World) {
    w.kube_put(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "k10-gateway", "namespace": NAMESPACE},
        "data": {"PREFIX_PATH": format!("/{RELEASE}"), "GRAFANA_SVC_NAME": format!("{RELEASE}-grafana")}}));
}

/// `--set secrets.tlsSecret=k10-gateway-tls`: the TLS Secret mounted at /etc/tls, `TLS_CRT_FILE`
/// and `TLS_KEY_FILE` in ConfigMap `k10-gateway`, and probes with `scheme: HTTPS`.
pub fn https_gateway(w: &mut World) {
    // Placeholder bytes, not a key.
    w.kube_put(
        json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"name": "k10-gateway-tls", "namespace": NAMESPACE},
        "data": {"tls.crt": "c2ltdWxhdGVkLWNlcnRpZmljYXRl", "tls.key": "c2ltdWxhdGVkLWtleQ=="}}),
    );
    if let Some(cm) = w.kube_get_mut("ConfigMap", NAMESPACE, "k10-gateway") {
        cm["data"]["TLS_CRT_FILE"] = json!("/etc/tls/tls.crt");
        cm["data"]["TLS_KEY_FILE"] = json!("/etc/tls/tls.key");
    }
    let mut d = w
        .kube_get("Deployment", NAMESPACE, "gateway")
        .cloned()
        .expect("the gateway");
    let spec = &mut d["spec"]["template"]["spec"];
    spec["volumes"] = json!([{"name": "tls-volume", "secret": {"secretName": "k10-gateway-tls", "defaultMode": 420}}]);
    let c = &mut spec["containers"][0];
    c["volumeMounts"] = json!([{"name": "tls-volume", "mountPath": "/etc/tls", "readOnly": true}]);
    c["readinessProbe"]["httpGet"]["scheme"] = json!("HTTPS");
    c["livenessProbe"]["httpGet"]["scheme"] = json!("HTTPS");
    w.kube_put(d);
}

/// Token auth instead of basic: the `k10-token-auth` Secret read by auth-svc as `TOKEN_AUTH`.
pub fn token_auth(w: &mut World) {
    super::remove_auth(w);
    w.kube_put(json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "k10-token-auth", "namespace": NAMESPACE}, "data": {"auth": "dHJ1ZQ=="}}));
    if let Some(mut d) = w.kube_get("Deployment", NAMESPACE, "auth-svc").cloned() {
        let env = &mut d["spec"]["template"]["spec"]["containers"][0]["env"];
        if let Some(list) = env.as_array_mut() {
            list.push(
                json!({"name": "TOKEN_AUTH", "valueFrom": {"secretKeyRef": {"name": "k10-token-auth", "key": "auth"}}}),
            );
        }
        w.kube_put(d);
    }
}

/// The dashboard page's title, for releases branded "Veeam Kasten".
pub fn title(w: &mut World, title: &str) {
    if let Some(d) = w.kube_get_mut("Deployment", NAMESPACE, "gateway") {
        d["metadata"]["annotations"][TITLE_ANNOTATION] = json!(title);
    }
}

/// The same chart installed as release `release`: the release labels, selectors and Helm
/// annotations, and the gateway's `PREFIX_PATH` (`/<release>`).
pub fn rename_release(w: &mut World, release: &str) {
    let objects: Vec<Value> = w
        .kube
        .values()
        .flat_map(|m| m.iter())
        .filter(|((ns, _), _)| ns == NAMESPACE)
        .map(|(_, v)| v.clone())
        .collect();
    for mut o in objects {
        if o["kind"] == json!("Pod") {
            continue; // the controller makes them again from the templates
        }
        relabel(&mut o, release);
        w.kube_put(o);
    }
    if let Some(cm) = w.kube_get_mut("ConfigMap", NAMESPACE, "k10-gateway") {
        cm["data"]["PREFIX_PATH"] = json!(format!("/{release}"));
        cm["data"]["GRAFANA_SVC_NAME"] = json!(format!("{release}-grafana"));
    }
    let pods: Vec<String> = w
        .kube_in_ns("Pod", NAMESPACE)
        .iter()
        .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    for p in pods {
        w.kube_delete("Pod", NAMESPACE, &p);
    }
    crate::controller::sync_pods(w);
}

fn relabel(v: &mut Value, release: &str) {
    const KEYS: [&str; 3] = ["release", "app.kubernetes.io/instance", "meta.helm.sh/release-name"];
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if KEYS.contains(&k.as_str()) && x == &json!(RELEASE) {
                    *x = json!(release);
                } else {
                    relabel(x, release);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| relabel(x, release)),
        _ => {}
    }
}

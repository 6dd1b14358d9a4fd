//! Step 4: Service `gateway`'s annotations: NEG backends (and the BackendConfig reference), with the
//! list of what install added so uninstall takes back exactly those.

use serde_json::{json, Map, Value};

use crate::cli::HealthCheckMode;
use crate::discover::K10;
use crate::error;
use crate::state::{ADDED_ANNOTATIONS, APP_PROTOCOLS, BACKEND_CONFIG, NEG_ANNOTATION};

use super::{backend_config_name, Change, Step, SERVICE};

/// The annotations to add (key -> value), in order.
pub fn missing_annotations(k: &K10, strategy: HealthCheckMode) -> anyhow::Result<Vec<(&'static str, String)>> {
    let mut add = vec![];
    let neg_ok = k
        .annotation(NEG_ANNOTATION)
        .and_then(|v| serde_json::from_str::<Value>(&v).ok())
        .is_some_and(|v| v["ingress"] == json!(true));
    if !neg_ok {
        add.push((NEG_ANNOTATION, "{\"ingress\":true}".to_string()));
    }
    if strategy == HealthCheckMode::Backendconfig {
        let want = format!("{{\"default\":\"{}\"}}", backend_config_name(&k.release));
        match k.annotation(BACKEND_CONFIG) {
            Some(cur) if cur == want => {}
            Some(cur) => {
                return Err(error::usage(
                    format!(
                        "Service `gateway` already names a BackendConfig ({BACKEND_CONFIG}: {cur}) that install did \
                         not create"
                    ),
                    "use --health-check patch-deployment, or fix the health check in that BackendConfig",
                ))
            }
            None => add.push((BACKEND_CONFIG, want)),
        }
    }
    if let Some(v) = app_protocols(k)? {
        add.push((APP_PROTOCOLS, v));
    }
    Ok(add)
}

/// `cloud.google.com/app-protocols` with the gateway's port set to HTTPS, when the gateway serves
/// HTTPS (the chart's `secrets.tlsSecret`) and the load balancer would speak HTTP to it. Other
/// ports' entries are kept.
pub fn app_protocols(k: &K10) -> anyhow::Result<Option<String>> {
    if !k.serves_https() || k.lb_protocol() == "HTTPS" {
        return Ok(None);
    }
    let Some(port) = k.service_port_name.as_deref() else {
        return Err(error::environment(
            "the gateway serves HTTPS, but Service `gateway`'s port has no name, and \
             cloud.google.com/app-protocols (HTTPS to the pods) is keyed by port name",
            "restore the chart's Service (port `http`) with `helm upgrade --reuse-values`",
        ));
    };
    let mut v = k
        .annotation(APP_PROTOCOLS)
        .and_then(|raw| serde_json::from_str::<Map<String, Value>>(&raw).ok())
        .unwrap_or_default();
    v.insert(port.to_string(), json!("HTTPS"));
    Ok(Some(Value::Object(v).to_string()))
}

pub fn step(k: &K10, strategy: HealthCheckMode) -> anyhow::Result<Step> {
    let add = missing_annotations(k, strategy)?;
    if add.is_empty() {
        return Ok(SERVICE.noop(
            "service/gateway",
            format!("{NEG_ANNOTATION} is {{\"ingress\":true}} (container-native load balancing)"),
        ));
    }
    let mut added: Vec<String> = k
        .annotation(ADDED_ANNOTATIONS)
        .map(|v| v.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    for (key, _) in &add {
        // A key that was there before (someone else's app-protocols) is not install's to take back.
        if k.annotation(key).is_none() && !added.iter().any(|p| p == key) {
            added.push(key.to_string());
        }
    }
    let mut ann = Map::new();
    for (key, value) in &add {
        ann.insert(key.to_string(), json!(value));
    }
    ann.insert(ADDED_ANNOTATIONS.into(), json!(added.join(",")));
    let shown: Vec<String> = add.iter().map(|(key, value)| format!("'{key}={value}'")).collect();
    let has = |k: &str| add.iter().any(|(key, _)| *key == k);
    let mut why = vec![];
    if has(NEG_ANNOTATION) || has(BACKEND_CONFIG) {
        let and_ref = if has(BACKEND_CONFIG) {
            " and the BackendConfig reference"
        } else {
            ""
        };
        why.push(format!("internal Ingress needs NEG backends{and_ref}"));
    }
    if has(APP_PROTOCOLS) {
        why.push("the gateway serves HTTPS (readinessProbe scheme HTTPS): the load balancer must speak HTTPS".into());
    }
    Ok(SERVICE.update(
        "service/gateway",
        why.join("; "),
        format!(
            "kubectl -n {} annotate service gateway {}{}",
            k.namespace,
            shown.join(" "),
            if add.iter().any(|(key, _)| k.annotation(key).is_some()) {
                " --overwrite"
            } else {
                ""
            }
        ),
        Change::AnnotateService {
            patch: json!({"metadata": {"annotations": ann}}),
        },
    ))
}

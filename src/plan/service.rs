//! Step 4: Service `gateway`'s annotations: NEG backends (and the BackendConfig reference), with the
//! list of what install added so uninstall takes back exactly those.

use serde_json::{json, Map, Value};

use crate::cli::HealthCheckMode;
use crate::discover::K10;
use crate::error;
use crate::state::{ADDED_ANNOTATIONS, BACKEND_CONFIG, NEG_ANNOTATION};

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
    Ok(add)
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
        if !added.iter().any(|p| p == key) {
            added.push(key.to_string());
        }
    }
    let mut ann = Map::new();
    for (key, value) in &add {
        ann.insert(key.to_string(), json!(value));
    }
    ann.insert(ADDED_ANNOTATIONS.into(), json!(added.join(",")));
    let shown: Vec<String> = add.iter().map(|(key, value)| format!("'{key}={value}'")).collect();
    let and_ref = if add.iter().any(|(key, _)| *key == BACKEND_CONFIG) {
        " and the BackendConfig reference"
    } else {
        ""
    };
    Ok(SERVICE.update(
        "service/gateway",
        format!("internal Ingress needs NEG backends{and_ref}"),
        format!(
            "kubectl -n {} annotate service gateway {}",
            k.namespace,
            shown.join(" ")
        ),
        Change::AnnotateService {
            patch: json!({"metadata": {"annotations": ann}}),
        },
    ))
}

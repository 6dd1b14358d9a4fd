//! `kubectl get` columns for the Gateway API kinds: the CRDs' `additionalPrinterColumns`
//! (kubernetes-sigs/gateway-api `config/crd/standard`), served as Tables like the API server does.

use serde_json::{json, Value};

use crate::kube_api::{age, col};

type Cells = Box<dyn Fn(&Value) -> Vec<Value>>;

/// Columns and cells for a kind, or `None` when it is not a Gateway API kind.
pub fn columns(kind: &str) -> Option<(Vec<Value>, Cells)> {
    let cols = |names: &[&str]| names.iter().map(|n| col(n, 0)).collect::<Vec<_>>();
    Some(match kind {
        "GatewayClass" => (
            cols(&["Name", "Controller", "Accepted", "Age"]),
            Box::new(|o: &Value| {
                let c = status_of(o, "Accepted");
                vec![name(o), o["spec"]["controllerName"].clone(), json!(c), created(o)]
            }),
        ),
        "Gateway" => (
            cols(&["Name", "Class", "Address", "Programmed", "Age"]),
            Box::new(|o: &Value| {
                let addrs: Vec<&str> = o["status"]["addresses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a["value"].as_str())
                    .collect();
                let p = status_of(o, "Programmed");
                vec![
                    name(o),
                    o["spec"]["gatewayClassName"].clone(),
                    json!(addrs.join(",")),
                    json!(p),
                    created(o),
                ]
            }),
        ),
        "HTTPRoute" => (
            cols(&["Name", "Hostnames", "Age"]),
            Box::new(|o: &Value| {
                let h = o["spec"]["hostnames"]
                    .as_array()
                    .map(|h| Value::Array(h.clone()).to_string());
                vec![name(o), json!(h.unwrap_or_default()), created(o)]
            }),
        ),
        "HealthCheckPolicy" | "GCPGatewayPolicy" => {
            (cols(&["Name", "Age"]), Box::new(|o: &Value| vec![name(o), created(o)]))
        }
        _ => return None,
    })
}

fn name(o: &Value) -> Value {
    o["metadata"]["name"].clone()
}

fn created(o: &Value) -> Value {
    json!(age(&o["metadata"]["creationTimestamp"]))
}

/// The status of a condition (empty when there is none), as a JSONPath column prints it.
fn status_of(o: &Value, typ: &str) -> String {
    super::conditions::find(&o["status"]["conditions"], typ)
        .and_then(|c| c["status"].as_str())
        .unwrap_or_default()
        .to_string()
}

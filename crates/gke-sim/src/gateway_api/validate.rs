//! The CRDs' schema rules that a user meets first: required fields and the listener port range
//! (kubernetes-sigs/gateway-api `config/crd/standard`; GKE's policy CRDs require `targetRef`).

use serde_json::Value;

/// Check a Gateway API or GKE policy object; other kinds pass.
pub fn validate(obj: &Value) -> Result<(), String> {
    let spec = &obj["spec"];
    let required = |path: &str, v: &Value| {
        if v.is_null() {
            Err(format!("{path}: Required value"))
        } else {
            Ok(())
        }
    };
    match obj["kind"].as_str().unwrap_or_default() {
        "Gateway" => {
            required("spec.gatewayClassName", &spec["gatewayClassName"])?;
            required("spec.listeners", &spec["listeners"])?;
            listeners(spec)
        }
        "GatewayClass" => required("spec.controllerName", &spec["controllerName"]),
        "HealthCheckPolicy" | "GCPGatewayPolicy" => required("spec.targetRef", &spec["targetRef"]),
        _ => Ok(()),
    }
}

fn listeners(spec: &Value) -> Result<(), String> {
    for (i, l) in spec["listeners"].as_array().into_iter().flatten().enumerate() {
        for field in ["name", "port", "protocol"] {
            if l[field].is_null() {
                return Err(format!("spec.listeners[{i}].{field}: Required value"));
            }
        }
        let port = l["port"].as_i64().unwrap_or(0);
        let bound = match port {
            p if p < 1 => "greater than or equal to 1",
            p if p > 65535 => "less than or equal to 65535",
            _ => continue,
        };
        let at = format!("spec.listeners[{i}].port");
        return Err(format!("{at}: Invalid value: {port}: {at} in body should be {bound}"));
    }
    Ok(())
}

//! Gateway mode's manifests: the Gateway, the HTTPRoute, the HealthCheckPolicy on Service
//! `gateway` (from the readinessProbe: no Deployment change), and the GCPGatewayPolicy for
//! `--global-access`. Pure.

use serde_json::{json, Value};

use crate::discover::K10;
use crate::gateway::{Kind, CLASS, GATEWAY_GROUP};
use crate::plan::Settings;
use crate::state::{MANAGED_BY_LABEL, MANAGER};

/// The HealthCheckPolicy's name (it targets Service gateway).
pub fn health_policy_name(gateway: &str) -> String {
    format!("{gateway}-health")
}

fn object(kind: Kind, k: &K10, name: &str, spec: Value) -> Value {
    let labels = json!({MANAGED_BY_LABEL: MANAGER, "app.kubernetes.io/part-of": "k10"});
    json!({
        "apiVersion": kind.api_version(), "kind": kind.name(),
        "metadata": {"name": name, "namespace": k.namespace, "labels": labels},
        "spec": spec,
    })
}

/// Gateway `name` of class gke-l7-rilb: an HTTP listener, an HTTPS one with `--tls-secret`, and
/// `--static-ip` as a NamedAddress.
pub fn gateway_body(k: &K10, name: &str, s: &Settings) -> Value {
    let mut listeners = vec![json!({"name": "http", "protocol": "HTTP", "port": 80})];
    if let Some(secret) = &s.tls_secret {
        listeners.push(json!({"name": "https", "protocol": "HTTPS", "port": 443,
            "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": secret}]}}));
    }
    let mut spec = json!({"gatewayClassName": CLASS, "listeners": listeners});
    if let Some(ip) = &s.static_ip {
        spec["addresses"] = json!([{"type": "NamedAddress", "value": ip}]);
    }
    object(Kind::Gateway, k, name, spec)
}

/// HTTPRoute `name` on Gateway `gateway`: `path` as a PathPrefix (without its trailing slash) to
/// `gateway:<port>`.
pub fn route_body(k: &K10, name: &str, gateway: &str, path: &str, s: &Settings) -> Value {
    let prefix = match path.trim_end_matches('/') {
        "" => "/",
        p => p,
    };
    let mut spec = json!({
        "parentRefs": [{"name": gateway}],
        "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": prefix}}],
                   "backendRefs": [{"name": "gateway", "port": k.service_port}]}],
    });
    if let Some(h) = &s.host {
        spec["hostnames"] = json!([h]);
    }
    object(Kind::HttpRoute, k, name, spec)
}

/// HealthCheckPolicy on Service gateway: the readinessProbe's path and scheme on the container
/// port (GKE's check would probe `/` without it, which K10's gateway answers 404).
pub fn health_policy_body(k: &K10, name: &str, port: i32) -> Value {
    let (path, scheme) = match &k.probe {
        Some(p) if p.scheme == "HTTPS" => (p.path.clone(), "HTTPS"),
        Some(p) => (p.path.clone(), "HTTP"),
        None => ("/healthz".to_string(), k.gateway_protocol()),
    };
    let field = if scheme == "HTTPS" {
        "httpsHealthCheck"
    } else {
        "httpHealthCheck"
    };
    let spec = json!({
        "default": {"config": {"type": scheme, field: {"port": port, "requestPath": path}}},
        "targetRef": {"group": "", "kind": "Service", "name": "gateway"},
    });
    object(Kind::HealthCheckPolicy, k, name, spec)
}

/// GCPGatewayPolicy for `--global-access`: clients in every region of the VPC reach the address.
pub fn gcp_policy_body(k: &K10, gateway: &str) -> Value {
    let spec = json!({
        "default": {"allowGlobalAccess": true},
        "targetRef": {"group": GATEWAY_GROUP, "kind": "Gateway", "name": gateway},
    });
    object(Kind::GcpGatewayPolicy, k, gateway, spec)
}

/// The Container API request body of `gcloud container clusters update C --gateway-api=standard`
/// (as gcloud sends it: the cluster's name, and the update).
pub fn enable_body(c: &crate::discover::ClusterInfo) -> Value {
    json!({"name": c.path(), "update": {"desiredGatewayApiConfig": {"channel": crate::gateway::CHANNEL_STANDARD}}})
}

/// The manifests of the Gateway mode objects the plan keeps (NoOp, Reuse), as install writes them
/// without the optional settings, so `export --format yaml` lists every object of the setup.
pub fn kept(k: &K10, plan: &crate::plan::Plan) -> Vec<Value> {
    use crate::plan::{gateway as steps, Action};
    let crate::plan::Frontend::Gateway { name: gateway } = &plan.frontend else {
        return vec![];
    };
    let s = Settings::from_args(&crate::cli::PlanArgs::default()).expect("the defaults are valid");
    let kept = plan
        .steps
        .iter()
        .filter(|st| matches!(st.action, Action::NoOp | Action::Reuse));
    kept.filter_map(|st| {
        let name = st.target.split_once('/')?.1;
        match st.id {
            id if id == steps::GATEWAY.id => Some(gateway_body(k, name, &s)),
            id if id == steps::ROUTE.id => Some(route_body(k, name, gateway, &plan.path, &s)),
            id if id == steps::HEALTH_POLICY.id => Some(health_policy_body(k, name, plan.container_port)),
            _ => None,
        }
    })
    .collect()
}

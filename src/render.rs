//! Manifests, rendered from plain data: the objects and patches install writes, and the
//! `--dry-run -o yaml` / `export --format yaml` documents. Pure: install, plan and export use it.

use serde_json::{json, Value};

use crate::cli::Output;
use crate::discover::K10;
use crate::plan::{Action, Change, Frontend, Plan, Settings};
use crate::state::{ADDED_PORT, CLASS_ANNOTATION, MANAGED_BY_LABEL, MANAGER, STATIC_IP};

/// The gce-internal Ingress for Service `gateway` under `path`.
pub fn ingress_body(k: &K10, name: &str, path: &str, s: &Settings) -> Value {
    let mut ann = serde_json::Map::new();
    ann.insert(CLASS_ANNOTATION.into(), json!("gce-internal"));
    if let Some(ip) = &s.static_ip {
        ann.insert(STATIC_IP.into(), json!(ip));
    }
    if s.https_only() {
        // HTTP and HTTPS on one internal IP needs a static IP: serve HTTPS only.
        ann.insert("kubernetes.io/ingress.allow-http".into(), json!("false"));
    }
    let mut rule = json!({"http": {"paths": [{"path": path, "pathType": "Prefix",
        "backend": {"service": {"name": "gateway", "port": {"number": k.service_port}}}}]}});
    if let Some(h) = &s.host {
        rule["host"] = json!(h);
    }
    let mut spec = json!({"rules": [rule]});
    if let Some(t) = &s.tls_secret {
        spec["tls"] = json!([{"hosts": [s.host.clone().unwrap_or_default()], "secretName": t}]);
    }
    let labels = json!({MANAGED_BY_LABEL: MANAGER, "app.kubernetes.io/part-of": "k10"});
    json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": name, "namespace": k.namespace, "labels": labels, "annotations": ann},
        "spec": spec,
    })
}

/// The manifest of a front end.
pub fn frontend_body(k: &K10, f: &Frontend, path: &str, s: &Settings) -> Value {
    match f {
        Frontend::Ingress { name } => ingress_body(k, name, path, s),
    }
}

/// The JSON patch that declares the container port (with `test` guards), and its diff.
pub fn container_port_patch(k: &K10, port: i32) -> anyhow::Result<(Value, String)> {
    let dj = serde_json::to_value(&k.deployment)?;
    let i = k.container_index;
    let base = format!("/spec/template/spec/containers/{i}");
    let mut ops = vec![json!({"op": "test", "path": format!("{base}/name"), "value": k.container_name})];
    let mut port_obj = json!({"containerPort": port, "protocol": "TCP"});
    if let Some(n) = k.target_port.as_str() {
        port_obj["name"] = json!(n);
    }
    if dj["spec"]["template"]["spec"]["containers"][i]["ports"].is_array() {
        ops.push(json!({"op": "add", "path": format!("{base}/ports/-"), "value": port_obj}));
    } else {
        ops.push(json!({"op": "add", "path": format!("{base}/ports"), "value": [port_obj]}));
    }
    let marker = format!("{}:{port}", k.container_name);
    if dj["metadata"]["annotations"].is_object() {
        let key = ADDED_PORT.replace('~', "~0").replace('/', "~1");
        ops.push(json!({"op": "add", "path": format!("/metadata/annotations/{key}"), "value": marker}));
    } else {
        ops.push(json!({"op": "add", "path": "/metadata/annotations", "value": {ADDED_PORT: marker}}));
    }
    let diff = format!(
        "deployment/gateway, container {} (spec.template.spec.containers[{i}]):\n+  ports:\n+  - containerPort: \
         {port}\n+    protocol: TCP\n",
        k.container_name
    );
    Ok((json!(ops), diff))
}

/// The Kubernetes manifests install would apply (for GitOps: `--dry-run -o yaml`).
pub fn manifests(k: &K10, plan: &Plan, out: Output) -> anyhow::Result<String> {
    let mut docs: Vec<Value> = vec![];
    for s in &plan.steps {
        match &s.change {
            Change::BackendConfig { body, .. } | Change::CreateIngress { body } => docs.push(body.clone()),
            Change::AnnotateService { patch } => docs.push(json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "gateway", "namespace": k.namespace,
                    "annotations": patch["metadata"]["annotations"]}})),
            Change::PatchDeployment { .. } => docs.push(deployment_port(k, plan.container_port)),
            _ => {}
        }
    }
    if plan.step("ingress").is_some_and(|s| s.action != Action::Create) {
        // Kept as it is: the manifest as install writes it without the optional settings.
        let s = Settings {
            health_check: plan.strategy,
            ingress_name: Some(plan.frontend.name().to_string()),
            path: Some(plan.path.clone()),
            static_ip: None,
            host: None,
            tls_secret: None,
            proxy_range: None,
            allow_unauthenticated: true,
        };
        docs.push(frontend_body(k, &plan.frontend, &plan.path, &s));
    }
    Ok(match out {
        Output::Json => serde_json::to_string_pretty(&json!({"apiVersion": "v1", "kind": "List", "items": docs}))?,
        _ => docs
            .iter()
            .map(|d| serde_yaml::to_string(d).map(|y| format!("---\n{y}")))
            .collect::<Result<String, _>>()?,
    })
}

/// The part of Deployment `gateway` that declares the container port.
fn deployment_port(k: &K10, port: i32) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "gateway", "namespace": k.namespace},
        "spec": {"template": {"spec": {"containers": [{"name": k.container_name,
            "ports": [{"containerPort": port, "protocol": "TCP"}]}]}}}})
}

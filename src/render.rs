//! Manifests, rendered from plain data: the objects and patches install writes, and the
//! `--dry-run -o yaml` / `export --format yaml` documents. Pure: install, plan and export use it.

pub mod gateway;

use serde_json::{json, Value};

use crate::cli::Output;
use crate::discover::K10;
use crate::plan::{Action, Change, Frontend, Plan, Settings, INGRESS};
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
    if let Some(t) = s.certificate_secret(&k.release) {
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
        Frontend::Gateway { name } => gateway::gateway_body(k, name, s),
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
            Change::BackendConfig { body, .. }
            | Change::CreateFrontend { body }
            | Change::CreateObject { body }
            | Change::PatchObject { body, .. } => docs.push(body.clone()),
            Change::AnnotateService { patch } => docs.push(json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "gateway", "namespace": k.namespace,
                    "annotations": patch["metadata"]["annotations"]}})),
            Change::PatchDeployment { .. } => docs.push(deployment_port(k, plan.container_port)),
            _ => {}
        }
    }
    if plan.step(INGRESS.id).is_some_and(|s| s.action != Action::Create) {
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
            self_signed: false,
            no_http: false,
        };
        docs.push(frontend_body(k, &plan.frontend, &plan.path, &s));
    }
    docs.extend(gateway::kept(k, plan));
    Ok(match out {
        Output::Json => serde_json::to_string_pretty(&json!({"apiVersion": "v1", "kind": "List", "items": docs}))?,
        _ => docs
            .iter()
            .map(|d| serde_norway::to_string(d).map(|y| format!("---\n{y}")))
            .collect::<Result<String, _>>()?,
    })
}

/// The part of Deployment `gateway` that declares the container port.
fn deployment_port(k: &K10, port: i32) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "gateway", "namespace": k.namespace},
        "spec": {"template": {"spec": {"containers": [{"name": k.container_name,
            "ports": [{"containerPort": port, "protocol": "TCP"}]}]}}}})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::HealthCheckMode;
    use crate::fixtures;
    use crate::plan::compute;
    use crate::state::{Observed, Vpc};

    fn settings(mode: HealthCheckMode) -> Settings {
        Settings {
            health_check: mode,
            ingress_name: None,
            path: None,
            static_ip: None,
            host: None,
            tls_secret: None,
            proxy_range: None,
            allow_unauthenticated: false,
            self_signed: false,
            no_http: false,
        }
    }

    /// K10 as the chart leaves it: no containerPort, no NEG annotation.
    fn chart() -> Observed {
        Observed::fresh().without_service_annotation(crate::state::NEG_ANNOTATION)
    }

    fn kinds(seen: &Observed, mode: HealthCheckMode) -> Vec<String> {
        let plan = compute(seen, &Vpc::fresh(), None, None, &settings(mode)).unwrap();
        let out = manifests(&seen.k10, &plan, Output::Json).unwrap();
        let list: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(list["kind"], "List");
        let items = list["items"].as_array().unwrap();
        items.iter().map(|d| d["kind"].as_str().unwrap().to_string()).collect()
    }

    #[test]
    fn manifests_table() {
        use HealthCheckMode::*;
        let installed = {
            let mut i: k8s_openapi::api::networking::v1::Ingress =
                fixtures::from_json(ingress_body(&fixtures::k10(), "k10-ilb", "/k10/", &settings(Auto)));
            i.status = None;
            Observed::healthy().with_ingress(i)
        };
        let cases: Vec<(&str, Observed, HealthCheckMode, &[&str])> = vec![
            ("chart's K10", chart(), Auto, &["Deployment", "Service", "Ingress"]),
            ("port declared", Observed::healthy(), Auto, &["Ingress"]),
            ("NEG annotated", Observed::fresh(), Auto, &["Deployment", "Ingress"]),
            (
                "backendconfig",
                chart(),
                Backendconfig,
                &["BackendConfig", "Service", "Ingress"],
            ),
            ("installed: the Ingress as kept", installed, Auto, &["Ingress"]),
        ];
        for (name, seen, mode, want) in cases {
            assert_eq!(kinds(&seen, mode), want, "{name}");
        }
    }

    #[test]
    fn yaml_documents_are_separated() {
        let seen = chart();
        let plan = compute(&seen, &Vpc::fresh(), None, None, &settings(HealthCheckMode::Auto)).unwrap();
        let out = manifests(&seen.k10, &plan, Output::Yaml).unwrap();
        assert_eq!(out.matches("---\n").count(), 3, "{out}");
        assert!(out.contains("kubernetes.io/ingress.class: gce-internal"), "{out}");
    }

    #[test]
    fn container_port_patch_table() {
        let chart = Observed::fresh().k10;
        let mut bare = chart.clone();
        let mut d = serde_json::to_value(&bare.deployment).unwrap();
        d["spec"]["template"]["spec"]["containers"][0]
            .as_object_mut()
            .unwrap()
            .remove("ports");
        d["metadata"]["annotations"] = json!({"a": "b"});
        bare.deployment = fixtures::from_json(d);
        let mut named = bare.clone();
        named.target_port = json!("http");
        // (case, K10, op 1 path, op 2 path, port name)
        let cases = [
            (
                "ports listed",
                &chart,
                "/spec/template/spec/containers/0/ports/-",
                "/metadata/annotations",
                None,
            ),
            (
                "no ports, annotations",
                &bare,
                "/spec/template/spec/containers/0/ports",
                "/metadata/annotations/kasten-ilb.kasten.io~1added-container-port",
                None,
            ),
            (
                "named targetPort",
                &named,
                "/spec/template/spec/containers/0/ports",
                "/metadata/annotations/kasten-ilb.kasten.io~1added-container-port",
                Some("http"),
            ),
        ];
        for (name, k, ports, ann, port_name) in cases {
            let (patch, diff) = container_port_patch(k, 8000).unwrap();
            assert_eq!(
                patch[0],
                json!({"op": "test", "path": "/spec/template/spec/containers/0/name",
                "value": "gateway"})
            );
            assert_eq!(patch[1]["path"], ports, "{name}");
            assert_eq!(patch[2]["path"], ann, "{name}");
            let port = if ports.ends_with('-') {
                &patch[1]["value"]
            } else {
                &patch[1]["value"][0]
            };
            assert_eq!(port["containerPort"], 8000, "{name}");
            assert_eq!(port["name"].as_str(), port_name, "{name}");
            assert!(diff.contains("containers[0]"), "{name}");
        }
    }
}

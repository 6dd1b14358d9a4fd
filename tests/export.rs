//! `export --format helm-values` against the K10 chart's values (issue 15): what goes under
//! `ingress.annotations`, what the chart cannot express, and charts that fix the Ingress name.

mod common;

use common::*;
use serde_json::{json, Value};

fn values(w: &TestWorld, args: &[&str]) -> (String, Value) {
    let mut a = vec!["export", "--format", "helm-values"];
    a.extend_from_slice(args);
    let out = ok(&w.run(&a));
    let v: Value = serde_norway::from_str(&out).unwrap();
    (out.clone(), v)
}

/// The "apply them separately" list only (its comment lines, not the values).
fn separately(out: &str) -> String {
    let list = out.split("# Not expressible in the chart").nth(1).unwrap_or_default();
    list.lines()
        .skip(1)
        .take_while(|l| l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn backendconfig_mode_names_the_service_annotation_once() {
    let w = TestWorld::start("fresh");
    let (out, _) = values(&w, &["--health-check", "backendconfig"]);
    insta::assert_snapshot!("helm_values_backendconfig", out);
    assert_eq!(out.matches("cloud.google.com/backend-config").count(), 1, "{out}");
    assert!(
        separately(&out).contains("the BackendConfig `k10-gateway-ilb`"),
        "{out}"
    );
}

#[test]
fn https_only_puts_allow_http_under_ingress_annotations() {
    let w = TestWorld::start("fresh");
    let (out, v) = values(&w, &["--tls-secret", "k10-tls", "--host", "k10.example.internal"]);
    insta::assert_snapshot!("helm_values_https_only", out);
    assert_eq!(
        v["ingress"]["annotations"],
        json!({"kubernetes.io/ingress.allow-http": "false"})
    );
    assert!(!separately(&out).contains("allow-http"), "{out}");
    assert!(
        !separately(&out).contains("ingressClassName"),
        "a remark, not a step: {out}"
    );
    assert!(out.contains("spec.ingressClassName"), "{out}");
}

#[test]
fn a_chart_that_fixes_the_ingress_name_is_detected_from_its_version() {
    let w = TestWorld::start("fresh");
    w.sim.with_world(|w| {
        for kind in ["Deployment", "Service"] {
            let o = w
                .kube_get_mut(kind, "kasten-io", "gateway")
                .expect("the chart's gateway");
            o["metadata"]["labels"]["helm.sh/chart"] = json!("k10-6.0.12");
        }
    });
    let (out, _) = values(&w, &[]);
    insta::assert_snapshot!("helm_values_fixed_ingress_name", out);
    assert!(
        out.contains("this release's chart (k10-6.0.12) fixes the Ingress name to `k10-ingress`"),
        "{out}"
    );
    let w = TestWorld::start("fresh");
    let (out, _) = values(&w, &[]);
    assert!(
        !out.contains("fixes the Ingress name"),
        "chart 8.0.1 takes ingress.name: {out}"
    );
}

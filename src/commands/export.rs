//! `export`: what install would do, as files for teams that manage clusters through Git:
//! values for the K10 Helm chart, the gcloud commands for the Google Cloud side, or the
//! Kubernetes manifests. Read-only.

use serde_json::{json, Value};

use crate::cli::{ExportArgs, ExportFormat, Global, Output, Via};
use crate::discover;
use crate::error::exit;
use crate::plan::{gateway, Action, Change, Frontend, Plan, Settings, FIREWALL, PROXY_SUBNET};
use crate::prepare::prepare_with;
use crate::printer::Printer;
use crate::render;
use crate::state::{Base, ADDED_ANNOTATIONS, ALLOW_HTTP, CLASS_ANNOTATION, STATIC_IP};

pub async fn run(g: &Global, a: &ExportArgs, p: &Printer) -> anyhow::Result<u8> {
    let settings = Settings::from_args(&a.plan)?;
    let opts = gateway::Options::from_args(&a.plan)?;
    if opts.via == Via::Gateway && a.format == ExportFormat::HelmValues {
        return Err(crate::error::usage(
            "the K10 chart has no values for a Gateway: --via gateway exports manifests and gcloud commands",
            "use `kubectl kasten-ilb export --via gateway --format yaml` (and `--format gcloud`)",
        ));
    }
    let prepared = prepare_with(g, &settings, &opts, p).await?;
    let (b, plan) = (&prepared.base, &prepared.plan);
    let out = match a.format {
        ExportFormat::Yaml => render::manifests(&b.k10, plan, Output::Yaml)?,
        ExportFormat::Gcloud => gcloud_script(b, plan),
        ExportFormat::HelmValues => helm_values(b, plan, &settings)?,
    };
    p.out(&out);
    Ok(exit::OK)
}

/// The Google Cloud steps as a shell script (the ones already in place as comments).
fn gcloud_script(b: &Base, plan: &Plan) -> String {
    let mut s = format!(
        "#!/bin/sh\n# The Google Cloud side of an internal K10 dashboard for {} (kubectl kasten-ilb export --format \
         gcloud).\nset -e\n",
        b.cluster.path()
    );
    for step in plan
        .steps
        .iter()
        .filter(|s| [gateway::GATEWAY_API.id, PROXY_SUBNET.id, FIREWALL.id].contains(&s.id))
    {
        match (&step.command, step.action) {
            (Some(cmd), Action::Create | Action::Update) => {
                s.push_str(&format!("\n# {}: {}\n{cmd}\n", step.title, step.reason))
            }
            _ => s.push_str(&format!(
                "\n# {}: {} `{}` ({})\n",
                step.title, step.action, step.target, step.reason
            )),
        }
    }
    s
}

/// The chart's values for the front end.
fn frontend_values(plan: &Plan, settings: &Settings) -> Value {
    match &plan.frontend {
        Frontend::Ingress { name } => {
            let mut ingress = json!({
                "create": true,
                "name": name,
                "class": "gce-internal",
                "urlPath": plan.path.trim_matches('/'),
                "pathType": "Prefix",
            });
            // ingress.annotations is copied verbatim onto the chart's Ingress.
            let mut annotations = serde_json::Map::new();
            if let Some(ip) = &settings.static_ip {
                annotations.insert(STATIC_IP.into(), json!(ip));
            }
            if settings.https_only() {
                annotations.insert(ALLOW_HTTP.into(), json!("false"));
            }
            if !annotations.is_empty() {
                ingress["annotations"] = Value::Object(annotations);
            }
            if let Some(h) = &settings.host {
                ingress["host"] = json!(h);
            }
            if let Some(t) = &plan.certificate {
                ingress["tls"] = json!({"enabled": true, "secretName": t});
            }
            json!({"ingress": ingress})
        }
        Frontend::Gateway { .. } => json!({}), // refused in `run`: the chart has no Gateway values
    }
}

/// Charts up to 6.5.10 name the Ingress `<release>-ingress` whatever `ingress.name` says (the
/// value appeared in 6.5.11 or 6.5.12). Rancher's mirror numbers a chart upstream x 100 + 1
/// (`k10-6.5.1001` is 6.5.10), so a patch of 100 or more is read that way.
pub fn fixed_ingress_name(chart: Option<&str>) -> bool {
    let Some((major, minor, patch)) = chart.and_then(discover::chart_version) else {
        return false;
    };
    let patch = if patch >= 100 { (patch - 1) / 100 } else { patch };
    (major, minor, patch) <= (6, 5, 10)
}

/// Remarks on how the values map to what the chart renders (not things to apply).
fn remarks(b: &Base, plan: &Plan) -> Vec<String> {
    let k = &b.k10;
    let mut notes = vec![format!(
        "the chart renders `{CLASS_ANNOTATION}: gce-internal` from ingress.class; newer charts also set \
         spec.ingressClassName, which GKE ignores when the annotation is present"
    )];
    if fixed_ingress_name(k.chart.as_deref()) {
        notes.push(format!(
            "this release's chart ({}) fixes the Ingress name to `{}-ingress` and ignores ingress.name, so the \
             Ingress will be `{}-ingress`, not `{}` (ingress.name arrived in chart 6.5.11 or 6.5.12)",
            k.chart.as_deref().unwrap_or_default(),
            k.release,
            k.release,
            plan.frontend.name()
        ));
    }
    notes
}

/// What the chart has no value for, to apply separately.
fn not_expressible(plan: &Plan) -> Vec<String> {
    let mut notes = vec![];
    for step in &plan.steps {
        match &step.change {
            Change::PatchDeployment { .. } => notes.push(format!(
                "the chart has no value for the gateway's containerPort: add containerPort {} to Deployment gateway \
                 (see `export --format yaml`), or use --health-check backendconfig",
                plan.container_port
            )),
            Change::BackendConfig { name, .. } => notes.push(format!(
                "the BackendConfig `{name}` (the load balancer's health check): see `export --format yaml`"
            )),
            Change::AnnotateService { patch } => {
                let keys: Vec<&str> = patch["metadata"]["annotations"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k.as_str())
                    .filter(|k| *k != ADDED_ANNOTATIONS)
                    .collect();
                notes.push(format!(
                    "the annotations {} on Service gateway (the chart has no value for them): see `export --format \
                     yaml`",
                    keys.join(", ")
                ))
            }
            // The key is made by install only: no manifest or values file carries one.
            Change::TlsSecret { name, host, .. } => notes.push(format!(
                "the TLS Secret `{name}` for {host}: a key is never exported; make it with `kubectl kasten-ilb install \
                 --self-signed --host {host}` or `kubectl create secret tls {name} --cert=tls.crt --key=tls.key`"
            )),
            Change::CreateSubnet { .. }
            | Change::PromoteSubnet { .. }
            | Change::CreateFirewall { .. }
            | Change::UpdateFirewall { .. } => notes.push(format!(
                "{} on Google Cloud: see `export --format gcloud`",
                step.title.to_lowercase()
            )),
            _ => {}
        }
    }
    notes
}

fn helm_values(b: &Base, plan: &Plan, settings: &Settings) -> anyhow::Result<String> {
    let list = |v: Vec<String>| -> String { v.iter().map(|n| format!("#   - {n}\n")).collect() };
    let separately = not_expressible(plan);
    let separately = if separately.is_empty() {
        "# Nothing else to apply: the chart expresses all of it.\n".to_string()
    } else {
        format!(
            "# Not expressible in the chart (apply them separately):\n{}",
            list(separately)
        )
    };
    Ok(format!(
        "# Values for the K10 chart: helm upgrade {release} kasten/k10 -n {ns} --reuse-values -f THIS_FILE\n\
         # Notes:\n{notes}{separately}{}",
        serde_norway::to_string(&frontend_values(plan, settings))?,
        notes = list(remarks(b, plan)),
        release = b.k10.release,
        ns = b.k10.namespace
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_up_to_6_5_10_fix_the_ingress_name() {
        for (chart, fixed) in [
            ("k10-6.0.12", true),
            ("k10-6.5.10", true),
            ("k10-6.5.1001", true), // Rancher's mirror: 6.5.10
            ("k10-6.5.12", false),
            ("k10-6.5.1201", false),
            ("k10-7.0.1", false),
            ("k10-8.0.10_build", false),
            ("k10-5.5.9", true),
            ("grafana-8.0.1", false),
        ] {
            assert_eq!(fixed_ingress_name(Some(chart)), fixed, "{chart}");
        }
        assert!(!fixed_ingress_name(None));
    }
}

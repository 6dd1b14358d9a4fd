//! `export`: what install would do, as files for teams that manage clusters through Git:
//! values for the K10 Helm chart, the gcloud commands for the Google Cloud side, or the
//! Kubernetes manifests. Read-only.

use serde_json::{json, Value};

use crate::cli::{ExportArgs, ExportFormat, Global, Output};
use crate::error::exit;
use crate::plan::{Action, Change, Frontend, Plan, Settings, FIREWALL, PROXY_SUBNET};
use crate::prepare::prepare;
use crate::printer::Printer;
use crate::render;
use crate::state::{Base, CLASS_ANNOTATION, STATIC_IP};

pub async fn run(g: &Global, a: &ExportArgs, p: &Printer) -> anyhow::Result<u8> {
    let settings = Settings::from_args(&a.plan)?;
    let prepared = prepare(g, &settings, p).await?;
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
        .filter(|s| s.id == PROXY_SUBNET.id || s.id == FIREWALL.id)
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
            if let Some(ip) = &settings.static_ip {
                ingress["annotations"] = json!({STATIC_IP: ip});
            }
            if let Some(h) = &settings.host {
                ingress["host"] = json!(h);
            }
            if let Some(t) = &settings.tls_secret {
                ingress["tls"] = json!({"enabled": true, "secretName": t});
            }
            json!({"ingress": ingress})
        }
    }
}

/// What the chart has no value for, to apply separately.
fn not_expressible(plan: &Plan, settings: &Settings) -> Vec<String> {
    let mut notes = vec![format!(
        "the chart renders `{CLASS_ANNOTATION}: gce-internal` from ingress.class; newer charts also set \
         spec.ingressClassName, which GKE ignores when the annotation is present"
    )];
    for step in &plan.steps {
        match &step.change {
            Change::PatchDeployment { .. } => notes.push(format!(
                "the chart has no value for the gateway's containerPort: add containerPort {} to Deployment gateway \
                 (see `export --format yaml`), or use --health-check backendconfig",
                plan.container_port
            )),
            Change::BackendConfig { .. } => notes.push(
                "the BackendConfig and its reference on Service gateway (the chart has no value for the gateway \
                 Service's annotations): see `export --format yaml`"
                    .into(),
            ),
            Change::AnnotateService { .. } => {
                notes.push("the Service gateway annotations (cloud.google.com/neg): see `export --format yaml`".into())
            }
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
    if settings.https_only() {
        notes.push(
            "HTTPS only: add the annotation kubernetes.io/ingress.allow-http: \"false\" (GKE needs a static IP to \
             serve HTTP and HTTPS on one internal IP)"
                .into(),
        );
    }
    notes
}

fn helm_values(b: &Base, plan: &Plan, settings: &Settings) -> anyhow::Result<String> {
    let notes: String = not_expressible(plan, settings)
        .iter()
        .map(|n| format!("#   - {n}\n"))
        .collect();
    Ok(format!(
        "# Values for the K10 chart: helm upgrade {release} kasten/k10 -n {ns} --reuse-values -f THIS_FILE\n\
         # Not expressible in the chart (apply them separately):\n{notes}{}",
        serde_yaml::to_string(&frontend_values(plan, settings))?,
        release = b.k10.release,
        ns = b.k10.namespace
    ))
}

//! `export`: what install would do, as files for teams that manage clusters through Git:
//! values for the K10 Helm chart, the gcloud commands for the Google Cloud side, or the
//! Kubernetes manifests. Read-only.

use serde_json::{json, Value};

use crate::cli::{ExportArgs, ExportFormat, Global, Output};
use crate::error::exit;
use crate::plan::{Action, Change, Settings};
use crate::printer::Printer;
use crate::state::{CLASS_ANNOTATION, STATIC_IP};

pub async fn run(g: &Global, a: &ExportArgs, p: &Printer) -> anyhow::Result<u8> {
    let settings = Settings::from_args(&a.plan)?;
    let prepared = crate::commands::install::prepare(g, &settings, p).await?;
    let (b, plan) = (&prepared.base, &prepared.plan);
    let out = match a.format {
        ExportFormat::Yaml => crate::commands::install::manifests(b, plan, Output::Yaml)?,
        ExportFormat::Gcloud => {
            let mut s = format!(
                "#!/bin/sh\n# The Google Cloud side of an internal K10 dashboard for {} (kubectl kasten-ilb export --format gcloud).\nset -e\n",
                b.cluster.path()
            );
            for step in plan
                .steps
                .iter()
                .filter(|s| s.id == "proxy-subnet" || s.id == "firewall")
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
        ExportFormat::HelmValues => {
            let release = &b.k10.release;
            let mut ann = serde_json::Map::new();
            if let Some(ip) = &settings.static_ip {
                ann.insert(STATIC_IP.into(), json!(ip));
            }
            let mut ingress = json!({
                "create": true,
                "name": plan.ingress_name,
                "class": "gce-internal",
                "urlPath": plan.path.trim_matches('/'),
                "pathType": "Prefix",
            });
            if !ann.is_empty() {
                ingress["annotations"] = Value::Object(ann);
            }
            if let Some(h) = &settings.host {
                ingress["host"] = json!(h);
            }
            if let Some(t) = &settings.tls_secret {
                ingress["tls"] = json!({"enabled": true, "secretName": t});
            }
            let values = json!({"ingress": ingress});
            let mut not_expressible = vec![
                format!("the chart renders `{CLASS_ANNOTATION}: gce-internal` from ingress.class; newer charts also set spec.ingressClassName, which GKE ignores when the annotation is present"),
            ];
            for step in &plan.steps {
                match &step.change {
                    Change::PatchDeployment { .. } => not_expressible.push(format!(
                        "the chart has no value for the gateway's containerPort: add containerPort {} to Deployment gateway (see `export --format yaml`), or use --health-check backendconfig",
                        plan.container_port
                    )),
                    Change::BackendConfig { .. } => not_expressible.push("the BackendConfig and its reference on Service gateway (the chart has no value for the gateway Service's annotations): see `export --format yaml`".into()),
                    Change::AnnotateService { .. } => not_expressible.push("the Service gateway annotations (cloud.google.com/neg): see `export --format yaml`".into()),
                    Change::CreateSubnet { .. } | Change::PromoteSubnet { .. } | Change::CreateFirewall { .. } | Change::UpdateFirewall { .. } => {
                        not_expressible.push(format!("{} on Google Cloud: see `export --format gcloud`", step.title.to_lowercase()))
                    }
                    _ => {}
                }
            }
            if settings.tls_secret.is_some() && settings.static_ip.is_none() {
                not_expressible.push("HTTPS only: add the annotation kubernetes.io/ingress.allow-http: \"false\" (GKE needs a static IP to serve HTTP and HTTPS on one internal IP)".into());
            }
            let notes: String = not_expressible.iter().map(|n| format!("#   - {n}\n")).collect();
            format!(
                "# Values for the K10 chart: helm upgrade {release} kasten/k10 -n {ns} --reuse-values -f THIS_FILE\n# Not expressible in the chart (apply them separately):\n{notes}{}",
                serde_yaml::to_string(&values)?,
                ns = b.k10.namespace
            )
        }
    };
    p.out(&out);
    Ok(exit::OK)
}

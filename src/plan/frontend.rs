//! Step 5: the front end that exposes Service `gateway` on the internal load balancer. A
//! gce-internal Ingress is the one kind today; the Gateway API mode is another variant of
//! [`Frontend`], with its own step here and its own rendering and apply.

use k8s_openapi::api::networking::v1::Ingress;
use serde_json::json;

use crate::discover::K10;
use crate::error;
use crate::render;
use crate::state::{self, Observed, CLASS_ANNOTATION, MANAGED_BY_LABEL, MANAGER};

use super::{normalize_path, Change, Notes, Settings, Step, INGRESS};

/// How the gateway is exposed on the internal load balancer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frontend {
    /// A `gce-internal` Ingress (GKE's internal Application Load Balancer).
    Ingress { name: String },
    /// A Gateway of class `gke-l7-rilb` with its HTTPRoute (GKE Gateway API).
    Gateway { name: String },
}

impl Frontend {
    /// The Kubernetes kind (`Ingress`), as events' `involvedObject.kind` names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Frontend::Ingress { .. } => "Ingress",
            Frontend::Gateway { .. } => "Gateway",
        }
    }
    pub fn name(&self) -> &str {
        match self {
            Frontend::Ingress { name } | Frontend::Gateway { name } => name,
        }
    }
    /// `ingress/NAME`, as kubectl names it.
    pub fn resource(&self) -> String {
        format!("{}/{}", self.kind().to_lowercase(), self.name())
    }
    /// The front ends install made in the namespace (by label), Ingresses first, in the order listed.
    pub fn installed(seen: &Observed) -> Vec<Frontend> {
        let ingresses = seen.ingresses.iter().filter(|i| is_ours(i)).map(|i| Frontend::Ingress {
            name: i.metadata.name.clone().unwrap_or_default(),
        });
        let gateways = seen.gateway.gateways.iter().filter(|g| crate::gateway::is_ours(g));
        ingresses
            .chain(gateways.map(|g| Frontend::Gateway {
                name: g.metadata.name.clone().unwrap_or_default(),
            }))
            .collect()
    }
}

fn is_ours(i: &Ingress) -> bool {
    i.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(MANAGED_BY_LABEL))
        .is_some_and(|v| v == MANAGER)
}

/// The Ingress install adopts instead of making a second internal load balancer: one someone
/// else made (the blog recipe's, the chart's) that already routes to Service gateway, when install
/// has none of its own and no front-end setting asks for something else.
pub fn adoptable<'a>(seen: &'a Observed, s: &Settings) -> Option<&'a Ingress> {
    let asked = s.ingress_name.is_some()
        || s.path.is_some()
        || s.static_ip.is_some()
        || s.host.is_some()
        || s.has_certificate();
    if asked || !Frontend::installed(seen).is_empty() {
        return None;
    }
    seen.gateway_ingresses().into_iter().find(|i| !is_ours(i))
}

/// The first path of an Ingress that routes to Service gateway, as a prefix (`/k10/*` -> `/k10/`).
fn gateway_path(i: &Ingress) -> Option<String> {
    let j = serde_json::to_value(i).ok()?;
    let rules = j["spec"]["rules"].as_array()?.clone();
    rules.iter().find_map(|r| {
        r["http"]["paths"].as_array()?.iter().find_map(|p| {
            (p["backend"]["service"]["name"] == "gateway")
                .then(|| p["path"].as_str().unwrap_or("/").trim_end_matches('*').to_string())
        })
    })
}

/// The front end and URL path the settings ask for (defaults: an adoptable Ingress, else
/// `RELEASE-ilb` on the gateway's prefix).
pub fn choose(seen: &Observed, s: &Settings) -> anyhow::Result<(Frontend, String)> {
    let k = &seen.k10;
    if let Some(i) = adoptable(seen, s) {
        let path = gateway_path(i).and_then(|p| normalize_path(&p).ok());
        if let (Some(name), Some(path)) = (i.metadata.name.clone(), path) {
            return Ok((Frontend::Ingress { name }, path));
        }
    }
    let name = s.ingress_name.clone().unwrap_or_else(|| format!("{}-ilb", k.release));
    let path = dashboard_path(k, s.path.as_deref())?;
    if s.has_certificate() && s.host.is_none() {
        let flag = if s.self_signed { "--self-signed" } else { "--tls-secret" };
        return Err(error::usage(
            format!("{flag} needs --host (the certificate's host name)"),
            "pass --host k10.example.internal",
        ));
    }
    Ok((Frontend::Ingress { name }, path))
}

/// The URL path: K10's gateway serves the dashboard only under its `PREFIX_PATH` (ConfigMap
/// `k10-gateway`, from the chart's `route.path`, `ingress.urlPath` or `/<release>`), so `--path`
/// may only repeat it.
pub fn dashboard_path(k: &K10, asked: Option<&str>) -> anyhow::Result<String> {
    let want = k.dashboard_path();
    let Some(asked) = asked else {
        return Ok(want);
    };
    let path = normalize_path(asked)?;
    if path != want {
        let source = match &k.prefix_path {
            Some(p) => format!("its PREFIX_PATH is `{p}` (ConfigMap k10-gateway)"),
            None => format!("the chart serves it under `/<release>` (release `{}`)", k.release),
        };
        return Err(error::usage(
            format!("--path `{asked}` is not where K10's gateway serves the dashboard: {source}"),
            format!(
                "use --path {want} (or leave --path out); to move the dashboard, change the chart's \
                 ingress.urlPath or route.path with `helm upgrade`"
            ),
        ));
    }
    Ok(path)
}

pub fn step(seen: &Observed, f: &Frontend, path: &str, s: &Settings, notes: &mut Notes) -> anyhow::Result<Step> {
    match f {
        Frontend::Ingress { name } => ingress(seen, name, path, s, notes),
        Frontend::Gateway { name } => super::gateway::gateway_step(seen, name, s),
    }
}

fn ingress(seen: &Observed, name: &str, path: &str, s: &Settings, notes: &mut Notes) -> anyhow::Result<Step> {
    let k = &seen.k10;
    let ns = &k.namespace;
    let desired = render::ingress_body(k, name, path, s);
    for other in seen.gateway_ingresses() {
        let n = other.metadata.name.clone().unwrap_or_default();
        if n != name {
            let class = other
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(CLASS_ANNOTATION))
                .cloned()
                .unwrap_or_else(|| "none: external!".into());
            notes.warnings.push(format!(
                "Ingress `{n}` (class {class}) also routes to Service gateway; `kubectl kasten-ilb doctor` checks it"
            ));
        }
    }
    if let Some(adopted) = adoptable(seen, s).filter(|i| i.metadata.name.as_deref() == Some(name)) {
        return adopt(k, adopted, name);
    }
    let target = format!("ingress/{name} {path} -> gateway:{}", k.service_port);
    let Some(existing) = seen.ingresses.iter().find(|i| i.metadata.name.as_deref() == Some(name)) else {
        return Ok(INGRESS.create(
            target,
            format!(
                "class gce-internal (internal Application Load Balancer), pathType Prefix so everything under \
                 {path} routes"
            ),
            format!("kubectl -n {ns} create -f ingress.yaml   # see --dry-run -o yaml"),
            Change::CreateFrontend { body: desired },
        ));
    };
    if let Some(since) = state::going_away(&existing.metadata) {
        return Ok(INGRESS.create(
            target,
            format!(
                "ingress/{name} is being deleted (since {since}): it is going away; install waits for it to go \
                 (within --timeout), then creates it"
            ),
            format!("kubectl -n {ns} wait --for=delete ingress/{name} && kubectl -n {ns} create -f ingress.yaml"),
            Change::CreateFrontend { body: desired },
        ));
    }
    if !is_ours(existing) {
        return Err(error::usage(
            format!("Ingress `{name}` already exists in `{ns}` and was not created by kubectl-kasten-ilb"),
            "choose another name with --ingress-name, or run `kubectl kasten-ilb doctor` to check the existing one",
        ));
    }
    let cur = serde_json::to_value(existing)?;
    let same_spec = cur["spec"] == desired["spec"];
    let same_ann = desired["metadata"]["annotations"]
        .as_object()
        .into_iter()
        .flatten()
        .all(|(k2, v)| cur["metadata"]["annotations"][k2] == *v);
    if same_spec && same_ann {
        return Ok(INGRESS.noop(target, "exists as wanted"));
    }
    // Field by field: an update changes a working Ingress, so say exactly what it changes.
    let mut changed = super::fields::changes("spec", &cur["spec"], &desired["spec"]);
    for (k2, v) in desired["metadata"]["annotations"].as_object().into_iter().flatten() {
        let old = &cur["metadata"]["annotations"][k2];
        if old != v {
            let shown = |x: &serde_json::Value| {
                if x.is_null() {
                    "(none)".to_string()
                } else {
                    x.to_string()
                }
            };
            changed.push(format!("metadata.annotations[{k2}]: {} -> {}", shown(old), shown(v)));
        }
    }
    Ok(INGRESS
        .update(
            format!("ingress/{name}"),
            format!(
                "differs from the wanted rule in {} field(s), listed below",
                changed.len()
            ),
            format!("kubectl -n {ns} apply -f ingress.yaml"),
            Change::UpdateFrontend {
                patch: json!({"metadata": {"annotations": desired["metadata"]["annotations"]},
                              "spec": desired["spec"]}),
            },
        )
        .with_diff(format!(
            "ingress/{name} (a working Ingress: each change below is applied):\n{}",
            changed.iter().map(|c| format!("  {c}")).collect::<Vec<_>>().join("\n")
        )))
}

/// Adopt someone else's Ingress to gateway: used as it is when it already works, else the merge
/// patch that fixes it (the gce-internal class, Prefix paths), never a second load balancer.
fn adopt(k: &K10, i: &Ingress, name: &str) -> anyhow::Result<Step> {
    let ns = &k.namespace;
    let cur = serde_json::to_value(i)?;
    let mut fixes = vec![];
    let mut patch = json!({});
    if cur["metadata"]["annotations"][CLASS_ANNOTATION] != "gce-internal" {
        patch["metadata"]["annotations"][CLASS_ANNOTATION] = json!("gce-internal");
        fixes.push("class gce-internal (GKE replaces its load balancer with an internal one)".to_string());
    }
    let mut rules = cur["spec"]["rules"].clone();
    for r in rules.as_array_mut().into_iter().flatten() {
        for p in r["http"]["paths"].as_array_mut().into_iter().flatten() {
            let path = p["path"].as_str().unwrap_or("/").to_string();
            let exact = p["pathType"] == "ImplementationSpecific" && !path.ends_with('*') && path != "/";
            if p["backend"]["service"]["name"] != "gateway" {
                continue;
            }
            if exact {
                p["pathType"] = json!("Prefix");
                fixes.push(format!(
                    "pathType Prefix for {path} (ImplementationSpecific routes only that exact path)"
                ));
            }
            let port = &p["backend"]["service"]["port"];
            let named = port["name"].as_str().is_some() && port["name"].as_str() == k.service_port_name.as_deref();
            if port["number"].as_i64() != Some(i64::from(k.service_port)) && !named {
                p["backend"]["service"]["port"] = json!({"number": k.service_port});
                fixes.push(format!("port {} of Service gateway", k.service_port));
            }
        }
    }
    if rules != cur["spec"]["rules"] {
        patch["spec"]["rules"] = rules;
    }
    let target = format!("ingress/{name}");
    if fixes.is_empty() {
        return Ok(INGRESS.reuse(
            target,
            format!("adopted: `{name}` (not made by this tool) already routes to gateway; no second load balancer"),
        ));
    }
    Ok(INGRESS.update(
        target,
        format!(
            "adopts `{name}` (not made by this tool; it already routes to gateway) instead of making a second \
             internal load balancer: {}; uninstall leaves it",
            fixes.join(", ")
        ),
        format!("kubectl -n {ns} patch ingress {name} --type=merge -p '{patch}'"),
        Change::UpdateFrontend { patch },
    ))
}

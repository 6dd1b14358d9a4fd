//! The Ingresses that route to Service gateway: class gce-internal (set as GKE reads it), Prefix
//! paths, and a port of Service gateway.

use k8s_openapi::api::networking::v1::Ingress;
use serde_json::{json, Value};

use crate::discover::K10;
use crate::doctor::{Check, CheckId, Facts, Outcome};
use crate::state::CLASS_ANNOTATION;

/// One problem of one Ingress: outcome, finding, hint.
type Problem = (Outcome, String, String);

pub fn check(f: &Facts) -> Check {
    let id = CheckId::Ingress;
    let ings = f.ingresses();
    if ings.is_empty() {
        return Check::fail(id, format!("no Ingress in `{}` routes to Service gateway", f.namespace))
            .hint(format!("`kubectl kasten-ilb install -n {}`", f.namespace));
    }
    let names: Vec<String> = ings
        .iter()
        .map(|i| i.metadata.name.clone().unwrap_or_default())
        .collect();
    let mut worst = Outcome::Pass;
    let mut findings = vec![];
    let mut hint = None;
    for (i, name) in ings.iter().zip(&names) {
        for (o, msg, h) in problems(i, name, &f.namespace, f.k10()) {
            if o == Outcome::Fail || worst == Outcome::Pass {
                worst = o;
            }
            findings.push(format!("{name}: {msg}"));
            hint.get_or_insert(h);
        }
    }
    let ev = json!({"ingresses": names});
    if findings.is_empty() {
        return Check::pass(
            id,
            format!("{}: class gce-internal, Prefix path to gateway", names.join(", ")),
        )
        .evidence(ev);
    }
    let mut c = match worst {
        Outcome::Fail => Check::fail(id, findings.join("; ")),
        _ => Check::warn(id, findings.join("; ")),
    };
    c.hint = hint;
    c.evidence(ev)
}

/// What is wrong with one Ingress, in the order doctor reports it.
fn problems(i: &Ingress, name: &str, ns: &str, k10: Option<&K10>) -> Vec<Problem> {
    let j = serde_json::to_value(i).unwrap_or(Value::Null);
    let mut out: Vec<Problem> = vec![];
    if let Some(since) = crate::state::going_away(&i.metadata) {
        out.push((
            Outcome::Fail,
            format!(
                "is being deleted (deletionTimestamp {since}): it is going away while GKE releases its load \
                 balancer"
            ),
            format!(
                "`kubectl kasten-ilb -n {ns} install` waits for it to go (as \
                 `kubectl -n {ns} wait --for=delete ingress/{name}` would), then makes it again"
            ),
        ));
    }
    out.extend(class_problem(&j, name, ns));
    for (ri, r) in j["spec"]["rules"].as_array().into_iter().flatten().enumerate() {
        for (pi, p) in r["http"]["paths"].as_array().into_iter().flatten().enumerate() {
            let patch = format!(
                "`kubectl -n {ns} patch ingress {name} --type=json -p \
                 '[{{\"op\":\"replace\",\"path\":\"/spec/rules/{ri}/http/paths/{pi}/pathType\",\
                 \"value\":\"Prefix\"}}]'`"
            );
            out.extend(path_problems(p, k10, &patch));
        }
    }
    out
}

fn class_problem(j: &Value, name: &str, ns: &str) -> Option<Problem> {
    let class = j["metadata"]["annotations"][CLASS_ANNOTATION].as_str();
    let class_name = j["spec"]["ingressClassName"].as_str();
    Some(match (class, class_name) {
        (Some("gce-internal"), _) => return None,
        (Some("gce") | None, None) => (
            Outcome::Fail,
            "SECURITY: no gce-internal class: this is an EXTERNAL, internet-facing load balancer".into(),
            format!(
                "`kubectl -n {ns} annotate ingress {name} {CLASS_ANNOTATION}=gce-internal --overwrite` \
                 (GKE then replaces the load balancer), or `{}` and install",
                if j["metadata"]["labels"][crate::state::MANAGED_BY_LABEL] == crate::state::MANAGER {
                    format!("kubectl kasten-ilb uninstall -n {ns}")
                } else {
                    // uninstall removes only what install made.
                    format!("kubectl -n {ns} delete ingress {name}")
                }
            ),
        ),
        (None, Some(cn)) => (
            Outcome::Fail,
            format!("only spec.ingressClassName ({cn}) is set: GKE ignores it silently"),
            format!("set the annotation: `kubectl -n {ns} annotate ingress {name} {CLASS_ANNOTATION}=gce-internal`"),
        ),
        (Some(other), _) => (
            Outcome::Warn,
            format!("class `{other}` is not GKE's"),
            "this Ingress is served by another controller, not a GKE internal load balancer".into(),
        ),
    })
}

/// `patch`: the command that makes this path a Prefix.
fn path_problems(p: &Value, k10: Option<&K10>, patch: &str) -> Vec<Problem> {
    let mut out = vec![];
    let path = p["path"].as_str().unwrap_or("/");
    if p["pathType"] == "ImplementationSpecific" && !path.ends_with('*') && path != "/" {
        out.push((
            Outcome::Fail,
            format!(
                "path `{path}` is ImplementationSpecific without `*`: GKE routes only that exact path, \
                 so the dashboard's assets and API calls 404"
            ),
            format!("{patch} (pathType Prefix routes everything under {path})"),
        ));
    }
    let (Some(k), true) = (k10, p["backend"]["service"]["name"] == "gateway") else {
        return out;
    };
    let port = &p["backend"]["service"]["port"];
    let ok = port["number"].as_i64() == Some(i64::from(k.service_port))
        || port["name"].as_str() == k.service_port_name.as_deref();
    if !ok {
        let shown = if port["number"].is_null() {
            &port["name"]
        } else {
            &port["number"]
        };
        let msg = format!("backend port {shown} is not a port of Service gateway");
        out.push((Outcome::Fail, msg, "route to gateway port 80".into()));
    }
    out
}

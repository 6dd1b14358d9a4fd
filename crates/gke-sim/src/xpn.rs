//! Shared VPC (XPN): two projects in one world. The host project owns the VPC network, its
//! subnets and its firewall rules; the service project (`World::project`) owns the cluster, its
//! nodes and its load balancers. IAM answers per project: the caller's host-project permissions
//! come from the scenario, and the host's network admin (a second token) may do everything there.
//! When GKE's service agent may not write firewall rules in the host project, the ingress
//! controller writes none and raises a Normal `XPN` event with the command it needed.

use axum::body::Body;
use axum::http::Method;
use axum::response::Response;
use serde_json::{json, Value};

use crate::google::google_error;
use crate::world::World;

tokio::task_local! {
    /// Whether the request being served carries the host network admin's token.
    static ADMIN: bool;
}

/// `networking.gke.io/suppress-firewall-xpn-error: "true"` silences the event on an Ingress.
pub const SUPPRESS: &str = "networking.gke.io/suppress-firewall-xpn-error";

/// The Compute collections that live in the host project.
pub fn host_collection(coll: &str) -> bool {
    matches!(coll, "networks" | "subnetworks" | "firewalls")
}

/// Serve `f` as the host network admin (`admin`) or as the ordinary caller.
pub async fn as_caller<F: std::future::Future>(admin: bool, f: F) -> F::Output {
    ADMIN.scope(admin, f).await
}

fn admin() -> bool {
    ADMIN.try_with(|a| *a).unwrap_or(false)
}

/// Whether `token` is the host network admin's.
pub fn is_admin_token(w: &World, token: &str) -> bool {
    w.shared_vpc
        .as_ref()
        .is_some_and(|x| !x.admin_token.is_empty() && x.admin_token == token)
}

/// Whether `project` (id or number) is the host project.
pub fn is_host(w: &World, project: &str) -> bool {
    w.shared_vpc
        .as_ref()
        .is_some_and(|x| project == x.host || project == x.host_number)
}

/// Whether the caller lacks `perm` on `project`.
pub fn denied(w: &World, project: &str, perm: &str) -> bool {
    match &w.shared_vpc {
        Some(x) if is_host(w, project) => {
            !admin() && x.caller_denied.iter().any(|p| p == perm) && !bound(x, &x.caller_member, perm)
        }
        _ => admin() || w.permission_denied(perm),
    }
}

/// The host-project permissions of the predefined roles a network admin grants: "Compute Network
/// Admin: ... create, modify, and delete networking resources, except for firewall rules and SSL
/// certificates"; "Compute Security Admin: ... create, modify, and delete firewall rules and SSL
/// certificates" (cloud.google.com/compute/docs/access/iam).
fn role_grants(role: &str, perm: &str) -> bool {
    let read = matches!(
        perm,
        "compute.networks.get" | "compute.subnetworks.list" | "compute.subnetworks.get" | "compute.firewalls.list"
    ) || perm == "compute.firewalls.get";
    match role {
        "roles/compute.networkViewer" => read,
        "roles/compute.networkAdmin" => read || perm.starts_with("compute.subnetworks."),
        "roles/compute.securityAdmin" => perm.starts_with("compute.firewalls."),
        "roles/owner" => true,
        _ => false,
    }
}

/// Whether a binding of the host's policy grants `member` a role that holds `perm`.
fn bound(x: &crate::world::xpn::SharedVpc, member: &str, perm: &str) -> bool {
    x.bindings.iter().any(|b| {
        b["members"].as_array().is_some_and(|m| m.iter().any(|m| m == member))
            && b["role"].as_str().is_some_and(|r| role_grants(r, perm))
    })
}

/// `projects/HOST:getIamPolicy` and `:setIamPolicy` (as `gcloud projects add-iam-policy-binding`
/// uses them): only someone with `resourcemanager.projects.setIamPolicy` there may set it.
pub fn iam_policy(w: &mut World, rest: &str, body: &[u8]) -> Option<Response> {
    let (project, verb) = rest.strip_prefix("projects/")?.split_once(':')?;
    if !is_host(w, project) || !matches!(verb, "getIamPolicy" | "setIamPolicy") {
        return None;
    }
    let may_set = !denied(w, project, "resourcemanager.projects.setIamPolicy");
    let x = w.shared_vpc.as_mut()?;
    if verb == "setIamPolicy" {
        if !may_set {
            let msg = format!("The caller does not have permission to set the IAM policy of project {project}");
            return Some(google_error(403, &msg, "forbidden"));
        }
        let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        x.bindings = req["policy"]["bindings"].as_array().cloned().unwrap_or_default();
    }
    let etag = base64_etag(x.bindings.len());
    Some(crate::google::ok(
        json!({"version": 1, "etag": etag, "bindings": x.bindings}),
    ))
}

/// An opaque etag that changes with each write (base64, as Resource Manager's are).
fn base64_etag(n: usize) -> String {
    format!("BwYx{n:04}AAA=")
}

/// A Compute request to the project that does not own its collection: the service project has
/// no network (empty lists, 404 otherwise), the host project no load balancers.
pub fn misrouted(w: &World, method: &Method, project: &str, segs: &[&str], named: bool) -> Option<Response> {
    w.shared_vpc.as_ref()?;
    let host = is_host(w, project);
    let coll = match segs {
        ["global" | "aggregated", c, ..] | ["regions" | "zones", _, c, ..] => *c,
        _ => "projects",
    };
    if host == host_collection(coll) || matches!(coll, "operations" | "projects") {
        return None;
    }
    if !host && method == Method::GET && !named {
        let items = if segs.first() == Some(&"aggregated") {
            json!({})
        } else {
            json!([])
        };
        return Some(crate::google::ok(json!({"kind": "compute#list", "items": items})));
    }
    let what = format!("projects/{project}/{coll}");
    Some(google_error(
        404,
        &format!("The resource '{what}' was not found"),
        "notFound",
    ))
}

/// `projects/HOST:testIamPermissions`: the requested permissions the caller holds there.
pub fn test_iam(w: &World, project: &str, body: &[u8]) -> Option<Response> {
    if !is_host(w, project) {
        return None;
    }
    let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let granted: Vec<&Value> = req["permissions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p.as_str().is_some_and(|p| !denied(w, project, p)))
        .collect();
    let v = if granted.is_empty() {
        json!({})
    } else {
        json!({"permissions": granted})
    };
    Some(crate::google::ok(v))
}

/// (service project path, host project path) for [`rewrite`], in a Shared VPC world.
pub fn links(w: &World) -> Option<(String, String)> {
    let x = w.shared_vpc.as_ref()?;
    Some((format!("/projects/{}/", w.project), format!("/projects/{}/", x.host)))
}

/// Links to networks, subnets and firewall rules name the host project in what Compute answers.
pub async fn rewrite(links: Option<(String, String)>, resp: Response) -> Response {
    let Some((service, host)) = links else { return resp };
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 << 20).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let text = String::from_utf8_lossy(&bytes);
    let fixed = host_links(&text, &service, &host);
    let mut parts = parts;
    parts.headers.remove("content-length");
    Response::from_parts(parts, Body::from(fixed))
}

fn host_links(text: &str, service: &str, host: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(service) {
        let after = &rest[i + service.len()..];
        out.push_str(&rest[..i]);
        out.push_str(if points_at_network(after) { host } else { service });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// `global/networks/…`, `global/firewalls/…` or `regions/R/subnetworks/…`.
fn points_at_network(path: &str) -> bool {
    let segs: Vec<&str> = path.splitn(4, '/').collect();
    matches!(
        segs.as_slice(),
        ["global", "networks" | "firewalls", ..] | ["regions", _, "subnetworks", ..]
    )
}

/// Whether GKE's service agent may not write firewall rules in the host project.
pub fn firewall_blocked(w: &World) -> bool {
    w.shared_vpc.as_ref().is_some_and(|x| !x.agent_writes_firewalls)
}

/// The Normal `XPN` event on each GCE Ingress that does not suppress it, with the command the
/// controller needed (ingress-gce `FirewallToGCloudCreateCmd`, `--project` the host).
pub fn raise(w: &mut World, ingresses: &[Value], name: &str, want: &Value) {
    let Some(host) = w.shared_vpc.as_ref().map(|x| x.host.clone()) else {
        return;
    };
    let msg = format!(
        "Firewall change required by security admin: `{}`",
        create_command(name, &w.network, want, &host)
    );
    for ing in ingresses {
        if ing["metadata"]["annotations"][SUPPRESS].as_str() == Some("true") {
            continue;
        }
        w.event(ing, "Normal", "XPN", &msg, "loadbalancer-controller");
    }
}

/// `gcloud compute firewall-rules create NAME --network NET --description "…" --allow tcp:P,…
/// --source-ranges A,B --target-tags T --project HOST`, each list sorted as strings.
pub fn create_command(name: &str, network: &str, fw: &Value, project: &str) -> String {
    let strings = |v: &Value| -> Vec<String> {
        let mut s: Vec<String> = v
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str())
            .map(String::from)
            .collect();
        s.sort();
        s
    };
    let mut allow: Vec<String> = Vec::new();
    for a in fw["allowed"].as_array().into_iter().flatten() {
        let proto = a["IPProtocol"].as_str().unwrap_or("tcp");
        allow.extend(strings(&a["ports"]).into_iter().map(|p| format!("{proto}:{p}")));
    }
    allow.sort();
    format!(
        "gcloud compute firewall-rules create {name} --network {network} --description {:?} --allow {} \
         --source-ranges {} --target-tags {} --project {project}",
        fw["description"].as_str().unwrap_or_default(),
        allow.join(","),
        strings(&fw["sourceRanges"]).join(","),
        strings(&fw["targetTags"]).join(","),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_links_to_the_network_move_to_the_host_project() {
        let text = r#"{"network":"http://x/compute/v1/projects/svc/global/networks/vpc",
            "subnetwork":"http://x/compute/v1/projects/svc/regions/r1/subnetworks/s",
            "target":"http://x/compute/v1/projects/svc/regions/r1/targetHttpProxies/t"}"#;
        let out = host_links(text, "/projects/svc/", "/projects/host/");
        assert!(out.contains("projects/host/global/networks/vpc"), "{out}");
        assert!(out.contains("projects/host/regions/r1/subnetworks/s"), "{out}");
        assert!(out.contains("projects/svc/regions/r1/targetHttpProxies/t"), "{out}");
    }

    #[test]
    fn the_command_is_ingress_gces_with_sorted_lists() {
        let fw = json!({"description": "GCE L7 firewall rule", "targetTags": ["n"],
            "sourceRanges": ["35.191.0.0/16", "130.211.0.0/22"],
            "allowed": [{"IPProtocol": "tcp", "ports": ["8000", "30000-32767"]}]});
        assert_eq!(
            create_command("k8s-fw-l7--u", "vpc", &fw, "host"),
            "gcloud compute firewall-rules create k8s-fw-l7--u --network vpc --description \"GCE L7 firewall rule\" \
             --allow tcp:30000-32767,tcp:8000 --source-ranges 130.211.0.0/22,35.191.0.0/16 --target-tags n \
             --project host"
        );
    }
}

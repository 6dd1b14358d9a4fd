//! Compute Engine v1: the router. Checks the project and the caller's (simulated) IAM
//! permission, then hands the request to the module of its collection.

mod addresses;
mod firewalls;
mod instances;
mod load_balancing;
mod negs;
mod networks;
mod operations;
mod ssl_certificates;
mod subnetworks;
mod target_proxies;

use axum::http::Method;
use axum::response::Response;
use serde_json::Value;

use super::{google_error, not_found};
use crate::world::World;

/// One Compute request, below `projects/{project}/`.
pub(super) struct Req<'a> {
    pub method: &'a Method,
    pub segs: &'a [&'a str],
    pub project: &'a str,
    pub query: &'a str,
    pub body: &'a [u8],
}

impl Req<'_> {
    /// The body as JSON, or Google's 400 `parseError`.
    fn json(&self) -> Result<Value, Response> {
        serde_json::from_slice::<Value>(self.body)
            .map_err(|e| google_error(400, &format!("Invalid JSON payload received. {e}"), "parseError"))
    }

    /// Google's 404 for a URL no handler serves.
    fn unknown(&self) -> Response {
        google_error(
            404,
            &format!(
                "The requested URL /compute/v1/projects/{}/{} was not found on this server.",
                self.project,
                self.segs.join("/")
            ),
            "notFound",
        )
    }
}

pub(super) fn compute(w: &mut World, method: Method, rest: &str, query: &str, body: &[u8]) -> Response {
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if segs.len() < 2 || segs[0] != "projects" {
        return google_error(404, "Not Found", "notFound");
    }
    let project = segs[1];
    if project != w.project && !crate::xpn::is_host(w, project) {
        return not_found(&format!("projects/{project}"));
    }
    let segs = &segs[2..];
    let coll = match segs {
        ["global", c, ..] | ["aggregated", c, ..] => *c,
        ["regions", _, c, ..] | ["zones", _, c, ..] => *c,
        _ => "projects",
    };
    let named = matches!(segs, ["global", _, _, ..] | ["regions" | "zones", _, _, _, ..]);
    if let Some(r) = crate::xpn::misrouted(w, &method, project, segs, named) {
        return r;
    }
    if let Err(denied) = authorize(w, &method, project, segs) {
        return denied;
    }
    let req = Req {
        method: &method,
        segs,
        project,
        query,
        body,
    };
    match coll {
        "projects" | "networks" => networks::handle(w, &req),
        "subnetworks" => subnetworks::handle(w, &req),
        "firewalls" => firewalls::handle(w, &req),
        "networkEndpointGroups" => negs::handle(w, &req),
        "addresses" if method == Method::GET => load_balancing::handle(w, &req),
        "addresses" => addresses::handle(w, &req),
        "instances" => instances::handle(w, &req),
        "sslCertificates" => ssl_certificates::handle(w, &req),
        "operations" => operations::handle(w, &req),
        c if target_proxies::kind_of(c).is_some() => target_proxies::handle(w, &req, c),
        _ => load_balancing::handle(w, &req),
    }
}

/// The simulated IAM check: `compute.<collection>.<verb>` must not be denied.
/// A new resource's body as Compute checks it on insert: the request schema, then the name
/// (RFC 1035, with Google's message). The name, or the error response.
pub(super) fn checked_insert(b: &Value, kind: &str, method: &str) -> Result<String, Response> {
    if let Err(e) = crate::schema::validate("compute", kind, b, method) {
        return Err(google_error(400, &e, "invalid"));
    }
    let name = b["name"].as_str().unwrap_or_default().to_string();
    if !crate::schema::valid_name(&name) {
        return Err(google_error(
            400,
            &format!(
                "Invalid value for field 'resource.name': '{name}'. Must be a match of \
            regex '(?:[a-z](?:[-a-z0-9]{{0,61}}[a-z0-9])?)'"
            ),
            "invalid",
        ));
    }
    Ok(name)
}

fn authorize(w: &World, method: &Method, project: &str, segs: &[&str]) -> Result<(), Response> {
    let (coll, action) = match segs {
        ["global", c, ..] | ["aggregated", c, ..] => (*c, segs.get(3).copied()),
        ["regions", _, c, ..] | ["zones", _, c, ..] => (*c, segs.get(4).copied()),
        _ => ("projects", None),
    };
    let perm_coll = match (segs.first(), coll) {
        (Some(&"regions"), "backendServices") => "regionBackendServices",
        (Some(&"regions"), "healthChecks") => "regionHealthChecks",
        (Some(&"regions"), "urlMaps") => "regionUrlMaps",
        (Some(&"regions"), "targetHttpProxies") => "regionTargetHttpProxies",
        (Some(&"regions"), "targetHttpsProxies") => "regionTargetHttpsProxies",
        (Some(&"regions"), "sslCertificates") => "regionSslCertificates",
        (Some(&"global"), "forwardingRules") => "globalForwardingRules",
        (_, c) => c,
    };
    let named = matches!(
        segs,
        ["global" | "aggregated", _, _, ..] | ["regions" | "zones", _, _, _, ..]
    );
    let verb = match (method, action) {
        (_, Some("getHealth")) => "get",
        (_, Some("listNetworkEndpoints")) => "listNetworkEndpoints",
        (&Method::GET, _) if named => "get",
        (&Method::GET, _) => "list",
        (&Method::POST, _) => "create",
        (&Method::PATCH | &Method::PUT, _) => "update",
        (&Method::DELETE, _) => "delete",
        _ => "get",
    };
    let perm = format!("compute.{perm_coll}.{verb}");
    if coll != "operations" && crate::xpn::denied(w, project, &perm) {
        let msg = format!(
            "Required '{perm}' permission for 'projects/{project}/{}'",
            segs.join("/")
        );
        return Err(google_error(403, &msg, "forbidden"));
    }
    Ok(())
}

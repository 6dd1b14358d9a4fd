//! The simulated Kubernetes API server: legacy discovery, list/get/create/replace/patch/delete,
//! label and field selectors, paging, watches, server-side Tables for kubectl, and
//! SelfSubjectAccessReview. Errors are `Status` objects as the real API server sends them.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::filter::{field_selector_matches, label_selector_matches};
use crate::world::{res_by_plural, ResDef, World, RESOURCES};
use crate::Shared;

mod create;
mod delete;
mod get;
pub mod names;
mod patch;
pub mod protobuf;
mod replace;

pub fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Response {
    let mut s = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code});
    if let Some(d) = details {
        s["details"] = d;
    }
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [("content-type", "application/json")],
        s.to_string(),
    )
        .into_response()
}

fn ok_json(code: u16, v: &impl serde::Serialize) -> Response {
    (
        StatusCode::from_u16(code).unwrap(),
        [("content-type", "application/json")],
        crate::json_bytes(v),
    )
        .into_response()
}

/// `plural.group` (or `plural` for the core group), as the API server names resources in errors.
fn resource_label(rd: &ResDef) -> String {
    if rd.group.is_empty() {
        rd.plural.to_string()
    } else {
        format!("{}.{}", rd.plural, rd.group)
    }
}

fn details(rd: &ResDef, name: &str) -> Option<Value> {
    Some(json!({"name": name, "group": rd.group, "kind": rd.plural}))
}

fn not_found(rd: &ResDef, name: &str) -> Response {
    status(
        404,
        "NotFound",
        &format!("{} \"{name}\" not found", resource_label(rd)),
        details(rd, name),
    )
}

/// The kinds the API server serves now: the Gateway API CRDs only once Gateway API is on.
fn served(gw: bool) -> impl Iterator<Item = &'static ResDef> {
    RESOURCES.iter().filter(move |r| gw || !crate::gateway_api::gated(r))
}

fn discovery_resources(group: &str, version: &str, gw: bool) -> Value {
    let mut res = vec![];
    for r in served(gw).filter(|r| r.group == group && r.version == version) {
        let verbs = if r.plural == "selfsubjectaccessreviews" {
            json!(["create"])
        } else {
            json!([
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch"
            ])
        };
        res.push(json!({"name": r.plural, "singularName": r.kind.to_lowercase(), "namespaced": r.namespaced, "kind": r.kind, "verbs": verbs, "shortNames": r.short}));
        if r.plural == "pods" {
            res.push(json!({"name": "pods/exec", "singularName": "", "namespaced": true, "kind": "PodExecOptions", "verbs": ["create", "get"]}));
            res.push(
                json!({"name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]}),
            );
        }
        if ["deployments", "ingresses", "services", "pods"].contains(&r.plural) || crate::gateway_api::gated(r) {
            res.push(json!({"name": format!("{}/status", r.plural), "singularName": "", "namespaced": true, "kind": r.kind, "verbs": ["get", "patch", "update"]}));
        }
        if r.plural == "deployments" {
            res.push(json!({"name": "deployments/scale", "singularName": "", "namespaced": true, "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]}));
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": res})
}

/// Every served group with its versions; the preferred one is `v1` when served, else the first.
fn api_groups(gw: bool) -> Value {
    let mut groups: Vec<(String, Vec<String>)> = vec![];
    for r in served(gw).filter(|r| !r.group.is_empty()) {
        match groups.iter_mut().find(|(g, _)| g == r.group) {
            Some((_, vs)) if !vs.iter().any(|v| v == r.version) => vs.push(r.version.to_string()),
            Some(_) => {}
            None => groups.push((r.group.to_string(), vec![r.version.to_string()])),
        }
    }
    let items: Vec<Value> = groups
        .iter()
        .map(|(g, vs)| {
            let gv = |v: &String| json!({"groupVersion": format!("{g}/{v}"), "version": v});
            let preferred = vs.iter().find(|v| *v == "v1").unwrap_or(&vs[0]);
            json!({"name": g, "versions": vs.iter().map(gv).collect::<Vec<_>>(), "preferredVersion": gv(preferred)})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": items})
}

/// OpenAPI v3 discovery: one document per group-version. Each lists a PATCH operation per kind
/// that accepts `fieldValidation`, so kubectl uses server-side field validation (which gke-sim
/// accepts and ignores) instead of downloading full schemas.
fn openapi_root(gw: bool) -> Value {
    let mut paths = serde_json::Map::new();
    for r in served(gw) {
        let gv = if r.group.is_empty() {
            format!("api/{}", r.version)
        } else {
            format!("apis/{}/{}", r.group, r.version)
        };
        paths.insert(
            gv.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{gv}?hash=SIM0001")}),
        );
    }
    json!({"paths": paths})
}

fn openapi_gv(gv: &str, gw: bool) -> Value {
    let mut paths = serde_json::Map::new();
    for r in served(gw) {
        let this = if r.group.is_empty() {
            format!("api/{}", r.version)
        } else {
            format!("apis/{}/{}", r.group, r.version)
        };
        if this != gv {
            continue;
        }
        let p = if r.namespaced {
            format!("/{gv}/namespaces/{{namespace}}/{}/{{name}}", r.plural)
        } else {
            format!("/{gv}/{}/{{name}}", r.plural)
        };
        let op = json!({"x-kubernetes-group-version-kind": {"group": r.group, "version": r.version, "kind": r.kind},
                        "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
                                       {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
                                       {"name": "dryRun", "in": "query", "schema": {"type": "string"}}],
                        "responses": {"200": {"description": "OK"}}});
        paths.insert(p, json!({"patch": op, "put": op}));
    }
    json!({"openapi": "3.0.0", "info": {"title": "Kubernetes (gke-sim)", "version": "v1.33.5"}, "paths": paths, "components": {"schemas": {}}})
}

/// Parsed request target.
struct Target {
    rd: &'static ResDef,
    ns: Option<String>,
    name: Option<String>,
    sub: Option<String>,
}

fn parse_target(segs: &[&str], gw: bool) -> Option<(Option<Target>, Option<Value>)> {
    // segs: after /api or /apis
    let (group, version, rest) = match segs {
        ["v1", rest @ ..] => ("", "v1", rest),
        [g, v, rest @ ..] => (*g, *v, rest),
        _ => return None,
    };
    let lookup =
        |p: &str| res_by_plural(group, p).filter(|r| r.version == version && (gw || !crate::gateway_api::gated(r)));
    if rest.is_empty() {
        // A group version of CRDs not installed yet is not found, as on a real API server.
        let same_gv = |r: &&ResDef| r.group == group && r.version == version;
        let unserved = RESOURCES.iter().any(|r| same_gv(&r)) && !served(gw).any(|r| same_gv(&r));
        return (!unserved).then(|| (None, Some(discovery_resources(group, version, gw))));
    }
    let t = match rest {
        ["namespaces", ns, plural, tail @ ..] if lookup(plural).is_some_and(|r| r.namespaced) => {
            let rd = lookup(plural)?;
            Target {
                rd,
                ns: Some(ns.to_string()),
                name: tail.first().map(|s| s.to_string()),
                sub: tail.get(1).map(|s| s.to_string()),
            }
        }
        [plural, tail @ ..] => {
            let rd = lookup(plural)?;
            Target {
                rd,
                ns: None,
                name: tail.first().map(|s| s.to_string()),
                sub: tail.get(1).map(|s| s.to_string()),
            }
        }
        _ => return None,
    };
    Some((Some(t), None))
}

fn query_param(q: &str, key: &str) -> Option<String> {
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == key).then(|| crate::urldecode(v))
    })
}

pub async fn handle(
    state: Shared,
    method: Method,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Vec<u8>,
) -> Response {
    let trimmed = path.trim_end_matches('/');
    let gw = crate::gateway_api::enabled(&state.lock().unwrap());
    if let Some(r) = fixed(trimmed, gw) {
        return r;
    }
    let t = match target(trimmed, gw) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let header = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let table = header("accept").contains("as=Table");
    let ctype = header("content-type");
    if let Some(r) = protobuf::not_acceptable(&header("accept")) {
        return r;
    }
    let body = match protobuf::request_body(&method, &ctype, body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let watching = query_param(&query, "watch").is_some_and(|w| w == "true" || w == "1");
    if let Err(denied) = authorize(&state.lock().unwrap(), &method, watching, &t) {
        return denied;
    }
    let (name, sub) = (t.name.clone(), t.sub.clone());
    match (&method, name.as_deref(), sub.as_deref()) {
        (&Method::GET, None, None) if watching => watch(state, t, query).await,
        (&Method::GET, None, None) => {
            let w = state.lock().unwrap();
            list(&w, &t, &query, table)
        }
        (&Method::GET, Some(name), sub) => get::read(&state, &t, name, sub, table),
        (&Method::POST, None, None) => create::create(&state, &t, &query, &body),
        (&Method::PUT, Some(name), sub) => replace::replace(&state, &t, name, sub, &query, &body),
        (&Method::PATCH, Some(name), sub) => patch::patch(&state, &t, name, sub, &query, &ctype, &body),
        (&Method::DELETE, Some(name), None) => delete::delete(&state, &t, name, &body),
        _ => method_not_allowed(&method),
    }
}

fn method_not_allowed(method: &Method) -> Response {
    status(
        405,
        "MethodNotAllowed",
        &format!("the server does not allow this method on the requested resource ({method})"),
        None,
    )
}

/// Version, discovery roots and OpenAPI documents.
fn fixed(trimmed: &str, gw: bool) -> Option<Response> {
    let v = match trimmed {
        "/version" => json!({
            "major": "1", "minor": "33", "gitVersion": "v1.33.5-gke.1308000", "gitCommit": "",
            "gitTreeState": "clean", "buildDate": "2026-10-01T00:00:00Z", "goVersion": "go1.24.6",
            "compiler": "gc", "platform": "linux/amd64"}),
        "/api" => json!({
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}),
        "/apis" => api_groups(gw),
        "/openapi/v3" => openapi_root(gw),
        _ => openapi_gv(trimmed.strip_prefix("/openapi/v3/")?, gw),
    };
    Some(ok_json(200, &v))
}

/// The resource a path names, or discovery for a group version.
fn target(trimmed: &str, gw: bool) -> Result<Target, Response> {
    let not_found = || {
        status(
            404,
            "NotFound",
            "the server could not find the requested resource",
            None,
        )
    };
    let segs: Vec<&str> = trimmed.split('/').filter(|s| !s.is_empty()).collect();
    let after = match segs.first() {
        Some(&"api") | Some(&"apis") => &segs[1..],
        _ => return Err(not_found()),
    };
    match parse_target(after, gw) {
        None => Err(not_found()),
        Some((_, Some(disco))) => Err(ok_json(200, &disco)),
        Some((Some(t), None)) => Ok(t),
        Some((None, None)) => Err(not_found()),
    }
}

/// The simulated RBAC: `verb resource` pairs in `World::denied_kube` are forbidden.
fn authorize(w: &World, method: &Method, watching: bool, t: &Target) -> Result<(), Response> {
    let verb = match (method, &t.name) {
        (&Method::GET, None) if watching => "watch",
        (&Method::GET, None) => "list",
        (&Method::GET, Some(_)) => "get",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, _) => "delete",
        _ => "get",
    };
    let res = match &t.sub {
        Some(s) => format!("{}/{s}", t.rd.plural),
        None => t.rd.plural.to_string(),
    };
    if t.rd.plural != "selfsubjectaccessreviews" && w.denied_kube.iter().any(|d| d == &format!("{verb} {res}")) {
        let g = if t.rd.group.is_empty() {
            String::new()
        } else {
            format!(" in API group \"{}\"", t.rd.group)
        };
        let scope =
            t.ns.as_ref()
                .map(|n| format!(" in the namespace \"{n}\""))
                .unwrap_or_else(|| " at the cluster scope".into());
        let name_part = t.name.as_ref().map(|n| format!(" \"{n}\"")).unwrap_or_default();
        let user = "kasten-admin@kasten-demo.iam.gserviceaccount.com";
        let msg = format!(
            "{}{name_part} is forbidden: User \"{user}\" cannot {verb} resource \"{res}\"{g}{scope}",
            t.rd.plural
        );
        let details = json!({"name": t.name, "group": t.rd.group, "kind": t.rd.plural});
        return Err(status(403, "Forbidden", &msg, Some(details)));
    }
    Ok(())
}

fn conflict(rd: &ResDef, name: &str) -> Response {
    status(
        409,
        "Conflict",
        &format!("Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again", resource_label(rd)),
        details(rd, name),
    )
}

fn write_back(w: &mut World, t: &Target, obj: Value, query: &str) -> Response {
    let name = t.name.clone().unwrap_or_default();
    if let Err(e) = validate(&obj, t.rd) {
        return status(
            422,
            "Invalid",
            &format!("{} \"{name}\" is invalid: {e}", t.rd.kind),
            None,
        );
    }
    if query_param(query, "dryRun").is_some() {
        return ok_json(200, &obj);
    }
    // Removing the last finalizer of an object being deleted deletes it.
    let deleting = !obj["metadata"]["deletionTimestamp"].is_null();
    let no_fin = obj["metadata"]["finalizers"].as_array().is_none_or(|f| f.is_empty());
    if deleting && no_fin {
        let ns = t.ns.clone().unwrap_or_default();
        w.kube_delete(t.rd.kind, &ns, &name);
        return ok_json(200, &obj);
    }
    w.kube_put(obj);
    after_write(w);
    ok_json(200, &get(w, t, &name).unwrap_or(Value::Null))
}

fn after_write(w: &mut World) {
    crate::controller::sync_pods(w);
}

fn scale_of(d: &Value) -> Value {
    json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
           "metadata": {"name": d["metadata"]["name"], "namespace": d["metadata"]["namespace"], "uid": d["metadata"]["uid"], "resourceVersion": d["metadata"]["resourceVersion"], "creationTimestamp": d["metadata"]["creationTimestamp"]},
           "spec": {"replicas": d["spec"]["replicas"]}, "status": {"replicas": d["status"]["replicas"].as_i64().unwrap_or(0), "selector": "service=gateway"}})
}

/// A few of the API server's validations that users hit.
fn validate(obj: &Value, rd: &ResDef) -> Result<(), String> {
    match rd.kind {
        "Ingress" => {
            for (i, r) in obj["spec"]["rules"].as_array().into_iter().flatten().enumerate() {
                if let Some(h) = r["host"].as_str().filter(|h| !h.is_empty()) {
                    names::ingress_host(i, h)?;
                }
                for (j, p) in r["http"]["paths"].as_array().into_iter().flatten().enumerate() {
                    match p["pathType"].as_str() {
                        Some("Exact" | "Prefix" | "ImplementationSpecific") => {}
                        Some(other) => {
                            return Err(format!("spec.rules[{i}].http.paths[{j}].pathType: Unsupported value: \"{other}\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\""))
                        }
                        None => return Err(format!("spec.rules[{i}].http.paths[{j}].pathType: Required value: pathType must be specified")),
                    }
                    if !p["path"].as_str().unwrap_or("/").starts_with('/') {
                        return Err(format!(
                            "spec.rules[{i}].http.paths[{j}].path: Invalid value: {}: must be an absolute path",
                            p["path"]
                        ));
                    }
                    if matches!(p["pathType"].as_str(), Some("Exact" | "Prefix")) {
                        names::ingress_path(i, j, p["path"].as_str().unwrap_or("/"))?;
                    }
                }
            }
        }
        "Deployment" => {
            for (i, c) in obj["spec"]["template"]["spec"]["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                for (j, p) in c["ports"].as_array().into_iter().flatten().enumerate() {
                    let n = p["containerPort"].as_i64().unwrap_or(0);
                    if !(1..=65535).contains(&n) {
                        return Err(format!("spec.template.spec.containers[{i}].ports[{j}].containerPort: Invalid value: {n}: must be between 1 and 65535, inclusive"));
                    }
                }
            }
        }
        _ => crate::gateway_api::validate(obj)?,
    }
    Ok(())
}

fn get(w: &World, t: &Target, name: &str) -> Option<Value> {
    let ns = t.ns.clone().unwrap_or_default();
    let ns = if t.rd.namespaced { ns } else { String::new() };
    w.kube.get(&t.rd.key())?.get(&(ns, name.to_string())).cloned()
}

fn select<'w>(w: &'w World, t: &Target, query: &str) -> Vec<&'w Value> {
    let ls = query_param(query, "labelSelector").unwrap_or_default();
    let fs = query_param(query, "fieldSelector").unwrap_or_default();
    let ns = t.ns.clone().unwrap_or_default();
    w.kube_list(t.rd)
        .into_iter()
        .filter(|o| ns.is_empty() || o["metadata"]["namespace"].as_str() == Some(&ns))
        .filter(|o| ls.is_empty() || label_selector_matches(&ls, &o["metadata"]["labels"]))
        .filter(|o| fs.is_empty() || field_selector_matches(&fs, o))
        .collect()
}

/// A list's body, serialised from the stored objects (a fleet's lists are a large share of the
/// simulator's work, and cloning every object into a `Value` first doubled it).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ListBody<'a> {
    kind: String,
    api_version: String,
    metadata: Value,
    items: Vec<&'a Value>,
}

fn list(w: &World, t: &Target, query: &str, table: bool) -> Response {
    let mut items = select(w, t, query);
    let limit = query_param(query, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(0);
    let start = query_param(query, "continue")
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(0);
    let mut next = None;
    if start > 0 {
        items = items.into_iter().skip(start).collect();
    }
    if limit > 0 && items.len() > limit {
        items.truncate(limit);
        next = Some((start + limit).to_string());
    }
    if table {
        let mut tb = to_table(w, t.rd, &items, t.ns.is_none() && t.rd.namespaced);
        if let Some(n) = next {
            tb["metadata"]["continue"] = json!(n);
        }
        return ok_json(200, &tb);
    }
    let mut meta = json!({"resourceVersion": w.resource_version.to_string()});
    if let Some(n) = next {
        meta["continue"] = json!(n);
    }
    let body = ListBody {
        kind: format!("{}List", t.rd.kind),
        api_version: t.rd.api_version(),
        metadata: meta,
        items,
    };
    ok_json(200, &body)
}

async fn watch(state: Shared, t: Target, query: String) -> Response {
    let start_rv: u64 = query_param(&query, "resourceVersion")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let timeout = query_param(&query, "timeoutSeconds")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(290);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    let ls = query_param(&query, "labelSelector").unwrap_or_default();
    let fs = query_param(&query, "fieldSelector").unwrap_or_default();
    let ns = t.ns.clone().unwrap_or_default();
    let key = t.rd.key();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(64);
    // Initial state when no resourceVersion is given ("Get State and Start at Most Recent").
    let mut cursor = start_rv;
    if start_rv == 0 {
        let w = state.lock().unwrap();
        cursor = w.resource_version;
        for o in select(&w, &t, &query) {
            let _ = tx.try_send(Ok(format!("{}\n", json!({"type": "ADDED", "object": o}))));
        }
    }
    tokio::spawn(async move {
        while tokio::time::Instant::now() < deadline {
            let batch: Vec<(u64, &'static str, Value)> = {
                let w = state.lock().unwrap();
                w.changes
                    .iter()
                    .filter(|(rv, k, _, o)| {
                        *rv > cursor
                            && *k == key
                            && (ns.is_empty() || o["metadata"]["namespace"].as_str() == Some(&ns))
                            && (ls.is_empty() || label_selector_matches(&ls, &o["metadata"]["labels"]))
                            && (fs.is_empty() || field_selector_matches(&fs, o))
                    })
                    .map(|(rv, _, typ, o)| (*rv, *typ, o.clone()))
                    .collect()
            };
            for (rv, typ, o) in batch {
                cursor = cursor.max(rv);
                if tx
                    .send(Ok(format!("{}\n", json!({"type": typ, "object": o}))))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            // Advance the cursor past changes of other kinds too.
            {
                let w = state.lock().unwrap();
                if let Some((rv, ..)) = w.changes.back() {
                    cursor = cursor.max(*rv);
                }
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    });
    let stream = tokio_stream_from(rx);
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .header("transfer-encoding", "chunked")
        .body(Body::from_stream(stream))
        .unwrap()
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<String, std::io::Error>>,
) -> impl futures::Stream<Item = Result<String, std::io::Error>> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

// ---------------------------------------------------------------- patches

fn apply_patch(obj: &mut Value, ctype: &str, body: &[u8], rd: &ResDef) -> Result<(), Response> {
    let bad = |m: String| status(422, "Invalid", &m, None);
    if ctype.starts_with("application/json-patch+json") {
        let p: json_patch::Patch = serde_json::from_slice(body)
            .map_err(|e| status(400, "BadRequest", &format!("error decoding patch: {e}"), None))?;
        json_patch::patch(obj, &p).map_err(|e| {
            bad(format!(
                "the server rejected our request due to an error in our request: {e}"
            ))
        })?;
        Ok(())
    } else if ctype.starts_with("application/merge-patch+json") {
        let p: Value = serde_json::from_slice(body)
            .map_err(|e| status(400, "BadRequest", &format!("error decoding patch: {e}"), None))?;
        json_patch::merge(obj, &p);
        Ok(())
    } else if ctype.starts_with("application/strategic-merge-patch+json") {
        if ["cloud.google.com", "networking.gke.io", "gateway.networking.k8s.io"].contains(&rd.group) {
            return Err(status(415, "UnsupportedMediaType", &format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (strategic merge patch is not supported for custom resource {})", rd.kind), None));
        }
        let p: Value = serde_json::from_slice(body)
            .map_err(|e| status(400, "BadRequest", &format!("error decoding patch: {e}"), None))?;
        strategic_merge(obj, &p);
        Ok(())
    } else if ctype.starts_with("application/apply-patch") {
        Err(status(
            415,
            "UnsupportedMediaType",
            "server-side apply is not simulated by gke-sim; use a JSON or merge patch",
            None,
        ))
    } else {
        Err(status(415, "UnsupportedMediaType", &format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {ctype:?})"), None))
    }
}

/// A strategic merge patch, reduced to the parts kubectl sends: maps merge, `null` deletes,
/// lists of objects with a `name` (or `containerPort`) merge by that key, `$patch`/`$setElementOrder`
/// directives are honoured or dropped.
pub fn strategic_merge(target: &mut Value, patch: &Value) {
    let Some(pm) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if pm.get("$patch").and_then(|v| v.as_str()) == Some("replace") {
        let mut p = patch.clone();
        p.as_object_mut().unwrap().remove("$patch");
        *target = p;
        return;
    }
    if !target.is_object() {
        *target = json!({});
    }
    for (k, v) in pm {
        if k.starts_with("$setElementOrder/")
            || k == "$retainKeys"
            || k.starts_with("$deleteFromPrimitiveList/")
            || k == "$patch"
        {
            continue;
        }
        let t = target.as_object_mut().unwrap();
        if v.is_null() {
            t.remove(k);
            continue;
        }
        match (t.get_mut(k), v) {
            (Some(cur @ Value::Object(_)), Value::Object(_)) => strategic_merge(cur, v),
            (Some(Value::Array(cur)), Value::Array(new)) if merge_key(new).is_some() => {
                let key = merge_key(new).unwrap();
                for item in new {
                    let kv = item.get(key).cloned();
                    if item.get("$patch").and_then(|p| p.as_str()) == Some("delete") {
                        cur.retain(|c| c.get(key) != kv.as_ref());
                        continue;
                    }
                    match cur.iter_mut().find(|c| c.get(key) == kv.as_ref()) {
                        Some(c) => strategic_merge(c, item),
                        None => cur.push(item.clone()),
                    }
                }
            }
            _ => {
                t.insert(k.clone(), v.clone());
            }
        }
    }
}

fn merge_key(items: &[Value]) -> Option<&'static str> {
    let first = items.first()?.as_object()?;
    ["name", "containerPort", "ip", "type"]
        .into_iter()
        .find(|k| first.contains_key(*k))
}

// ---------------------------------------------------------------- server-side printing

pub(crate) fn age(ts: &Value) -> String {
    let Some(s) = ts.as_str() else {
        return "<unknown>".into();
    };
    let parse = |s: &str| -> Option<i64> {
        let (d, t) = s.trim_end_matches('Z').split_once('T')?;
        let mut dp = d.split('-').map(|x| x.parse::<i64>().ok());
        let (y, m, dd) = (dp.next()??, dp.next()??, dp.next()??);
        let mut tp = t.split(':').map(|x| x.parse::<i64>().ok());
        let (hh, mm, ss) = (tp.next()??, tp.next()??, tp.next()??);
        let (y2, m2) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
        let era = y2.div_euclid(400);
        let yoe = y2 - era * 400;
        let doy = (153 * m2 + 2) / 5 + dd - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some((era * 146_097 + doe - 719_468) * 86_400 + hh * 3600 + mm * 60 + ss)
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let Some(t) = parse(s) else { return "<unknown>".into() };
    let d = (now - t).max(0);
    match d {
        d if d < 120 => format!("{d}s"),
        d if d < 3600 * 3 => format!("{}m", d / 60),
        d if d < 86_400 * 2 => format!("{}h", d / 3600),
        d => format!("{}d", d / 86_400),
    }
}

/// `a=b,c=d`, as kubectl prints a label selector.
fn selector_text(m: &Value) -> String {
    m.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn col(name: &str, priority: i32) -> Value {
    json!({"name": name, "type": "string", "format": if name == "Name" { "name" } else { "" }, "description": "", "priority": priority})
}

#[allow(clippy::type_complexity)]
fn to_table(w: &World, rd: &ResDef, items: &[&Value], _all_ns: bool) -> Value {
    let (cols, cells): (Vec<Value>, Box<dyn Fn(&Value) -> Vec<Value>>) = match rd.kind {
        "Pod" => (
            vec![
                col("Name", 0),
                col("Ready", 0),
                col("Status", 0),
                col("Restarts", 0),
                col("Age", 0),
                col("IP", 1),
                col("Node", 1),
                col("Nominated Node", 1),
                col("Readiness Gates", 1),
            ],
            Box::new(|o: &Value| {
                let cs = o["status"]["containerStatuses"].as_array().cloned().unwrap_or_default();
                let ready = cs.iter().filter(|c| c["ready"] == json!(true)).count();
                vec![
                    o["metadata"]["name"].clone(),
                    json!(format!("{ready}/{}", cs.len())),
                    o["status"]["phase"].clone(),
                    json!(0),
                    json!(age(&o["metadata"]["creationTimestamp"])),
                    o["status"]["podIP"].clone(),
                    o["spec"]["nodeName"].clone(),
                    json!("<none>"),
                    json!("<none>"),
                ]
            }),
        ),
        "Deployment" => (
            vec![
                col("Name", 0),
                col("Ready", 0),
                col("Up-to-date", 0),
                col("Available", 0),
                col("Age", 0),
                col("Containers", 1),
                col("Images", 1),
                col("Selector", 1),
            ],
            Box::new(|o: &Value| {
                let cs = o["spec"]["template"]["spec"]["containers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let names: Vec<&str> = cs.iter().filter_map(|c| c["name"].as_str()).collect();
                let images: Vec<&str> = cs.iter().filter_map(|c| c["image"].as_str()).collect();
                let sel = selector_text(&o["spec"]["selector"]["matchLabels"]);
                vec![
                    o["metadata"]["name"].clone(),
                    json!(format!(
                        "{}/{}",
                        o["status"]["readyReplicas"].as_i64().unwrap_or(0),
                        o["spec"]["replicas"].as_i64().unwrap_or(1)
                    )),
                    json!(o["status"]["updatedReplicas"].as_i64().unwrap_or(0)),
                    json!(o["status"]["availableReplicas"].as_i64().unwrap_or(0)),
                    json!(age(&o["metadata"]["creationTimestamp"])),
                    json!(names.join(",")),
                    json!(images.join(",")),
                    json!(sel),
                ]
            }),
        ),
        "Service" => (
            vec![
                col("Name", 0),
                col("Type", 0),
                col("Cluster-IP", 0),
                col("External-IP", 0),
                col("Port(s)", 0),
                col("Age", 0),
                col("Selector", 1),
            ],
            Box::new(|o: &Value| {
                let ports: Vec<String> = o["spec"]["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| format!("{}/{}", p["port"], p["protocol"].as_str().unwrap_or("TCP")))
                    .collect();
                let sel = selector_text(&o["spec"]["selector"]);
                vec![
                    o["metadata"]["name"].clone(),
                    o["spec"]["type"].clone(),
                    o["spec"]["clusterIP"].clone(),
                    json!("<none>"),
                    json!(ports.join(",")),
                    json!(age(&o["metadata"]["creationTimestamp"])),
                    json!(sel),
                ]
            }),
        ),
        "Ingress" => (
            vec![
                col("Name", 0),
                col("Class", 0),
                col("Hosts", 0),
                col("Address", 0),
                col("Ports", 0),
                col("Age", 0),
            ],
            Box::new(|o: &Value| {
                let hosts: Vec<&str> = o["spec"]["rules"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| r["host"].as_str().unwrap_or("*"))
                    .collect();
                let addrs: Vec<&str> = o["status"]["loadBalancer"]["ingress"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i["ip"].as_str())
                    .collect();
                let ports = if o["spec"]["tls"].as_array().is_some_and(|t| !t.is_empty()) {
                    "80, 443"
                } else {
                    "80"
                };
                vec![
                    o["metadata"]["name"].clone(),
                    json!(o["spec"]["ingressClassName"].as_str().unwrap_or("<none>")),
                    json!(if hosts.is_empty() {
                        "*".to_string()
                    } else {
                        hosts.join(",")
                    }),
                    json!(addrs.join(",")),
                    json!(ports),
                    json!(age(&o["metadata"]["creationTimestamp"])),
                ]
            }),
        ),
        "Event" => (
            vec![
                col("Last Seen", 0),
                col("Type", 0),
                col("Reason", 0),
                col("Object", 0),
                col("Subobject", 1),
                col("Source", 1),
                col("Message", 0),
                col("First Seen", 1),
                col("Count", 1),
                col("Name", 1),
            ],
            Box::new(|o: &Value| {
                let io = &o["involvedObject"];
                vec![
                    json!(age(&o["lastTimestamp"])),
                    o["type"].clone(),
                    o["reason"].clone(),
                    json!(format!(
                        "{}/{}",
                        io["kind"].as_str().unwrap_or_default().to_lowercase(),
                        io["name"].as_str().unwrap_or_default()
                    )),
                    json!(""),
                    json!(o["source"]["component"].as_str().unwrap_or_default()),
                    o["message"].clone(),
                    json!(age(&o["firstTimestamp"])),
                    o["count"].clone(),
                    o["metadata"]["name"].clone(),
                ]
            }),
        ),
        // pkg/printers/internalversion: leaseColumnDefinitions (Name, Holder, Age).
        "Lease" => (
            vec![col("Name", 0), col("Holder", 0), col("Age", 0)],
            Box::new(|o: &Value| {
                vec![
                    o["metadata"]["name"].clone(),
                    json!(o["spec"]["holderIdentity"].as_str().unwrap_or("")),
                    json!(age(&o["metadata"]["creationTimestamp"])),
                ]
            }),
        ),
        "Node" => (
            vec![
                col("Name", 0),
                col("Status", 0),
                col("Roles", 0),
                col("Age", 0),
                col("Version", 0),
                col("Internal-IP", 1),
            ],
            Box::new(|o: &Value| {
                vec![
                    o["metadata"]["name"].clone(),
                    json!("Ready"),
                    json!("<none>"),
                    json!(age(&o["metadata"]["creationTimestamp"])),
                    o["status"]["nodeInfo"]["kubeletVersion"].clone(),
                    o["status"]["addresses"][0]["address"].clone(),
                ]
            }),
        ),
        k if crate::gateway_api::printer::columns(k).is_some() => crate::gateway_api::printer::columns(k).unwrap(),
        _ => (
            vec![col("Name", 0), col("Age", 0)],
            Box::new(|o: &Value| {
                vec![
                    o["metadata"]["name"].clone(),
                    json!(age(&o["metadata"]["creationTimestamp"])),
                ]
            }),
        ),
    };
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            json!({"cells": cells(o), "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}})
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": w.resource_version.to_string()}, "columnDefinitions": cols, "rows": rows})
}

//! A fleet: one gke-sim process serving many GKE clusters across a few projects and regions, one
//! kubeconfig context each (`gke-sim --clusters N`).
//!
//! Each cluster is its own [`World`] (an existing scenario, chosen by index from [`ROTATION`]),
//! with its Kubernetes API under `/clusters/<name>` (the kubeconfig's server URL has that path;
//! kubectl and kube-rs both keep a server's path). Google's APIs are shared, as they are for a real
//! fleet, and routed by project: a project's collections (subnets, firewall rules, NEGs, clusters)
//! are the union of its clusters' worlds, and a single resource comes from the first world of the
//! project that has it. Clusters in one project share its VPC, so the rotation puts a VPC-level
//! break (a firewall rule, a missing proxy-only subnet) in a project of its own.
//!
//! Extra contexts make the rows a fleet run must survive: an unreachable cluster (a closed loopback
//! port), a non-GKE cluster (nodes without a GCE providerID, absent from the Container API), an
//! expired credential (the API server answers 401 `Unauthorized`, as a real one does) and a second
//! context for an existing cluster. Every request is logged with the cluster (or project) it was
//! for, when it started and when it ended ([`FleetRequest`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::world::{res_by_kind, SimConfig, World};
use crate::{controller, google, kube_api, scenario, Runner, ServeFuture, Shared, TempDir};

mod faults;
use faults::{faults, Faults};

/// A project of the fleet: its id, number, region and the zones of its clusters.
pub struct ProjectDef {
    pub id: &'static str,
    pub number: &'static str,
    pub region: &'static str,
    pub zones: [&'static str; 3],
}

pub const PROJECTS: &[ProjectDef] = &[
    ProjectDef {
        id: "kasten-fleet-prod",
        number: "482915736101",
        region: "us-central1",
        zones: ["us-central1-a", "us-central1-b", "us-central1-c"],
    },
    ProjectDef {
        id: "kasten-fleet-prod-eu",
        number: "482915736102",
        region: "europe-west1",
        zones: ["europe-west1-b", "europe-west1-c", "europe-west1-d"],
    },
    ProjectDef {
        id: "kasten-fleet-dev",
        number: "482915736103",
        region: "us-east1",
        zones: ["us-east1-b", "us-east1-c", "us-east1-d"],
    },
    ProjectDef {
        id: "kasten-fleet-lab",
        number: "482915736104",
        region: "us-west1",
        zones: ["us-west1-a", "us-west1-b", "us-west1-c"],
    },
];

/// Cluster `i` is built from `ROTATION[i % len]`: (scenario, index in [`PROJECTS`]). Breaks inside a
/// cluster (no ready gateway, no auth) share the prod projects with healthy clusters; a VPC-level
/// break has a project of its own.
pub const ROTATION: &[(&str, usize)] = &[
    ("healthy", 0),
    ("healthy", 1),
    ("firewall-port-80", 2),
    ("healthy", 0),
    ("gateway-not-ready", 1),
    ("healthy", 1),
    ("no-proxy-subnet", 3),
    ("gateway-healthy", 1),
    ("no-auth", 0),
    ("healthy", 1),
];

/// The name of cluster `i`.
pub fn cluster_name(i: usize) -> String {
    format!("fleet-{i:03}")
}

/// Context names of the extra rows (with [`FleetConfig::extras`]).
pub const EXPIRED_CONTEXT: &str = "gke_kasten-fleet-prod_us-central1-a_stale";
pub const NON_GKE_CONTEXT: &str = "kind-dev";
pub const UNREACHABLE_CONTEXT: &str = "onprem-decommissioned";
/// A second name for cluster 0 (same cluster and user entries).
pub const ALIAS_CONTEXT: &str = "prod-alias";
/// The context of the overloaded cluster (with [`FleetConfig::overloaded`]).
pub const OVERLOADED_CONTEXT: &str = "gke_kasten-fleet-prod_us-central1-a_overloaded";

#[derive(Debug, Clone, Default)]
pub struct FleetConfig {
    pub clusters: usize,
    /// Add the unreachable, non-GKE, expired-credential and duplicate contexts.
    pub extras: bool,
    /// Extra latency of some clusters' Kubernetes API servers, by cluster name (a few slow clusters),
    /// on top of `SimConfig::latency`.
    pub cluster_latency: BTreeMap<String, Duration>,
    /// Add a healthy cluster, context [`OVERLOADED_CONTEXT`], whose API server answers every request
    /// only after this long: slower than any sane deadline.
    pub overloaded: Option<Duration>,
}

/// One cluster of the fleet.
pub struct Member {
    /// The path segment under `/clusters/`.
    pub name: String,
    pub context: String,
    pub project: String,
    pub scenario: String,
    /// In the Container API (false: a cluster that is not GKE).
    pub gke: bool,
    pub world: Shared,
    app: Router,
    kube_token: String,
    /// The token the kubeconfig carries (another one when the credential is expired).
    kubeconfig_token: String,
    /// Every Kubernetes request is refused with 401.
    expired: bool,
    /// How much longer than the fleet's latency its Kubernetes API takes to answer.
    pub latency: Duration,
}

/// One request, with the cluster or project it was for.
#[derive(Debug, Clone)]
pub struct FleetRequest {
    /// `cluster:<name>` (a Kubernetes request, or the Container API's cluster GET) or `project:<id>`.
    pub target: String,
    pub method: String,
    pub path: String,
    pub start: Duration,
    /// When the answer was ready (None: still running).
    pub end: Option<Duration>,
}

impl FleetRequest {
    pub fn cluster(&self) -> Option<&str> {
        self.target.strip_prefix("cluster:")
    }
}

pub struct Fleet {
    pub base_url: String,
    pub members: Vec<Member>,
    pub access_token: String,
    /// The server of the unreachable context (a closed loopback port), with extras.
    unreachable: Option<String>,
    latency: Duration,
    started: Instant,
    log: Mutex<Vec<FleetRequest>>,
    /// `--error-rate`, drawn per cluster (Kubernetes) and per project (Google), not per world.
    faults: Faults,
}

impl Fleet {
    pub fn requests(&self) -> Vec<FleetRequest> {
        self.log.lock().unwrap().clone()
    }

    /// How many requests `--error-rate` failed, by `cluster:<name>` and `project:<id>`.
    pub fn injected_errors(&self) -> BTreeMap<String, usize> {
        self.faults.failed()
    }

    pub fn member(&self, name: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.name == name)
    }

    fn in_project(&self, project: &str) -> Vec<&Member> {
        let v: Vec<&Member> = self.members.iter().filter(|m| m.gke && m.project == project).collect();
        if v.is_empty() {
            // An unknown project: one world answers as it answers for any project not its own.
            return self.members.iter().take(1).collect();
        }
        v
    }

    /// The kubeconfig: one context per member, plus the extra contexts.
    pub fn kubeconfig(&self) -> String {
        let mut clusters = vec![];
        let mut users = vec![];
        let mut contexts = vec![];
        for m in &self.members {
            let server = format!("{}/clusters/{}", self.base_url, m.name);
            clusters.push(json!({"name": m.context, "cluster": {"server": server}}));
            users.push(json!({"name": m.context, "user": {"token": m.kubeconfig_token}}));
            contexts.push(json!({"name": m.context, "context": {"cluster": m.context, "user": m.context}}));
        }
        if let Some(server) = &self.unreachable {
            clusters.push(json!({"name": UNREACHABLE_CONTEXT, "cluster": {"server": server}}));
            users.push(json!({"name": UNREACHABLE_CONTEXT, "user": {"token": "sim-unreachable"}}));
            contexts.push(json!({"name": UNREACHABLE_CONTEXT,
                                 "context": {"cluster": UNREACHABLE_CONTEXT, "user": UNREACHABLE_CONTEXT}}));
            let first = &self.members[0].context;
            contexts.push(json!({"name": ALIAS_CONTEXT, "context": {"cluster": first, "user": first}}));
        }
        let doc = json!({
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "current-context": self.members[0].context,
            "clusters": clusters, "users": users, "contexts": contexts,
        });
        serde_json::to_string_pretty(&doc).expect("a kubeconfig is JSON")
    }
}

/// The most clusters that were being checked at once: each cluster counts from the arrival of its
/// first request to the arrival of its last one. Arrivals, not ends: the server finishes a request
/// (a WebSocket exec's close, say) after the client has its answer and may have moved on to the next
/// cluster, so spans to the ends would count a client that keeps its bound as over it.
pub fn max_clusters_in_flight(log: &[FleetRequest]) -> usize {
    let mut spans: BTreeMap<&str, (Duration, Duration)> = BTreeMap::new();
    for r in log {
        let Some(c) = r.cluster() else { continue };
        let s = spans.entry(c).or_insert((r.start, r.start));
        s.0 = s.0.min(r.start);
        s.1 = s.1.max(r.start);
    }
    let mut edges: Vec<(Duration, i32)> = spans.values().flat_map(|(a, b)| [(*a, 1), (*b, -1)]).collect();
    // At equal times a start comes before an end, so a cluster of one request counts while it is there.
    edges.sort_by_key(|&(t, d)| (t, -d));
    let (mut now, mut max) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        max = max.max(now);
    }
    max as usize
}

/// The sequential round trips in a log: the longest chain of requests each of which started after
/// the one before it had ended (a request still running ends never and closes a chain). Requests
/// that overlap were concurrent; a chain is what a client had to wait for one after another.
pub fn round_trips(log: &[&FleetRequest]) -> usize {
    let mut rs: Vec<(Duration, Option<Duration>)> = log.iter().map(|r| (r.start, r.end)).collect();
    rs.sort();
    // depth[i]: the longest chain that ends with request i.
    let mut depth = vec![1usize; rs.len()];
    for i in 0..rs.len() {
        for j in 0..i {
            if rs[j].1.is_some_and(|end| end <= rs[i].0) {
                depth[i] = depth[i].max(depth[j] + 1);
            }
        }
    }
    depth.into_iter().max().unwrap_or(0)
}

/// The world of one member: `scenario` in project `p`, named `name`.
fn member_world(cfg: &SimConfig, base: &str, name: &str, scenario: &str, p: &ProjectDef, token: &str) -> World {
    let cfg = SimConfig {
        scenario: scenario.into(),
        // The fleet's gate delays each request once, and draws its errors per cluster and project.
        latency: Duration::ZERO,
        error_rate: 0.0,
        ..cfg.clone()
    };
    let mut w = World::new(cfg, base.to_string());
    w.project = p.id.into();
    w.project_number = p.number.into();
    w.cluster_name = name.into();
    w.location = p.zones[0].into();
    w.region = p.region.into();
    w.zones = p.zones.iter().map(|z| z.to_string()).collect();
    w.access_token = token.into();
    scenario::build(&mut w);
    w
}

/// A cluster that is not GKE: nodes without a GCE providerID, no VMs.
fn strip_gce(w: &mut World) {
    let key = res_by_kind("Node").map(|r| r.key()).unwrap_or_default();
    for node in w.kube.get_mut(&key).into_iter().flat_map(|m| m.values_mut()) {
        if let Some(spec) = node["spec"].as_object_mut() {
            spec.remove("providerID");
        }
    }
    w.compute.instances.clear();
}

struct MemberSpec {
    name: String,
    scenario: &'static str,
    project: usize,
    gke: bool,
    expired: bool,
    latency: Duration,
}

fn specs(fc: &FleetConfig) -> Vec<MemberSpec> {
    let mut v: Vec<MemberSpec> = (0..fc.clusters)
        .map(|i| {
            let (scenario, project) = ROTATION[i % ROTATION.len()];
            MemberSpec {
                latency: fc.cluster_latency.get(&cluster_name(i)).copied().unwrap_or_default(),
                name: cluster_name(i),
                scenario,
                project,
                gke: true,
                expired: false,
            }
        })
        .collect();
    if fc.extras {
        v.push(MemberSpec {
            name: "stale".into(),
            scenario: "healthy",
            project: 0,
            gke: true,
            expired: true,
            latency: Duration::ZERO,
        });
        v.push(MemberSpec {
            name: "dev-laptop".into(),
            scenario: "fresh",
            project: 0,
            gke: false,
            expired: false,
            latency: Duration::ZERO,
        });
    }
    if let Some(latency) = fc.overloaded {
        // In a project with healthy clusters: its Compute data is theirs.
        v.push(MemberSpec {
            name: "overloaded".into(),
            scenario: "healthy",
            project: 0,
            gke: true,
            expired: false,
            latency,
        });
    }
    v
}

fn member(cfg: &SimConfig, base: &str, token: &str, s: MemberSpec) -> Member {
    let p = &PROJECTS[s.project];
    let mut w = member_world(cfg, base, &s.name, s.scenario, p, token);
    let context = match (s.gke, s.expired) {
        (false, _) => NON_GKE_CONTEXT.to_string(),
        (true, true) => EXPIRED_CONTEXT.to_string(),
        // OVERLOADED_CONTEXT has this form.
        (true, false) => format!("gke_{}_{}_{}", p.id, p.zones[0], s.name),
    };
    if !s.gke {
        strip_gce(&mut w);
    }
    let kube_token = format!("sim-kube-{}", crate::random_hex(24));
    let kubeconfig_token = if s.expired {
        format!("sim-expired-{}", crate::random_hex(24))
    } else {
        kube_token.clone()
    };
    let world: Shared = Arc::new(Mutex::new(w));
    Member {
        app: crate::app(world.clone()),
        name: s.name,
        context,
        project: p.id.into(),
        scenario: s.scenario.into(),
        gke: s.gke,
        world,
        kube_token,
        kubeconfig_token,
        expired: s.expired,
        latency: s.latency,
    }
}

/// A loopback port nothing listens on (bound, then released).
async fn closed_port() -> anyhow::Result<u16> {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    Ok(l.local_addr()?.port())
}

/// Bind 127.0.0.1:0, build every world, start their controllers, and return the server future.
pub async fn serve(cfg: SimConfig, fc: FleetConfig) -> anyhow::Result<(Arc<Fleet>, ServeFuture)> {
    anyhow::ensure!(fc.clusters > 0, "a fleet has at least one cluster");
    let listener = crate::listen_loopback()?;
    let base = format!("http://{}", listener.local_addr()?);
    let token = crate::new_access_token();
    let unreachable = match fc.extras {
        true => Some(format!("http://127.0.0.1:{}", closed_port().await?)),
        false => None,
    };
    let members: Vec<Member> = specs(&fc).into_iter().map(|s| member(&cfg, &base, &token, s)).collect();
    for m in &members {
        tokio::spawn(controller::run(m.world.clone()));
    }
    let fleet = Arc::new(Fleet {
        base_url: base,
        members,
        access_token: token,
        unreachable,
        latency: cfg.latency,
        started: Instant::now(),
        log: Mutex::new(vec![]),
        faults: Faults::new(cfg.error_rate, cfg.seed),
    });
    let app = Router::new()
        .fallback(gate)
        .layer(axum::middleware::from_fn_with_state(fleet.clone(), faults))
        .with_state(fleet.clone());
    let fut: ServeFuture = Box::pin(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((fleet, fut))
}

/// Where a request goes.
enum Route<'a> {
    Token,
    Kube(&'a Member, String),
    /// The first of these worlds that does not answer 404.
    One(Vec<&'a Member>),
    /// Every one of these worlds; their lists merged.
    Merge(Vec<&'a Member>),
    NotFound,
}

fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// A Compute path after `projects/P/` that names a collection (a list), not a resource.
fn is_collection(rest: &[&str]) -> bool {
    match rest.first() {
        Some(&"aggregated") | Some(&"global") => rest.len() == 2,
        Some(&"regions") | Some(&"zones") => rest.len() == 3,
        _ => false,
    }
}

/// Worlds built from one scenario hold the same Compute data (names do not depend on the
/// cluster's), so a project's Compute reads (lists, and single resources) ask the first world of
/// each scenario.
fn one_per_scenario(ms: Vec<&Member>) -> Vec<&Member> {
    let mut seen = std::collections::BTreeSet::new();
    ms.into_iter().filter(|m| seen.insert(m.scenario.as_str())).collect()
}

/// The route and the log target of a request.
fn route<'a>(f: &'a Fleet, method: &Method, path: &str) -> (Route<'a>, String) {
    if path == "/token" {
        return (Route::Token, "token".into());
    }
    let segs = segments(path);
    match segs.as_slice() {
        ["clusters", name, rest @ ..] => match f.member(name) {
            Some(m) => (
                Route::Kube(m, format!("/{}", rest.join("/"))),
                format!("cluster:{name}"),
            ),
            None => (Route::NotFound, format!("cluster:{name}")),
        },
        ["crm", "v1", "projects", p, ..] => {
            let p = p.split(':').next().unwrap_or_default();
            (Route::One(f.in_project(p)), format!("project:{p}"))
        }
        ["v1", "projects", p, "locations", _, "clusters"] => (Route::Merge(f.in_project(p)), format!("project:{p}")),
        ["v1", "projects", p, "locations", _, "clusters", c, ..] => {
            let c = c.split(':').next().unwrap_or_default();
            let one: Vec<&Member> = f.in_project(p).into_iter().filter(|m| m.name == c).collect();
            (Route::One(one), format!("cluster:{c}"))
        }
        ["v1", "projects", p, ..] => (Route::One(f.in_project(p)), format!("project:{p}")),
        ["compute", "v1", "projects", p, rest @ ..] if method == Method::GET && is_collection(rest) => {
            (Route::Merge(one_per_scenario(f.in_project(p))), format!("project:{p}"))
        }
        // A single resource, read: the same worlds a list reads (O(scenarios), not O(clusters)).
        ["compute", "v1", "projects", p, ..] if method == Method::GET => {
            (Route::One(one_per_scenario(f.in_project(p))), format!("project:{p}"))
        }
        ["compute", "v1", "projects", p, ..] => (Route::One(f.in_project(p)), format!("project:{p}")),
        _ => (Route::NotFound, "unknown".into()),
    }
}

/// Every request: logged with its target, delayed by `--latency-ms`, then routed.
async fn gate(State(f): State<Arc<Fleet>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let (route, target) = route(&f, req.method(), &path);
    let i = {
        let mut log = f.log.lock().unwrap();
        log.push(FleetRequest {
            target,
            method: req.method().to_string(),
            path: path.clone(),
            start: f.started.elapsed(),
            end: None,
        });
        log.len() - 1
    };
    if !f.latency.is_zero() {
        tokio::time::sleep(f.latency).await;
    }
    let resp = answer(&f, route, req).await;
    f.log.lock().unwrap()[i].end = Some(f.started.elapsed());
    resp
}

async fn answer(f: &Fleet, route: Route<'_>, req: Request) -> Response {
    match route {
        Route::Token => token(f),
        Route::Kube(m, rest) => kube(m, rest, req).await,
        Route::One(ms) => one(ms, req).await,
        Route::Merge(ms) => merge(ms, req).await,
        Route::NotFound => google::google_error(404, "The requested URL was not found on this server.", "notFound"),
    }
}

fn token(f: &Fleet) -> Response {
    let v = json!({"access_token": f.access_token, "expires_in": 3599, "token_type": "Bearer",
                   "scope": "https://www.googleapis.com/auth/cloud-platform"});
    (StatusCode::OK, [("content-type", "application/json")], v.to_string()).into_response()
}

/// A Kubernetes request: the bearer token must be the cluster's (else 401, as a real API server
/// answers an expired or revoked credential), then the world answers it under its own path.
async fn kube(m: &Member, rest: String, mut req: Request) -> Response {
    // kubectl sends no bearer token over plain http: a request without one is let in, one with
    // another token is not, and an expired credential is refused whatever is sent.
    let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok());
    if m.expired || auth.is_some_and(|a| a != format!("Bearer {}", m.kube_token)) {
        return kube_api::status(401, "Unauthorized", "Unauthorized", None);
    }
    if !m.latency.is_zero() {
        tokio::time::sleep(m.latency).await;
    }
    let pq = match req.uri().query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest,
    };
    match pq.parse() {
        Ok(uri) => *req.uri_mut() = uri,
        Err(_) => return kube_api::status(400, "BadRequest", "bad path", None),
    }
    oneshot(&m.app, req).await
}

async fn oneshot(app: &Router, req: Request) -> Response {
    match app.clone().oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

/// The same request again, for another world.
fn copy(method: &Method, uri: &str, headers: &HeaderMap, body: &Bytes) -> Request {
    let mut r = Request::new(Body::from(body.clone()));
    *r.method_mut() = method.clone();
    *r.uri_mut() = uri.parse().unwrap_or_default();
    *r.headers_mut() = headers.clone();
    r
}

async fn parts(req: Request) -> (Method, String, HeaderMap, Bytes) {
    let (p, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 64 << 20).await.unwrap_or_default();
    (p.method, p.uri.to_string(), p.headers, body)
}

async fn one(ms: Vec<&Member>, req: Request) -> Response {
    let (method, uri, headers, body) = parts(req).await;
    let mut last = None;
    for m in ms {
        let r = oneshot(&m.app, copy(&method, &uri, &headers, &body)).await;
        if r.status() != StatusCode::NOT_FOUND {
            return r;
        }
        last = Some(r);
    }
    last.unwrap_or_else(|| google::google_error(404, "The resource was not found.", "notFound"))
}

async fn merge(ms: Vec<&Member>, req: Request) -> Response {
    let (method, uri, headers, body) = parts(req).await;
    let calls = ms.iter().map(|m| oneshot(&m.app, copy(&method, &uri, &headers, &body)));
    let mut acc: Option<Value> = None;
    for r in futures::future::join_all(calls).await {
        let status = r.status();
        let bytes = axum::body::to_bytes(r.into_body(), 64 << 20).await.unwrap_or_default();
        if !status.is_success() {
            return (status, [("content-type", "application/json")], bytes).into_response();
        }
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        match &mut acc {
            None => acc = Some(v),
            Some(a) => merge_lists(a, v),
        }
    }
    let mut v = acc.unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        // One page: the union of every world's answer.
        o.remove("nextPageToken");
    }
    (StatusCode::OK, [("content-type", "application/json")], v.to_string()).into_response()
}

/// Merge the lists of `other` into `acc`: `items` (an array, or scopes of an aggregated list) and
/// `clusters`, without duplicates (by `selfLink`).
fn merge_lists(acc: &mut Value, other: Value) {
    for key in ["items", "clusters"] {
        if other.get(key).is_none() {
            continue;
        }
        match acc.get_mut(key) {
            Some(a) => merge_value(a, other[key].clone()),
            None => acc[key] = other[key].clone(),
        }
    }
}

fn merge_value(acc: &mut Value, other: Value) {
    match (acc, other) {
        (Value::Array(a), Value::Array(b)) => {
            for x in b {
                let link = x.get("selfLink");
                if !a
                    .iter()
                    .any(|y| y.get("selfLink") == link && (link.is_some() || *y == x))
                {
                    a.push(x);
                }
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(x) => merge_value(x, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
            // A scope that has items somewhere is no longer empty.
            if a.len() > 1 {
                a.remove("warning");
            }
        }
        _ => {}
    }
}

/// A fleet running on its own thread (for tests, benchmarks and the binary).
pub struct FleetSim {
    pub base_url: String,
    pub dir: PathBuf,
    pub fleet: Arc<Fleet>,
    runner: Runner,
    _tmp: Option<TempDir>,
}

impl FleetSim {
    pub fn spawn(cfg: SimConfig, fc: FleetConfig, dir: Option<PathBuf>) -> anyhow::Result<FleetSim> {
        let (runner, fleet) = Runner::start(move || serve(cfg, fc))?;
        let (dir, tmp) = crate::state_dir(dir);
        let sim = FleetSim {
            base_url: fleet.base_url.clone(),
            dir,
            fleet,
            runner,
            _tmp: tmp,
        };
        sim.write_files()?;
        Ok(sim)
    }

    pub fn kubeconfig_path(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }

    pub fn env(&self) -> Vec<(String, String)> {
        let project = self.fleet.members[0].project.clone();
        crate::client_env(&self.dir, &self.base_url, &project, &self.fleet.access_token)
    }

    fn write_files(&self) -> anyhow::Result<()> {
        std::fs::create_dir_all(self.dir.join("gcloud"))?;
        crate::write_private(&self.kubeconfig_path(), &self.fleet.kubeconfig())?;
        let project = &self.fleet.members[0].project;
        crate::write_adc(&self.dir, &self.base_url, project, &self.fleet.access_token)
    }

    pub fn write_env_file(&self, path: &Path) -> anyhow::Result<()> {
        let text: String = self
            .env()
            .iter()
            .map(|(k, v)| format!("export {k}={}\n", crate::shell_quote(v)))
            .collect();
        crate::write_private(path, &text)
    }

    pub fn requests(&self) -> Vec<FleetRequest> {
        self.fleet.requests()
    }

    pub fn clear_requests(&self) {
        self.fleet.log.lock().unwrap().clear();
    }

    pub fn stop(mut self) {
        self.runner.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(target: &str, start: u64, end: u64) -> FleetRequest {
        FleetRequest {
            target: target.into(),
            method: "GET".into(),
            path: "/".into(),
            start: Duration::from_millis(start),
            end: Some(Duration::from_millis(end)),
        }
    }

    #[test]
    fn clusters_in_flight_count_spans_not_requests() {
        let log = [
            req("cluster:a", 0, 10),
            req("cluster:a", 50, 60),
            req("cluster:b", 20, 30),
            req("project:p", 0, 100),
            req("cluster:c", 60, 70),
        ];
        // By arrivals, a spans 0..50 and holds b (20) inside it; c (60) comes after a.
        assert_eq!(max_clusters_in_flight(&log), 2);
        assert_eq!(max_clusters_in_flight(&log[..1]), 1);
    }

    #[test]
    fn round_trips_are_the_longest_chain_of_requests_one_after_another() {
        // a then c (c starts when a ends); b overlaps both; d is still running.
        let log = [
            req("cluster:x", 0, 50),
            req("cluster:x", 10, 70),
            req("cluster:x", 50, 100),
            req("cluster:x", 100, 150),
        ];
        let all: Vec<&FleetRequest> = log.iter().collect();
        assert_eq!(round_trips(&all), 3);
        assert_eq!(round_trips(&all[..2]), 1);
        let mut open = log[3].clone();
        open.end = None;
        assert_eq!(round_trips(&[&log[0], &open]), 2);
        assert_eq!(round_trips(&[&open, &log[3]]), 1);
        assert_eq!(round_trips(&[]), 0);
    }

    #[test]
    fn lists_merge_without_duplicates() {
        let mut a = json!({"items": {"regions/r": {"subnetworks": [{"selfLink": "x"}]},
                                     "regions/s": {"warning": {"code": "NO_RESULTS_ON_PAGE"}}}});
        let b = json!({"items": {"regions/r": {"subnetworks": [{"selfLink": "x"}, {"selfLink": "y"}]},
                                 "regions/s": {"subnetworks": [{"selfLink": "z"}]}}});
        merge_lists(&mut a, b);
        assert_eq!(a["items"]["regions/r"]["subnetworks"].as_array().unwrap().len(), 2);
        assert!(a["items"]["regions/s"].get("warning").is_none());
        let mut c = json!({"clusters": [{"selfLink": "1"}]});
        merge_lists(&mut c, json!({"clusters": [{"selfLink": "2"}]}));
        assert_eq!(c["clusters"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn compute_collections_are_told_from_resources() {
        assert!(is_collection(&["global", "firewalls"]));
        assert!(is_collection(&["aggregated", "subnetworks"]));
        assert!(is_collection(&["zones", "z", "networkEndpointGroups"]));
        assert!(!is_collection(&["global", "networks", "default"]));
        assert!(!is_collection(&["regions", "r", "backendServices", "b"]));
    }
}

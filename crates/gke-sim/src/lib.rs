//! gke-sim: a simulated GKE project on 127.0.0.1.
//!
//! One HTTP server answers as three services at once, by path:
//! - the cluster's Kubernetes API (`/api`, `/apis`, `/version`), including `pods/exec` over
//!   WebSocket;
//! - Compute Engine v1 (`/compute/v1/...`), Kubernetes Engine v1 (`/v1/projects/...`) and Cloud
//!   Resource Manager (`/crm/v1/...`), reached through gcloud's `CLOUDSDK_API_ENDPOINT_OVERRIDES_*`;
//! - an OAuth token endpoint (`/token`) for the generated Application Default Credentials.
//!
//! A background task runs the controller model (GKE's ingress and NEG controllers). Addresses such
//! as 10.128.0.100 are data only: nothing ever connects to them.

// HTTP handlers return ready `Response`s as their error type: that is what an HTTP fake is for.
#![allow(clippy::result_large_err)]

pub mod alb;
pub mod certs;
pub mod controller;
pub mod data_plane;
pub mod default_backend;
pub mod exec;
pub mod filter;
pub mod fleet;
pub mod gateway_api;
pub mod google;
pub mod hold;
pub mod k10_gateway;
pub mod kube_api;
pub mod readiness;
pub mod scenario;
pub mod schema;
pub mod world;
pub mod xpn;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use serde_json::json;

pub use world::{ControllerFirewall, LoggedRequest, SimConfig, World};

pub type Shared = Arc<Mutex<World>>;

/// Decode `%XX` and `+` in a query value.
pub fn urldecode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(v) => {
                    out.push(v);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A running simulator.
pub struct Sim {
    pub base_url: String,
    pub dir: PathBuf,
    world: Shared,
    runner: Runner,
    _tmp: Option<TempDir>,
}

/// A server future on its own runtime thread, stopped (and joined) on `stop` or drop.
struct Runner {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Runner {
    /// Run `start` on a new two-worker runtime; returns once it is listening, with what it returned.
    fn start<T, F, Fut>(start: F) -> anyhow::Result<(Runner, T)>
    where
        T: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = anyhow::Result<(T, ServeFuture)>>,
    {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("gke-sim".into()).spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(anyhow::anyhow!(e)));
                    return;
                }
            };
            rt.block_on(async move {
                match start().await {
                    Ok((value, fut)) => {
                        let _ = tx.send(Ok(value));
                        tokio::select! {
                            _ = fut => {}
                            _ = stop_rx => {}
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            });
        })?;
        let value = rx
            .recv()
            .map_err(|_| anyhow::anyhow!("gke-sim thread died during start-up"))??;
        let runner = Runner {
            stop: Some(stop_tx),
            thread: Some(thread),
        };
        Ok((runner, value))
    }

    fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The directory for the env file and credentials: `dir`, or a temporary one removed on drop.
fn state_dir(dir: Option<PathBuf>) -> (PathBuf, Option<TempDir>) {
    match dir {
        Some(d) => (d, None),
        None => {
            let d = std::env::temp_dir().join(format!("gke-sim-{}", random_hex(12)));
            (d.clone(), Some(TempDir(d)))
        }
    }
}

/// A directory removed on drop (the env file, kubeconfig, ADC file and gcloud config live here).
struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn random_hex(n: usize) -> String {
    use sha2::{Digest, Sha256};
    let seed = format!(
        "{:?}{}{:?}",
        std::time::SystemTime::now(),
        std::process::id(),
        std::thread::current().id()
    );
    let mut out = String::new();
    let mut h = Sha256::digest(seed.as_bytes());
    while out.len() < n {
        out.push_str(&h.iter().map(|b| format!("{b:02x}")).collect::<String>());
        h = Sha256::digest(h);
    }
    out.truncate(n);
    out
}

impl Sim {
    /// Start a simulator on its own runtime thread (for synchronous tests and the binary).
    /// `dir`: where to write the env file and credentials; a temporary directory when `None`.
    pub fn spawn(cfg: SimConfig, dir: Option<PathBuf>) -> anyhow::Result<Sim> {
        let (runner, (base_url, world)) = Runner::start(move || async move {
            let (base, world, fut) = serve(cfg).await?;
            Ok(((base, world), fut))
        })?;
        let (dir, tmp) = state_dir(dir);
        let sim = Sim {
            base_url,
            dir,
            world,
            runner,
            _tmp: tmp,
        };
        sim.write_files()?;
        Ok(sim)
    }

    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap()
    }

    /// Change the world (a test's arrangement), then let the controllers settle.
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut w = self.world.lock().unwrap();
        let r = f(&mut w);
        controller::settle(&mut w);
        w.touch();
        r
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.world.lock().unwrap().log.clone()
    }

    /// The write held open by `SimConfig::hold_write` (`METHOD PATH`), once it is held.
    pub fn holding(&self) -> Option<String> {
        self.world.lock().unwrap().holding.clone()
    }

    pub fn clear_requests(&self) {
        self.world.lock().unwrap().log.clear();
    }

    pub fn context_name(&self) -> String {
        let w = self.world();
        format!("gke_{}_{}_{}", w.project, w.location, w.cluster_name)
    }

    pub fn kubeconfig_path(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }

    /// The environment a client needs: `(name, value)` pairs, as written to the env file.
    pub fn env(&self) -> Vec<(String, String)> {
        let w = self.world();
        client_env(&self.dir, &self.base_url, &w.project, &w.access_token)
    }

    pub fn env_file_contents(&self) -> String {
        self.env()
            .iter()
            .map(|(k, v)| format!("export {k}={}\n", shell_quote(v)))
            .collect()
    }

    fn write_files(&self) -> anyhow::Result<()> {
        std::fs::create_dir_all(self.dir.join("gcloud"))?;
        let ctx = self.context_name();
        let kube_token = format!("sim-kube-{}", random_hex(24));
        let kubeconfig = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: {b}\n  name: {ctx}\ncontexts:\n- context:\n    cluster: {ctx}\n    user: {ctx}\n  name: {ctx}\ncurrent-context: {ctx}\npreferences: {{}}\nusers:\n- name: {ctx}\n  user:\n    token: {kube_token}\n",
            b = self.base_url
        );
        write_private(&self.kubeconfig_path(), &kubeconfig)?;
        let (project, token) = {
            let w = self.world();
            (w.project.clone(), w.access_token.clone())
        };
        write_adc(&self.dir, &self.base_url, &project, &token)
    }

    pub fn write_env_file(&self, path: &Path) -> anyhow::Result<()> {
        write_private(path, &self.env_file_contents())
    }

    /// Stop the server and wait for its thread.
    pub fn stop(mut self) {
        self.runner.shutdown();
    }
}

/// The environment a client needs for a simulator at `base` whose files are in `dir`.
pub fn client_env(dir: &Path, base: &str, project: &str, token: &str) -> Vec<(String, String)> {
    let b = base;
    vec![
        ("KUBECONFIG".into(), dir.join("kubeconfig").display().to_string()),
        ("CLOUDSDK_CONFIG".into(), dir.join("gcloud").display().to_string()),
        ("CLOUDSDK_CORE_PROJECT".into(), project.to_string()),
        ("CLOUDSDK_AUTH_ACCESS_TOKEN".into(), token.to_string()),
        ("CLOUDSDK_CORE_DISABLE_PROMPTS".into(), "1".into()),
        ("CLOUDSDK_CORE_CHECK_GCE_METADATA".into(), "false".into()),
        ("CLOUDSDK_CORE_DISABLE_USAGE_REPORTING".into(), "true".into()),
        ("CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK".into(), "true".into()),
        (
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE".into(),
            format!("{b}/compute/v1/"),
        ),
        ("CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER".into(), format!("{b}/")),
        (
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER".into(),
            format!("{b}/crm/"),
        ),
        (
            "GOOGLE_APPLICATION_CREDENTIALS".into(),
            dir.join("adc.json").display().to_string(),
        ),
        ("GCE_METADATA_HOST".into(), "127.0.0.1:9".into()),
        ("GCE_METADATA_ROOT".into(), "127.0.0.1:9".into()),
        ("GCE_METADATA_IP".into(), "127.0.0.1:9".into()),
    ]
}

/// The `authorized_user` ADC file whose `token_uri` is the simulator (secrets made at start-up).
fn write_adc(dir: &Path, base: &str, project: &str, token: &str) -> anyhow::Result<()> {
    let adc = json!({
        "type": "authorized_user",
        "client_id": "gke-sim.apps.googleusercontent.com",
        "client_secret": format!("sim-secret-{}", &token[token.len() - 8..]),
        "refresh_token": format!("sim-refresh-{}", random_hex(24)),
        "token_uri": format!("{base}/token"),
        "quota_project_id": project,
    });
    write_private(&dir.join("adc.json"), &serde_json::to_string_pretty(&adc)?)
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    std::fs::write(path, contents)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

fn shell_quote(v: &str) -> String {
    if v.chars().all(|c| c.is_ascii_alphanumeric() || "/:._-=@".contains(c)) {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', "'\\''"))
    }
}

type ServeFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// A listener on 127.0.0.1 with a free port, whose accept queue is as long as the kernel allows,
/// as a Go server's (the API server's) is: Go listens with `/proc/sys/net/core/somaxconn`.
/// tokio's `TcpListener::bind` asks for 128, as Rust's standard library does; a fleet run opens more
/// than that at once, and TCP drops what does not fit and tries again a second later.
pub fn listen_loopback() -> std::io::Result<tokio::net::TcpListener> {
    let somaxconn = std::fs::read_to_string("/proc/sys/net/core/somaxconn").ok();
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))?;
    socket.listen(listen_backlog(somaxconn.as_deref()))
}

/// The accept queue Go asks for, from the contents of `/proc/sys/net/core/somaxconn`: that number
/// (at most `i32::MAX`, what `listen` takes; Linux 4.1 and later keep it in 32 bits), or 4,096 when
/// it cannot be read (our choice: Go falls back to the platform's `SOMAXCONN`, 128 on Linux, and
/// 4,096 is Linux's own default since 5.4; the kernel lowers it to its limit anyway).
pub fn listen_backlog(somaxconn: Option<&str>) -> u32 {
    match somaxconn.and_then(|s| s.split_whitespace().next()?.parse::<u32>().ok()) {
        Some(n) if n > 0 => n.min(i32::MAX as u32),
        _ => 4_096,
    }
}

/// Bind 127.0.0.1:0, build the world, and return the server future.
pub async fn serve(cfg: SimConfig) -> anyhow::Result<(String, Shared, ServeFuture)> {
    let listener = listen_loopback()?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    let mut world = scenario::world(cfg, base.clone());
    world.access_token = new_access_token();
    if let Some(x) = world.shared_vpc.as_mut() {
        x.admin_token = format!("ya29.sim-netadmin-{}", random_hex(40));
    }
    let shared: Shared = Arc::new(Mutex::new(world));
    let app = app(shared.clone());
    tokio::spawn(controller::run(shared.clone()));
    let fut: ServeFuture = Box::pin(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((base, shared, fut))
}

/// A fresh OAuth access token for a world (or a fleet of them).
pub fn new_access_token() -> String {
    format!("ya29.sim-{}", random_hex(40))
}

/// `v` as a JSON body. A list of K10's pods is tens of kilobytes: it is written into a buffer
/// the thread keeps, then copied once at its size, instead of grown by doubling (and copying)
/// from serde_json's 128 bytes.
pub(crate) fn json_bytes(v: &impl serde::Serialize) -> Vec<u8> {
    thread_local!(static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) });
    BUF.with_borrow_mut(|buf| {
        buf.clear();
        serde_json::to_writer(&mut *buf, v).expect("a JSON body serialises");
        buf.to_vec()
    })
}

/// One world's HTTP app: the request gate, `pods/exec` and the dispatcher (the fleet calls it in-process).
pub fn app(shared: Shared) -> Router {
    Router::new()
        .route("/api/v1/namespaces/{ns}/pods/{pod}/exec", any(exec::exec_handler))
        .fallback(dispatch)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

/// Whether `--error-rate` may fail a request for this path (not the token, version or discovery).
pub fn injectable(path: &str) -> bool {
    !(path == "/token"
        || path == "/version"
        || path == "/api"
        || path == "/apis"
        || path == "/api/v1"
        || (path.starts_with("/apis/") && path.matches('/').count() <= 3))
}

/// POSTs that ask a question and change nothing (access reviews, `getHealth`, IAM's
/// `testIamPermissions`): they wake no controller.
pub fn is_read_post(path: &str) -> bool {
    path.ends_with("/selfsubjectaccessreviews")
        || path.ends_with("/selfsubjectrulesreviews")
        || path.ends_with("/getHealth")
        || path.ends_with(":testIamPermissions")
}

pub fn is_google(path: &str) -> bool {
    path.starts_with("/compute/") || path.starts_with("/v1/") || path.starts_with("/crm/")
}

/// Every request passes here: logged, delayed by `--latency-ms`, failed by `--error-rate`, and
/// (for Google's APIs) checked for a bearer token.
async fn gate(State(state): State<Shared>, req: Request, next: axum::middleware::Next) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let method = req.method().to_string();
    let (latency, inject, held) = {
        let mut w = state.lock().unwrap();
        let held = hold::arrive(&mut w, &method, &path);
        let at = w.started.elapsed();
        w.log.push(LoggedRequest {
            method: req.method().to_string(),
            path: path.clone(),
            query: query.clone(),
            at,
        });
        let exempt = !injectable(&path);
        let rate = w.cfg.error_rate;
        let mut inject = if !exempt && rate > 0.0 && w.rand() < rate {
            Some(if w.rand() < 0.5 { 429 } else { 503 })
        } else {
            None
        };
        if let Some(i) = w
            .inject_once
            .iter()
            .position(|(m, p, _)| *m == method && path.contains(p.as_str()))
        {
            inject = Some(w.inject_once.remove(i).2);
        }
        (w.cfg.latency, inject, held)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(code) = inject {
        return injected(code, &path);
    }
    if is_google(&path) {
        let auth = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let (token, admin) = {
            let w = state.lock().unwrap();
            (
                w.access_token.clone(),
                xpn::is_admin_token(&w, auth.trim_start_matches("Bearer ")),
            )
        };
        if auth != format!("Bearer {token}") && !admin {
            return google::google_error(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
                "authError",
            );
        }
    }
    // Compute and Container writes change the world's maps directly: wake the controllers.
    let write = !matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS") && !is_read_post(&path);
    let resp = next.run(req).await;
    if write {
        state.lock().unwrap().touch();
    }
    if held {
        hold::hold(&state, &method, &path).await;
    }
    resp
}

async fn dispatch(State(state): State<Shared>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let headers: HeaderMap = req.headers().clone();
    let body = match axum::body::to_bytes(req.into_body(), 64 << 20).await {
        Ok(b) => b.to_vec(),
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response(),
    };
    if path == "/token" {
        let token = state.lock().unwrap().access_token.clone();
        let v = json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer", "scope": "https://www.googleapis.com/auth/cloud-platform"});
        return (StatusCode::OK, [("content-type", "application/json")], v.to_string()).into_response();
    }
    if is_google(&path) {
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let admin = xpn::is_admin_token(&state.lock().unwrap(), token.trim_start_matches("Bearer "));
        return xpn::as_caller(admin, google::handle(state, method, path, query, body)).await;
    }
    let _ = Body::empty();
    kube_api::handle(state, method, path, query, headers, body).await
}

/// The answer to a request failed by `--error-rate` or `World::inject_once`, as Google's APIs or
/// the Kubernetes API server would send it.
fn injected(code: u16, path: &str) -> Response {
    if is_google(path) {
        let msg = if code == 429 {
            "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute' of service \
             'compute.googleapis.com'."
        } else {
            "The service is currently unavailable."
        };
        google::google_error(
            code,
            msg,
            if code == 429 {
                "rateLimitExceeded"
            } else {
                "backendError"
            },
        )
    } else if code == 429 {
        kube_api::status(
            429,
            "TooManyRequests",
            "Too many requests, please try again later.",
            Some(json!({"retryAfterSeconds": 1})),
        )
    } else if code == 409 {
        let msg = "Operation cannot be fulfilled: the object has been modified; \
                   please apply your changes to the latest version and try again";
        kube_api::status(409, "Conflict", msg, None)
    } else if code == 403 {
        kube_api::status(403, "Forbidden", "forbidden by gke-sim's fault injection", None)
    } else {
        kube_api::status(
            503,
            "ServiceUnavailable",
            "The server is currently unable to handle the request",
            None,
        )
    }
}

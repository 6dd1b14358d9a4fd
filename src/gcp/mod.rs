//! A small client for the Google APIs the plugin uses: Compute Engine v1, Kubernetes Engine v1 and
//! Cloud Resource Manager v1, over reqwest with Application Default Credentials.
//!
//! - Endpoints: gcloud's `CLOUDSDK_API_ENDPOINT_OVERRIDES_{COMPUTE,CONTAINER,CLOUDRESOURCEMANAGER}`.
//! - Retries: 429 and 5xx (and transport errors) with exponential backoff and jitter (backon),
//!   honouring `Retry-After`; POSTs are retried only when they carry a `requestId` or are reads.
//! - Lists page through `nextPageToken`; operations are waited for with `wait` and a deadline.

pub mod model;
pub mod quota;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use google_cloud_auth::credentials::{self, CacheableResource, Credentials};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::env;
use crate::error;
use crate::printer::Printer;
use model::Operation;

pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// An error answer from a Google API.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct GcpError {
    pub status: u16,
    pub message: String,
    pub reason: String,
    pub method: String,
    pub path: String,
}

impl GcpError {
    pub fn is_not_found(&self) -> bool {
        self.status == 404
    }
    pub fn is_conflict(&self) -> bool {
        self.status == 409
    }
    pub fn is_forbidden(&self) -> bool {
        self.status == 403
    }
    /// The IAM permission named in a 403, if any.
    pub fn permission(&self) -> Option<String> {
        let m = &self.message;
        let start = m
            .find("Required '")
            .map(|i| i + 10)
            .or_else(|| m.find("Required \"").map(|i| i + 10))?;
        let end = m[start..].find(['\'', '"'])?;
        Some(m[start..start + end].to_string())
    }
}

/// Counters for `-v` and the benchmarks.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub writes: AtomicU64,
}

#[derive(Clone)]
pub struct Gcp {
    http: reqwest::Client,
    creds: Credentials,
    pub compute: String,
    pub container: String,
    pub crm: String,
    pub stats: Arc<Stats>,
    printer: Printer,
    /// Shared by a fleet run: rate limits per project and API, 429 back-off and reads done once.
    quota: Option<Arc<quota::Quota>>,
}

struct Attempt {
    err: anyhow::Error,
    retryable: bool,
    retry_after: Option<Duration>,
}

fn with_slash(s: String) -> String {
    if s.ends_with('/') {
        s
    } else {
        format!("{s}/")
    }
}

/// Where Application Default Credentials come from, checked before any network call.
#[derive(Debug, Clone, PartialEq)]
pub enum AdcSource {
    File(std::path::PathBuf),
    MetadataServer,
}

fn on_google_cloud() -> bool {
    if env::var(env::USE_METADATA).is_some_and(|v| v == "0" || v == "false") {
        return false;
    }
    if env::var(env::CLOUD_SHELL).is_some_and(|v| v == "true")
        || env::var(env::USE_METADATA).is_some_and(|v| v == "1" || v == "true")
    {
        return true;
    }
    std::fs::read_to_string("/sys/class/dmi/id/product_name").is_ok_and(|p| p.contains("Google"))
}

/// Find the ADC file, or the metadata server on Google Cloud; fail at once otherwise
/// (never after a slow metadata-server retry).
pub fn adc_source() -> anyhow::Result<AdcSource> {
    let login_hint = "run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a \
                      service-account key file";
    if let Some(p) = env::var(env::ADC_FILE) {
        let path = std::path::PathBuf::from(&p);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            error::environment(
                format!("cannot read the credentials file GOOGLE_APPLICATION_CREDENTIALS={p}: {e}"),
                login_hint,
            )
        })?;
        let v: Value = serde_json::from_str(&text).map_err(|e| {
            error::environment(
                format!("the credentials file GOOGLE_APPLICATION_CREDENTIALS={p} is not valid JSON ({e})"),
                login_hint,
            )
        })?;
        if v["type"].as_str().is_none() {
            return Err(error::environment(
                format!(
                    "the credentials file GOOGLE_APPLICATION_CREDENTIALS={p} has no \"type\" field: it is not an \
                     Application Default Credentials file"
                ),
                login_hint,
            ));
        }
        return Ok(AdcSource::File(path));
    }
    let well_known = if cfg!(windows) {
        env::var(env::APPDATA).map(|r| std::path::PathBuf::from(r).join("gcloud/application_default_credentials.json"))
    } else {
        env::var(env::HOME)
            .map(|r| std::path::PathBuf::from(r).join(".config/gcloud/application_default_credentials.json"))
    };
    if let Some(p) = well_known.filter(|p| p.exists()) {
        return Ok(AdcSource::File(p));
    }
    if on_google_cloud() {
        return Ok(AdcSource::MetadataServer);
    }
    Err(error::environment(
        "no Google Cloud credentials found (Application Default Credentials)",
        login_hint,
    ))
}

impl Gcp {
    pub fn new(printer: &Printer) -> anyhow::Result<Gcp> {
        adc_source()?;
        let mut b = credentials::Builder::default().with_scopes([SCOPE]);
        if let Some(q) = env::var(env::QUOTA_PROJECT) {
            b = b.with_quota_project_id(q);
        }
        let creds = b.build().map_err(|e| {
            error::environment(
                format!("cannot load Application Default Credentials: {e}"),
                "run `gcloud auth application-default login`, or check the file GOOGLE_APPLICATION_CREDENTIALS \
                 points to",
            )
        })?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("kubectl-kasten-ilb/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(150))
            .build()?;
        Ok(Gcp {
            http,
            creds,
            compute: with_slash(
                env::var(env::COMPUTE_ENDPOINT).unwrap_or_else(|| "https://compute.googleapis.com/compute/v1/".into()),
            ),
            container: with_slash(
                env::var(env::CONTAINER_ENDPOINT).unwrap_or_else(|| "https://container.googleapis.com/".into()),
            ),
            crm: with_slash(
                env::var(env::CRM_ENDPOINT).unwrap_or_else(|| "https://cloudresourcemanager.googleapis.com/".into()),
            ),
            stats: Arc::new(Stats::default()),
            printer: printer.clone(),
            quota: None,
        })
    }

    /// The same client, sharing `quota` (a fleet's) with every other client that has it.
    pub fn with_quota(mut self, quota: Arc<quota::Quota>) -> Gcp {
        self.quota = Some(quota);
        self
    }

    /// `projects/{p}/...` under the Compute endpoint.
    pub fn compute_url(&self, path: &str) -> String {
        format!("{}projects/{path}", self.compute)
    }

    /// The path of a Compute URL relative to the endpoint (URLs in resources use Google's host).
    pub fn compute_path_of(&self, url: &str) -> String {
        match url.find("/compute/v1/") {
            Some(i) => format!("{}{}", self.compute, &url[i + "/compute/v1/".len()..]),
            None => url.to_string(),
        }
    }

    async fn auth_headers(&self) -> anyhow::Result<http::HeaderMap> {
        match self.creds.headers(http::Extensions::new()).await {
            Ok(CacheableResource::New { data, .. }) => Ok(data),
            Ok(CacheableResource::NotModified) => Ok(http::HeaderMap::new()),
            Err(e) => Err(error::environment(
                format!("cannot get an access token from Application Default Credentials: {e}"),
                "run `gcloud auth application-default login` again; the stored credentials may have expired or been \
                 revoked",
            )),
        }
    }

    async fn once(&self, method: &Method, url: &str, body: Option<&Value>) -> Result<Value, Attempt> {
        let api = api_of(url, [&self.compute, &self.crm, &self.container]);
        if let Some(q) = &self.quota {
            q.admit(api, url).await;
        }
        let r = self.attempt(method, url, body).await;
        if let (Some(q), Err(a)) = (&self.quota, &r) {
            if a.err
                .downcast_ref::<GcpError>()
                .is_some_and(|e| quota::is_rate_limited(e.status, &e.reason))
            {
                q.back_off(api, url, a.retry_after.unwrap_or(Duration::from_secs(1)))
                    .await;
            }
        }
        r
    }

    async fn attempt(&self, method: &Method, url: &str, body: Option<&Value>) -> Result<Value, Attempt> {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let headers = self.auth_headers().await.map_err(|err| Attempt {
            err,
            retryable: false,
            retry_after: None,
        })?;
        let mut req = self.http.request(method.clone(), url).headers(headers);
        if let Some(b) = body {
            req = req.json(b);
        }
        let path = url.split('?').next().unwrap_or(url).to_string();
        let req = req.build().map_err(|e| Attempt {
            err: anyhow::anyhow!("{method} {path}: {}", describe_reqwest(&e)),
            retryable: false,
            retry_after: None,
        })?;
        tracing::trace!("request {method} {url}{}", crate::http_log::block(req.headers()));
        let start = std::time::Instant::now();
        let resp = match self.http.execute(req).await {
            Ok(r) => r,
            Err(e) => {
                let retryable = e.is_connect() || e.is_timeout() || e.is_request();
                return Err(Attempt {
                    err: anyhow::anyhow!("{method} {path}: {}", describe_reqwest(&e)),
                    retryable,
                    retry_after: None,
                });
            }
        };
        let status = resp.status().as_u16();
        tracing::debug!("{method} {url} -> {status} ({} ms)", start.elapsed().as_millis());
        tracing::trace!("response headers{}", crate::http_log::block(resp.headers()));
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let text = resp.text().await.unwrap_or_default();
        if (200..300).contains(&status) {
            if text.trim().is_empty() {
                return Ok(json!({}));
            }
            return serde_json::from_str(&text).map_err(|e| Attempt {
                err: anyhow::anyhow!("{method} {path}: the answer is not JSON: {e}"),
                retryable: false,
                retry_after: None,
            });
        }
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let message = v["error"]["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("HTTP {status}: {}", text.chars().take(200).collect::<String>()));
        let reason = v["error"]["errors"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let err = GcpError {
            status,
            message,
            reason,
            method: method.to_string(),
            path,
        };
        let retryable = quota::is_rate_limited(status, &err.reason) || (500..600).contains(&status) && status != 501;
        Err(Attempt {
            err: anyhow::Error::new(err),
            retryable,
            retry_after,
        })
    }

    /// One API call with retries. `idempotent`: safe to repeat (GET, reads, requests with a requestId).
    /// With a fleet's quota, a read that is the same for every cluster of a project is made once.
    pub async fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        idempotent: bool,
    ) -> anyhow::Result<Value> {
        Ok(Arc::unwrap_or_clone(self.read(method, url, body, idempotent).await?))
    }

    /// `call`, with the answer shared: a fleet's read made once per project is handed to each
    /// cluster of it without a copy (callers that only read it deserialise from the reference).
    async fn read(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        idempotent: bool,
    ) -> anyhow::Result<Arc<Value>> {
        match self.quota.as_ref().filter(|_| quota::is_shared_read(&method, url)) {
            Some(q) => {
                let key = format!("{method} {url} {}", body.map(Value::to_string).unwrap_or_default());
                q.once(key, || async {
                    self.call_each(method, url, body, idempotent).await.map(Arc::new)
                })
                .await
            }
            None => self.call_each(method, url, body, idempotent).await.map(Arc::new),
        }
    }

    async fn call_each(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        idempotent: bool,
    ) -> anyhow::Result<Value> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(8))
            .with_max_times(8)
            .with_jitter();
        let path = url.split('?').next().unwrap_or(url).to_string();
        let m2 = method.clone();
        let r = (|| async { self.once(&method, url, body).await })
            .retry(backoff)
            .when(|a: &Attempt| a.retryable && idempotent)
            .adjust(|a: &Attempt, d| match a.retry_after {
                Some(ra) => Some(ra.min(Duration::from_secs(30))),
                None => d,
            })
            .notify(|a: &Attempt, d: Duration| {
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
                self.printer.verbose(
                    1,
                    &format!(
                        "retry: {m2} {path} failed ({}); retrying in {} ms",
                        a.err,
                        d.as_millis()
                    ),
                );
            })
            .await;
        if method != Method::GET {
            self.stats
                .writes
                .fetch_add(u64::from(!is_read_post(url)), Ordering::Relaxed);
        }
        r.map_err(|a| a.err)
    }

    pub async fn get<T: DeserializeOwned>(&self, url: &str) -> anyhow::Result<T> {
        let v = self.read(Method::GET, url, None, true).await?;
        Ok(T::deserialize(&*v)?)
    }

    /// GET, with 404 as `None`.
    pub async fn get_opt<T: DeserializeOwned>(&self, url: &str) -> anyhow::Result<Option<T>> {
        match self.read(Method::GET, url, None, true).await {
            Ok(v) => Ok(Some(T::deserialize(&*v)?)),
            Err(e) if e.downcast_ref::<GcpError>().is_some_and(GcpError::is_not_found) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every page of a list (`maxResults` 500, following `nextPageToken`), with an optional
    /// server-side `filter`; `each` receives every page.
    async fn pages(
        &self,
        url: &str,
        extra: &str,
        filter: Option<&str>,
        mut each: impl FnMut(&Value) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut token: Option<String> = None;
        loop {
            let mut u = format!("{url}?maxResults=500{extra}");
            if let Some(f) = filter {
                u.push_str(&format!("&filter={}", urlencode(f)));
            }
            if let Some(t) = &token {
                u.push_str(&format!("&pageToken={}", urlencode(t)));
            }
            let v = self.read(Method::GET, &u, None, true).await?;
            each(&v)?;
            token = v["nextPageToken"].as_str().map(str::to_string);
            if token.is_none() {
                return Ok(());
            }
        }
    }

    /// A list, every page, with an optional server-side `filter`.
    pub async fn list<T: DeserializeOwned>(&self, url: &str, filter: Option<&str>) -> anyhow::Result<Vec<T>> {
        let mut out = vec![];
        self.pages(url, "", filter, |v| {
            for item in v["items"].as_array().into_iter().flatten() {
                out.push(T::deserialize(item)?);
            }
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// An aggregated list (`items` keyed by scope), flattened, every page.
    pub async fn aggregated<T: DeserializeOwned>(
        &self,
        url: &str,
        field: &str,
        filter: Option<&str>,
    ) -> anyhow::Result<Vec<T>> {
        let mut out = vec![];
        self.pages(url, "&returnPartialSuccess=true", filter, |v| {
            for scope in v["items"].as_object().into_iter().flatten().map(|(_, s)| s) {
                for item in scope[field].as_array().into_iter().flatten() {
                    out.push(T::deserialize(item)?);
                }
            }
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// The permissions of `wanted` IAM grants the caller on `project` (`testIamPermissions`).
    pub async fn granted(&self, project: &str, wanted: &[&str]) -> anyhow::Result<Vec<String>> {
        let url = format!("{}v1/projects/{project}:testIamPermissions", self.crm);
        let body = json!({ "permissions": wanted });
        let v = self.read(Method::POST, &url, Some(&body), true).await?;
        Ok(v["permissions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect())
    }

    /// The permissions of `wanted` IAM does not grant the caller on `project`, in `wanted`'s order.
    pub async fn missing(&self, project: &str, wanted: &[&str]) -> anyhow::Result<Vec<String>> {
        let granted = self.granted(project, wanted).await?;
        Ok(wanted
            .iter()
            .filter(|p| !granted.iter().any(|g| g == *p))
            .map(|p| p.to_string())
            .collect())
    }

    /// A mutation that returns an operation; carries a `requestId` so a retry cannot duplicate it.
    pub async fn mutate(&self, method: Method, url: &str, body: Option<&Value>) -> anyhow::Result<Operation> {
        let sep = if url.contains('?') { '&' } else { '?' };
        let u = format!("{url}{sep}requestId={}", uuid::Uuid::new_v4());
        let v = self.call(method, &u, body, true).await?;
        Ok(serde_json::from_value(v)?)
    }

    /// Wait for a Compute operation with `wait` calls until DONE or the deadline; then check its error.
    pub async fn wait(&self, op: Operation, deadline: Instant) -> anyhow::Result<()> {
        let mut op = op;
        while op.status != "DONE" {
            if Instant::now() >= deadline {
                return Err(error::failed(
                    format!(
                        "operation {} did not finish before the deadline (status {})",
                        op.name, op.status
                    ),
                    "it may still finish: run the same command again, it picks up where it stopped",
                ));
            }
            let url = format!("{}/wait", self.compute_path_of(&op.self_link));
            let v = self.call(Method::POST, &url, None, true).await?;
            op = serde_json::from_value(v)?;
        }
        if let Some(e) = op.error.as_ref().and_then(|e| e.errors.first()) {
            return Err(anyhow::Error::new(GcpError {
                status: op.http_error_status_code.unwrap_or(400),
                message: e.message.clone(),
                reason: e.code.clone(),
                method: "operation".into(),
                path: op.target_link.clone(),
            }));
        }
        Ok(())
    }
}

fn is_read_post(url: &str) -> bool {
    let p = url.split('?').next().unwrap_or(url);
    p.ends_with("/getHealth")
        || p.ends_with("/listNetworkEndpoints")
        || p.ends_with(":testIamPermissions")
        || p.ends_with("/wait")
}

fn describe_reqwest(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(x) = src {
        s.push_str(&format!(": {x}"));
        src = x.source();
    }
    s
}

fn parse_retry_after(v: &str) -> Option<Duration> {
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A user-facing hint for a Google API error.
pub fn hint_for(e: &GcpError) -> String {
    if e.status == 403 {
        if let Some(p) = e.permission() {
            let role = if p.starts_with("compute.firewalls") {
                "roles/compute.securityAdmin"
            } else if p.starts_with("container.") {
                "roles/container.clusterViewer"
            } else {
                "roles/compute.networkAdmin"
            };
            return format!(
                "ask a project owner for the permission `{p}` (for example via {role}); `kubectl kasten-ilb doctor` \
                 lists every permission install needs"
            );
        }
        return "check the IAM roles of the account in GOOGLE_APPLICATION_CREDENTIALS or \
                `gcloud auth application-default login`"
            .into();
    }
    if e.status == 401 {
        return "the credentials were rejected: run `gcloud auth application-default login` again".into();
    }
    if e.status == 429 || e.status >= 500 {
        return "Google's API was unavailable after several retries: run the same command again; it resumes where it \
                stopped"
            .into();
    }
    "run `kubectl kasten-ilb doctor` to see the state of each link".into()
}

/// A failed Google call as the user sees it: `what` was being done, Google's message, and the hint
/// for that answer (403/401 end as environment errors, the rest as failures). Errors that already
/// carry a hint pass through.
pub fn context(e: anyhow::Error, what: &str) -> anyhow::Error {
    if error::find(&e).is_some() {
        return e;
    }
    match e.downcast_ref::<GcpError>() {
        Some(g) => {
            let hint = hint_for(g);
            if g.is_forbidden() || g.status == 401 {
                error::environment(format!("{what}: {}", g.message), hint)
            } else {
                error::failed(format!("{what}: {} (HTTP {})", g.message, g.status), hint)
            }
        }
        None => error::failed(
            format!("{what}: {e:#}"),
            "check the network path to Google's APIs, then run the same command again",
        ),
    }
}

/// Which API `url` calls, for its quota, given the Compute, Resource Manager and GKE endpoints.
/// Compute's and Resource Manager's are tried first: an override may put GKE's at the root of the
/// same host. A URL under none of them is a Compute resource's own link.
fn api_of(url: &str, [compute, crm, container]: [&str; 3]) -> quota::Api {
    if url.starts_with(compute) {
        quota::Api::Compute
    } else if url.starts_with(crm) {
        quota::Api::ResourceManager
    } else if url.starts_with(container) {
        quota::Api::Container
    } else {
        quota::Api::Compute
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_is_read_from_a_403() {
        let e = GcpError {
            status: 403,
            message: "Required 'compute.firewalls.create' permission for 'projects/p/global/firewalls/x'".into(),
            reason: "forbidden".into(),
            method: "POST".into(),
            path: "/x".into(),
        };
        assert_eq!(e.permission().as_deref(), Some("compute.firewalls.create"));
        assert!(hint_for(&e).contains("roles/compute.securityAdmin"));
    }

    #[test]
    fn each_call_counts_against_its_own_apis_quota() {
        use quota::Api::*;
        let google = [
            "https://compute.googleapis.com/compute/v1/",
            "https://cloudresourcemanager.googleapis.com/",
            "https://container.googleapis.com/",
        ];
        // gcloud's overrides may serve every API from one host, GKE's at its root.
        let one_host = [
            "http://127.0.0.1:9/compute/v1/",
            "http://127.0.0.1:9/crm/",
            "http://127.0.0.1:9/",
        ];
        for [compute, crm, container] in [google, one_host] {
            let calls = [
                (format!("{compute}projects/p/zones/z/instances/i"), Compute),
                (format!("{crm}v1/projects/p:testIamPermissions"), ResourceManager),
                (format!("{container}v1/projects/p/locations/l/clusters/c"), Container),
            ];
            for (url, api) in calls {
                assert_eq!(api_of(&url, [compute, crm, container]), api, "{url}");
            }
        }
        let link = "https://www.googleapis.com/compute/v1/projects/p/global/networks/n";
        assert_eq!(api_of(link, google), Compute);
    }

    #[test]
    fn retry_after_and_encoding() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(urlencode(r#"purpose = "X""#), "purpose%20%3D%20%22X%22");
    }
}

//! Google's API quota is per project and per API, so a fleet run shares it: calls to one API of
//! one project (Compute Engine, GKE, Resource Manager) go through one rate limiter (a token
//! bucket), a 429 holds back every call to that API of that project (not just the one that got
//! it), and what is the same for every cluster of a project (its network, subnets, firewall rules,
//! the IAM answer) is read once per run.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;
use tokio::sync::OnceCell;

/// Requests per second per API of a project, and the burst. Compute Engine's rate quotas are per project
/// and counted per minute ("1,500 requests/minute" per project for reads and for lists, the
/// defaults of its read and list groups, https://cloud.google.com/compute/api-quota): a sustained
/// 25 a second, with a burst well inside one minute's allowance.
pub const PER_SECOND: f64 = 25.0;
pub const BURST: f64 = 250.0;

/// The Google APIs a doctor calls: each has its own quota ("Rate quotas ... define the number of
/// requests that can be made to the Compute Engine API. These quotas apply on a per-project
/// basis", https://cloud.google.com/compute/api-quota), so each has its own bucket in a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    Compute,
    Container,
    ResourceManager,
}

/// A rate-limit answer: 429, or the 403 `rateLimitExceeded` that Compute Engine sends when a
/// project exceeds a rate quota ("you receive a 403 error with the reason rateLimitExceeded").
pub fn is_rate_limited(status: u16, reason: &str) -> bool {
    status == 429 || (status == 403 && matches!(reason, "rateLimitExceeded" | "userRateLimitExceeded"))
}

/// A token bucket, and when a 429 said to come back.
struct Bucket {
    tokens: f64,
    last: Instant,
    not_before: Instant,
}

/// One API's bucket in one project, shared by every call to it.
type Shared = Arc<tokio::sync::Mutex<Bucket>>;

/// A shared read's answer, handed to every cluster that asks without copying it.
type Cell = Arc<OnceCell<Arc<Value>>>;

/// The per-project, per-API limiters and the per-run cache, shared by every cluster of a fleet.
pub struct Quota {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<(Api, String), Shared>>,
    cache: Mutex<HashMap<String, Cell>>,
}

impl Default for Quota {
    fn default() -> Self {
        Quota::new(PER_SECOND, BURST)
    }
}

/// The project a Google API URL is about (`.../projects/P/...` or `projects/P:method`).
pub fn project_of(url: &str) -> Option<&str> {
    let rest = url.split("/projects/").nth(1)?;
    let end = rest.find(['/', ':', '?']).unwrap_or(rest.len());
    Some(&rest[..end]).filter(|p| !p.is_empty())
}

/// Reads that are the same for every cluster of a project: the VPC's network, subnets and
/// firewall rules, a region's forwarding rules and backend services (unfiltered lists: each
/// cluster picks its own from them), and the IAM permissions on the project.
pub fn is_shared_read(method: &Method, url: &str) -> bool {
    let path = url.split('?').next().unwrap_or(url);
    match *method {
        Method::GET => {
            path.contains("/global/networks/")
                || path.ends_with("/aggregated/subnetworks")
                || path.ends_with("/global/firewalls")
                || path.ends_with("/forwardingRules")
                || path.ends_with("/backendServices")
        }
        Method::POST => path.ends_with(":testIamPermissions"),
        _ => false,
    }
}

impl Quota {
    pub fn new(per_second: f64, burst: f64) -> Quota {
        Quota {
            per_second,
            burst,
            buckets: Mutex::new(HashMap::new()),
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn bucket(&self, api: Api, project: &str) -> Shared {
        let mut m = self.buckets.lock().unwrap();
        m.entry((api, project.to_string()))
            .or_insert_with(|| {
                let now = Instant::now();
                Arc::new(tokio::sync::Mutex::new(Bucket {
                    tokens: self.burst,
                    last: now,
                    not_before: now,
                }))
            })
            .clone()
    }

    /// Wait for a turn to call `api` of `url`'s project: after any 429 back-off, then for a token.
    pub async fn admit(&self, api: Api, url: &str) {
        let Some(project) = project_of(url) else { return };
        let bucket = self.bucket(api, project);
        // Waiters queue on the bucket's lock, so the order is first come, first served.
        let mut b = bucket.lock().await;
        let now = Instant::now();
        if b.not_before > now {
            tokio::time::sleep(b.not_before - now).await;
        }
        let now = Instant::now();
        b.tokens = (b.tokens + (now - b.last).as_secs_f64() * self.per_second).min(self.burst);
        b.last = now;
        if b.tokens < 1.0 {
            let wait = Duration::from_secs_f64((1.0 - b.tokens) / self.per_second);
            tokio::time::sleep(wait).await;
            b.tokens = 1.0;
            b.last = Instant::now();
        }
        b.tokens -= 1.0;
    }

    /// A 429 from `api` of `url`'s project: no call to it before `delay` has passed.
    pub async fn back_off(&self, api: Api, url: &str, delay: Duration) {
        let Some(project) = project_of(url) else { return };
        let bucket = self.bucket(api, project);
        let mut b = bucket.lock().await;
        b.not_before = b.not_before.max(Instant::now() + delay);
    }

    /// The answer to a shared read, read once per run (a failed read is tried again by the next
    /// caller; concurrent callers wait for the first).
    pub async fn once<F, Fut>(&self, key: String, read: F) -> anyhow::Result<Arc<Value>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = anyhow::Result<Arc<Value>>>,
    {
        let cell = self.cache.lock().unwrap().entry(key).or_default().clone();
        cell.get_or_try_init(read).await.cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_and_shared_reads() {
        let u = "https://compute.googleapis.com/compute/v1/projects/p-1/aggregated/subnetworks?filter=x";
        assert_eq!(project_of(u), Some("p-1"));
        assert!(is_shared_read(&Method::GET, u));
        assert_eq!(
            project_of("https://crm/v1/projects/p-2:testIamPermissions"),
            Some("p-2")
        );
        assert!(is_shared_read(
            &Method::POST,
            "https://crm/v1/projects/p-2:testIamPermissions"
        ));
        let bs = "https://c/compute/v1/projects/p/regions/r/backendServices/b/getHealth";
        assert!(!is_shared_read(&Method::POST, bs));
        let frs = "https://c/compute/v1/projects/p/regions/r/forwardingRules?maxResults=500";
        assert!(is_shared_read(&Method::GET, frs));
        assert!(!is_shared_read(
            &Method::GET,
            "https://c/compute/v1/projects/p/regions/r/backendServices/b"
        ));
        assert!(!is_shared_read(
            &Method::GET,
            "https://c/compute/v1/projects/p/zones/z/instances/i"
        ));
        assert_eq!(project_of("https://c/token"), None);
        assert!(is_rate_limited(429, "") && is_rate_limited(403, "rateLimitExceeded"));
        assert!(!is_rate_limited(403, "forbidden"));
    }

    #[tokio::test]
    async fn a_project_is_limited_and_backs_off_as_one() {
        let q = Quota::new(20.0, 2.0);
        let t0 = Instant::now();
        for _ in 0..4 {
            q.admit(Api::Compute, "https://c/projects/a/x").await;
        }
        // Two from the burst, then one every 50 ms.
        assert!(t0.elapsed() >= Duration::from_millis(90), "{:?}", t0.elapsed());
        // Another API of the same project has a bucket of its own.
        let t = Instant::now();
        q.admit(Api::Container, "https://c/v1/projects/a/x").await;
        q.admit(Api::Container, "https://c/v1/projects/a/x").await;
        assert!(t.elapsed() < Duration::from_millis(40), "{:?}", t.elapsed());
        q.back_off(Api::Compute, "https://c/projects/b/y", Duration::from_millis(1500))
            .await;
        let t1 = Instant::now();
        // Another project has its own bucket and its own back-off, and so has another API.
        q.admit(Api::Compute, "https://c/projects/c/x").await;
        q.admit(Api::Container, "https://c/v1/projects/b/x").await;
        assert!(t1.elapsed() < Duration::from_millis(1000), "{:?}", t1.elapsed());
        q.admit(Api::Compute, "https://c/projects/b/z").await;
        assert!(t1.elapsed() >= Duration::from_millis(1500), "{:?}", t1.elapsed());
    }

    #[tokio::test]
    async fn a_shared_read_is_read_once() {
        let q = Quota::default();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let read = || async {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            anyhow::Ok(Arc::new(serde_json::json!({"items": []})))
        };
        let (a, b) = tokio::join!(q.once("k".into(), read), q.once("k".into(), read));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(Arc::ptr_eq(&a, &b), "both askers get the one answer, not a copy");
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        let failed = q.once("e".into(), || async { anyhow::bail!("boom") }).await;
        assert!(failed.is_err());
        assert!(q.once("e".into(), read).await.is_ok(), "a failed read is tried again");
    }
}

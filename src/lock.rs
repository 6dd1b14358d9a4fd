//! One writer at a time: every command that changes something holds a `coordination.k8s.io/v1`
//! Lease in K10's namespace while it works, renewed in the background. A second writer waits,
//! naming the holder (or stops at once with `--no-wait`); a Lease left by a killed run expires
//! after its duration and is taken over. Every write to the Lease is optimistic (resourceVersion),
//! so two runs can never both believe they hold it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{DeleteParams, PostParams, Preconditions};
use kube::Api;
use serde::{Deserialize, Serialize};

use crate::error;
use crate::kube::{explain, Kube};
use crate::state::{MANAGED_BY_LABEL, MANAGER};

/// The Lease's name in K10's namespace.
pub const LEASE_NAME: &str = "kasten-ilb-lock";
/// Who holds it, as JSON: user, host, pid, command, start time.
pub const HOLDER_ANNOTATION: &str = "kasten-ilb.kasten.io/holder";
/// How long a Lease stays valid without renewal (a killed run's Lease is free after this).
pub const LEASE_SECONDS: i32 = 30;

/// Who is working, and on what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub user: String,
    pub host: String,
    pub pid: u32,
    pub command: String,
    pub started: String,
}

impl Holder {
    pub fn me(command: &str) -> Holder {
        Holder {
            user: crate::env::var(crate::env::USER)
                .or_else(|| crate::env::var(crate::env::USERNAME))
                .unwrap_or_else(|| "unknown".into()),
            host: crate::env::var(crate::env::HOSTNAME)
                .or_else(|| {
                    std::fs::read_to_string("/etc/hostname")
                        .ok()
                        .map(|h| h.trim().to_string())
                })
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "unknown-host".into()),
            pid: std::process::id(),
            command: command.to_string(),
            started: Timestamp::now().to_string(),
        }
    }

    /// `holderIdentity`: unique per run.
    pub fn identity(&self) -> String {
        format!("{}@{}/{}", self.user, self.host, self.pid)
    }

    pub fn describe(&self) -> String {
        format!(
            "`kubectl kasten-ilb {}` by {} on {} (pid {}, started {})",
            self.command, self.user, self.host, self.pid, self.started
        )
    }
}

/// What an existing Lease means for a run that wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseState {
    /// Nobody holds it (released, or never renewed).
    Free,
    /// Held and renewed recently: wait `remaining` at most for it to expire.
    Held { by: String, remaining: Duration },
    /// Held, but not renewed within its duration: its holder was killed.
    Expired { by: String },
}

/// Decide from the Lease as read and the current time (pure).
pub fn judge(lease: &Lease, now: Timestamp) -> LeaseState {
    let spec = lease.spec.clone().unwrap_or_default();
    let Some(identity) = spec.holder_identity.filter(|h| !h.is_empty()) else {
        return LeaseState::Free;
    };
    let by = lease
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(HOLDER_ANNOTATION))
        .and_then(|j| serde_json::from_str::<Holder>(j).ok())
        .map(|h| h.describe())
        .unwrap_or(identity);
    let secs = i64::from(spec.lease_duration_seconds.unwrap_or(LEASE_SECONDS).max(1));
    let Some(last) = spec.renew_time.or(spec.acquire_time).map(|t| t.0) else {
        return LeaseState::Expired { by };
    };
    let age_ms = now.as_millisecond() - last.as_millisecond();
    let left_ms = secs * 1000 - age_ms;
    if left_ms <= 0 {
        LeaseState::Expired { by }
    } else {
        LeaseState::Held {
            by,
            remaining: Duration::from_millis(left_ms as u64),
        }
    }
}

fn body(h: &Holder, rv: Option<String>, transitions: i32) -> Lease {
    let now = MicroTime(Timestamp::now());
    Lease {
        metadata: ObjectMeta {
            name: Some(LEASE_NAME.into()),
            resource_version: rv,
            labels: Some([(MANAGED_BY_LABEL.to_string(), MANAGER.to_string())].into()),
            annotations: Some(
                [(
                    HOLDER_ANNOTATION.to_string(),
                    serde_json::to_string(h).unwrap_or_default(),
                )]
                .into(),
            ),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(h.identity()),
            lease_duration_seconds: Some(LEASE_SECONDS),
            acquire_time: Some(now.clone()),
            renew_time: Some(now),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }),
    }
}

/// How to wait for a Lease that someone else holds.
#[derive(Debug, Clone, Copy)]
pub struct Wait {
    /// Stop at once instead of waiting.
    pub no_wait: bool,
    /// Give up waiting at this instant.
    pub deadline: Instant,
}

/// A held Lease; renewed in the background until [`Lock::release`] (or expiry if the process dies).
pub struct Lock {
    api: Api<Lease>,
    stop: tokio::sync::watch::Sender<bool>,
    renewer: tokio::task::JoinHandle<Option<String>>,
    /// Whether another run held it first (what it changed was not seen by this run's look).
    pub waited: bool,
}

/// The Lease this process holds, for [`release_held`] on Ctrl-C: the API and the resourceVersion
/// of the last write (kept current by the renewer).
type Held = (Api<Lease>, Arc<Mutex<Option<String>>>);
static HELD: Mutex<Option<Held>> = Mutex::new(None);

/// Release the Lease this process holds, if any (Ctrl-C: the command's future was dropped).
pub async fn release_held() {
    let held = HELD.lock().ok().and_then(|mut h| h.take());
    let Some((api, rv)) = held else {
        return;
    };
    let rv = rv.lock().ok().and_then(|r| r.clone());
    if let Some(rv) = rv {
        delete_if_ours(&api, rv).await;
    }
}

/// Delete the Lease only if it is still the version this run wrote (a precondition): a Lease
/// taken over by another run is left alone.
async fn delete_if_ours(api: &Api<Lease>, rv: String) {
    let dp = DeleteParams {
        preconditions: Some(Preconditions {
            resource_version: Some(rv),
            uid: None,
        }),
        ..DeleteParams::default()
    };
    let _ = api.delete(LEASE_NAME, &dp).await;
}

fn conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

/// Take the Lease for `command`, waiting for another holder as `wait` says.
pub async fn acquire(kube: &Kube, command: &str, wait: Wait) -> anyhow::Result<Lock> {
    let api: Api<Lease> = kube.api();
    let me = Holder::me(command);
    let mut announced = false;
    let mut waited = false;
    loop {
        let current = kube
            .retry("read the lock", || api.get_opt(LEASE_NAME))
            .await
            .map_err(|e| explain(e, "reading the lock (Lease)", &kube.server))?;
        let attempt = match &current {
            None => api.create(&PostParams::default(), &body(&me, None, 0)).await,
            Some(l) => match judge(l, Timestamp::now()) {
                LeaseState::Held { by, remaining } => {
                    waited = true;
                    held_by_other(kube, &by, remaining, wait, &mut announced)?;
                    tokio::time::sleep(Duration::from_secs(1).min(remaining)).await;
                    continue;
                }
                state => {
                    if let LeaseState::Expired { by } = &state {
                        waited = true;
                        kube.printer
                            .warn(&format!("taking over the lock of {by}: it expired without renewal"));
                    }
                    let transitions = l.spec.as_ref().and_then(|s| s.lease_transitions).unwrap_or(0) + 1;
                    let b = body(&me, l.metadata.resource_version.clone(), transitions);
                    api.replace(LEASE_NAME, &PostParams::default(), &b).await
                }
            },
        };
        match attempt {
            Ok(l) => {
                if announced {
                    kube.printer.status("Locked", "the other run is done; this one goes on");
                }
                return Ok(start_renewing(kube, api, me, l.metadata.resource_version, waited));
            }
            Err(e) if conflict(&e) => {
                waited = true; // another run moved first: read again
                continue;
            }
            Err(kube::Error::Api(s)) if s.code == 404 => {
                return Err(error::environment(
                    format!(
                        "namespace `{}` does not exist: cannot take the lock there",
                        kube.namespace
                    ),
                    "pass K10's namespace with -n (`kubectl get pods -A -l app=k10` finds it)",
                ))
            }
            Err(e) => return Err(explain(e, "taking the lock (Lease)", &kube.server)),
        }
    }
}

fn held_by_other(kube: &Kube, by: &str, remaining: Duration, wait: Wait, announced: &mut bool) -> anyhow::Result<()> {
    let release_hint = format!(
        "wait for it to finish, or, if it was killed, for its lock to expire (at most {LEASE_SECONDS}s after \
         its last renewal); `kubectl -n {} get lease {LEASE_NAME} -o yaml` shows the holder",
        kube.namespace
    );
    if wait.no_wait {
        return Err(error::environment(
            format!("another run holds the lock: {by}"),
            release_hint,
        ));
    }
    if Instant::now() >= wait.deadline {
        return Err(error::failed(
            format!("gave up waiting for the lock held by {by}"),
            release_hint,
        ));
    }
    if !*announced {
        kube.printer.status(
            "Waiting",
            &format!(
                "for {by} to finish (its lock expires in {}s unless renewed; --no-wait to stop instead)",
                remaining.as_secs()
            ),
        );
        *announced = true;
    }
    Ok(())
}

fn start_renewing(kube: &Kube, api: Api<Lease>, me: Holder, rv: Option<String>, waited: bool) -> Lock {
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let printer = kube.printer.clone();
    let renew_api = api.clone();
    let shared = Arc::new(Mutex::new(rv.clone()));
    if let Ok(mut h) = HELD.lock() {
        *h = Some((api.clone(), shared.clone()));
    }
    let renewer = tokio::spawn(async move {
        let mut rv = rv;
        let every = Duration::from_secs((LEASE_SECONDS / 3) as u64);
        loop {
            tokio::select! {
                _ = stopped.changed() => return rv,
                _ = tokio::time::sleep(every) => {}
            }
            let mut b = body(&me, rv.clone(), 0);
            if let Ok(Some(cur)) = renew_api.get_opt(LEASE_NAME).await {
                let spec = cur.spec.unwrap_or_default();
                if spec.holder_identity.as_deref() != Some(me.identity().as_str()) {
                    printer.warn("the lock was taken over by another run; finishing this step");
                    if let Ok(mut r) = shared.lock() {
                        *r = None;
                    }
                    return None;
                }
                // Keep acquireTime and the transition count; move renewTime.
                if let Some(s) = b.spec.as_mut() {
                    s.acquire_time = spec.acquire_time;
                    s.lease_transitions = spec.lease_transitions;
                }
                b.metadata.resource_version = cur.metadata.resource_version;
            }
            match renew_api.replace(LEASE_NAME, &PostParams::default(), &b).await {
                Ok(l) => {
                    rv = l.metadata.resource_version;
                    if let Ok(mut r) = shared.lock() {
                        r.clone_from(&rv);
                    }
                }
                Err(e) => printer.verbose(1, &format!("retry: renewing the lock failed ({e}); trying again")),
            }
        }
    });
    Lock {
        api,
        stop,
        renewer,
        waited,
    }
}

impl Lock {
    /// Stop renewing and delete the Lease (only if it is still ours: a resourceVersion precondition).
    pub async fn release(self) {
        let _ = self.stop.send(true);
        if let Ok(mut h) = HELD.lock() {
            *h = None;
        }
        if let Ok(Some(rv)) = self.renewer.await {
            delete_if_ours(&self.api, rv).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(holder: Option<&str>, renewed_secs_ago: Option<i64>, duration: i32) -> Lease {
        let now = Timestamp::now();
        let mut l = body(&Holder::me("install"), None, 0);
        let spec = l.spec.as_mut().unwrap();
        spec.holder_identity = holder.map(str::to_string);
        spec.lease_duration_seconds = Some(duration);
        let t = renewed_secs_ago.map(|s| MicroTime(Timestamp::from_second(now.as_second() - s).unwrap()));
        spec.renew_time = t.clone();
        spec.acquire_time = t;
        l
    }

    #[test]
    fn a_lease_is_free_held_or_expired() {
        let now = Timestamp::now();
        assert_eq!(judge(&lease(None, Some(1), 30), now), LeaseState::Free);
        assert_eq!(judge(&lease(Some(""), Some(1), 30), now), LeaseState::Free);
        match judge(&lease(Some("u@h/1"), Some(5), 30), now) {
            LeaseState::Held { by, remaining } => {
                assert!(by.contains("kubectl kasten-ilb install"), "{by}");
                assert!(remaining <= Duration::from_secs(25) && remaining > Duration::from_secs(20));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            judge(&lease(Some("u@h/1"), Some(31), 30), now),
            LeaseState::Expired { .. }
        ));
        assert!(matches!(
            judge(&lease(Some("u@h/1"), None, 30), now),
            LeaseState::Expired { .. }
        ));
    }

    #[test]
    fn the_holder_is_described_from_its_annotation() {
        let h = Holder {
            user: "ana".into(),
            host: "ws1".into(),
            pid: 42,
            command: "uninstall".into(),
            started: "2026-01-01T00:00:00Z".into(),
        };
        let l = body(&h, None, 0);
        assert_eq!(l.spec.as_ref().unwrap().holder_identity.as_deref(), Some("ana@ws1/42"));
        match judge(&l, Timestamp::now()) {
            LeaseState::Held { by, .. } => assert_eq!(
                by,
                "`kubectl kasten-ilb uninstall` by ana on ws1 (pid 42, started 2026-01-01T00:00:00Z)"
            ),
            other => panic!("{other:?}"),
        }
    }
}

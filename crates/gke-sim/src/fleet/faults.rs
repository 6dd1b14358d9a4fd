//! `--error-rate` in a fleet. A Kubernetes request draws from its cluster's sequence (an API server
//! fails on its own); a Google request draws from its project's, however many worlds answer it: a
//! quota (Compute's "Queries per minute" is per project) or an outage is the project's, and a merged
//! list is one request, not one per world.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::{segments, Fleet, FleetRequest};

pub(super) struct Faults {
    rate: f64,
    seed: u64,
    /// The random state of each cluster (`cluster:<name>`) and project (`project:<id>`).
    draws: Mutex<BTreeMap<String, u64>>,
    /// How many requests each one failed.
    failed: Mutex<BTreeMap<String, usize>>,
}

impl Faults {
    pub(super) fn new(rate: f64, seed: u64) -> Faults {
        Faults {
            rate,
            seed,
            draws: Mutex::new(BTreeMap::new()),
            failed: Mutex::new(BTreeMap::new()),
        }
    }

    pub(super) fn failed(&self) -> BTreeMap<String, usize> {
        self.failed.lock().unwrap().clone()
    }

    /// The status to answer instead (429 or 503, half each), when the draw of `key` fails.
    fn draw(&self, key: &str) -> Option<u16> {
        if self.rate <= 0.0 {
            return None;
        }
        let mut draws = self.draws.lock().unwrap();
        let state = draws.entry(key.to_string()).or_insert_with(|| seed_for(self.seed, key));
        if crate::world::xorshift(state) >= self.rate {
            return None;
        }
        *self.failed.lock().unwrap().entry(key.to_string()).or_default() += 1;
        Some(if crate::world::xorshift(state) < 0.5 { 429 } else { 503 })
    }
}

/// A fixed, non-zero start for each key (FNV-1a of the key, mixed with `--seed`).
fn seed_for(seed: u64, key: &str) -> u64 {
    let h = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    (h ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1
}

/// Whose draw a request takes: its cluster's or its project's (None: never failed, like a single
/// world's token and discovery paths).
fn key(path: &str) -> Option<String> {
    let segs = segments(path);
    match segs.as_slice() {
        ["clusters", name, rest @ ..] => {
            crate::injectable(&format!("/{}", rest.join("/"))).then(|| format!("cluster:{name}"))
        }
        _ if crate::is_google(path) => {
            let i = segs.iter().position(|s| *s == "projects")?;
            let project = segs.get(i + 1)?.split(':').next()?;
            Some(format!("project:{project}"))
        }
        _ => None,
    }
}

/// The layer in front of the fleet's gate: a failed draw answers as a single world's gate does
/// (Google's error document, or a Kubernetes Status), after the fleet's latency, and is logged.
pub(super) async fn faults(State(f): State<Arc<Fleet>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let Some((key, code)) = key(&path).and_then(|k| Some((k.clone(), f.faults.draw(&k)?))) else {
        return next.run(req).await;
    };
    let start = f.started.elapsed();
    if !f.latency.is_zero() {
        tokio::time::sleep(f.latency).await;
    }
    f.log.lock().unwrap().push(FleetRequest {
        target: key,
        method: req.method().to_string(),
        path: path.clone(),
        start,
        end: Some(f.started.elapsed()),
    });
    crate::injected(code, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_draws_from_its_cluster_or_its_project() {
        assert_eq!(
            key("/clusters/fleet-001/api/v1/nodes").as_deref(),
            Some("cluster:fleet-001")
        );
        assert_eq!(key("/clusters/fleet-001/version"), None, "discovery is never failed");
        assert_eq!(
            key("/compute/v1/projects/kasten-fleet-dev/aggregated/subnetworks").as_deref(),
            Some("project:kasten-fleet-dev")
        );
        assert_eq!(
            key("/v1/projects/p/locations/l/clusters/c").as_deref(),
            Some("project:p")
        );
        assert_eq!(
            key("/crm/v1/projects/p:testIamPermissions").as_deref(),
            Some("project:p")
        );
        assert_eq!(key("/token"), None);
    }

    #[test]
    fn each_key_fails_at_the_rate_in_its_own_sequence() {
        let f = Faults::new(0.25, 7);
        let fails = |k: &str| (0..4000).filter(|_| f.draw(k).is_some()).count();
        let (a, b) = (fails("project:a"), fails("project:b"));
        assert!((800..1200).contains(&a) && (800..1200).contains(&b), "{a} {b}");
        // The same seed and key: the same sequence.
        let g = Faults::new(0.25, 7);
        let first: Vec<_> = (0..50).map(|_| g.draw("project:c")).collect();
        let h = Faults::new(0.25, 7);
        assert_eq!(first, (0..50).map(|_| h.draw("project:c")).collect::<Vec<_>>());
        assert_eq!(Faults::new(0.0, 7).draw("project:a"), None);
    }
}

//! Holding one write open (`SimConfig::hold_write`): the Nth request that changes something is
//! applied, then its response is held back until the client goes away. The simulator says so
//! (on stderr, and in `World::holding`), so a test can kill the client at that moment: the change
//! happened, the client never learned it, and a rerun must find it and not make it twice.
//!
//! Writes of the plugin's lock (`coordination.k8s.io` Leases) are not counted: they come and go
//! with timing, and the moments worth killing at are the changes to the project and cluster.

/// Whether a request changes something (not a read, not a read-like POST).
pub fn is_write(method: &str, path: &str) -> bool {
    match method {
        "GET" | "HEAD" | "OPTIONS" => false,
        "POST" => {
            !(path.ends_with("/getHealth")
                || path.ends_with("/listNetworkEndpoints")
                || path.ends_with(":testIamPermissions")
                || path.ends_with("/wait")
                || path.contains("selfsubjectaccessreviews")
                || path.ends_with("/exec")
                || path == "/token")
        }
        _ => true,
    }
}

/// Whether a request counts towards `hold_write`.
pub fn counts(method: &str, path: &str) -> bool {
    is_write(method, path) && !path.contains("/apis/coordination.k8s.io/")
}

/// Count this request; `true` when it is the one to hold.
pub fn arrive(w: &mut crate::World, method: &str, path: &str) -> bool {
    let Some(n) = w.cfg.hold_write else {
        return false;
    };
    if !counts(method, path) {
        return false;
    }
    w.writes_seen += 1;
    w.writes_seen == n
}

/// Announce the held request, then never answer (the client's disconnect drops this future).
pub async fn hold(state: &crate::Shared, method: &str, path: &str) -> ! {
    let n = {
        let mut w = state.lock().unwrap();
        w.holding = Some(format!("{method} {path}"));
        w.writes_seen
    };
    eprintln!("gke-sim: holding write #{n} open after applying it: {method} {path}");
    std::future::pending::<()>().await;
    unreachable!("pending never completes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_counts_as_a_write() {
        assert!(counts("POST", "/compute/v1/projects/p/regions/r/subnetworks"));
        assert!(counts(
            "PATCH",
            "/apis/apps/v1/namespaces/kasten-io/deployments/gateway"
        ));
        assert!(!counts("GET", "/api/v1/namespaces/kasten-io/services"));
        assert!(!counts("POST", "/compute/v1/projects/p/regions/r/operations/op-1/wait"));
        assert!(!counts("POST", "/api/v1/namespaces/kasten-io/pods/catalog/exec"));
        assert!(is_write(
            "PUT",
            "/apis/coordination.k8s.io/v1/namespaces/kasten-io/leases/kasten-ilb-lock"
        ));
        assert!(!counts(
            "PUT",
            "/apis/coordination.k8s.io/v1/namespaces/kasten-io/leases/kasten-ilb-lock"
        ));
    }
}

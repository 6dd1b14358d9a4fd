//! Table tests of the plan's steps on plain data (no simulator, no clients).

use super::*;

#[test]
fn versions() {
    assert!(version_ok("1.33.5-gke.1308000"));
    assert!(version_ok("1.16.5-gke.11"));
    assert!(!version_ok("1.16.5-gke.10"));
    assert!(!version_ok("1.15.12-gke.20"));
    assert!(version_ok("1.17.0-gke.1"));
}

#[test]
fn names_fit_google_limits() {
    assert_eq!(proxy_subnet_name("default"), "proxy-only-default");
    let long = firewall_name(&"c".repeat(60), 8000);
    assert!(long.len() <= 63, "{long}");
    assert_eq!(
        firewall_name("kasten-demo", 8000),
        "kasten-ilb-kasten-demo-proxy-to-8000"
    );
}

#[test]
fn paths() {
    assert_eq!(normalize_path("k10").unwrap(), "/k10/");
    assert_eq!(normalize_path("/k10/").unwrap(), "/k10/");
    assert_eq!(normalize_path("/").unwrap(), "/");
    assert!(normalize_path("/k10/*").is_err());
}

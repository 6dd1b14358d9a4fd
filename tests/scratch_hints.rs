mod common;
use common::*;
#[test]
fn hints() {
    for s in [
        "no-proxy-subnet",
        "backup-proxy-subnet",
        "hc-on-root",
        "external-ingress",
        "ingress-class-name",
        "exact-path",
        "no-http-lb",
        "gateway-not-ready",
        "no-auth",
    ] {
        let w = TestWorld::start(s);
        let o = w.run(&["doctor", "-o", "json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        for c in v["checks"].as_array().unwrap() {
            if c["result"] == "FAIL" || c["result"] == "WARN" {
                eprintln!(
                    "{s} | {} {} | {} | HINT {}",
                    c["id"], c["result"], c["finding"], c["hint"]
                );
            }
        }
    }
}

//! End to end: curl the dashboard through the load balancer from inside the cluster.

use serde_json::json;

use crate::doctor::{Check, CheckId, CurlFailure, Facts};
use crate::verify::{self, CurlError};

pub fn check(f: &Facts) -> Check {
    let id = CheckId::E2e;
    match &f.curl {
        None if f.ip().is_none() => Check::skip(id, "no address"),
        None => Check::skip(id, "skipped (--no-exec)"),
        Some(Err(e @ (CurlFailure::NoCurlPod { .. } | CurlFailure::Curl(CurlError::NoCurl { .. })))) => {
            Check::warn(id, e.to_string()).hint("pass --probe-pod POD (a pod with curl in the namespace)")
        }
        Some(Err(e)) => Check::fail(id, e.to_string()).hint("see the checks above"),
        Some(Ok((page, deep))) => {
            let ev = json!({"pod": page.pod, "pageStatus": page.code, "deepStatus": deep.code,
                "challenge": page.challenge});
            match verify::judge(page, deep, f.k10().and_then(|k| k.auth.as_deref())) {
                Ok(m) => Check::pass(id, m),
                Err(m) => Check::fail(id, m.to_string()).hint("see the checks above"),
            }
            .evidence(ev)
        }
    }
}

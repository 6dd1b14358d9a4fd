//! Every value a user gives is checked here, before anything is read or changed, by the rules that
//! Kubernetes and Google would apply later (after earlier steps had already been made). A broken
//! rule is a usage error (exit 64) that names the rule and a value that would pass.

use crate::cli::PlanArgs;
use crate::error;

/// A broken rule: which value, what the rule is, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub flag: &'static str,
    pub value: String,
    pub rule: String,
    pub fix: String,
}

impl Rejected {
    fn new(flag: &'static str, value: &str, rule: impl Into<String>, fix: impl Into<String>) -> Rejected {
        Rejected {
            flag,
            value: value.to_string(),
            rule: rule.into(),
            fix: fix.into(),
        }
    }

    pub fn into_error(self) -> anyhow::Error {
        error::usage(
            format!("{} {:?} is not valid: {}", self.flag, self.value, self.rule),
            self.fix,
        )
    }
}

fn is_alnum_lower(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// RFC 1123 label as Kubernetes checks it (`IsDNS1123Label`): at most 63 characters, lower-case
/// letters, digits and '-', starting and ending with a letter or digit.
pub fn dns1123_label(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 63 {
        return Err(format!(
            "a DNS-1123 label has 1 to 63 characters (this has {})",
            s.len()
        ));
    }
    if !s.chars().all(|c| is_alnum_lower(c) || c == '-') {
        return Err("a DNS-1123 label has only lower-case letters, digits and '-'".into());
    }
    if !s.starts_with(is_alnum_lower) || !s.ends_with(is_alnum_lower) {
        return Err("a DNS-1123 label starts and ends with a lower-case letter or digit".into());
    }
    Ok(())
}

/// RFC 1123 subdomain as Kubernetes checks object names (`IsDNS1123Subdomain`): at most 253
/// characters, dot-separated labels.
pub fn dns1123_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err(format!(
            "a DNS-1123 subdomain has 1 to 253 characters (this has {})",
            s.len()
        ));
    }
    if !s.chars().all(|c| is_alnum_lower(c) || c == '-' || c == '.') {
        return Err("a Kubernetes object name has only lower-case letters, digits, '-' and '.'".into());
    }
    if !s.starts_with(is_alnum_lower) || !s.ends_with(is_alnum_lower) {
        return Err("a Kubernetes object name starts and ends with a lower-case letter or digit".into());
    }
    if s.split('.')
        .any(|l| l.is_empty() || !l.starts_with(is_alnum_lower) || !l.ends_with(is_alnum_lower))
    {
        return Err("each '.'-separated part of the name starts and ends with a letter or digit".into());
    }
    Ok(())
}

/// A Google Compute resource name (RFC 1035): `[a-z]([-a-z0-9]{0,61}[a-z0-9])?`.
pub fn gce_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.ends_with(is_alnum_lower)
        && s.chars().all(|c| is_alnum_lower(c) || c == '-');
    if ok {
        Ok(())
    } else {
        Err(
            "a Google Cloud resource name is 1 to 63 characters of lower-case letters, digits and '-', \
             starting with a letter and not ending with '-'"
                .into(),
        )
    }
}

/// An Ingress rule's host, as the API server checks `spec.rules[].host`: a DNS-1123 subdomain,
/// optionally with a leading `*.` wildcard; no IP address, no port.
pub fn ingress_host(s: &str) -> Result<(), String> {
    if s.parse::<std::net::IpAddr>().is_ok() {
        return Err("an Ingress host must be a DNS name, not an IP address (leave --host out to match any)".into());
    }
    if s.contains(':') {
        return Err("an Ingress host has no port".into());
    }
    let name = s.strip_prefix("*.").unwrap_or(s);
    dns1123_subdomain(name).map_err(|_| {
        "an Ingress host is a lower-case DNS name (RFC 1123: letters, digits, '-' and '.', \
             each label starting and ending with a letter or digit), optionally starting with `*.`"
            .to_string()
    })
}

/// The dashboard's URL path: `/segment/...` made of URL-safe segments. `/` alone would send every
/// path to K10's gateway (which serves only its prefix), and `.`/`..` segments are normalised away
/// by clients and proxies, so neither can be the dashboard's path.
pub fn dashboard_path(s: &str) -> Result<(), String> {
    if !s.starts_with('/') {
        return Err("the path starts with '/'".into());
    }
    let segments: Vec<&str> = s.trim_matches('/').split('/').collect();
    if s.trim_matches('/').is_empty() {
        return Err("the path must name K10's prefix (for example /k10/); `/` alone is not K10's dashboard".into());
    }
    for seg in segments {
        if seg.is_empty() {
            return Err("the path has an empty segment ('//')".into());
        }
        if seg == "." || seg == ".." {
            return Err("the path has a '.' or '..' segment".into());
        }
        if !seg.chars().all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c)) {
            return Err(format!(
                "the path segment {seg:?} has characters other than letters, digits, '-', '.', '_' and '~'"
            ));
        }
    }
    Ok(())
}

/// Check every value of the plan's flags; the first broken rule, with its fix.
pub fn plan_args(a: &PlanArgs) -> Result<(), Rejected> {
    if let Some(n) = &a.ingress_name {
        dns1123_subdomain(n).map_err(|r| {
            Rejected::new(
                "--ingress-name",
                n,
                r,
                "use a lower-case name such as `k10-ilb` (letters, digits, '-')",
            )
        })?;
        // GKE names the BackendConfig `<ingress>-...` and the URL map after the Ingress; keep the
        // name a label so every derived name stays valid.
        dns1123_label(n).map_err(|r| Rejected::new("--ingress-name", n, r, "use at most 63 characters, no '.'"))?;
    }
    if let Some(p) = &a.path {
        dashboard_path(p).map_err(|r| {
            Rejected::new(
                "--path",
                p,
                r,
                "leave --path out to use K10's own prefix (`/<release>/`)",
            )
        })?;
    }
    if let Some(h) = &a.host {
        ingress_host(h).map_err(|r| Rejected::new("--host", h, r, "for example `--host k10.example.internal`"))?;
    }
    if let Some(s) = &a.tls_secret {
        dns1123_subdomain(s).map_err(|r| {
            Rejected::new(
                "--tls-secret",
                s,
                r,
                "name a `kubernetes.io/tls` Secret in K10's namespace (`kubectl get secrets --field-selector \
                 type=kubernetes.io/tls`)",
            )
        })?;
    }
    if a.https_only && a.tls_secret.is_none() && !a.self_signed {
        return Err(Rejected::new(
            "--https-only",
            "true",
            "HTTPS needs a certificate".to_string(),
            "add --self-signed (a certificate for --host) or --tls-secret SECRET",
        ));
    }
    if let Some(ip) = &a.static_ip {
        gce_name(ip).map_err(|r| {
            Rejected::new(
                "--static-ip",
                ip,
                r,
                "name a reserved regional internal address: `gcloud compute addresses list --filter=addressType=INTERNAL`",
            )
        })?;
    }
    Ok(())
}

/// The `-n/--namespace` value (a namespace name is a DNS-1123 label).
pub fn namespace(ns: &str) -> Result<(), Rejected> {
    dns1123_label(ns).map_err(|r| Rejected::new("--namespace", ns, r, "K10's namespace is usually `kasten-io`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_names() {
        for ok in ["k10-ilb", "a", "k10.ilb", "0abc", &"a".repeat(63)] {
            assert!(dns1123_label(ok).is_ok() || ok.contains('.'), "{ok}");
            assert!(dns1123_subdomain(ok).is_ok(), "{ok}");
        }
        for bad in [
            "UPPER",
            "bad_name",
            "-a",
            "a-",
            "",
            "a..b",
            ".a",
            "a b",
            &"a".repeat(254),
        ] {
            assert!(dns1123_subdomain(bad).is_err(), "{bad}");
        }
        assert!(dns1123_label(&"a".repeat(64)).is_err());
        assert!(dns1123_label("a.b").is_err());
    }

    #[test]
    fn google_names() {
        for ok in ["k10-ip", "a", "a1"] {
            assert!(gce_name(ok).is_ok(), "{ok}");
        }
        for bad in ["1a", "a-", "A", "a_b", "", &"a".repeat(64)] {
            assert!(gce_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hosts() {
        for ok in ["k10.example.internal", "*.example.com", "k10"] {
            assert!(ingress_host(ok).is_ok(), "{ok}");
        }
        for bad in [
            "bad host!",
            "10.0.0.1",
            "k10.example.com:443",
            "*",
            "a..b",
            "-a.com",
            "K10.Example.com",
        ] {
            assert!(ingress_host(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths() {
        for ok in ["/k10/", "/k10", "/team-a/k10/", "/k10~x/"] {
            assert!(dashboard_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "/",
            "//",
            "/../",
            "/./k10/",
            "k10/",
            "/k10//x/",
            "/k 10/",
            "/k10?x",
            "/k10/%2e%2e/",
        ] {
            assert!(dashboard_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn plan_args_name_the_flag_and_the_fix() {
        let a = PlanArgs {
            ingress_name: Some("UPPER".into()),
            ..PlanArgs::default()
        };
        let r = plan_args(&a).unwrap_err();
        assert_eq!(r.flag, "--ingress-name");
        assert!(r.rule.contains("lower-case"), "{r:?}");
        let a = PlanArgs {
            ingress_name: Some("a".repeat(64)),
            ..PlanArgs::default()
        };
        assert!(plan_args(&a).unwrap_err().rule.contains("63"));
        let a = PlanArgs {
            path: Some("/../".into()),
            ..PlanArgs::default()
        };
        assert_eq!(plan_args(&a).unwrap_err().flag, "--path");
        let a = PlanArgs {
            host: Some("bad host!".into()),
            ..PlanArgs::default()
        };
        assert_eq!(plan_args(&a).unwrap_err().flag, "--host");
        let a = PlanArgs {
            static_ip: Some("Bad_IP".into()),
            ..PlanArgs::default()
        };
        assert_eq!(plan_args(&a).unwrap_err().flag, "--static-ip");
        let good = PlanArgs {
            ingress_name: Some("k10-ilb".into()),
            path: Some("/k10/".into()),
            host: Some("k10.example.internal".into()),
            tls_secret: Some("k10-tls".into()),
            static_ip: Some("k10-ip".into()),
            ..PlanArgs::default()
        };
        assert_eq!(plan_args(&good), Ok(()));
        assert!(namespace("kasten-io").is_ok());
        assert!(namespace("Kasten").is_err());
    }

    #[test]
    fn rejections_are_usage_errors_with_a_hint() {
        let e = Rejected::new("--host", "x!", "rule", "fix").into_error();
        let c = error::find(&e).unwrap();
        assert_eq!(c.exit_code(), error::exit::USAGE);
        assert_eq!(c.hint.as_deref(), Some("fix"));
        assert!(c.message.contains("--host \"x!\" is not valid: rule"));
    }
}

//! The API server's name, host and path rules (k8s.io/apimachinery `IsDNS1123Subdomain`,
//! `IsDNS1123Label`, `IsDNS1035Label`, `IsWildcardDNS1123Subdomain`, and
//! pkg/apis/networking/validation's Ingress path checks), with the API server's messages, so a
//! client cannot pass here on what a cluster refuses.

use serde_json::Value;

const DNS1123_SUBDOMAIN: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \
     '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for \
     validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1123_LABEL: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', \
     and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for \
     validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_LABEL: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with \
     an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used \
     for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const WILDCARD: &str = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, \
     which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character \
     (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*\
     [a-z0-9])?)*')";
/// pkg/apis/networking/validation: `invalidPathSequences` and `invalidPathSuffixes`.
const INVALID_PATH_SEQUENCES: [&str; 5] = ["//", "/./", "/../", "%2f", "%2F"];
const INVALID_PATH_SUFFIXES: [&str; 2] = ["/..", "/."];

fn alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn label_ok(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| alnum(c) || c == '-') && s.starts_with(alnum) && s.ends_with(alnum)
}

/// `IsDNS1123Subdomain`: the error messages, empty when valid.
pub fn dns1123_subdomain(s: &str) -> Vec<String> {
    let mut errs = vec![];
    if s.len() > 253 {
        errs.push("must be no more than 253 characters".to_string());
    }
    if !s.split('.').all(label_ok) {
        errs.push(DNS1123_SUBDOMAIN.to_string());
    }
    errs
}

/// `IsDNS1123Label`.
pub fn dns1123_label(s: &str) -> Vec<String> {
    let mut errs = vec![];
    if s.len() > 63 {
        errs.push("must be no more than 63 characters".to_string());
    }
    if !label_ok(s) {
        errs.push(DNS1123_LABEL.to_string());
    }
    errs
}

/// `IsDNS1035Label` (Service names).
pub fn dns1035_label(s: &str) -> Vec<String> {
    let mut errs = vec![];
    if s.len() > 63 {
        errs.push("must be no more than 63 characters".to_string());
    }
    if !label_ok(s) || !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        errs.push(DNS1035_LABEL.to_string());
    }
    errs
}

fn invalid(field: &str, value: &str, errs: &[String]) -> Result<(), String> {
    match errs.first() {
        None => Ok(()),
        Some(_) => Err(format!(
            "{field}: Invalid value: {}: {}",
            Value::String(value.to_string()),
            errs.join(", ")
        )),
    }
}

/// `metadata.name` of a new object, by the rule of its kind (`ValidateObjectMeta` with the kind's
/// name function). Generated names (`generateName`) are checked the same way once made.
pub fn object_name(kind: &str, name: &str) -> Result<(), String> {
    let errs = match kind {
        "Namespace" => dns1123_label(name),
        "Service" => dns1035_label(name),
        "SelfSubjectAccessReview" => vec![],
        _ => dns1123_subdomain(name),
    };
    invalid("metadata.name", name, &errs)
}

/// `spec.rules[i].host` of an Ingress: a DNS-1123 subdomain, or `*.` and one; never an IP address.
pub fn ingress_host(i: usize, host: &str) -> Result<(), String> {
    let field = format!("spec.rules[{i}].host");
    if host.parse::<std::net::IpAddr>().is_ok() {
        return invalid(&field, host, &["must be a DNS name, not an IP address".to_string()]);
    }
    if let Some(rest) = host.strip_prefix("*.") {
        let errs = if dns1123_subdomain(rest).is_empty() {
            vec![]
        } else {
            vec![WILDCARD.to_string()]
        };
        return invalid(&field, host, &errs);
    }
    invalid(&field, host, &dns1123_subdomain(host))
}

/// A Prefix or Exact path: no `//`, `/./`, `/../`, `%2f`, and no `/.` or `/..` at the end.
pub fn ingress_path(i: usize, j: usize, path: &str) -> Result<(), String> {
    let field = format!("spec.rules[{i}].http.paths[{j}].path");
    for seq in INVALID_PATH_SEQUENCES {
        if path.contains(seq) {
            return invalid(&field, path, &[format!("must not contain '{seq}'")]);
        }
    }
    for suf in INVALID_PATH_SUFFIXES {
        if path.ends_with(suf) {
            return invalid(&field, path, &[format!("cannot end with '{suf}'")]);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_the_api_server_checks_them() {
        assert!(object_name("Ingress", "k10-ilb").is_ok());
        assert!(object_name("Ingress", "k10.ilb").is_ok());
        let e = object_name("Ingress", "UPPER").unwrap_err();
        assert!(
            e.starts_with("metadata.name: Invalid value: \"UPPER\": a lowercase RFC 1123 subdomain"),
            "{e}"
        );
        assert!(object_name("Ingress", "bad_name").is_err());
        assert!(object_name("Ingress", &"a".repeat(254))
            .unwrap_err()
            .contains("must be no more than 253 characters"));
        assert!(
            object_name("Ingress", &"a".repeat(253)).is_ok(),
            "a subdomain's parts have no length limit"
        );
        assert!(object_name("Service", "1gateway").is_err());
        assert!(object_name("Namespace", "a.b").is_err());
        assert!(object_name("Lease", "kasten-ilb-lock").is_ok());
    }

    #[test]
    fn hosts_and_paths() {
        assert!(ingress_host(0, "k10.corp.internal").is_ok());
        assert!(ingress_host(0, "*.corp.internal").is_ok());
        assert!(ingress_host(0, "bad host!").unwrap_err().contains("RFC 1123 subdomain"));
        assert!(ingress_host(0, "10.0.0.1").unwrap_err().contains("not an IP address"));
        assert!(ingress_host(0, "*.Bad").unwrap_err().contains("wildcard"));
        assert!(ingress_path(0, 0, "/k10/").is_ok());
        assert!(ingress_path(0, 0, "/").is_ok());
        assert!(ingress_path(0, 0, "/../")
            .unwrap_err()
            .contains("must not contain '/../'"));
        assert!(ingress_path(0, 0, "/k10/..")
            .unwrap_err()
            .contains("cannot end with '/..'"));
        assert!(ingress_path(0, 0, "/a%2fb").is_err());
    }
}

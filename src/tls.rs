//! Certificates, pure: a self-signed certificate for a host (rcgen on ring), and what doctor and
//! install read from one (names, expiry, the SHA-256 fingerprint of its DER). The private key is
//! returned once, to be written into the Secret, and never formatted anywhere else.

use sha2::{Digest, Sha256};
use x509_parser::extensions::GeneralName;

/// How long a self-signed certificate made by install is valid.
pub const SELF_SIGNED_DAYS: i64 = 365;

/// A certificate as read from a `tls.crt`: what doctor checks and install prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// DNS names: the subjectAltName's, else the subject's common name.
    pub names: Vec<String>,
    /// Seconds since the epoch.
    pub not_after: i64,
    /// `AB:CD:...`, the SHA-256 of the DER.
    pub fingerprint: String,
    /// Issuer and subject are the same.
    pub self_signed: bool,
}

/// A new key and certificate; `Debug` shows the certificate only.
pub struct SelfSigned {
    pub cert_pem: String,
    key_pem: String,
    pub fingerprint: String,
}

impl SelfSigned {
    /// The PEM private key, for the Secret's `tls.key` only.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }
}

impl std::fmt::Debug for SelfSigned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelfSigned")
            .field("fingerprint", &self.fingerprint)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// A P-256 key and a certificate for `host`, valid from now for [`SELF_SIGNED_DAYS`].
pub fn self_signed(host: &str) -> anyhow::Result<SelfSigned> {
    let mut params = rcgen::CertificateParams::new(vec![host.to_string()])?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, host);
    params.distinguished_name = dn;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + time::Duration::days(SELF_SIGNED_DAYS);
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok(SelfSigned {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        fingerprint: fingerprint(cert.der()),
    })
}

/// `AB:CD:...`: the SHA-256 of DER bytes, as `openssl x509 -fingerprint -sha256` prints it.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Read the first certificate of a PEM `tls.crt`.
pub fn parse_pem(pem: &[u8]) -> Result<CertInfo, String> {
    let (_, p) = x509_parser::pem::parse_x509_pem(pem).map_err(|e| format!("not a PEM certificate: {e}"))?;
    parse_der(&p.contents)
}

/// Read a DER certificate.
pub fn parse_der(der: &[u8]) -> Result<CertInfo, String> {
    let (_, c) = x509_parser::parse_x509_certificate(der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let mut names: Vec<String> = match c.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|g| match g {
                GeneralName::DNSName(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        _ => vec![],
    };
    if names.is_empty() {
        names.extend(
            c.subject()
                .iter_common_name()
                .filter_map(|cn| cn.as_str().ok().map(str::to_string)),
        );
    }
    Ok(CertInfo {
        names,
        not_after: c.validity().not_after.timestamp(),
        fingerprint: fingerprint(der),
        self_signed: c.subject() == c.issuer(),
    })
}

/// Whether a certificate name covers `host` (one `*.` label at the left, as browsers match).
pub fn name_matches(name: &str, host: &str) -> bool {
    let (name, host) = (name.to_ascii_lowercase(), host.to_ascii_lowercase());
    match name.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(first, rest)| !first.is_empty() && rest == suffix),
        None => name == host,
    }
}

/// How a certificate stands `now` (seconds since the epoch) for `host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    Expired { days_ago: i64 },
    Expiring { days_left: i64 },
    WrongName,
    Good { days_left: i64 },
}

/// Days a certificate may have left before doctor warns.
pub const EXPIRY_WARN_DAYS: i64 = 14;

pub fn standing(c: &CertInfo, host: Option<&str>, now: i64) -> Standing {
    let left = c.not_after - now;
    let days = left.div_euclid(86_400);
    if left <= 0 {
        return Standing::Expired {
            days_ago: (-left).div_euclid(86_400),
        };
    }
    if days < EXPIRY_WARN_DAYS {
        return Standing::Expiring { days_left: days };
    }
    if host.is_some_and(|h| !c.names.iter().any(|n| name_matches(n, h))) {
        return Standing::WrongName;
    }
    Standing::Good { days_left: days }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_names_its_host_and_its_fingerprint_is_of_the_der() {
        let s = self_signed("k10.corp.internal").unwrap();
        let c = parse_pem(s.cert_pem.as_bytes()).unwrap();
        assert_eq!(c.names, ["k10.corp.internal"]);
        assert!(c.self_signed);
        assert_eq!(c.fingerprint, s.fingerprint);
        assert_eq!(s.fingerprint.len(), 32 * 3 - 1);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert_eq!((c.not_after - now + 60) / 86_400, SELF_SIGNED_DAYS);
        assert!(s.key_pem().contains("PRIVATE KEY"));
        assert!(!format!("{s:?}").contains("PRIVATE KEY"));
    }

    #[test]
    fn names_match_exactly_or_by_one_wildcard_label() {
        let cases = [
            ("k10.corp.internal", "k10.corp.internal", true),
            ("K10.Corp.Internal", "k10.corp.internal", true),
            ("*.corp.internal", "k10.corp.internal", true),
            ("*.corp.internal", "a.k10.corp.internal", false),
            ("*.corp.internal", "corp.internal", false),
            ("other.corp.internal", "k10.corp.internal", false),
        ];
        for (name, host, want) in cases {
            assert_eq!(name_matches(name, host), want, "{name} vs {host}");
        }
    }

    #[test]
    fn standing_orders_expired_then_expiring_then_the_name() {
        let day = 86_400;
        let c = |names: &[&str], not_after: i64| CertInfo {
            names: names.iter().map(|s| s.to_string()).collect(),
            not_after,
            fingerprint: String::new(),
            self_signed: true,
        };
        let h = Some("k10.corp.internal");
        let cases = [
            (c(&["k10.corp.internal"], -3 * day), Standing::Expired { days_ago: 3 }),
            (c(&["other"], 5 * day + 10), Standing::Expiring { days_left: 5 }),
            (c(&["other"], 90 * day), Standing::WrongName),
            (c(&["*.corp.internal"], 90 * day), Standing::Good { days_left: 90 }),
        ];
        for (cert, want) in cases {
            assert_eq!(standing(&cert, h, 0), want, "{cert:?}");
        }
        assert_eq!(
            standing(&c(&["other"], 90 * day), None, 0),
            Standing::Good { days_left: 90 }
        );
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(parse_pem(b"simulated-certificate").is_err());
        assert!(parse_der(b"\x30\x03\x02\x01\x00").is_err());
    }
}

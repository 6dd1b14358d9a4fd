//! Real X.509 certificates for the simulated project, made when a scenario starts (rcgen on ring):
//! TLS Secrets for Ingresses and regional SSL certificates, with the names and validity a scenario
//! chooses. Keys live only in the world's memory; nothing here is committed.

use serde_json::{json, Value};

/// A certificate and its key, PEM.
pub struct Made {
    pub cert_pem: String,
    pub key_pem: String,
}

/// A self-signed certificate for `names`, valid from `from_days` to `to_days` around now.
pub fn make(names: &[&str], from_days: i64, to_days: i64) -> Made {
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("DNS names");
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, names.first().copied().unwrap_or("gke-sim"));
    params.distinguished_name = dn;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now + time::Duration::days(from_days);
    params.not_after = now + time::Duration::days(to_days);
    let key = rcgen::KeyPair::generate().expect("a P-256 key");
    let cert = params.self_signed(&key).expect("a certificate");
    Made {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A `kubernetes.io/tls` Secret holding `m`.
pub fn tls_secret(ns: &str, name: &str, m: &Made) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"name": name, "namespace": ns},
        "data": {"tls.crt": b64(m.cert_pem.as_bytes()), "tls.key": b64(m.key_pem.as_bytes())}})
}

/// The PEM certificate of a TLS Secret (decoded), if it has one.
pub fn secret_cert_pem(secret: &Value) -> Option<String> {
    let data = secret["data"]["tls.crt"].as_str()?;
    String::from_utf8(base64_decode(data)).ok()
}

/// Standard base64 (padding optional), as Secrets carry their data.
pub fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let bytes: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=').collect();
    let mut out = vec![];
    for chunk in bytes.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, c)| n | u32::from(val(*c)) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_every_length() {
        for n in 0..10 {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(base64_decode(&b64(&bytes)), bytes);
        }
        assert_eq!(b64(b"sim"), "c2lt");
        assert_eq!(b64(b"si"), "c2k=");
    }

    #[test]
    fn a_secret_carries_a_pem_certificate_and_key() {
        let m = make(&["k10.corp.internal"], -1, 30);
        let s = tls_secret("kasten-io", "k10-tls", &m);
        assert_eq!(secret_cert_pem(&s).unwrap(), m.cert_pem);
        assert!(m.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    }
}

//! Regional SSL certificates (`regionSslCertificates`): get, list, insert, delete. A self-managed
//! certificate is inserted with its PEM `certificate` and `privateKey`; Compute reads `expireTime`
//! and `subjectAlternativeNames` from the certificate and never returns the key.

use axum::http::Method;
use axum::response::Response;
use serde_json::{json, Value};

use super::{checked_insert, Req};
use crate::google::{google_error, list_response, not_found, ok};
use crate::world::{now_rfc3339, World};

pub(super) fn handle(w: &mut World, req: &Req<'_>) -> Response {
    let project = req.project;
    match (req.method, req.segs) {
        (&Method::GET, ["regions", r, "sslCertificates"]) => {
            let items: Vec<Value> = w
                .compute
                .ssl_certificates
                .iter()
                .filter(|(k, _)| k.starts_with(&format!("{r}/")))
                .map(|(_, v)| public(v))
                .collect();
            let link = format!("{}/sslCertificates", w.region_url(r));
            list_response("compute#sslCertificateList", link, items, req.query)
        }
        (&Method::GET, ["regions", r, "sslCertificates", n]) => {
            match w.compute.ssl_certificates.get(&format!("{r}/{n}")) {
                Some(v) => ok(public(v)),
                None => not_found(&format!("projects/{project}/regions/{r}/sslCertificates/{n}")),
            }
        }
        (&Method::POST, ["regions", r, "sslCertificates"]) => match req.json() {
            Ok(b) => insert(w, r, b),
            Err(e) => e,
        },
        (&Method::DELETE, ["regions", r, "sslCertificates", n]) => {
            if w.compute.ssl_certificates.remove(&format!("{r}/{n}")).is_none() {
                return not_found(&format!("projects/{project}/regions/{r}/sslCertificates/{n}"));
            }
            let link = format!("{}/sslCertificates/{n}", w.region_url(r));
            ok(w.operation(&format!("regions/{r}"), "delete", &link, None))
        }
        _ => req.unknown(),
    }
}

/// What Compute returns: everything but the private key.
fn public(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("privateKey");
    }
    v
}

/// The certificate's expiry (RFC 3339) and DNS names, or why it is not a certificate.
fn read_cert(pem: &str) -> Result<(String, Vec<String>), String> {
    let (_, p) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
    let c = p.parse_x509().map_err(|e| e.to_string())?;
    let not_after = c.validity().not_after.timestamp();
    let names = match c.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|g| match g {
                x509_parser::extensions::GeneralName::DNSName(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        _ => vec![],
    };
    // rfc3339 counts from its fixed epoch.
    Ok((crate::world::rfc3339(not_after - 1_795_000_000), names))
}

fn insert(w: &mut World, region: &str, b: Value) -> Response {
    let name = match checked_insert(&b, "SslCertificate", "compute.regionSslCertificates.insert") {
        Ok(n) => n,
        Err(e) => return e,
    };
    let key = format!("{region}/{name}");
    if w.compute.ssl_certificates.contains_key(&key) {
        let msg = format!(
            "The resource 'projects/{}/regions/{region}/sslCertificates/{name}' already exists",
            w.project
        );
        return google_error(409, &msg, "alreadyExists");
    }
    let pem = b["certificate"]
        .as_str()
        .or(b["selfManaged"]["certificate"].as_str())
        .unwrap_or_default();
    let (expire, names) = match read_cert(pem) {
        Ok(x) => x,
        Err(_) => {
            let msg = "The SSL certificate could not be parsed.";
            return google_error(400, msg, "sslCertificateCouldNotParseCert");
        }
    };
    let link = format!("{}/sslCertificates/{name}", w.region_url(region));
    let mut c = b.clone();
    c["kind"] = json!("compute#sslCertificate");
    c["id"] = json!(w.new_id());
    c["type"] = json!("SELF_MANAGED");
    c["certificate"] = json!(pem);
    c["expireTime"] = json!(expire);
    c["subjectAlternativeNames"] = json!(names);
    c["region"] = json!(w.region_url(region));
    c["selfLink"] = json!(link);
    c["creationTimestamp"] = json!(now_rfc3339());
    w.compute.ssl_certificates.insert(key, c);
    ok(w.operation(&format!("regions/{region}"), "insert", &link, None))
}

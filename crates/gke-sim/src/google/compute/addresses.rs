//! Static internal addresses: get and list (as load-balancing reads), insert, delete.

use axum::http::Method;
use axum::response::Response;
use serde_json::{json, Value};

use super::Req;
use crate::google::{google_error, not_found, ok};
use crate::schema;
use crate::world::{now_rfc3339, World};

pub(super) fn handle(w: &mut World, req: &Req<'_>) -> Response {
    let project = req.project;
    match (req.method, req.segs) {
        (&Method::POST, ["regions", r, "addresses"]) => {
            let b = match req.json() {
                Ok(b) => b,
                Err(e) => return e,
            };
            insert_address(w, r, b)
        }
        (&Method::DELETE, ["regions", r, "addresses", a]) => {
            if w.compute.addresses.remove(&format!("{r}/{a}")).is_none() {
                return not_found(&format!("projects/{project}/regions/{r}/addresses/{a}"));
            }
            let link = format!("{}/addresses/{a}", w.region_url(r));
            ok(w.operation(&format!("regions/{r}"), "delete", &link, None))
        }
        _ => req.unknown(),
    }
}

fn insert_address(w: &mut World, region: &str, b: Value) -> Response {
    if let Err(e) = schema::validate("compute", "Address", &b, "compute.addresses.insert") {
        return google_error(400, &e, "invalid");
    }
    let name = b["name"].as_str().unwrap_or_default().to_string();
    if !schema::valid_name(&name) {
        return google_error(
            400,
            &format!("Invalid value for field 'resource.name': '{name}'."),
            "invalid",
        );
    }
    if w.compute.addresses.contains_key(&format!("{region}/{name}")) {
        return google_error(
            409,
            &format!(
                "The resource 'projects/{}/regions/{region}/addresses/{name}' already exists",
                w.project
            ),
            "alreadyExists",
        );
    }
    let internal = b["addressType"].as_str() == Some("INTERNAL");
    let ip = match b["address"].as_str() {
        Some(a) => a.to_string(),
        None if internal => w.alloc_internal_ip(),
        None => {
            let n = w.next_ip;
            w.next_ip += 1;
            format!("34.135.{}.{}", n / 250, n % 250 + 2)
        }
    };
    let id = w.new_id();
    let mut a = b.clone();
    a["kind"] = json!("compute#address");
    a["id"] = json!(id);
    a["address"] = json!(ip);
    a["status"] = json!("RESERVED");
    a["region"] = json!(w.region_url(region));
    a["selfLink"] = json!(format!("{}/addresses/{name}", w.region_url(region)));
    a["creationTimestamp"] = json!(now_rfc3339());
    if a["addressType"].is_null() {
        a["addressType"] = json!("EXTERNAL");
    }
    if internal {
        if a["subnetwork"].is_null() {
            let sn = w.cluster["subnetwork"].as_str().unwrap_or("default").to_string();
            a["subnetwork"] = json!(w.subnet_url(region, &sn));
        }
        if a["purpose"].is_null() {
            a["purpose"] = json!("GCE_ENDPOINT");
        }
    }
    let link = a["selfLink"].as_str().unwrap_or_default().to_string();
    w.compute.addresses.insert(format!("{region}/{name}"), a);
    ok(w.operation(&format!("regions/{region}"), "insert", &link, None))
}

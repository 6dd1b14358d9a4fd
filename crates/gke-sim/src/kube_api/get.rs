//! get: an object, or its status, scale or log subresource.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{get, method_not_allowed, not_found, ok_json, scale_of, to_table, Target};
use crate::Shared;

pub(super) fn read(state: &Shared, t: &Target, name: &str, sub: Option<&str>, table: bool) -> Response {
    let w = state.lock().unwrap();
    let Some(o) = get(&w, t, name) else {
        return match sub {
            None | Some("status" | "scale" | "log") => not_found(t.rd, name),
            Some(_) => method_not_allowed(&Method::GET),
        };
    };
    match sub {
        None if table => ok_json(200, &to_table(&w, t.rd, &[&o], false)),
        None | Some("status") => ok_json(200, &o),
        Some("scale") => ok_json(200, &scale_of(&o)),
        Some("log") => (
            StatusCode::OK,
            [("content-type", "text/plain")],
            "{\"level\":\"info\",\"msg\":\"serving\",\"port\":8000}\n",
        )
            .into_response(),
        Some(_) => method_not_allowed(&Method::GET),
    }
}

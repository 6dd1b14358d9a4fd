//! K10's gateway as the chart configures it (see FIDELITY.md, issue 15): the prefix it serves
//! (`PREFIX_PATH` from ConfigMap `k10-gateway`), TLS on its port when the chart's
//! `secrets.tlsSecret` is set (`TLS_CRT_FILE` in the same ConfigMap), basic auth's 401 with a Basic
//! challenge, and the page's title.

use serde_json::Value;

use crate::world::World;

/// The challenge K10's gateway sends with basic auth (htpasswd). The realm string is the
/// simulator's: it names K10's gateway so a test can tell it from other 401s.
pub const BASIC_CHALLENGE: &str = "Basic realm=\"Kasten K10 gateway\"";
/// The body of that 401.
pub const UNAUTHORIZED_BODY: &str = "401 Unauthorized\n";
/// A simulator-only annotation on Deployment `gateway`: the dashboard page's `<title>`
/// (default `Kasten`; current releases say `Veeam Kasten`).
pub const TITLE_ANNOTATION: &str = "sim.kasten-ilb/dashboard-title";

/// How the chart configured the gateway in a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `/k10`: no trailing slash, as the chart's `k10.prefixPath` renders it.
    pub prefix: String,
    pub tls: bool,
    pub basic_auth: bool,
    pub title: String,
}

pub fn config(w: &World, ns: &str, release: &str) -> Config {
    let cm = w.kube_get("ConfigMap", ns, "k10-gateway");
    let data = |k: &str| cm.and_then(|c| c["data"][k].as_str()).map(str::to_string);
    let title = w
        .kube_get("Deployment", ns, "gateway")
        .and_then(|d| d["metadata"]["annotations"][TITLE_ANNOTATION].as_str())
        .unwrap_or("Kasten")
        .to_string();
    Config {
        prefix: data("PREFIX_PATH").unwrap_or_else(|| format!("/{release}")),
        tls: data("TLS_CRT_FILE").is_some(),
        basic_auth: w.kube_get("Secret", ns, "k10-basic-auth").is_some(),
        title,
    }
}

/// What the gateway pod answers on its port 8000 for `path`, spoken to with TLS or not.
/// `None`: no HTTP answer (a TLS port spoken to in plain HTTP closes the connection, and the
/// other way round the handshake fails).
pub fn answer(w: &World, pod: &Value, path: &str, tls: bool) -> Option<(u16, String)> {
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default();
    let release = pod["metadata"]["labels"]["release"].as_str().unwrap_or("k10");
    let c = config(w, ns, release);
    if c.tls != tls {
        return None;
    }
    let path_only = path.split(['?', '#']).next().unwrap_or("/");
    if path_only == "/healthz" {
        return Some((200, "ok".into()));
    }
    let prefix = c.prefix.trim_end_matches('/');
    if path_only == prefix {
        return Some((301, format!("<a href=\"{prefix}/\">Moved Permanently</a>.\n")));
    }
    if path_only.starts_with(&format!("{prefix}/")) {
        if c.basic_auth {
            return Some((401, UNAUTHORIZED_BODY.into()));
        }
        return Some((200, dashboard_html(prefix, &c.title)));
    }
    Some((404, "404 page not found\n".into()))
}

/// The headers K10's gateway adds to an answer: its Basic challenge on a 401.
pub fn headers(code: u16, body: &str) -> Vec<(&'static str, &'static str)> {
    if code == 401 && body == UNAUTHORIZED_BODY {
        vec![("www-authenticate", BASIC_CHALLENGE)]
    } else {
        vec![]
    }
}

pub fn dashboard_html(prefix: &str, title: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><base href=\"{prefix}/\">\
         <title>{title}</title><link rel=\"icon\" href=\"favicon.ico\"></head><body><div id=\"app\"></div>\
         <script src=\"static/js/app.js\"></script></body></html>\n"
    )
}

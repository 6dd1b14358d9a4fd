//! The request log at `-vv` (method, URL, status, time) and `-vvv` (also the headers, with
//! credentials redacted), for Kubernetes (a tower layer on the kube client) and Google (`gcp`).
//! Only through `tracing` at debug/trace, which `main` enables from `-vv`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use http::HeaderMap;

/// Headers that carry credentials: their values are never shown.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-goog-api-key",
];

/// `name: value` lines; headers that carry credentials are left out (never their names with a
/// value, not even a masked one) and counted on a last line.
pub fn redacted(h: &HeaderMap) -> String {
    let mut lines: Vec<String> = vec![];
    let mut hidden = 0;
    for (k, v) in h {
        if SECRET_HEADERS.contains(&k.as_str()) {
            hidden += 1;
        } else {
            lines.push(format!("  {k}: {}", v.to_str().unwrap_or("<binary>")));
        }
    }
    if hidden > 0 {
        lines.push(format!("  ({hidden} credential header(s) redacted)"));
    }
    lines.join("\n")
}

/// The headers on their own lines after a title, or nothing when there are none.
pub fn block(h: &HeaderMap) -> String {
    if h.is_empty() {
        String::new()
    } else {
        format!("\n{}", redacted(h))
    }
}

/// The layer for `kube::client::ClientBuilder::with_layer`.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestLog;

impl<S> tower::Layer<S> for RequestLog {
    type Service = Logged<S>;
    fn layer(&self, inner: S) -> Logged<S> {
        Logged { inner }
    }
}

#[derive(Clone, Debug)]
pub struct Logged<S> {
    inner: S,
}

impl<S, B, R> tower::Service<http::Request<B>> for Logged<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: std::fmt::Display,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let what = format!("{} {}", req.method(), req.uri());
        tracing::trace!("request {what}{}", block(req.headers()));
        let start = Instant::now();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let r = fut.await;
            let ms = start.elapsed().as_millis();
            match &r {
                Ok(resp) => {
                    tracing::debug!("{what} -> {} ({ms} ms)", resp.status().as_u16());
                    tracing::trace!("response headers{}", block(resp.headers()));
                }
                Err(e) => tracing::debug!("{what} -> {e} ({ms} ms)"),
            }
            r
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_redacted() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer ya29.secret".parse().unwrap());
        h.insert("accept", "application/json".parse().unwrap());
        let s = redacted(&h);
        assert!(
            !s.contains("ya29") && !s.to_lowercase().contains("authorization"),
            "{s}"
        );
        assert!(s.contains("accept: application/json"), "{s}");
        assert!(s.contains("(1 credential header(s) redacted)"), "{s}");
    }
}

//! Proof that the load balancer works: NEG sizes per zone, backend health from `getHealth`, and
//! `curl` from inside the cluster through `kubectl exec`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use kube::api::AttachParams;
use kube::Api;
use serde_json::json;
use tokio::io::AsyncReadExt;

use crate::gcp::model::{short, BackendService, GroupHealth, HealthStatus, NetworkEndpointGroup};
use crate::state::Base;

pub const DEFAULT_BACKEND_MARK: &str = "backend NotFound";

/// NEGs of this name, one per zone: GKE makes one in every zone with nodes, so zones without a
/// gateway pod have an empty one. The system default backend's NEGs have another name.
pub async fn negs(b: &Base, name: &str) -> anyhow::Result<Vec<NetworkEndpointGroup>> {
    let url = b
        .gcp
        .compute_url(&format!("{}/aggregated/networkEndpointGroups", b.cluster.r.project));
    let mut negs: Vec<NetworkEndpointGroup> = b
        .gcp
        .aggregated(&url, "networkEndpointGroups", Some(&format!("name eq {name}")))
        .await?;
    negs.retain(|g| g.name == name);
    Ok(negs)
}

/// Ready gateway pods per zone (counting those held back only by the load balancer's readiness
/// gate: GKE puts them in the NEG so that the load balancer can see them healthy).
pub fn ready_per_zone(b: &crate::state::Observed) -> BTreeMap<String, u64> {
    let zones = b.node_zones();
    let mut m = BTreeMap::new();
    for p in b.k10.pods.iter().filter(|p| p.ready || p.waits_for_lb) {
        *m.entry(zones.get(&p.node).cloned().unwrap_or_else(|| "?".into()))
            .or_insert(0) += 1;
    }
    m
}

/// Compare NEG sizes with ready pods: `None` when every zone with ready pods has a NEG of the
/// right size, else what differs.
pub fn neg_mismatch(negs: &[NetworkEndpointGroup], want: &BTreeMap<String, u64>) -> Option<String> {
    let mut problems = vec![];
    for (zone, n) in want {
        match negs.iter().find(|g| short(&g.zone) == zone) {
            Some(g) if g.size == *n => {}
            Some(g) => problems.push(format!("{zone}: NEG has {} endpoint(s), {n} ready pod(s)", g.size)),
            None => problems.push(format!("{zone}: no NEG, {n} ready pod(s)")),
        }
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// NEG sizes for people: the zones with endpoints, then the empty ones GKE keeps in zones
/// where no gateway pod runs (`us-central1-b 1 (empty: us-central1-a, us-central1-c)`).
pub fn neg_summary(negs: &[NetworkEndpointGroup]) -> String {
    let (full, empty): (Vec<_>, Vec<_>) = negs.iter().partition(|g| g.size > 0);
    let full: Vec<String> = full.iter().map(|g| format!("{} {}", short(&g.zone), g.size)).collect();
    let empty: Vec<&str> = empty.iter().map(|g| short(&g.zone)).collect();
    match (full.is_empty(), empty.is_empty()) {
        (true, true) => "none".into(),
        (false, true) => full.join(", "),
        (true, false) => format!("empty in {}", empty.join(", ")),
        (false, false) => format!("{} (empty: {})", full.join(", "), empty.join(", ")),
    }
}

/// Health of every endpoint behind the backend service, group by group (concurrently).
pub async fn backend_health(b: &Base, backend: &str) -> anyhow::Result<Vec<(String, Vec<HealthStatus>)>> {
    let c = &b.cluster;
    let url = b.gcp.compute_url(&format!(
        "{}/regions/{}/backendServices/{backend}",
        c.r.project, c.region
    ));
    let bs: BackendService = b.gcp.get(&url).await?;
    let futs = bs.backends.iter().map(|be| {
        let body = json!({"group": be.group});
        let url = format!("{url}/getHealth");
        async move {
            let v = b.gcp.call(reqwest::Method::POST, &url, Some(&body), true).await?;
            let h: GroupHealth = serde_json::from_value(v)?;
            anyhow::Ok((be.group.clone(), h.health_status))
        }
    });
    futures::future::try_join_all(futs).await
}

pub fn healthy_count(h: &[(String, Vec<HealthStatus>)]) -> (usize, usize) {
    let all: Vec<&HealthStatus> = h.iter().flat_map(|(_, s)| s).collect();
    (all.iter().filter(|s| s.health_state == "HEALTHY").count(), all.len())
}

/// What `curl` printed, from which pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurlResult {
    pub pod: String,
    pub code: u16,
    pub body: String,
    /// The `WWW-Authenticate` header of the answer, if any (curl runs with `-i`).
    pub challenge: Option<String>,
}

impl CurlResult {
    /// The page's `<title>`, if it has one.
    pub fn title(&self) -> Option<&str> {
        let lower = self.body.to_ascii_lowercase();
        let start = lower.find("<title>")? + "<title>".len();
        let end = start + lower[start..].find("</title>")?;
        Some(self.body[start..end].trim())
    }

    /// K10's dashboard: a `<title>` containing "Kasten", any case ("Kasten K10", "Veeam Kasten").
    pub fn is_dashboard(&self) -> bool {
        self.title().is_some_and(|t| t.to_ascii_lowercase().contains("kasten"))
    }

    /// A Basic challenge (RFC 7617: `WWW-Authenticate: Basic realm="..."`).
    pub fn basic_challenge(&self) -> Option<&str> {
        self.challenge
            .as_deref()
            .filter(|c| c.get(..6).is_some_and(|s| s.eq_ignore_ascii_case("basic ")))
    }
}

/// Split `curl -i` output into the last response's headers and its body. Several header blocks
/// come before the body when curl went through a proxy or got `100 Continue`.
fn split_headers(out: &str) -> (Vec<(String, String)>, &str) {
    let mut rest = out;
    let mut headers = vec![];
    while rest.starts_with("HTTP/") {
        let (block, body) = match (rest.find("\r\n\r\n"), rest.find("\n\n")) {
            (Some(a), Some(b)) if b < a => (&rest[..b], &rest[b + 2..]),
            (Some(a), _) => (&rest[..a], &rest[a + 4..]),
            (None, Some(b)) => (&rest[..b], &rest[b + 2..]),
            (None, None) => (rest, ""),
        };
        headers = block
            .lines()
            .skip(1)
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                Some((k.trim().to_ascii_lowercase(), v.trim().to_string()))
            })
            .collect();
        rest = body;
    }
    (headers, rest)
}

#[derive(Debug)]
pub enum ExecOutcome {
    Ran {
        stdout: String,
        stderr: String,
        exit: i32,
    },
    /// The container has no such binary.
    NoBinary,
}

pub async fn exec(b: &Base, pod: &str, container: Option<&str>, cmd: &[&str]) -> anyhow::Result<ExecOutcome> {
    let pods: Api<Pod> = b.kube.api();
    let mut ap = AttachParams::default().stdout(true).stderr(true).stdin(false);
    if let Some(c) = container {
        ap = ap.container(c);
    }
    let mut proc = pods
        .exec(pod, cmd.to_vec(), &ap)
        .await
        .map_err(|e| anyhow::anyhow!("exec in pod {pod}: {}", crate::kube::short_kube_error(&e)))?;
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut s) = proc.stdout() {
        s.read_to_string(&mut out).await?;
    }
    if let Some(mut s) = proc.stderr() {
        s.read_to_string(&mut err).await?;
    }
    let status = match proc.take_status() {
        Some(f) => f.await,
        None => None,
    };
    let _ = proc.join().await;
    match status {
        Some(s) if s.status.as_deref() == Some("Failure") => {
            let msg = s.message.clone().unwrap_or_default();
            if msg.contains("executable file not found") || msg.contains("no such file or directory") {
                return Ok(ExecOutcome::NoBinary);
            }
            let code = s
                .details
                .as_ref()
                .and_then(|d| d.causes.as_ref())
                .and_then(|cs| cs.iter().find(|c| c.reason.as_deref() == Some("ExitCode")))
                .and_then(|c| c.message.as_deref()?.parse().ok());
            match code {
                Some(c) => Ok(ExecOutcome::Ran {
                    stdout: out,
                    stderr: err,
                    exit: c,
                }),
                None => Err(anyhow::anyhow!("exec in pod {pod} failed: {msg}")),
            }
        }
        _ => Ok(ExecOutcome::Ran {
            stdout: out,
            stderr: err,
            exit: 0,
        }),
    }
}

/// A pod (and container) that has curl: `--probe-pod`, or the first K10 pod whose image has it.
/// Where to run curl: `--probe-pod`, or the K10 pods (and containers) likely to have it, best first.
pub fn curl_candidates(b: &Base, probe_pod: Option<&str>) -> Vec<(String, Option<String>)> {
    match probe_pod {
        Some(p) => vec![(p.to_string(), None)],
        None => b
            .k10
            .curl_candidates
            .iter()
            .map(|(p, c)| (p.clone(), Some(c.clone())))
            .collect(),
    }
}

pub async fn curl_pod(b: &Base, probe_pod: Option<&str>) -> anyhow::Result<Option<(String, Option<String>)>> {
    let candidates = curl_candidates(b, probe_pod);
    for (pod, c) in candidates {
        match exec(b, &pod, c.as_deref(), &["curl", "--version"]).await {
            Ok(ExecOutcome::Ran { exit: 0, .. }) => return Ok(Some((pod, c))),
            other => b.kube.printer.verbose(1, &format!("no curl in pod {pod}: {other:?}")),
        }
    }
    Ok(None)
}

/// How the dashboard is reached: scheme, address, and the host name the Ingress rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub https: bool,
    pub ip: String,
    pub host: Option<String>,
}

impl Endpoint {
    /// From an Ingress: HTTPS when it has TLS and HTTP is switched off; its first rule's host.
    pub fn of(i: &k8s_openapi::api::networking::v1::Ingress, ip: &str) -> Endpoint {
        let j = serde_json::to_value(i).unwrap_or_default();
        // A TLS Secret, or regional SSL certificates named by `pre-shared-cert`.
        let tls = j["spec"]["tls"].as_array().is_some_and(|t| !t.is_empty())
            || j["metadata"]["annotations"]["ingress.gcp.kubernetes.io/pre-shared-cert"].is_string();
        let http_off = j["metadata"]["annotations"]["kubernetes.io/ingress.allow-http"] == "false";
        Endpoint {
            https: tls && http_off,
            ip: ip.to_string(),
            host: j["spec"]["rules"][0]["host"].as_str().map(str::to_string),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!(
            "{}://{}{path}",
            if self.https { "https" } else { "http" },
            self.host.as_deref().unwrap_or(&self.ip)
        )
    }

    /// curl arguments for `paths`, fetched one after another in one run: `-k` for the (often
    /// private) certificate, `--resolve` to send the host name; after each transfer its status and
    /// [`CURL_END`] (`000` when no answer came), and `--fail-early` stops at the first that fails.
    fn curl_args(&self, paths: &[&str]) -> Vec<String> {
        let mut a = vec![
            "curl".into(),
            "-sS".into(),
            "-m".into(),
            "10".into(),
            "-i".into(),
            "--fail-early".into(),
            "-w".into(),
            format!("\n%{{http_code}}\n{CURL_END}\n"),
        ];
        if self.https {
            a.push("-k".into());
        }
        if let Some(h) = &self.host {
            a.push("--resolve".into());
            a.push(format!("{h}:{}:{}", if self.https { 443 } else { 80 }, self.ip));
        }
        a.extend(paths.iter().map(|p| self.url(p)));
        a
    }
}

/// What curl writes (`-w`) after each transfer's status line, to tell one transfer's output from
/// the next.
pub const CURL_END: &str = "--kasten-ilb-curl-end--";

/// Why an in-cluster `curl` gave no HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CurlError {
    /// The pod (or container) has no `curl` binary: try another candidate.
    NoCurl { pod: String },
    /// curl ran and failed (connection refused, timeout, TLS, ...): curl's exit code and message.
    Exited { code: i32, message: String },
}

impl std::fmt::Display for CurlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CurlError::NoCurl { pod } => write!(f, "pod {pod} has no curl"),
            CurlError::Exited { code, message } => write!(f, "curl exited {code}: {message}"),
        }
    }
}

/// `curl` the dashboard page and a deeper path from inside the cluster, in one exec (one
/// connection and one process start in the pod instead of two).
pub async fn curl_pair(
    b: &Base,
    pod: &(String, Option<String>),
    ep: &Endpoint,
    page: &str,
    deep: &str,
) -> anyhow::Result<(CurlAnswer, CurlAnswer)> {
    let args = ep.curl_args(&[page, deep]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = exec(b, &pod.0, pod.1.as_deref(), &argv).await?;
    Ok(curl_pair_outcome(&pod.0, out))
}

/// One transfer's answer: an HTTP response, or why there was none.
pub type CurlAnswer = Result<CurlResult, CurlError>;

/// What a run of [`Endpoint::curl_args`] for two paths means: each transfer's HTTP answer, or why
/// there was none. With `--fail-early` a failed page leaves the deeper path unasked; it gets the
/// page's error. A transfer that fails after its status line (a body cut off by `-m`) is a failure.
pub fn curl_pair_outcome(pod: &str, out: ExecOutcome) -> (CurlAnswer, CurlAnswer) {
    let (stdout, stderr, exit) = match out {
        ExecOutcome::NoBinary => {
            let e = CurlError::NoCurl { pod: pod.to_string() };
            return (Err(e.clone()), Err(e));
        }
        ExecOutcome::Ran { stdout, stderr, exit } => (stdout, stderr, exit),
    };
    let sep = format!("\n{CURL_END}\n");
    let mut parts: Vec<&str> = stdout.split(&sep).collect();
    let rest = parts.pop().unwrap_or_default();
    // curl writes `-w` after a failed transfer too, with the status it got (`000`, or a real one
    // when the body was cut off), and with --fail-early that transfer is the last: not an answer.
    if exit != 0 {
        parts.pop();
    }
    let mut answers = parts.iter().filter_map(|seg| {
        let (out, code) = seg.rsplit_once('\n').unwrap_or(("", seg));
        let code: u16 = code.trim().parse().unwrap_or(0);
        (code != 0).then(|| {
            let (headers, body) = split_headers(out);
            CurlResult {
                pod: pod.to_string(),
                code,
                body: body.to_string(),
                challenge: headers
                    .into_iter()
                    .find(|(k, _)| k == "www-authenticate")
                    .map(|(_, v)| v),
            }
        })
    });
    let failed = || CurlError::Exited {
        code: exit,
        message: match (stderr.trim(), rest.trim()) {
            ("", "") => "curl gave no HTTP answer".to_string(),
            ("", out) => out.to_string(),
            (err, _) => err.to_string(),
        },
    };
    let page = answers.next().ok_or_else(failed);
    let deep = match &page {
        Ok(_) => answers.next().ok_or_else(failed),
        Err(e) => Err(e.clone()),
    };
    (page, deep)
}

/// Why the dashboard check failed, as the code that waits or explains needs to branch on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// curl gave no HTTP answer.
    Curl(CurlError),
    /// GKE's default backend answered: the path is not routed to K10.
    DefaultBackend,
    /// The load balancer had no healthy backend (502 or 503 from the proxy).
    NoHealthyBackend(u16),
    /// The proxies picked a healthy pod but could not connect to it (Envoy's 503 `upstream connect
    /// error`): the health checkers get in, the proxy-only range does not.
    ProxiesCannotConnect,
    /// Some other answer that is not K10's dashboard.
    Unexpected(u16),
    /// A 401 that is not K10's own Basic challenge (none, another scheme, or K10 is not set up
    /// for basic auth): something else answered.
    ForeignChallenge(Option<String>),
    /// The page works but deeper paths reach the default backend (an exact-path rule).
    ExactPathOnly,
}

impl Failure {
    /// Will waiting help? A load balancer that is still being programmed answers 502/503, or
    /// refuses and times out connections; a routed-elsewhere answer is definite.
    pub fn may_pass_later(&self) -> bool {
        match self {
            // 2: curl could not start the transfer at all, as when it is older than an option it
            // was given (`--fail-early` needs 7.52): waiting changes nothing.
            Failure::Curl(CurlError::Exited { code, .. }) => *code != 2,
            Failure::NoHealthyBackend(_) | Failure::ProxiesCannotConnect => true,
            _ => false,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Curl(e) => write!(f, "{e}"),
            Failure::DefaultBackend => write!(f, "GKE's default backend answered (the path is not routed)"),
            Failure::NoHealthyBackend(code) => write!(f, "{code} from the load balancer: no healthy backend"),
            Failure::ProxiesCannotConnect => write!(
                f,
                "503 from the load balancer: its proxies cannot connect to the pods (a firewall rule or \
                 NetworkPolicy keeps the proxy-only range out)"
            ),
            Failure::Unexpected(code) => write!(f, "HTTP {code} without <title>Kasten</title>"),
            Failure::ForeignChallenge(None) => write!(
                f,
                "HTTP 401 without a WWW-Authenticate challenge: not K10's gateway (it challenges with Basic)"
            ),
            Failure::ForeignChallenge(Some(c)) => write!(
                f,
                "HTTP 401 with `WWW-Authenticate: {c}`: not K10's Basic challenge for its basic auth, so it does \
                 not prove the request reached K10"
            ),
            Failure::ExactPathOnly => write!(
                f,
                "the dashboard page works but deeper paths get GKE's default backend (404): \
                 the Ingress path routes only the exact path; use pathType Prefix"
            ),
        }
    }
}

impl From<CurlError> for Failure {
    fn from(e: CurlError) -> Failure {
        Failure::Curl(e)
    }
}

/// K10's own answer to a request without credentials when basic auth (htpasswd) is configured:
/// 401 with a Basic challenge. Only then does a 401 prove the request reached K10's gateway.
fn k10_challenge(page: &CurlResult, auth: Option<&str>) -> Result<(), Failure> {
    match page.basic_challenge() {
        Some(_) if auth == Some("basic") && !page.body.contains(DEFAULT_BACKEND_MARK) => Ok(()),
        _ => Err(Failure::ForeignChallenge(page.challenge.clone())),
    }
}

/// The end-to-end verdict for the dashboard page and a deeper path; `auth` is K10's configured
/// method (`basic`: its gateway answers 401 with a Basic challenge, kept in the evidence).
pub fn judge(page: &CurlResult, deep: &CurlResult, auth: Option<&str>) -> Result<String, Failure> {
    let challenged = page.code == 401;
    if challenged {
        k10_challenge(page, auth)?;
    } else if page.code != 200 || !page.is_dashboard() {
        return Err(if page.body.contains(DEFAULT_BACKEND_MARK) {
            Failure::DefaultBackend
        } else if page.code == 503 && page.body.contains("upstream connect error") {
            Failure::ProxiesCannotConnect
        } else if page.code == 502 || page.code == 503 {
            Failure::NoHealthyBackend(page.code)
        } else {
            Failure::Unexpected(page.code)
        });
    }
    if deep.body.contains(DEFAULT_BACKEND_MARK) {
        return Err(Failure::ExactPathOnly);
    }
    Ok(if challenged {
        format!(
            "HTTP 401 with K10's Basic challenge: the request reached K10's gateway (pod {}; deeper paths HTTP {})",
            page.pod, deep.code
        )
    } else {
        format!(
            "HTTP 200 with <title>{}</title> from pod {}; deeper paths reach K10 (HTTP {})",
            page.title().unwrap_or_default(),
            page.pod,
            deep.code
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neg_summary_names_the_empty_zones_apart() {
        use crate::fixtures::{neg, ZONES};
        let [a, b, c] = ZONES;
        for (negs, want) in [
            (vec![], "none"),
            (vec![neg(b, 1)], "us-central1-b 1"),
            (vec![neg(a, 2), neg(b, 1)], "us-central1-a 2, us-central1-b 1"),
            (
                vec![neg(a, 0), neg(b, 1), neg(c, 0)],
                "us-central1-b 1 (empty: us-central1-a, us-central1-c)",
            ),
            (vec![neg(a, 0), neg(c, 0)], "empty in us-central1-a, us-central1-c"),
        ] {
            assert_eq!(neg_summary(&negs), want, "{negs:?}");
        }
    }

    #[test]
    fn empty_negs_in_zones_without_pods_are_no_mismatch_but_the_pods_zone_is() {
        use crate::fixtures::{neg, ZONES};
        let [a, b, c] = ZONES;
        let want: BTreeMap<String, u64> = [(b.to_string(), 2)].into();
        assert_eq!(neg_mismatch(&[neg(a, 0), neg(b, 2), neg(c, 0)], &want), None);
        assert_eq!(
            neg_mismatch(&[neg(a, 0), neg(b, 0), neg(c, 0)], &want).as_deref(),
            Some("us-central1-b: NEG has 0 endpoint(s), 2 ready pod(s)")
        );
        assert_eq!(
            neg_mismatch(&[neg(a, 0), neg(c, 0)], &want).as_deref(),
            Some("us-central1-b: no NEG, 2 ready pod(s)")
        );
    }

    fn ran(stdout: &str, exit: i32) -> ExecOutcome {
        ExecOutcome::Ran {
            stdout: stdout.into(),
            stderr: String::new(),
            exit,
        }
    }

    fn page(code: u16, body: &str) -> CurlResult {
        CurlResult {
            pod: "p".into(),
            code,
            body: body.into(),
            challenge: None,
        }
    }

    fn challenged(challenge: Option<&str>, body: &str) -> CurlResult {
        CurlResult {
            challenge: challenge.map(str::to_string),
            ..page(401, body)
        }
    }

    /// What `curl -sS -i --fail-early -w '\n%{http_code}\n<CURL_END>\n'` writes for a transfer.
    fn transfer(headers_and_body: &str, code: &str) -> String {
        format!("{headers_and_body}\n{code}\n{CURL_END}\n")
    }

    #[test]
    fn curl_outcomes_are_typed() {
        let no_curl = Err(CurlError::NoCurl { pod: "p".into() });
        assert_eq!(
            curl_pair_outcome("p", ExecOutcome::NoBinary),
            (no_curl.clone(), no_curl)
        );
        // The page is refused: --fail-early leaves the deeper path unasked, and it gets the page's error.
        let refused = ExecOutcome::Ran {
            stdout: transfer("", "000"),
            stderr: "curl: (7) Failed to connect to 10.0.0.9 port 80: Connection refused\n".into(),
            exit: 7,
        };
        let e = Err(CurlError::Exited {
            code: 7,
            message: "curl: (7) Failed to connect to 10.0.0.9 port 80: Connection refused".into(),
        });
        assert_eq!(curl_pair_outcome("p", refused), (e.clone(), e));
        // The page answers, the deeper path times out.
        let deep_times_out = ExecOutcome::Ran {
            stdout: transfer("HTTP/1.1 200 OK\r\n\r\n<html>\nline two", "200") + &transfer("", "000"),
            stderr: "curl: (28) Operation timed out after 10001 milliseconds\n".into(),
            exit: 28,
        };
        let (page, deep) = curl_pair_outcome("p", deep_times_out);
        let page = page.unwrap();
        assert_eq!((page.code, page.body.as_str()), (200, "<html>\nline two"));
        assert!(matches!(deep, Err(CurlError::Exited { code: 28, .. })), "{deep:?}");
        // The page answers, the deeper path's body is cut off: curl wrote its status, then failed.
        let cut_off = ExecOutcome::Ran {
            stdout: transfer("HTTP/1.1 200 OK\r\n\r\n<html>", "200") + &transfer("HTTP/1.1 200 OK\r\n\r\n<ht", "200"),
            stderr: "curl: (28) Operation timed out after 10000 milliseconds with 3 bytes received\n".into(),
            exit: 28,
        };
        let (page, deep) = curl_pair_outcome("p", cut_off);
        assert_eq!(page.unwrap().body, "<html>");
        assert!(matches!(deep, Err(CurlError::Exited { code: 28, .. })), "{deep:?}");
        // A curl too old for --fail-early fails before any transfer, and waiting will not help.
        let too_old = ExecOutcome::Ran {
            stdout: String::new(),
            stderr: "curl: option --fail-early: is unknown\n".into(),
            exit: 2,
        };
        let (page, _) = curl_pair_outcome("p", too_old);
        let e = page.unwrap_err();
        assert!(e.to_string().contains("--fail-early"), "{e}");
        assert!(!Failure::Curl(e).may_pass_later());
        // Both answer.
        let both = ExecOutcome::Ran {
            stdout: transfer("HTTP/1.1 200 OK\r\n\r\n<html>", "200")
                + &transfer("HTTP/1.1 404 Not Found\r\n\r\ndefault backend - 404", "404"),
            stderr: String::new(),
            exit: 0,
        };
        let (page, deep) = curl_pair_outcome("p", both);
        assert_eq!(
            (page.unwrap().code, deep.unwrap().body),
            (200, "default backend - 404".to_string())
        );
    }

    #[test]
    fn the_curl_command_fetches_both_paths_in_one_run_and_stops_at_the_first_failure() {
        let ep = Endpoint {
            https: false,
            ip: "10.0.0.9".into(),
            host: None,
        };
        let args = ep.curl_args(&["/k10/", "/k10/dashboard/"]);
        assert!(args.contains(&"--fail-early".to_string()));
        assert_eq!(
            args[args.len() - 2..],
            ["http://10.0.0.9/k10/", "http://10.0.0.9/k10/dashboard/"]
        );
        let w = args.iter().position(|a| a == "-w").unwrap();
        assert_eq!(args[w + 1], format!("\n%{{http_code}}\n{CURL_END}\n"));
    }

    #[test]
    fn judge_names_each_failure() {
        let k10 = page(200, "<title>Kasten</title>");
        let cases = [
            (
                page(404, "default backend - backend NotFound"),
                k10.clone(),
                Err(Failure::DefaultBackend),
            ),
            (
                page(502, "<html>502</html>"),
                k10.clone(),
                Err(Failure::NoHealthyBackend(502)),
            ),
            (
                page(503, "no healthy upstream"),
                k10.clone(),
                Err(Failure::NoHealthyBackend(503)),
            ),
            (
                page(
                    503,
                    "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
                ),
                k10.clone(),
                Err(Failure::ProxiesCannotConnect),
            ),
            (page(403, "forbidden"), k10.clone(), Err(Failure::Unexpected(403))),
            (k10.clone(), page(404, "backend NotFound"), Err(Failure::ExactPathOnly)),
        ];
        for (p, d, want) in cases {
            assert_eq!(judge(&p, &d, Some("basic")).map(|_| ()), want, "{p:?} / {d:?}");
        }
        assert!(judge(&k10, &k10, Some("basic")).is_ok());
        assert!(Failure::NoHealthyBackend(502).may_pass_later());
        assert!(!Failure::DefaultBackend.may_pass_later());
    }

    #[test]
    fn curl_i_output_is_split_into_headers_and_body() {
        let out = "HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Basic realm=\"k10\"\r\nvia: 1.1 google\r\n\r\n\
                   Unauthorized";
        let proxied = "HTTP/1.1 200 Connection established\r\n\r\nHTTP/2 200\r\ncontent-type: text/html\r\n\r\n\
                       <title>Veeam Kasten</title>";
        let (r, p) = curl_pair_outcome("p", ran(&(transfer(out, "401") + &transfer(proxied, "200")), 0));
        let r = r.unwrap();
        assert_eq!(
            (r.code, r.body.as_str(), r.challenge.as_deref()),
            (401, "Unauthorized", Some("Basic realm=\"k10\""))
        );
        let p = p.unwrap();
        assert_eq!((p.body.as_str(), p.challenge), ("<title>Veeam Kasten</title>", None));
    }

    #[test]
    fn the_dashboard_is_known_by_a_kasten_title_in_any_case() {
        for (body, ok) in [
            ("<html><head><title>Veeam Kasten</title></head>", true),
            ("<TITLE> Kasten K10 </TITLE>", true),
            ("<title>kasten</title>", true),
            ("<title>Grafana</title> Kasten", false),
            ("Kasten", false),
        ] {
            assert_eq!(page(200, body).is_dashboard(), ok, "{body}");
        }
        let veeam = page(200, "<title>Veeam Kasten</title>");
        let msg = judge(&veeam, &veeam, Some("token")).unwrap();
        assert!(
            msg.starts_with("HTTP 200 with <title>Veeam Kasten</title> from pod p"),
            "{msg}"
        );
    }

    #[test]
    fn only_k10s_basic_challenge_proves_the_request_reached_k10() {
        let realm = Some("Basic realm=\"K10 dashboard\"");
        let deep = challenged(realm, "");
        let ok = judge(&challenged(realm, ""), &deep, Some("basic")).unwrap();
        assert!(
            ok.starts_with("HTTP 401 with K10's Basic challenge: the request reached K10's gateway"),
            "{ok}"
        );
        let cases = [
            (challenged(None, "Unauthorized"), Some("basic")),
            (challenged(Some("Bearer realm=\"iap\""), ""), Some("basic")),
            (challenged(realm, ""), Some("token")),
            (challenged(realm, ""), None),
            (challenged(realm, "default backend - backend NotFound"), Some("basic")),
        ];
        for (p, auth) in cases {
            let got = judge(&p, &deep, auth).unwrap_err();
            assert_eq!(got, Failure::ForeignChallenge(p.challenge.clone()), "{p:?} {auth:?}");
            assert!(!got.may_pass_later());
            assert!(got.to_string().starts_with("HTTP 401"), "{got}");
        }
    }
}

//! `pods/exec` over WebSocket (`v5.channel.k8s.io`, `v4.channel.k8s.io`): runs a simulated `curl`
//! in the pod's network position. No process is started and no packet leaves the simulator.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::kube_api::status;
use crate::world::World;
use crate::Shared;

/// What running a command in a container produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecResult {
    pub stdout: String,
    pub stderr: String,
    /// Exit code; `None` when the command could not be started.
    pub exit: Option<i32>,
    /// Set when the runtime could not start the process (the error channel's message).
    pub start_error: Option<String>,
}

pub async fn exec_handler(
    State(state): State<Shared>,
    Path((ns, pod)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let query = query.unwrap_or_default();
    let mut command = vec![];
    let mut container = None;
    let mut streams = Streams::default();
    for kv in query.split('&') {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let yes = v == "true" || v == "1";
        match k {
            "command" => command.push(crate::urldecode(v)),
            "container" => container = Some(crate::urldecode(v)),
            "stdout" => streams.stdout = yes,
            "stderr" => streams.stderr = yes,
            "tty" => streams.tty = yes,
            _ => {}
        }
    }
    let result = {
        let w = state.lock().unwrap();
        if w.denied_kube.iter().any(|d| d == "create pods/exec") {
            return status(403, "Forbidden", &format!("pods \"{pod}\" is forbidden: User \"kasten-admin@kasten-demo.iam.gserviceaccount.com\" cannot create resource \"pods/exec\" in API group \"\" in the namespace \"{ns}\""), None);
        }
        let Some(p) = w.kube_get("Pod", &ns, &pod).cloned() else {
            return status(
                404,
                "NotFound",
                &format!("pods \"{pod}\" not found"),
                Some(json!({"name": pod, "kind": "pods"})),
            );
        };
        let cname = container.unwrap_or_else(|| {
            p["spec"]["containers"][0]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        });
        let Some(c) = p["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["name"].as_str() == Some(&cname))
            .cloned()
        else {
            return status(
                400,
                "BadRequest",
                &format!("container {cname} is not valid for pod {pod}"),
                None,
            );
        };
        if command.is_empty() {
            return status(400, "BadRequest", "you must specify at least 1 command", None);
        }
        run(&w, &ns, &c, &command)
    };
    let Ok(ws) = ws else {
        return status(400, "BadRequest", "gke-sim serves pods/exec over WebSocket (v5.channel.k8s.io / v4.channel.k8s.io) only; SPDY is not simulated", None);
    };
    ws.protocols(["v5.channel.k8s.io", "v4.channel.k8s.io"])
        .on_upgrade(move |socket| stream_result(socket, result, streams))
        .into_response()
}

/// The output streams the client asked for (`stdout=true`, `stderr=true`, `tty=true`); the error
/// stream (3) is always there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Streams {
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

/// How long the simulated runtime takes to start the command before its first byte comes back.
///
/// Not only realism: kubectl up to 1.33 (client-go's websocket executor before kubernetes#131203)
/// starts reading the connection *before* it has created its streams, drops a frame for a stream
/// it has not created yet ("Unknown stream id 1, discarding message"), and once the server has
/// closed, fails creating the rest ("closed all streams"). A real runtime takes this long and
/// more; answering at once made `kubectl exec` fail about once in a hundred runs under load.
pub const START: std::time::Duration = std::time::Duration::from_millis(150);

/// The frames the server sends, in order: each output on its stream if the client opened it
/// (with a TTY stderr is folded into stdout, as the runtime does), then the status on the error
/// stream. The close follows them.
pub fn frames(r: &ExecResult, s: Streams) -> Vec<(u8, Vec<u8>)> {
    let mut out = vec![];
    let mut stdout = r.stdout.clone();
    if s.tty {
        stdout.push_str(&r.stderr);
    }
    if s.stdout && !stdout.is_empty() {
        out.push((1, stdout.into_bytes()));
    }
    if s.stderr && !s.tty && !r.stderr.is_empty() {
        out.push((2, r.stderr.clone().into_bytes()));
    }
    out.push((3, exit_status(r).to_string().into_bytes()));
    out
}

async fn stream_result(mut socket: WebSocket, r: ExecResult, s: Streams) {
    // Read what the client sends meanwhile (stdin, its close signal, pings) while the command
    // "starts"; the simulated commands do not read stdin.
    let start = tokio::time::sleep(START);
    tokio::pin!(start);
    loop {
        tokio::select! {
            _ = &mut start => break,
            m = socket.recv() => if !matches!(m, Some(Ok(_))) { return },
        }
    }
    for (ch, data) in frames(&r, s) {
        let mut v = vec![ch];
        v.extend_from_slice(&data);
        if socket.send(Message::Binary(v.into())).await.is_err() {
            return;
        }
    }
    let _ = socket
        .send(Message::Close(Some(axum::extract::ws::CloseFrame {
            code: 1000,
            reason: "".into(),
        })))
        .await;
}

/// The `Status` on the error stream: success, the exit code, or why the runtime could not start it.
fn exit_status(r: &ExecResult) -> serde_json::Value {
    match (&r.start_error, r.exit) {
        (Some(msg), _) => json!({"metadata": {}, "status": "Failure", "message": msg, "reason": "InternalError",
                                  "details": {"causes": [{"message": msg}]}, "code": 500}),
        (None, Some(0)) => json!({"metadata": {}, "status": "Success"}),
        (None, code) => {
            let code = code.unwrap_or(1);
            json!({"metadata": {}, "status": "Failure", "message": format!("command terminated with non-zero exit code: error executing command [{}], exit code {code}", "curl"),
                   "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]}})
        }
    }
}

fn image_base(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split([':', '@']).next().unwrap_or(last).to_string()
}

pub fn run(w: &World, ns: &str, container: &serde_json::Value, command: &[String]) -> ExecResult {
    let image = image_base(container["image"].as_str().unwrap_or_default());
    let bin = command[0].rsplit('/').next().unwrap_or_default();
    let has = |b: &str| match b {
        "curl" => w.images_with_curl.contains(&image),
        "sh" | "cat" | "echo" | "true" => image != "gateway",
        _ => false,
    };
    if !has(bin) {
        return ExecResult {
            stdout: String::new(),
            stderr: String::new(),
            exit: None,
            start_error: Some(format!(
                "Internal error occurred: error executing command in container: failed to exec in container: failed to start exec \"{}\": OCI runtime exec failed: exec failed: unable to start container process: exec: \"{}\": executable file not found in $PATH: unknown",
                crate::world::uuid_like(&command.join(" ")).replace('-', ""),
                command[0]
            )),
        };
    }
    match bin {
        "curl" => curl(w, ns, &command[1..]),
        "echo" => ExecResult {
            stdout: format!("{}\n", command[1..].join(" ")),
            stderr: String::new(),
            exit: Some(0),
            start_error: None,
        },
        "true" => ExecResult {
            stdout: String::new(),
            stderr: String::new(),
            exit: Some(0),
            start_error: None,
        },
        _ => ExecResult {
            stdout: String::new(),
            stderr: format!("{bin}: not simulated by gke-sim\n"),
            exit: Some(127),
            start_error: None,
        },
    }
}

/// The curl options the recipe and the plugin use, and the URLs in the order given.
#[derive(Default)]
struct CurlOpts {
    silent: bool,
    show_error: bool,
    fail: bool,
    fail_early: bool,
    head: bool,
    include: bool,
    insecure: bool,
    /// `-o` targets in order: the n-th applies to the n-th URL (`true`: /dev/null).
    outputs: Vec<bool>,
    write_out: Option<String>,
    urls: Vec<String>,
    resolve: Option<(String, u16, String)>,
    host_header: Option<String>,
}

impl CurlOpts {
    fn parse(args: &[String]) -> CurlOpts {
        let takes_value = [
            "-o",
            "--output",
            "-w",
            "--write-out",
            "-m",
            "--max-time",
            "--connect-timeout",
            "-H",
            "--header",
            "-X",
            "--request",
            "-A",
            "--user-agent",
            "-u",
            "--user",
            "--resolve",
            "-d",
            "--data",
        ];
        let mut o = CurlOpts::default();
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if takes_value.contains(&a.as_str()) {
                let v = args.get(i + 1).cloned().unwrap_or_default();
                match a.as_str() {
                    "-o" | "--output" => o.outputs.push(v == "/dev/null"),
                    "-w" | "--write-out" => o.write_out = Some(v),
                    "--resolve" => {
                        let mut parts = v.splitn(3, ':');
                        if let (Some(h), Some(p), Some(a)) = (parts.next(), parts.next(), parts.next()) {
                            o.resolve = Some((h.to_string(), p.parse().unwrap_or(0), a.to_string()));
                        }
                    }
                    "-H" | "--header" => {
                        if let Some((k, val)) = v.split_once(':') {
                            if k.trim().eq_ignore_ascii_case("host") {
                                o.host_header = Some(val.trim().to_string());
                            }
                        }
                    }
                    _ => {}
                }
                i += 2;
                continue;
            }
            if let Some(long) = a.strip_prefix("--") {
                match long {
                    "silent" => o.silent = true,
                    "show-error" => o.show_error = true,
                    "fail" => o.fail = true,
                    "fail-early" => o.fail_early = true,
                    "head" => o.head = true,
                    "include" => o.include = true,
                    "insecure" => o.insecure = true,
                    _ => {}
                }
            } else if let Some(short) = a.strip_prefix('-') {
                for c in short.chars() {
                    match c {
                        's' => o.silent = true,
                        'S' => o.show_error = true,
                        'f' => o.fail = true,
                        'I' => o.head = true,
                        'i' => o.include = true,
                        'k' => o.insecure = true,
                        _ => {}
                    }
                }
            } else {
                o.urls.push(a.clone());
            }
            i += 1;
        }
        o
    }

    /// `-w`'s text after a transfer: `%{http_code}` is `000` when no response came back.
    fn write_out(&self, code: u16, verify: Option<i32>) -> String {
        self.write_out.as_deref().map_or_else(String::new, |wo| {
            wo.replace("%{ssl_verify_result}", &verify.unwrap_or(0).to_string())
                .replace("%{http_code}", &format!("{code:03}"))
                .replace("\\n", "\n")
        })
    }
}

/// One transfer's output, and its error (curl's exit code and message) if it failed.
struct Transfer {
    stdout: String,
    error: Option<(i32, String)>,
}

/// Simulated curl: the flags the recipe and the plugin use. Several URLs are fetched one by one;
/// the exit code is the last transfer's, or the first failure's with `--fail-early`.
pub fn curl(w: &World, ns: &str, args: &[String]) -> ExecResult {
    let o = CurlOpts::parse(args);
    if args.iter().any(|a| a == "--version" || a == "-V") {
        return ExecResult {
            stdout:
                "curl 8.14.1 (x86_64-pc-linux-gnu) libcurl/8.14.1 OpenSSL/3.5.1 zlib/1.3.1\nProtocols: http https\n"
                    .into(),
            stderr: String::new(),
            exit: Some(0),
            start_error: None,
        };
    }
    let message = |code: i32, msg: &str| {
        if !o.silent || o.show_error {
            format!("curl: ({code}) {msg}\n")
        } else {
            String::new()
        }
    };
    if o.urls.is_empty() {
        return ExecResult {
            stdout: String::new(),
            stderr: message(2, "no URL specified"),
            exit: Some(2),
            start_error: None,
        };
    }
    let mut r = ExecResult {
        stdout: String::new(),
        stderr: String::new(),
        exit: Some(0),
        start_error: None,
    };
    for (i, url) in o.urls.iter().enumerate() {
        let t = transfer(w, ns, &o, url, o.outputs.get(i).copied().unwrap_or(false));
        r.stdout.push_str(&t.stdout);
        r.exit = Some(t.error.as_ref().map_or(0, |e| e.0));
        if let Some((code, msg)) = t.error {
            r.stderr.push_str(&message(code, &msg));
            if o.fail_early {
                break;
            }
        }
    }
    r
}

/// One URL of a curl command line, from the pod's network position; `out_null`: its `-o` is
/// /dev/null (each `-o` applies to one URL, in order; a URL without one prints its body).
fn transfer(w: &World, ns: &str, o: &CurlOpts, url: &str, out_null: bool) -> Transfer {
    let failed = |code: i32, msg: String, http: u16, verify: Option<i32>| Transfer {
        stdout: o.write_out(http, verify),
        error: Some((code, msg)),
    };
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let (hostport, path) = match rest.find('/') {
        Some(p) => (&rest[..p], &rest[p..]),
        None => (rest, "/"),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().unwrap_or(0)),
        None => (hostport, if scheme == "https" { 443 } else { 80 }),
    };
    // --resolve HOST:PORT:ADDR connects to ADDR and sends Host: HOST.
    let (connect, hh) = match &o.resolve {
        Some((h, p, a)) if h == host && *p == port => (a.clone(), Some(host.to_string())),
        _ => (host.to_string(), o.host_header.clone()),
    };
    let (code, body) = match crate::controller::vpc_http(w, ns, &connect, port, path, hh.as_deref(), scheme == "https")
    {
        Ok(r) => r,
        Err((c, m)) => return failed(c, m, 0, None),
    };
    // Every certificate a load balancer serves here is self-signed (gke-sim has no CA): curl refuses
    // it unless told not to verify (-k), and reports X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT (18).
    let verify = lb_tls(w, &connect, scheme).then_some(18);
    if verify.is_some() && !o.insecure {
        return failed(60, "SSL certificate problem: self-signed certificate".into(), 0, verify);
    }
    let reason = match code {
        200 => "OK",
        301 => "Moved Permanently",
        401 => "Unauthorized",
        404 => "Not Found",
        502 => "Bad Gateway",
        _ => "",
    };
    let extra: String = crate::k10_gateway::headers(code, &body)
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let headers = format!(
        "HTTP/1.1 {code} {reason}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\
         {extra}via: 1.1 google\r\n\r\n",
        body.len()
    );
    if o.fail && code >= 400 {
        return failed(22, format!("The requested URL returned error: {code}"), code, verify);
    }
    let mut stdout = String::new();
    if o.head {
        stdout.push_str(&headers);
    } else if !out_null {
        if o.include {
            stdout.push_str(&headers);
        }
        stdout.push_str(&body);
    }
    stdout.push_str(&o.write_out(code, verify));
    Transfer { stdout, error: None }
}

/// An HTTPS request to a load balancer's address (its certificate is what curl verifies).
fn lb_tls(w: &World, addr: &str, scheme: &str) -> bool {
    scheme == "https"
        && w.compute
            .forwarding_rules
            .values()
            .chain(w.compute.global_forwarding_rules.values())
            .any(|f| f["IPAddress"].as_str() == Some(addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(stdout: &str, stderr: &str, exit: i32) -> ExecResult {
        ExecResult {
            stdout: stdout.into(),
            stderr: stderr.into(),
            exit: Some(exit),
            start_error: None,
        }
    }

    fn ids(r: &ExecResult, s: Streams) -> Vec<u8> {
        frames(r, s).into_iter().map(|(id, _)| id).collect()
    }

    #[test]
    fn several_urls_are_fetched_in_turn_and_fail_early_stops_at_the_first_failure() {
        let w = crate::scenario::world(crate::world::SimConfig::default(), "http://127.0.0.1:1".into());
        let run = |extra: &[&str], urls: &[&str]| {
            let a = [
                "-sS",
                "-o",
                "/dev/null",
                "-o",
                "/dev/null",
                "-w",
                "\\n%{http_code}\\nEND\\n",
            ]
            .iter()
            .chain(extra)
            .chain(urls)
            .map(|s| s.to_string())
            .collect::<Vec<String>>();
            curl(&w, "kasten-io", &a)
        };
        // K10 answers (401: the fresh world has basic auth); nothing listens on port 81.
        let (ok, refused) = ("http://gateway/k10/", "http://gateway:81/");
        // A failed transfer still writes -w, with status 000; the last transfer decides the exit code.
        let r = run(&[], &[refused, ok]);
        assert_eq!((r.exit, r.stdout.as_str()), (Some(0), "\n000\nEND\n\n401\nEND\n"));
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.starts_with("curl: (7) "), "{}", r.stderr);
        assert_eq!(run(&[], &[ok, refused]).exit, Some(7));
        // --fail-early: the first failure ends the run, with its code.
        let r = run(&["--fail-early"], &[refused, ok]);
        assert_eq!((r.exit, r.stdout.as_str()), (Some(7), "\n000\nEND\n"));
        let r = run(&["--fail-early"], &[ok, ok]);
        assert_eq!((r.exit, r.stdout.as_str()), (Some(0), "\n401\nEND\n\n401\nEND\n"));
        // Each -o takes one URL: a third URL prints its body.
        let r = run(&[], &[ok, ok, ok]);
        assert!(
            r.stdout.starts_with("\n401\nEND\n\n401\nEND\n") && r.stdout.len() > 30,
            "{}",
            r.stdout
        );
    }

    #[test]
    fn frames_go_only_to_the_streams_the_client_opened_and_the_status_comes_last() {
        let r = result("out\n", "err\n", 3);
        let both = Streams {
            stdout: true,
            stderr: true,
            tty: false,
        };
        assert_eq!(ids(&r, both), [1, 2, 3]);
        let no_stderr = Streams { stderr: false, ..both };
        assert_eq!(ids(&r, no_stderr), [1, 3]);
        let nothing = Streams::default();
        assert_eq!(ids(&r, nothing), [3], "the error stream is always there");
        // A TTY has no separate stderr: the runtime writes both to the terminal.
        let tty = Streams { tty: true, ..both };
        let f = frames(&r, tty);
        assert_eq!(f.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(f[0].1, b"out\nerr\n");
        let status: serde_json::Value = serde_json::from_slice(&f[1].1).unwrap();
        assert_eq!(status["reason"], "NonZeroExitCode");
        assert_eq!(status["details"]["causes"][0]["message"], "3");
        // Nothing to say on an empty stream.
        assert_eq!(ids(&result("", "", 0), both), [3]);
    }
}

//! Following doctor's hints as a user would: the first command in backquotes, split as a POSIX
//! shell splits the plain words and quotes hints use, run with the real client. Shared by
//! tests/fidelity.rs and tests/gateway.rs.

use serde_json::Value;

use super::{ok, which, TestWorld, BIN};

/// Split a command as a POSIX shell would for the plain words and quotes doctor's hints use.
pub fn words(cmd: &str) -> Vec<String> {
    let (mut out, mut cur, mut quote, mut any) = (vec![], String::new(), None, false);
    for c in cmd.chars() {
        match (quote, c) {
            (None, '\'' | '"') => (quote, any) = (Some(c), true),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if any {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (_, c) => (cur, any) = (cur + &c.to_string(), true),
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// The first command in backquotes of a hint.
pub fn first_command(hint: &str) -> Option<String> {
    let rest = hint.split_once('`')?.1;
    Some(rest.split_once('`')?.0.to_string())
}

/// The FAILs of a doctor report.
pub fn fails(v: &Value) -> Vec<Value> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["result"] == "FAIL")
        .cloned()
        .collect()
}

/// `kubectl kasten-ilb ...` through the real kubectl, which finds the plugin on PATH; install is
/// confirmed with `--yes`, as the user answers its question.
pub fn plugin_via_kubectl(w: &TestWorld, args: &[String]) -> Option<std::process::Output> {
    which("kubectl")?;
    let dir = std::path::Path::new(BIN).parent().unwrap().display().to_string();
    let mut args: Vec<String> = args.to_vec();
    if args.get(1).map(String::as_str) == Some("install") {
        args.push("--yes".into());
    }
    let mut envs = w.envs();
    envs.retain(|(k, _)| k != "PATH");
    let path = format!("{dir}:{}", std::env::var("PATH").unwrap_or_default());
    let o = std::process::Command::new("kubectl")
        .env_clear()
        .envs(envs)
        .env("PATH", path)
        .args(&args)
        .output();
    Some(o.expect("kubectl runs"))
}

/// Run the first command of a hint with the real client (None: the client is not installed).
pub fn run_hint(w: &TestWorld, case: &str, hint: &str) -> Option<std::process::Output> {
    let cmd = first_command(hint).unwrap_or_else(|| panic!("{case}: no command in the hint: {hint}"));
    let argv = words(&cmd);
    let rest = || argv[1..].iter().map(String::as_str).collect::<Vec<_>>();
    match argv[0].as_str() {
        "gcloud" => w.gcloud(&rest()),
        "kubectl" if argv.get(1).map(String::as_str) == Some("kasten-ilb") => plugin_via_kubectl(w, &argv[1..]),
        "kubectl" => w.kubectl(&rest()),
        other => panic!("{case}: the hint's command is not gcloud or kubectl: {other}"),
    }
}

/// `curl` of `url` through the real `kubectl exec` in a K10 pod that has curl: (HTTP code, body).
/// None when kubectl is not installed.
pub fn curl_in_cluster(w: &TestWorld, url: &str) -> Option<(u16, String)> {
    let o = curl_exec(w, url)?;
    let out = ok(&o);
    let (body, code) = out.trim_end().rsplit_once('\n').expect("the code after the body");
    Some((code.parse().expect("a code"), body.to_string()))
}

/// The real `kubectl exec` of `curl -s -w '\n%{http_code}' url` in K10's catalog-svc pod, as it
/// ended. None when kubectl is not installed.
pub fn curl_exec(w: &TestWorld, url: &str) -> Option<std::process::Output> {
    w.kubectl(&[
        "-n",
        "kasten-io",
        "exec",
        "deployment/catalog-svc",
        "-c",
        "catalog-svc",
        "--",
        "curl",
        "-s",
        "-w",
        "\\n%{http_code}",
        url,
    ])
}

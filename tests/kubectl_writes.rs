//! The real kubectl's own writes: `kubectl create secret|configmap|ingress|...` send Protobuf
//! (`Content-Type: application/vnd.kubernetes.protobuf`), and gke-sim stores what they meant.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

/// `sent` is contained in `stored`: every non-null field of `sent` is there with the same value.
fn contained(sent: &Value, stored: &Value, at: &str) -> Result<(), String> {
    match (sent, stored) {
        (Value::Null, _) => Ok(()),
        (Value::Object(s), Value::Object(t)) => s.iter().try_for_each(|(k, v)| {
            contained(v, t.get(k).unwrap_or(&Value::Null), &format!("{at}.{k}")).or_else(|e| {
                if v.is_null() {
                    Ok(())
                } else {
                    Err(e)
                }
            })
        }),
        (Value::Array(s), Value::Array(t)) if s.len() == t.len() => s
            .iter()
            .zip(t)
            .enumerate()
            .try_for_each(|(i, (a, b))| contained(a, b, &format!("{at}[{i}]"))),
        _ if sent == stored => Ok(()),
        _ => Err(format!("{at}: sent {sent}, stored {stored}")),
    }
}

/// A self-signed certificate and its key, made now (no key material is committed).
fn cert_and_key(dir: &Path) -> Option<(String, String)> {
    which("openssl").or_else(|| {
        eprintln!("SKIP: `openssl` is not installed; the TLS Secret generator is skipped");
        None
    })?;
    let (crt, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=k10.internal",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .output()
        .expect("openssl runs");
    ok(&out);
    Some((crt.display().to_string(), key.display().to_string()))
}

/// Runs `kubectl create ARGS` for real: it must send Protobuf and succeed, and `kubectl get`
/// must return every field the client-side dry run shows it sent.
fn create_and_read_back(w: &TestWorld, kind: &str, name: &str, args: &[&str]) -> Option<()> {
    let with = |extra: &[&'static str]| [&["-n", "kasten-io", "create"], args, extra].concat();
    let sent: Value = serde_json::from_str(&ok(&w.kubectl(&with(&["--dry-run=client", "-o", "json"]))?)).unwrap();
    // -v=8 logs each request's headers (the token masked).
    let created = w.kubectl(&with(&["-v=8"]))?;
    ok(&created);
    let protobuf = "Content-Type: application/vnd.kubernetes.protobuf";
    assert!(
        stderr(&created).lines().any(|l| l.contains(protobuf)),
        "kubectl create {args:?} did not send Protobuf: {}",
        stderr(&created)
    );
    let stored: Value = serde_json::from_str(&ok(&w.kubectl(&[
        "-n",
        "kasten-io",
        "get",
        kind,
        name,
        "-o",
        "json",
    ])?))
    .unwrap();
    let mut sent = sent;
    sent.as_object_mut().unwrap().remove("status");
    contained(&sent, &stored, kind).unwrap_or_else(|e| panic!("kubectl create {args:?}: {e}"));
    Some(())
}

#[test]
fn kubectls_own_generators_write_in_protobuf_and_read_back_what_they_sent() {
    let w = TestWorld::start("healthy");
    let dir = tempfile::tempdir().unwrap();
    let generators: &[(&str, &str, &[&str])] = &[
        (
            "secret",
            "basic",
            &[
                "secret",
                "generic",
                "basic",
                "--from-literal=username=k10",
                "--from-literal=p=x y",
            ],
        ),
        (
            "configmap",
            "k10-extra",
            &["configmap", "k10-extra", "--from-literal=PREFIX_PATH=/k10"],
        ),
        (
            "ingress",
            "k10-by-hand",
            &[
                "ingress",
                "k10-by-hand",
                "--class=gce-internal",
                "--rule=/k10/*=gateway:80",
            ],
        ),
        ("namespace", "scratch", &["namespace", "scratch"]),
        ("serviceaccount", "probe", &["serviceaccount", "probe"]),
        (
            "deployment",
            "web",
            &["deployment", "web", "--image=nginx", "--replicas=2", "--port=8080"],
        ),
    ];
    for (kind, name, args) in generators {
        if create_and_read_back(&w, kind, name, args).is_none() {
            return;
        }
    }
    let Some((crt, key)) = cert_and_key(dir.path()) else {
        return;
    };
    let cert = format!("--cert={crt}");
    let key = format!("--key={key}");
    create_and_read_back(&w, "secret", "k10-tls", &["secret", "tls", "k10-tls", &cert, &key]);
    let tls = [
        "--rule=k10.internal/k10/*=gateway:80,tls=k10-tls",
        "--class=gce-internal",
    ];
    create_and_read_back(&w, "ingress", "k10-tls", &[&["ingress", "k10-tls"][..], &tls].concat());
}

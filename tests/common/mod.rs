//! Test harness: a gke-sim world per test, the plugin binary with that world's environment, and
//! the real `kubectl` and `gcloud` (skipped, with a message, only where the binary is absent).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use gke_sim::{LoggedRequest, Sim, SimConfig};

pub mod hints;
pub mod tmux;

pub const BIN: &str = env!("CARGO_BIN_EXE_kubectl-kasten_ilb");

pub struct TestWorld {
    pub sim: Sim,
    pub home: tempfile::TempDir,
}

pub fn config(scenario: &str) -> SimConfig {
    SimConfig {
        scenario: scenario.into(),
        lb_delay: Duration::from_millis(300),
        op_delay: Duration::from_millis(50),
        ..SimConfig::default()
    }
}

impl TestWorld {
    pub fn start(scenario: &str) -> TestWorld {
        Self::with(config(scenario))
    }

    pub fn with(cfg: SimConfig) -> TestWorld {
        kubectl_kasten_ilb::init_crypto();
        let sim = Sim::spawn(cfg, None).expect("gke-sim starts");
        TestWorld {
            sim,
            home: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// Environment for every client: nothing from the developer's machine but PATH.
    pub fn envs(&self) -> Vec<(String, String)> {
        let mut e = self.sim.env();
        e.push(("HOME".into(), self.home.path().display().to_string()));
        e.push(("PATH".into(), std::env::var("PATH").unwrap_or_default()));
        e.push(("NO_COLOR".into(), "1".into()));
        e.push(("KASTEN_ILB_USE_METADATA_SERVER".into(), "0".into()));
        e.push((
            "KUBECACHEDIR".into(),
            self.home.path().join("kcache").display().to_string(),
        ));
        e
    }

    /// The plugin binary, with this world's environment.
    pub fn plugin(&self) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::new(BIN);
        c.env_clear().envs(self.envs()).timeout(Duration::from_secs(120));
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.plugin().args(args).output().expect("plugin runs")
    }

    fn client(&self, bin: &str, args: &[&str]) -> Option<Output> {
        if which(bin).is_none() {
            eprintln!("SKIP: `{bin}` is not installed on this machine; the fidelity part of this test is skipped");
            return None;
        }
        let out = std::process::Command::new(bin)
            .env_clear()
            .envs(self.envs())
            .args(args)
            .output()
            .expect("client runs");
        Some(out)
    }

    pub fn kubectl(&self, args: &[&str]) -> Option<Output> {
        let cache = self.home.path().join("kcache").display().to_string();
        let mut all: Vec<&str> = vec!["--cache-dir", &cache];
        all.extend_from_slice(args);
        self.client("kubectl", &all)
    }

    pub fn gcloud(&self, args: &[&str]) -> Option<Output> {
        self.client("gcloud", args)
    }

    /// Requests that change something (anything but reads).
    pub fn writes(&self) -> Vec<LoggedRequest> {
        self.sim.requests().into_iter().filter(is_write).collect()
    }

    pub fn fingerprint(&self) -> String {
        self.sim.world().fingerprint()
    }
}

pub fn is_write(r: &LoggedRequest) -> bool {
    match r.method.as_str() {
        "GET" | "HEAD" => false,
        "POST" => {
            let p = &r.path;
            !(p.ends_with("/getHealth")
                || p.ends_with("/listNetworkEndpoints")
                || p.ends_with(":testIamPermissions")
                || p.ends_with("/wait")
                || p.contains("selfsubjectaccessreviews")
                || p == "/token")
        }
        _ => true,
    }
}

/// `doctor -o json` (plus `extra` flags) in this world: (exit status, the report).
pub fn doctor_report(w: &TestWorld, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["doctor", "-o", "json"];
    args.extend_from_slice(extra);
    let o = w.run(&args);
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", both(&o)));
    (o.status.code().unwrap_or(-1), v)
}

/// One check of a doctor report, by id.
pub fn check_of<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no check {id} in {report}"))
}

/// Copies the executable `from` to `to`, ready to run. The copy is written by a child process
/// (`cp`), never by this one: tests run on many threads, and a child that another thread forks
/// while this process has the new file open for writing inherits that descriptor until it execs,
/// so running the file just written fails now and then with ETXTBSY ("Text file busy"). A renamed
/// temporary file would not help (the inode stays open); a child's descriptors close when it exits.
pub fn install_executable(from: &Path, to: &Path) {
    let o = std::process::Command::new("cp")
        .arg("--")
        .arg(from)
        .arg(to)
        .output()
        .expect("cp runs");
    ok(&o);
}

pub fn which(bin: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(bin)).find(|p| p.is_file()))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn both(o: &Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

/// Assert success, printing everything the command said when it did not succeed.
pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
    stdout(o)
}

/// Replace what changes from run to run (timings) for snapshots.
pub fn stable(s: &str) -> String {
    let mut out = String::new();
    for line in s.lines() {
        let mut l = line.to_string();
        for unit in ["s"] {
            // "after 1.2s", "Done in 0.9s"
            let mut res = String::new();
            let chars: Vec<char> = l.chars().collect();
            let mut i = 0;
            while i < chars.len() {
                if chars[i].is_ascii_digit() {
                    let start = i;
                    while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                        i += 1;
                    }
                    let num: String = chars[start..i].iter().collect();
                    if num.contains('.')
                        && i < chars.len()
                        && chars[i].to_string() == unit
                        && (i + 1 == chars.len() || !chars[i + 1].is_alphanumeric())
                    {
                        res.push_str("[T]");
                    } else {
                        res.push_str(&num);
                    }
                    continue;
                }
                res.push(chars[i]);
                i += 1;
            }
            l = res;
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

//! Fleet: `doctor --all-contexts` against `gke-sim --clusters N` (one process, many clusters), with
//! the rows a fleet must survive: unreachable, non-GKE, expired credential, a missing
//! `gke-gcloud-auth-plugin`, a second context for one cluster, a cluster slower than its deadline,
//! and Google answering 429/503 now and then.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gke_sim::fleet::{
    self, FleetConfig, FleetSim, ALIAS_CONTEXT, EXPIRED_CONTEXT, NON_GKE_CONTEXT, OVERLOADED_CONTEXT,
};
use gke_sim::SimConfig;
use serde_json::{json, Value};

use common::{both, stderr, BIN};

/// The context whose user needs an exec credential plugin that is not installed.
const PLUGIN_CONTEXT: &str = "gke_kasten-fleet-prod_us-central1-a_needs-plugin";

struct FleetWorld {
    sim: FleetSim,
    home: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl FleetWorld {
    fn start(clusters: usize, latency: Duration) -> FleetWorld {
        let cfg = SimConfig {
            latency,
            ..common::config("healthy")
        };
        let fc = FleetConfig {
            clusters,
            extras: true,
            ..FleetConfig::default()
        };
        FleetWorld::start_with(cfg, fc)
    }

    fn start_with(cfg: SimConfig, fc: FleetConfig) -> FleetWorld {
        kubectl_kasten_ilb::init_crypto();
        let sim = FleetSim::spawn(cfg, fc, None).expect("the fleet starts");
        let home = tempfile::tempdir().expect("tempdir");
        let kubeconfig = home.path().join("kubeconfig");
        write_with_plugin_context(&sim.kubeconfig_path(), &kubeconfig, &sim.base_url);
        FleetWorld { sim, home, kubeconfig }
    }

    /// The sim's environment; PATH is an empty directory, so no exec plugin can be found.
    fn envs(&self) -> Vec<(String, String)> {
        let mut e = self.sim.env();
        e.retain(|(k, _)| k != "KUBECONFIG");
        let empty = self.home.path().join("empty-path");
        std::fs::create_dir_all(&empty).unwrap();
        e.push(("KUBECONFIG".into(), self.kubeconfig.display().to_string()));
        e.push(("HOME".into(), self.home.path().display().to_string()));
        e.push(("PATH".into(), empty.display().to_string()));
        e.push(("NO_COLOR".into(), "1".into()));
        e.push(("KASTEN_ILB_USE_METADATA_SERVER".into(), "0".into()));
        e
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        assert_cmd::Command::new(BIN)
            .env_clear()
            .envs(self.envs())
            .args(args)
            .timeout(Duration::from_secs(240))
            .output()
            .expect("plugin runs")
    }

    fn kubectl(&self, args: &[&str]) -> Option<std::process::Output> {
        let kubectl = common::which("kubectl")?;
        let cache = self.home.path().join("kcache").display().to_string();
        let mut env = self.envs();
        env.retain(|(k, _)| k != "PATH");
        let out = std::process::Command::new(kubectl)
            .env_clear()
            .envs(env)
            .args(["--cache-dir", &cache])
            .args(args)
            .output()
            .expect("kubectl runs");
        Some(out)
    }
}

/// The sim's kubeconfig plus a context whose credentials come from `gke-gcloud-auth-plugin`.
fn write_with_plugin_context(from: &Path, to: &Path, base: &str) {
    let mut kc: Value = serde_json::from_str(&std::fs::read_to_string(from).unwrap()).unwrap();
    let exec = json!({"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "gke-gcloud-auth-plugin",
                      "provideClusterInfo": true, "interactiveMode": "IfAvailable"});
    let server = format!("{base}/clusters/needs-plugin");
    kc["clusters"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": PLUGIN_CONTEXT, "cluster": {"server": server}}));
    kc["users"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": PLUGIN_CONTEXT, "user": {"exec": exec}}));
    kc["contexts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": PLUGIN_CONTEXT, "context": {"cluster": PLUGIN_CONTEXT, "user": PLUGIN_CONTEXT}}));
    std::fs::write(to, serde_json::to_string_pretty(&kc).unwrap()).unwrap();
}

fn context_of(i: usize) -> String {
    let (_, p) = fleet::ROTATION[i % fleet::ROTATION.len()];
    let p = &fleet::PROJECTS[p];
    format!("gke_{}_{}_{}", p.id, p.zones[0], fleet::cluster_name(i))
}

/// Rows of the JSON report by context.
fn rows(doc: &Value) -> BTreeMap<String, Value> {
    doc["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .map(|c| (c["context"].as_str().unwrap().to_string(), c.clone()))
        .collect()
}

fn assert_row(rows: &BTreeMap<String, Value>, ctx: &str, verdict: &str, first: Option<&str>) {
    let r = rows
        .get(ctx)
        .unwrap_or_else(|| panic!("no row for {ctx} in {:?}", rows.keys()));
    assert_eq!(r["verdict"], verdict, "{ctx}: {r:#}");
    match first {
        Some(check) => assert_eq!(r["firstFail"]["check"], check, "{ctx}: {r:#}"),
        None => assert!(r["firstFail"].is_null(), "{ctx}: {r:#}"),
    }
}

fn assert_error(rows: &BTreeMap<String, Value>, ctx: &str, message: &str, hint: &str) {
    let r = rows.get(ctx).unwrap_or_else(|| panic!("no row for {ctx}"));
    assert_eq!(r["verdict"], "ERROR", "{ctx}: {r:#}");
    assert_eq!(r["exitStatus"], 2, "{ctx}: {r:#}");
    assert!(r["report"].is_null(), "{ctx}: {r:#}");
    let (m, h) = (
        r["error"]["message"].as_str().unwrap(),
        r["error"]["hint"].as_str().unwrap(),
    );
    assert!(m.contains(message), "{ctx}: `{m}` does not say `{message}`");
    assert!(h.contains(hint), "{ctx}: `{h}` does not say `{hint}`");
}

#[test]
fn a_mixed_fleet_gives_the_right_row_for_each_cluster_json_and_junit() {
    let w = FleetWorld::start(10, Duration::from_millis(5));
    let junit = w.home.path().join("doctor.xml");
    let o = w.run(&[
        "doctor",
        "--all-contexts",
        "-o",
        "json",
        "--parallel",
        "3",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    // The worst of the fleet: clusters that could not be checked.
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", both(&o)));
    assert_eq!(doc["schemaVersion"], 1);
    let rows = rows(&doc);
    // Healthy clusters WARN only for K10's basic auth over HTTP (doctor's `https` check).
    for i in [0, 1, 3, 5, 9] {
        assert_row(&rows, &context_of(i), "WARN", None);
        assert_eq!(rows[&context_of(i)]["mode"], "Ingress");
    }
    // Cluster 7 serves the dashboard through install's Gateway (the `https` check reads Ingresses).
    assert_row(&rows, &context_of(7), "PASS", None);
    assert_eq!(rows[&context_of(7)]["mode"], "Gateway");
    assert_row(&rows, &context_of(2), "FAIL", Some("Firewall"));
    assert_row(&rows, &context_of(4), "FAIL", Some("K10"));
    assert_row(&rows, &context_of(6), "FAIL", Some("Proxy-only subnet"));
    assert_row(&rows, &context_of(8), "FAIL", Some("Ingress"));
    assert_error(&rows, EXPIRED_CONTEXT, "rejected the credentials", "get-credentials");
    assert_error(
        &rows,
        NON_GKE_CONTEXT,
        "does not look like a GKE cluster",
        "get-credentials",
    );
    assert_error(&rows, fleet::UNREACHABLE_CONTEXT, "cannot reach", "reachable");
    assert_error(
        &rows,
        PLUGIN_CONTEXT,
        "gke-gcloud-auth-plugin",
        "gcloud components install",
    );
    // A second context for cluster 0 is an alias of its row, not a row.
    assert!(!rows.contains_key(ALIAS_CONTEXT));
    assert_eq!(rows[&context_of(0)]["aliases"], json!([ALIAS_CONTEXT]));
    assert_eq!(rows.len(), 14);
    // Each report is single doctor's, and the fleet is sorted worst first.
    let healthy = &rows[&context_of(1)]["report"];
    assert_eq!(healthy["context"], context_of(1));
    assert_eq!(healthy["summary"]["pass"], 17, "{healthy:#}");
    assert_eq!(healthy["summary"]["warn"], 1, "{healthy:#}");
    let verdicts: Vec<&str> = doc["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["verdict"].as_str().unwrap())
        .collect();
    let rank = |v: &str| ["ERROR", "FAIL", "WARN", "PASS"].iter().position(|x| *x == v).unwrap();
    assert!(verdicts.windows(2).all(|p| rank(p[0]) <= rank(p[1])), "{verdicts:?}");
    assert_eq!(doc["summary"]["error"], 4);
    assert_eq!(doc["summary"]["fail"], 4);
    assert_junit(&std::fs::read_to_string(&junit).unwrap(), &rows);
    assert_concurrency_bounded(&w, 3);
    assert_duplicates_checked_once(&w);
}

fn assert_junit(xml: &str, rows: &BTreeMap<String, Value>) {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("invalid JUnit XML: {e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root.children().filter(|n| n.has_tag_name("testsuite")).collect();
    assert_eq!(suites.len(), rows.len());
    let suite = |ctx: &str| *suites.iter().find(|s| s.attribute("name") == Some(ctx)).expect(ctx);
    // One test case per check; a FAIL carries its finding and hint.
    let fw = suite(&context_of(2));
    let checks = rows[&context_of(2)]["report"]["checks"].as_array().unwrap().len();
    assert_eq!(checks, 19, "the chain's 14 checks and the 5 security checks");
    assert_eq!(fw.children().filter(|n| n.has_tag_name("testcase")).count(), checks);
    let failure = fw.descendants().find(|n| n.has_tag_name("failure")).expect("a failure");
    assert!(failure.attribute("message").unwrap().contains("tcp:80"));
    assert!(failure.text().unwrap().contains("gcloud compute firewall-rules create"));
    let blocked = fw.descendants().filter(|n| n.has_tag_name("skipped")).count();
    assert!(blocked >= 1, "checks blocked by the firewall are skipped");
    let ok = suite(&context_of(0));
    assert_eq!(ok.attribute("failures"), Some("0"));
    let err = suite(EXPIRED_CONTEXT)
        .descendants()
        .find(|n| n.has_tag_name("error"))
        .expect("an error");
    assert!(err.attribute("message").unwrap().contains("Unauthorized"));
    assert_eq!(root.attribute("errors"), Some("4"));
}

/// The simulator's log: never more than `parallel` clusters in flight, and more than one at once.
fn assert_concurrency_bounded(w: &FleetWorld, parallel: usize) {
    let log = w.sim.requests();
    let max = fleet::max_clusters_in_flight(&log);
    assert!(max <= parallel, "{max} clusters in flight with --parallel {parallel}");
    assert!(max > 1, "the clusters were checked one at a time");
}

fn assert_duplicates_checked_once(w: &FleetWorld) {
    let nodes = |c: &str| {
        let t = format!("cluster:{c}");
        w.sim
            .requests()
            .iter()
            .filter(|r| r.target == t && r.path.ends_with("/api/v1/nodes"))
            .count()
    };
    assert!(nodes(&fleet::cluster_name(3)) >= 1);
    assert_eq!(
        nodes(&fleet::cluster_name(0)),
        nodes(&fleet::cluster_name(3)),
        "cluster 0 has two contexts"
    );
}

#[test]
fn the_table_is_worst_first_with_a_summary_and_contexts_are_picked_by_regex() {
    let w = FleetWorld::start(4, Duration::ZERO);
    let o = w.run(&["doctor", "--contexts", "fleet-00[12],^kind-", "--parallel", "2"]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    let out = common::stdout(&o);
    let at = |s: &str| out.find(s).unwrap_or_else(|| panic!("no {s} in\n{out}"));
    assert!(at(NON_GKE_CONTEXT) < at(&context_of(2)) && at(&context_of(2)) < at(&context_of(1)));
    assert!(!out.contains(&context_of(0)) && !out.contains(&context_of(3)), "{out}");
    assert!(
        out.contains("Summary: 3 clusters: 0 PASS, 1 WARN, 1 FAIL, 1 ERROR"),
        "{out}"
    );
    assert!(out.contains(&format!(
        "hint ({}): `gcloud compute firewall-rules create",
        context_of(2)
    )));
    // Piped: no progress lines.
    assert!(!stderr(&o).contains("Checked"), "{}", stderr(&o));
    let o = w.run(&["doctor", "--contexts", "^nothing-matches$"]);
    assert_eq!(o.status.code(), Some(64), "{}", both(&o));
    assert!(
        stderr(&o).contains("no context of the kubeconfig matches"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn kubectl_works_against_the_contexts_of_a_fleet() {
    let w = FleetWorld::start(3, Duration::ZERO);
    let Some(o) = w.kubectl(&[
        "--context",
        &context_of(1),
        "get",
        "ingress",
        "-n",
        "kasten-io",
        "-o",
        "name",
    ]) else {
        return;
    };
    assert_eq!(
        common::stdout(&o).trim(),
        "ingress.networking.k8s.io/k10-ingress",
        "{}",
        both(&o)
    );
    let o = w.kubectl(&[
        "--context",
        &context_of(2),
        "get",
        "nodes",
        "-o",
        "jsonpath={.items[0].spec.providerID}",
    ]);
    let o = o.unwrap();
    assert!(
        common::stdout(&o).starts_with("gce://kasten-fleet-dev/us-east1-b/"),
        "{}",
        both(&o)
    );
    let o = w
        .kubectl(&[
            "--context",
            NON_GKE_CONTEXT,
            "get",
            "nodes",
            "-o",
            "jsonpath={.items[*].spec}",
        ])
        .unwrap();
    assert!(
        o.status.success() && !common::stdout(&o).contains("providerID"),
        "{}",
        both(&o)
    );
    let o = w.kubectl(&["--context", EXPIRED_CONTEXT, "get", "ns"]).unwrap();
    assert!(
        !o.status.success() && stderr(&o).contains("provide credentials"),
        "{}",
        both(&o)
    );
}

#[test]
fn status_over_a_fleet_gives_a_row_per_cluster() {
    let w = FleetWorld::start(8, Duration::ZERO);
    let junit = w.home.path().join("status.xml");
    let o = w.run(&[
        "status",
        "--contexts",
        "fleet-00[17]$,^kind-",
        "-o",
        "json",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    // The non-GKE context could not be checked: the worst of the fleet.
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", both(&o)));
    let rows = rows(&doc);
    assert_eq!(rows.len(), 3, "{doc:#}");
    // Cluster 1's Ingress is the blog recipe's: shown with its address, drift not tracked.
    let r = &rows[&context_of(1)];
    assert_eq!(r["verdict"], "UNMANAGED", "{r:#}");
    assert_eq!(r["exitStatus"], 0, "{r:#}");
    assert_eq!(r["mode"], "Ingress", "{r:#}");
    assert!(r["firstFail"].is_null(), "{r:#}");
    let url = r["report"]["url"]
        .as_str()
        .expect("the recipe's Ingress has an address");
    let note = r["note"].as_str().unwrap();
    assert!(
        note.starts_with(url) && note.contains("not made by kubectl-kasten-ilb"),
        "{note}"
    );
    assert_eq!(r["report"]["managed"], false, "{r:#}");
    // Cluster 7's Gateway is install's.
    assert_row(&rows, &context_of(7), "PASS", None);
    assert_eq!(rows[&context_of(7)]["mode"], "Gateway");
    assert_eq!(rows[&context_of(7)]["report"]["managed"], true);
    assert_error(
        &rows,
        NON_GKE_CONTEXT,
        "does not look like a GKE cluster",
        "get-credentials",
    );
    assert_eq!(doc["summary"]["unmanaged"], 1);
    let xml = std::fs::read_to_string(&junit).unwrap();
    let x = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("invalid JUnit XML: {e}\n{xml}"));
    assert_eq!(x.root_element().attribute("name"), Some("kubectl kasten-ilb status"));
    assert_eq!(x.descendants().filter(|n| n.has_tag_name("testcase")).count(), 3);
    assert_eq!(x.root_element().attribute("failures"), Some("0"), "{xml}");
    let out = x
        .descendants()
        .find(|n| n.has_tag_name("system-out"))
        .expect("the note");
    assert!(out.text().unwrap().contains("not made by kubectl-kasten-ilb"), "{xml}");
    // A Gateway someone else wrote (no managed-by label): shown as well, through its route.
    {
        let member = w.sim.fleet.member(&fleet::cluster_name(7)).unwrap();
        let mut world = member.world.lock().unwrap();
        let g = world
            .kube_get_mut("Gateway", "kasten-io", "k10-ilb")
            .expect("install's Gateway");
        g["metadata"].as_object_mut().unwrap().remove("labels");
    }
    let o = w.run(&["status", "--context", &context_of(7)]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let screen = common::stdout(&o);
    assert!(
        screen.starts_with("Gateway    kasten-io/k10-ilb (class gke-l7-rilb)"),
        "{screen}"
    );
    assert!(
        screen.contains("Note       not made by kubectl-kasten-ilb") && screen.contains("/k10"),
        "{screen}"
    );
}

#[test]
fn status_on_a_front_end_install_did_not_make_agrees_between_one_cluster_and_the_fleet() {
    let w = FleetWorld::start(2, Duration::ZERO);
    // One cluster: the screen shows the recipe's Ingress and says who did not make it.
    let one = w.run(&["status", "--context", &context_of(1)]);
    assert_eq!(one.status.code(), Some(0), "{}", both(&one));
    let screen = common::stdout(&one);
    assert!(screen.contains("Ingress    kasten-io/k10-ingress"), "{screen}");
    assert!(screen.contains("Note       not made by kubectl-kasten-ilb"), "{screen}");
    assert!(screen.contains("Drift      not tracked"), "{screen}");
    assert!(screen.contains("Backends   "), "{screen}");
    let single: Value = serde_json::from_slice(&w.run(&["status", "--context", &context_of(1), "-o", "json"]).stdout)
        .expect("status JSON");
    // The fleet: the same document in the row, the same exit status, and the note in the table.
    let o = w.run(&["status", "--contexts", "fleet-001$"]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let table = common::stdout(&o);
    assert!(table.contains("UNMANAGED"), "{table}");
    assert!(table.contains(single["url"].as_str().unwrap()), "{table}");
    assert!(
        table.contains("Summary: 1 clusters: 0 PASS, 1 UNMANAGED, 0 WARN, 0 FAIL, 0 ERROR"),
        "{table}"
    );
    let o = w.run(&["status", "--contexts", "fleet-001$", "-o", "json"]);
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", both(&o)));
    let mut report = doc["clusters"][0]["report"].clone();
    let mut single = single;
    // Events carry counts that may move between the two runs.
    report.as_object_mut().unwrap().remove("events");
    single.as_object_mut().unwrap().remove("events");
    assert_eq!(report, single);
    // With nothing serving the dashboard, both still say install makes one (exit 2).
    w.sim
        .fleet
        .member(&fleet::cluster_name(1))
        .unwrap()
        .world
        .lock()
        .unwrap()
        .kube_delete("Ingress", "kasten-io", "k10-ingress");
    let one = w.run(&["status", "--context", &context_of(1)]);
    assert_eq!(one.status.code(), Some(2), "{}", both(&one));
    let o = w.run(&["status", "--contexts", "fleet-001$", "-o", "json"]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_error(
        &rows(&doc),
        &context_of(1),
        "no Ingress or Gateway",
        "kubectl kasten-ilb install",
    );
}

/// A fleet whose cluster 1 is slower than the others and one more cluster that answers after an
/// hour: the per-cluster deadline turns that one into an ERROR row; the rest finish.
#[test]
fn a_cluster_slower_than_its_deadline_is_an_error_row_and_the_run_does_not_wait_for_it() {
    let slow = Duration::from_millis(150);
    let fc = FleetConfig {
        clusters: 3,
        cluster_latency: [(fleet::cluster_name(1), slow)].into_iter().collect(),
        overloaded: Some(Duration::from_secs(3600)),
        ..FleetConfig::default()
    };
    let w = FleetWorld::start_with(common::config("healthy"), fc);
    let start = Instant::now();
    // A deadline that a healthy cluster meets on a busy machine, far below the overloaded one's.
    let o = w.run(&[
        "doctor",
        "--contexts",
        "fleet-00,overloaded$",
        "-o",
        "json",
        "--per-cluster-timeout",
        "10s",
    ]);
    let wall = start.elapsed();
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(
        wall < Duration::from_secs(60),
        "the run waited for the overloaded cluster: {wall:?}"
    );
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", both(&o)));
    let rows = rows(&doc);
    assert_eq!(rows.len(), 4, "{doc:#}");
    assert_error(
        &rows,
        OVERLOADED_CONTEXT,
        "no answer within 10s (--per-cluster-timeout)",
        "raise --per-cluster-timeout",
    );
    assert_row(&rows, &context_of(0), "WARN", None);
    assert_row(&rows, &context_of(1), "WARN", None);
    assert_row(&rows, &context_of(2), "FAIL", Some("Firewall"));
    // The slow cluster: every answer of its API server came at least its latency after the request.
    let log = w.sim.requests();
    let server = format!("/clusters/{}/", fleet::cluster_name(1));
    let mine: Vec<_> = log
        .iter()
        .filter(|r| r.path.starts_with(&server) && r.end.is_some())
        .collect();
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|r| r.end.unwrap() - r.start >= slow), "{mine:?}");
    let secs = |i: usize| rows[&context_of(i)]["seconds"].as_f64().unwrap();
    assert!(
        secs(1) >= 2.0 * slow.as_secs_f64(),
        "at least two round trips: {}",
        secs(1)
    );
}

/// `--error-rate` in a fleet: Google's 429/503 are drawn per project, Kubernetes' per cluster;
/// retries (and the per-project back-off) still give every cluster its row.
#[test]
fn a_fleet_at_a_moderate_error_rate_still_gives_every_row() {
    let cfg = SimConfig {
        error_rate: 0.15,
        seed: 12,
        ..common::config("healthy")
    };
    let fc = FleetConfig {
        clusters: 10,
        ..FleetConfig::default()
    };
    let w = FleetWorld::start_with(cfg, fc);
    let o = w.run(&["doctor", "--contexts", "_fleet-0", "-o", "json", "--parallel", "4"]);
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", both(&o)));
    let rows = rows(&doc);
    assert_eq!(rows.len(), 10, "{doc:#}");
    assert_eq!(doc["summary"]["error"], 0, "{doc:#}");
    for i in [0, 1, 3, 5, 9] {
        assert_row(&rows, &context_of(i), "WARN", None);
    }
    assert_row(&rows, &context_of(7), "PASS", None);
    assert_row(&rows, &context_of(2), "FAIL", Some("Firewall"));
    assert_row(&rows, &context_of(4), "FAIL", Some("K10"));
    assert_row(&rows, &context_of(6), "FAIL", Some("Proxy-only subnet"));
    assert_row(&rows, &context_of(8), "FAIL", Some("Ingress"));
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    // Errors were answered, to projects and to clusters.
    let failed = w.sim.fleet.injected_errors();
    assert!(failed.keys().any(|k| k.starts_with("project:")), "{failed:?}");
    assert!(failed.keys().any(|k| k.starts_with("cluster:")), "{failed:?}");
}

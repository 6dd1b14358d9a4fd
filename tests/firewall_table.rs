//! One table of VPC firewall cases, two evaluators: the plugin's `firewall::evaluate` (typed
//! rules) and gke-sim's `world::firewall::decide` (Compute's JSON) are separate implementations
//! of Google's semantics. Every row must get the expected verdict from both.

use std::net::Ipv4Addr;

use gke_sim::world::firewall::{self as sim, Dest};
use ipnet::Ipv4Net;
use kubectl_kasten_ilb::firewall::{evaluate, Target, Verdict};
use kubectl_kasten_ilb::gcp::model::Firewall;
use serde_json::{json, Value};

const NET_URL: &str = "https://compute.googleapis.com/compute/v1/projects/p/global/networks/default";
const OTHER_NET_URL: &str = "https://compute.googleapis.com/compute/v1/projects/p/global/networks/corp";
const PROXY: &str = "10.120.0.0/23";
const TAG: &str = "gke-node";
const POD_RANGE: &str = "10.52.0.0/14";
const POD_IP: &str = "10.52.1.10";

/// What should decide: the rule that allows, the rule that denies, or nothing (implied deny).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Allow(&'static str),
    Deny(&'static str),
    NoRule,
}
use Expect::*;

impl Expect {
    fn text(&self) -> String {
        match self {
            Allow(n) => format!("allowed by {n}"),
            Deny(n) => format!("denied by {n}"),
            NoRule => "implied deny".to_string(),
        }
    }
}

struct Row {
    case: &'static str,
    src: &'static str,
    port: u16,
    /// Rules as Compute returns them; `network` defaults to NET_URL, `priority` stays unset
    /// (1000) unless given.
    rules: Vec<Value>,
    expect: Expect,
}

/// An allow rule for tcp `ports` (every port when empty) from `ranges`.
fn a(name: &str, ranges: &[&str], ports: &[&str]) -> Value {
    json!({"name": name, "sourceRanges": ranges, "allowed": [{"IPProtocol": "tcp", "ports": ports}]})
}

/// A deny rule for tcp `ports` from `ranges`.
fn d(name: &str, ranges: &[&str], ports: &[&str]) -> Value {
    json!({"name": name, "sourceRanges": ranges, "denied": [{"IPProtocol": "tcp", "ports": ports}]})
}

/// `rule` with some fields set.
fn with(mut rule: Value, fields: Value) -> Value {
    for (k, v) in fields.as_object().unwrap() {
        rule[k] = v.clone();
    }
    rule
}

/// The proxy-only range to tcp:8000, the usual question.
fn row(case: &'static str, rules: Vec<Value>, expect: Expect) -> Row {
    Row {
        case,
        src: PROXY,
        port: 8000,
        rules,
        expect,
    }
}

fn table() -> Vec<Row> {
    let mut rows = sources();
    rows.extend(protocols_and_ports());
    rows.extend(rule_fields());
    rows.extend(priorities());
    rows.extend(health_checkers());
    rows
}

/// An allow rule must cover every address of the source range.
#[rustfmt::skip]
fn sources() -> Vec<Row> {
    let host = |case, rules, expect| Row { case, src: "10.120.0.5/32", port: 8000, rules, expect };
    vec![
        row("no rules: implied deny", vec![], NoRule),
        row("exact source range", vec![a("r", &[PROXY], &["8000"])], Allow("r")),
        row("wider source range", vec![a("r", &["10.0.0.0/8"], &["8000"])], Allow("r")),
        row("whole internet", vec![a("r", &["0.0.0.0/0"], &["8000"])], Allow("r")),
        row("one of several ranges", vec![a("r", &["192.168.0.0/16", PROXY], &["8000"])], Allow("r")),
        row("narrower range: not every address", vec![a("r", &["10.120.0.0/24"], &["8000"])], NoRule),
        row("bare address: not the whole range", vec![a("r", &["10.120.0.5"], &["8000"])], NoRule),
        host("bare address, traffic from it", vec![a("r", &["10.120.0.5"], &["8000"])], Allow("r")),
        row("other source range", vec![a("r", &["192.168.0.0/16"], &["8000"])], NoRule),
    ]
}

/// An allow rule must cover tcp and the port.
#[rustfmt::skip]
fn protocols_and_ports() -> Vec<Row> {
    let proto = |p: &str| {
        json!({"name": "r", "sourceRanges": [PROXY], "allowed": [{"IPProtocol": p, "ports": ["8000"]}]})
    };
    let other_port = |case, port, expect| {
        Row { case, src: PROXY, port, rules: vec![a("r", &[PROXY], &["80"])], expect }
    };
    vec![
        row("other port (the Service port)", vec![a("r", &[PROXY], &["80"])], NoRule),
        other_port("that port asked for", 80, Allow("r")),
        other_port("a port next to it", 81, NoRule),
        row("port range", vec![a("r", &[PROXY], &["7000-9000"])], Allow("r")),
        row("port range ending at the port", vec![a("r", &[PROXY], &["1-8000"])], Allow("r")),
        row("port range below", vec![a("r", &[PROXY], &["1-7999"])], NoRule),
        row("one of several ports", vec![a("r", &[PROXY], &["80", "443", "8000"])], Allow("r")),
        row("tcp without ports: every port", vec![a("r", &[PROXY], &[])], Allow("r")),
        row("protocol all", vec![json!({"name": "r", "sourceRanges": [PROXY], "allowed": [{"IPProtocol": "all"}]})],
            Allow("r")),
        row("udp only", vec![proto("udp")], NoRule),
        row("TCP in capitals", vec![proto("TCP")], Allow("r")),
    ]
}

/// Only enabled INGRESS rules of the network whose targets are the nodes count.
#[rustfmt::skip]
fn rule_fields() -> Vec<Row> {
    let r = || a("r", &[PROXY], &["8000"]);
    vec![
        row("disabled", vec![with(r(), json!({"disabled": true}))], NoRule),
        row("explicitly enabled", vec![with(r(), json!({"disabled": false}))], Allow("r")),
        row("egress rule", vec![with(r(), json!({"direction": "EGRESS"}))], NoRule),
        row("other network", vec![with(r(), json!({"network": OTHER_NET_URL}))], NoRule),
        row("target tag of the nodes", vec![with(r(), json!({"targetTags": ["web", TAG]}))], Allow("r")),
        row("target tag of other VMs", vec![with(r(), json!({"targetTags": ["web"]}))], NoRule),
        row("target service account: not counted on",
            vec![with(r(), json!({"targetServiceAccounts": ["sa@p.iam.gserviceaccount.com"]}))], NoRule),
        row("destination range of the pods", vec![with(r(), json!({"destinationRanges": [POD_RANGE]}))], Allow("r")),
        row("destination range elsewhere", vec![with(r(), json!({"destinationRanges": ["172.16.0.0/12"]}))], NoRule),
    ]
}

/// The lowest priority number wins; at equal priority, deny beats allow.
#[rustfmt::skip]
fn priorities() -> Vec<Row> {
    let r = || a("r", &[PROXY], &["8000"]);
    let x = || d("x", &[PROXY], &["8000"]);
    let prio = |rule: Value, p: i64| with(rule, json!({"priority": p}));
    vec![
        row("deny alone", vec![x()], Deny("x")),
        row("deny beats allow at equal priority", vec![r(), x()], Deny("x")),
        row("the same, deny listed first", vec![x(), r()], Deny("x")),
        row("lower number wins: allow", vec![prio(r(), 900), x()], Allow("r")),
        row("lower number wins: deny", vec![r(), prio(x(), 999)], Deny("x")),
        row("explicit 1000 is the default", vec![prio(r(), 1000), x()], Deny("x")),
        row("priority 0 allow", vec![prio(r(), 0), prio(x(), 1)], Allow("r")),
        row("deny of part of the range denies", vec![r(), d("x", &["10.120.1.0/24"], &["8000"])], Deny("x")),
        row("deny of a wider range denies", vec![r(), d("x", &["10.0.0.0/8"], &["8000"])], Deny("x")),
        row("deny of another range does not", vec![r(), d("x", &["192.168.0.0/16"], &["8000"])], Allow("r")),
        row("deny on another port does not", vec![r(), d("x", &[PROXY], &["10255"])], Allow("r")),
        row("disabled deny does not", vec![r(), with(x(), json!({"disabled": true}))], Allow("r")),
        row("deny for other VMs does not",
            vec![r(), with(d("x", &["0.0.0.0/0"], &["8000"]), json!({"targetTags": ["web"]}))], Allow("r")),
        row("a 65534 allow loses to a default deny",
            vec![prio(a("r", &["10.128.0.0/9", PROXY], &[]), 65534), d("x", &["0.0.0.0/0"], &["8000"])], Deny("x")),
        row("the best of several allows",
            vec![prio(a("wide", &["0.0.0.0/0"], &[]), 2000), prio(a("narrow", &[PROXY], &["8000"]), 100)],
            Allow("narrow")),
    ]
}

/// Google's health checkers (35.191.0.0/16, 130.211.0.0/22) and GKE's own `k8s-fw-l7` rule, in the
/// `docs` world (health-check ranges only) and the `code` world (plus the proxy-only range).
#[rustfmt::skip]
fn health_checkers() -> Vec<Row> {
    const HC1: &str = "35.191.0.0/16";
    const HC2: &str = "130.211.0.0/22";
    let l7 = |ranges: &[&str]| with(a("k8s-fw-l7--uid", ranges, &["8000"]), json!({"targetTags": [TAG]}));
    let from = |case, src, rules, expect| Row { case, src, port: 8000, rules, expect };
    vec![
        from("GKE's rule: the first health-check range", HC1, vec![l7(&[HC2, HC1])], Allow("k8s-fw-l7--uid")),
        from("GKE's rule: the second health-check range", HC2, vec![l7(&[HC2, HC1])], Allow("k8s-fw-l7--uid")),
        row("GKE's rule, docs world: not the proxies", vec![l7(&[HC2, HC1])], NoRule),
        row("GKE's rule, code world: the proxies too", vec![l7(&[PROXY, HC2, HC1])], Allow("k8s-fw-l7--uid")),
        from("the proxies' rule does not admit the health checkers", HC1, vec![a("r", &[PROXY], &["8000"])], NoRule),
        from("a deny for the health checkers outranks GKE's rule", HC1,
            vec![l7(&[HC2, HC1]), with(d("deny-hc", &[HC1, HC2], &[]), json!({"priority": 900}))], Deny("deny-hc")),
        from("an allow one number lower outranks that deny", HC2,
            vec![with(d("deny-hc", &[HC1, HC2], &[]), json!({"priority": 900})),
                 with(a("hc", &[HC1, HC2], &["8000"]), json!({"priority": 899, "destinationRanges": [POD_RANGE]}))],
            Allow("hc")),
    ]
}

fn plugin_verdict(rules: &[Value], src: &Ipv4Net, port: u16) -> String {
    let typed: Vec<Firewall> = rules
        .iter()
        .map(|r| serde_json::from_value(r.clone()).expect("a Compute firewall"))
        .collect();
    let target = Target {
        node_tags: vec![TAG.to_string()],
        pod_range: Some(POD_RANGE.parse().unwrap()),
    };
    match evaluate(&typed, "default", src, port, &target) {
        Verdict::Allowed(n) => format!("allowed by {n}"),
        Verdict::Denied(n) => format!("denied by {n}"),
        Verdict::NoRule => "implied deny".to_string(),
    }
}

fn sim_verdict(rules: &[Value], src: &Ipv4Net, port: u16) -> String {
    let tags = [TAG.to_string()];
    let to = Dest {
        addr: POD_IP.parse::<Ipv4Addr>().unwrap(),
        port,
        tags: &tags,
    };
    match sim::decide(rules, NET_URL, *src, to) {
        Some(d) if d.allow => format!("allowed by {}", d.rule),
        Some(d) => format!("denied by {}", d.rule),
        None => "implied deny".to_string(),
    }
}

#[test]
fn plugin_and_sim_firewall_evaluators_agree_on_every_row() {
    let mut wrong = vec![];
    let rows = table();
    for r in &rows {
        let rules: Vec<Value> = r
            .rules
            .iter()
            .map(|f| {
                let mut f = f.clone();
                if f.get("network").is_none() {
                    f["network"] = json!(NET_URL);
                }
                f
            })
            .collect();
        let src: Ipv4Net = r.src.parse().unwrap();
        let plugin = plugin_verdict(&rules, &src, r.port);
        let gke_sim = sim_verdict(&rules, &src, r.port);
        let expected = r.expect.text();
        if plugin != expected || gke_sim != expected {
            wrong.push(format!(
                "{}: expected {expected}, plugin {plugin}, gke-sim {gke_sim}",
                r.case
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} rows:\n{}",
        wrong.len(),
        rows.len(),
        wrong.join("\n")
    );
}

#[test]
fn the_table_covers_every_outcome() {
    let rows = table();
    assert!(rows.iter().any(|r| matches!(r.expect, Allow(_))));
    assert!(rows.iter().any(|r| matches!(r.expect, Deny(_))));
    assert!(rows.iter().any(|r| r.expect == NoRule));
}

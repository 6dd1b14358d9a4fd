//! The VPC firewall lets both of the load balancer's sources reach the gateway's container port:
//! Google's health checkers (35.191.0.0/16, 130.211.0.0/22; blocked: backends UNHEALTHY) and the
//! proxies of the proxy-only range (blocked: backends HEALTHY, yet every request fails).

use ipnet::Ipv4Net;
use serde_json::json;

use crate::doctor::{Check, CheckId, Facts};
use crate::firewall::{self, Verdict, HEALTH_CHECK_RANGES};
use crate::gcp::model::Firewall;
use crate::plan;
use crate::state;

/// What is being checked: the rules, where the traffic goes, and the two sources.
struct Ask<'a> {
    f: &'a Facts,
    rules: &'a [Firewall],
    t: firewall::Target,
    proxy: Ipv4Net,
    port: u16,
    hc_port: u16,
}

impl Ask<'_> {
    fn verdict(&self, src: &Ipv4Net, port: u16) -> Verdict {
        firewall::evaluate(self.rules, &self.f.cluster().network, src, port, &self.t)
    }

    /// The verdict for the health checkers: the first range that is not allowed, if any.
    fn health_checkers(&self) -> Option<Verdict> {
        hc_ranges()
            .map(|r| self.verdict(&r, self.hc_port))
            .find(|v| !matches!(v, Verdict::Allowed(_)))
    }
}

fn hc_ranges() -> impl Iterator<Item = Ipv4Net> {
    HEALTH_CHECK_RANGES.iter().map(|r| r.parse().expect("a CIDR"))
}

pub fn check(f: &Facts) -> Check {
    let id = CheckId::Firewall;
    let (vpc, src, port) = (
        f.vpc.as_ref().ok(),
        f.proxy_range(),
        f.k10().and_then(|k| k.container_port),
    );
    let (v, proxy, port) = match (vpc, src, port) {
        (Some(v), Some(src), Some(port)) => (v, src, port as u16),
        (_, None, _) => {
            let why = "there is no ACTIVE proxy-only subnet to allow";
            return Check::blocked(id, CheckId::ProxySubnet, why);
        }
        (_, _, None) => return Check::blocked(id, CheckId::K10, "the gateway's container port is unknown"),
        (None, _, _) => return Check::blocked(id, CheckId::ProxySubnet, "the VPC could not be read"),
    };
    let t = firewall::Target {
        node_tags: v.node_tags.clone(),
        pod_range: f.cluster().pod_range.parse().ok(),
    };
    // Google's health checkers probe the serving port, or the BackendConfig's fixed
    // `healthCheck.port` (ingress-gce's own rule opens that port too, in the code's world).
    let hc_port = f
        .backend_config
        .as_ref()
        .and_then(|bc| bc["spec"]["healthCheck"]["port"].as_u64())
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(port);
    let ask = Ask {
        f,
        rules: &v.firewalls,
        t,
        proxy,
        port,
        hc_port,
    };
    let verdict = ask.verdict(&proxy, port);
    let hc = ask.health_checkers();
    let ev = evidence(&ask, &verdict);
    let check = match (verdict, hc) {
        (Verdict::Allowed(rule), None) => allowed(&ask, &rule),
        // GKE writes its own rule for the health checkers when it builds the backends.
        (Verdict::Allowed(rule), Some(Verdict::NoRule)) if f.bs.is_none() && f.hc.is_none() => allowed(&ask, &rule),
        (Verdict::Allowed(_), Some(hc)) => health_checkers_blocked(&ask, &hc),
        (Verdict::Denied(rule), _) => {
            let why = format!(
                "`{rule}` denies {proxy} -> tcp:{port} (it outranks every allow rule): the proxies cannot \
                 connect, so even with HEALTHY backends every request fails (503)"
            );
            Check::fail(id, why).hint(outrank(&ask, &rule, Source::Proxies))
        }
        (Verdict::NoRule, _) => no_proxy_rule(&ask),
    };
    check.evidence(ev)
}

fn evidence(ask: &Ask, verdict: &Verdict) -> serde_json::Value {
    let c = ask.f.cluster();
    let world = firewall::open_to_world(ask.rules, &c.network, ask.port, &ask.t);
    let wrong = firewall::wrong_port_rules(ask.rules, &c.network, &ask.proxy, ask.port);
    let hc: Vec<_> = hc_ranges()
        .map(|r| {
            let verdict = format!("{:?}", ask.verdict(&r, ask.hc_port));
            json!({"range": r.to_string(), "port": ask.hc_port, "verdict": verdict})
        })
        .collect();
    json!({
        "proxyRange": ask.proxy.to_string(), "containerPort": ask.port, "verdict": format!("{verdict:?}"),
        "healthCheckRanges": hc, "openToWorld": world, "wrongPort": wrong,
    })
}

fn allowed(ask: &Ask, rule: &str) -> Check {
    let (id, src, port) = (CheckId::Firewall, ask.proxy, ask.port);
    let c = ask.f.cluster();
    let world = firewall::open_to_world(ask.rules, &c.network, port, &ask.t);
    if world.is_empty() {
        return Check::pass(id, format!("`{rule}` lets {src} reach tcp:{port} on the pods"));
    }
    Check::warn(
        id,
        format!(
            "`{rule}` lets {src} reach tcp:{port}, but {} open(s) tcp:{port} to 0.0.0.0/0",
            world.join(", ")
        ),
    )
    .hint(format!("restrict the source ranges of {}", world.join(", ")))
}

fn no_proxy_rule(ask: &Ask) -> Check {
    let (src, port) = (ask.proxy, ask.port);
    let c = ask.f.cluster();
    let wrong = firewall::wrong_port_rules(ask.rules, &c.network, &src, port);
    let why = match wrong.first() {
        Some((n, ports)) => format!(
            "`{n}` allows {} from {src}, but the load balancer connects to the container port tcp:{port}, \
             not the Service port",
            ports.join(",")
        ),
        None => format!("no enabled INGRESS rule lets {src} reach tcp:{port} on the pods"),
    };
    let cmd = create(ask, Source::Proxies, None);
    let hint = for_host_admin(ask, &cmd)
        .unwrap_or_else(|| format!("`{cmd}` (or `kubectl kasten-ilb install -n {}`)", ask.f.namespace));
    Check::fail(CheckId::Firewall, why).hint(hint)
}

/// On a Shared VPC whose host project does not let the caller create firewall rules: `cmd` is for
/// the host's network admin.
fn for_host_admin(ask: &Ask, cmd: &str) -> Option<String> {
    let Some(Ok(h)) = &ask.f.denied_host else { return None };
    h.missing.iter().any(|p| p == "compute.firewalls.create").then(|| {
        format!(
            "you may not create firewall rules in Shared VPC host project {}: ask its network admin to run `{cmd}`",
            h.project
        )
    })
}

fn health_checkers_blocked(ask: &Ask, hc: &Verdict) -> Check {
    let (ranges, port) = (HEALTH_CHECK_RANGES.join(", "), ask.hc_port);
    let effect = "the backends turn UNHEALTHY and the load balancer answers 503 (no healthy upstream)";
    let (why, hint) = match hc {
        Verdict::Denied(rule) => (
            format!("`{rule}` denies Google's health checkers ({ranges}) -> tcp:{port}: {effect}"),
            outrank(ask, rule, Source::HealthCheckers),
        ),
        _ => match super::xpn::command(ask.f) {
            Some(cmd) => xpn_blocked(ask, &cmd, effect),
            None => (
                format!(
                    "no enabled INGRESS rule lets Google's health checkers ({ranges}) reach tcp:{port} (GKE's own \
                     `k8s-fw-l7--…` rule is missing; on a Shared VPC see the controller's XPN events): {effect}"
                ),
                {
                    let cmd = create(ask, Source::HealthCheckers, None);
                    for_host_admin(ask, &cmd).unwrap_or_else(|| format!("`{cmd}`"))
                },
            ),
        },
    };
    Check::fail(CheckId::Firewall, why).hint(hint)
}

/// GKE's service agent may not write its rule in the Shared VPC host project: the controller's XPN
/// event has the command for the host's network admin.
fn xpn_blocked(ask: &Ask, cmd: &str, effect: &str) -> (String, String) {
    let np = &ask.f.cluster().network_project;
    (
        format!(
            "GKE may not write its `k8s-fw-l7--…` rule for Google's health checkers ({}) in Shared VPC host \
             project `{np}` (XPN event: \"Firewall change required by security admin\"): {effect}",
            HEALTH_CHECK_RANGES.join(", ")
        ),
        format!("`{cmd}` (run by a network admin of `{np}`)"),
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Proxies,
    HealthCheckers,
}

/// The name of the rule that lets `src` in (the one install makes for the proxies).
fn rule_name(ask: &Ask, src: Source) -> String {
    let c = ask.f.cluster();
    match src {
        Source::Proxies => plan::firewall_name(&c.r.cluster, i32::from(ask.port)),
        Source::HealthCheckers => {
            let base: String = format!("kasten-ilb-{}", c.r.cluster).chars().take(45).collect();
            format!("{}-hc-to-{}", base.trim_end_matches('-'), ask.hc_port)
        }
    }
}

/// The one command that makes the allow rule for `src`, with a priority when it must outrank a deny.
/// The proxies' rule carries install's ownership marker as its description, so `kubectl kasten-ilb
/// uninstall` removes a rule made from this hint like one install made.
fn create(ask: &Ask, src: Source, priority: Option<i64>) -> String {
    let c = ask.f.cluster();
    let (ranges, port, marker) = match src {
        Source::Proxies => (
            ask.proxy.to_string(),
            ask.port,
            // Without its backquotes, so the hint's command stays one backquoted span.
            format!(
                " --description={}",
                plan::sh_quote(&state::gcp_marker(c).replace('`', ""))
            ),
        ),
        Source::HealthCheckers => (HEALTH_CHECK_RANGES.join(","), ask.hc_port, String::new()),
    };
    let prio = priority.map(|p| format!(" --priority={p}")).unwrap_or_default();
    format!(
        "gcloud compute firewall-rules create {} --network={} --direction=INGRESS --action=ALLOW --rules=tcp:{port} \
         --source-ranges={ranges} --destination-ranges={}{prio} --project={}{marker}",
        rule_name(ask, src),
        c.network,
        c.pod_range,
        c.network_project
    )
}

/// One command that lets `src` in despite the deny rule `deny`: an allow rule one priority number
/// lower (updated when it already exists), or, for a priority-0 deny, why there is none.
fn outrank(ask: &Ask, deny: &str, src: Source) -> String {
    let c = ask.f.cluster();
    let p = ask
        .rules
        .iter()
        .find(|r| r.name == deny)
        .and_then(|r| r.priority)
        .unwrap_or(1000);
    if p == 0 {
        return format!(
            "no allow rule can outrank `{deny}` (priority 0): narrow its source ranges so they leave out the \
             load balancer's, or delete it if nothing needs it (`gcloud compute firewall-rules describe {deny} \
             --project={}`)",
            c.network_project
        );
    }
    let name = rule_name(ask, src);
    if ask.rules.iter().any(|r| r.name == name) {
        return format!(
            "`gcloud compute firewall-rules update {name} --priority={} --project={}`",
            p - 1,
            c.network_project
        );
    }
    format!("`{}`", create(ask, src, Some(p - 1)))
}

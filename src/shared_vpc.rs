//! Shared VPC: the VPC belongs to a host project, where the caller is often not a network admin.
//! Before install changes anything, it asks IAM on the host project whether the caller may make
//! the plan's Google changes there; if not, it stops with the exact commands for the host's
//! network admin (each with `--project HOST`), and a rerun resumes once they exist.

use ipnet::Ipv4Net;

use crate::discover::ClusterInfo;
use crate::error;
use crate::firewall::{self, Verdict, HEALTH_CHECK_RANGES};
use crate::plan::{Action, Plan};
use crate::state::{Base, Vpc};

/// The host-project permission a Google step of the plan needs.
fn needs(id: &str, action: Action) -> Option<&'static str> {
    match (id, action) {
        ("proxy-subnet", Action::Create) => Some("compute.subnetworks.create"),
        ("proxy-subnet", Action::Update) => Some("compute.subnetworks.update"),
        ("firewall", Action::Create) => Some("compute.firewalls.create"),
        ("firewall", Action::Update) => Some("compute.firewalls.update"),
        _ => None,
    }
}

/// Stop before any change when the plan writes in a host project the caller may not write in.
pub async fn check(b: &Base, vpc: &Vpc, plan: &Plan) -> anyhow::Result<()> {
    let c = &b.cluster;
    if !c.shared_vpc() {
        return Ok(());
    }
    let wanted: Vec<&str> = plan.steps.iter().filter_map(|s| needs(s.id, s.action)).collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let missing = b.gcp.missing(&c.network_project, &wanted).await?;
    if missing.is_empty() {
        return Ok(());
    }
    let mut commands: Vec<String> = plan
        .steps
        .iter()
        .filter(|s| needs(s.id, s.action).is_some())
        .filter_map(|s| s.command.clone())
        .collect();
    if missing.iter().any(|p| p.starts_with("compute.firewalls.")) {
        commands.extend(health_check_rule(c, vpc, plan.container_port));
    }
    Err(error::failed(
        format!(
            "you may not change VPC network `{}` in its Shared VPC host project `{}` (IAM there does not grant {}); \
             nothing was changed",
            c.network,
            c.network_project,
            missing.join(", ")
        ),
        admin_hint(c, &b.kube.namespace, &commands),
    ))
}

fn admin_hint(c: &ClusterInfo, namespace: &str, commands: &[String]) -> String {
    let list: String = commands.iter().map(|cmd| format!("\n  {cmd}")).collect();
    format!(
        "ask a network admin of host project `{}` to run:{list}\nthen run `kubectl kasten-ilb install -n {namespace}` \
         again: it goes on from there",
        c.network_project
    )
}

/// GKE's own rule lets Google's health checkers in; on a Shared VPC where GKE's service agent may
/// not write it either (its XPN event says so), this rule does the same for the gateway's port.
fn health_check_rule(c: &ClusterInfo, vpc: &Vpc, port: i32) -> Option<String> {
    let target = firewall::Target {
        node_tags: vpc.node_tags.clone(),
        pod_range: c.pod_range.parse().ok(),
    };
    let reached = |r: &&str| {
        let range: Ipv4Net = r.parse().expect("a CIDR");
        matches!(
            firewall::evaluate(&vpc.firewalls, &c.network, &range, port as u16, &target),
            Verdict::Allowed(_)
        )
    };
    if HEALTH_CHECK_RANGES.iter().all(reached) {
        return None;
    }
    let base: String = format!("kasten-ilb-{}", c.r.cluster).chars().take(45).collect();
    Some(format!(
        "gcloud compute firewall-rules create {}-hc-to-{port} --network={} --direction=INGRESS --action=ALLOW \
         --rules=tcp:{port} --source-ranges={} --destination-ranges={} --project={}",
        base.trim_end_matches('-'),
        c.network,
        HEALTH_CHECK_RANGES.join(","),
        c.pod_range,
        c.network_project
    ))
}

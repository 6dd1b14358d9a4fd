//! Step 2: a firewall rule that lets the proxies reach the gateway's container port on the pods.

use ipnet::Ipv4Net;
use serde_json::json;

use crate::discover::ClusterInfo;
use crate::firewall::{self, Verdict};
use crate::gcp::model::Firewall;
use crate::state::{self, Observed, Vpc};

use super::{firewall_name, sh_quote, Change, Notes, Step, FIREWALL};

pub fn step(seen: &Observed, vpc: &Vpc, proxy: Ipv4Net, port: i32, notes: &mut Notes) -> Step {
    let c = &seen.cluster;
    let target = firewall::Target {
        node_tags: vpc.node_tags.clone(),
        pod_range: c.pod_range.parse().ok(),
    };
    let name = firewall_name(&c.r.cluster, port);
    let ours = vpc.firewalls.iter().find(|f| f.name == name);
    match firewall::evaluate(&vpc.firewalls, &c.network, &proxy, port as u16, &target) {
        Verdict::Allowed(rule) => {
            let reason = format!("`{rule}` already lets {proxy} reach tcp:{port} on the cluster");
            if ours.is_some_and(|o| o.name == rule) {
                FIREWALL.noop(rule, reason)
            } else {
                FIREWALL.reuse(rule, reason)
            }
        }
        verdict => {
            if let Verdict::Denied(d) = &verdict {
                notes.warnings.push(format!(
                    "firewall rule `{d}` denies {proxy} -> tcp:{port}; the new rule needs a priority number below \
                     it to win (it gets 1000: check `gcloud compute firewall-rules describe {d}`)"
                ));
            }
            match ours {
                Some(o) => update(c, o, proxy, port),
                None => create(c, vpc, &name, proxy, port),
            }
        }
    }
}

fn update(c: &ClusterInfo, o: &Firewall, proxy: Ipv4Net, port: i32) -> Step {
    let name = &o.name;
    let disabled = if o.disabled { " (it is disabled)" } else { "" };
    FIREWALL.update(
        name.clone(),
        format!("`{name}` exists but does not allow {proxy} -> tcp:{port}{disabled}"),
        format!(
            "gcloud compute firewall-rules update {name} --no-disabled --rules=tcp:{port} --source-ranges={proxy} \
             --project={}",
            c.network_project
        ),
        Change::UpdateFirewall {
            name: name.clone(),
            body: json!({"disabled": false, "sourceRanges": [proxy.to_string()], "destinationRanges": [c.pod_range],
                "allowed": [{"IPProtocol": "tcp", "ports": [port.to_string()]}]}),
        },
    )
}

fn create(c: &ClusterInfo, vpc: &Vpc, name: &str, proxy: Ipv4Net, port: i32) -> Step {
    let np = &c.network_project;
    let body = json!({
        "name": name, "network": format!("projects/{np}/global/networks/{}", c.network), "direction": "INGRESS",
        "priority": 1000, "sourceRanges": [proxy.to_string()], "destinationRanges": [c.pod_range],
        "allowed": [{"IPProtocol": "tcp", "ports": [port.to_string()]}], "description": state::gcp_marker(c),
    });
    let command = format!(
        "gcloud compute firewall-rules create {name} --network={} --direction=INGRESS --action=ALLOW \
         --rules=tcp:{port} --source-ranges={proxy} --destination-ranges={} --description={} --project={np}",
        c.network,
        c.pod_range,
        sh_quote(&state::gcp_marker(c))
    );
    let wrong = firewall::wrong_port_rules(&vpc.firewalls, &c.network, &proxy, port as u16);
    let extra = wrong
        .first()
        .map(|(n, p)| {
            format!(
                " (`{n}` allows {} only: the container port is {port}, not the Service port)",
                p.join(",")
            )
        })
        .unwrap_or_default();
    FIREWALL.create(
        name,
        format!(
            "nothing lets {proxy} reach the gateway's container port tcp:{port}{extra}; scoped to the pod range {}",
            c.pod_range
        ),
        command,
        Change::CreateFirewall {
            name: name.to_string(),
            body,
        },
    )
}

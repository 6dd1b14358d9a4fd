//! Shared VPC worlds: the VPC `corp-vpc` belongs to the host project `kasten-net-host`; the
//! cluster, its nodes and its load balancers to the service project `kasten-demo`.

use serde_json::json;

use crate::world::xpn::SharedVpc;
use crate::world::World;

pub const HOST: &str = "kasten-net-host";

/// What a project editor of the service project lacks in the host project (no network admin there).
const NOT_A_NETWORK_ADMIN: &[&str] = &[
    "compute.subnetworks.create",
    "compute.subnetworks.update",
    "compute.subnetworks.delete",
    "compute.firewalls.create",
    "compute.firewalls.update",
    "compute.firewalls.delete",
    "resourcemanager.projects.setIamPolicy",
];

/// `firewalls`: whether GKE's service agent (and the caller) may write firewall rules and
/// subnets in the host project (`shared-vpc`) or not (`shared-vpc-no-fw-permission`).
pub fn build(w: &mut World, firewalls: bool) {
    let caller_denied = if firewalls {
        vec![]
    } else {
        NOT_A_NETWORK_ADMIN.iter().map(|p| p.to_string()).collect()
    };
    w.shared_vpc = Some(SharedVpc {
        host: HOST.into(),
        host_number: "731904286551".into(),
        caller_denied,
        admin_token: String::new(),
        agent_writes_firewalls: firewalls,
        caller_member: "user:platform-eng@kasten-demo.example".into(),
        bindings: vec![],
    });
    // A host VPC opens nothing to everything internal: the load balancer's rules must be made.
    w.compute.firewalls.remove("corp-allow-internal");
    // GKE's `-vms` rule admits the nodes' subnet, not every internal address.
    if let Some(vms) = w.compute.firewalls.get_mut("gke-kasten-demo-5e1d9b2c-vms") {
        vms["sourceRanges"] = json!(["10.10.0.0/20"]);
    }
    let subnet = w.cluster["subnetwork"].as_str().unwrap_or_default().to_string();
    let cfg = &mut w.cluster["networkConfig"];
    cfg["network"] = json!(format!("projects/{HOST}/global/networks/{}", w.network));
    cfg["subnetwork"] = json!(format!("projects/{HOST}/regions/{}/subnetworks/{subnet}", w.region));
}

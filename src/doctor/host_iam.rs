//! Shared VPC: what IAM grants the caller in the network's host project. doctor reads the VPC,
//! its subnets and firewall rules there, and install writes the proxy-only subnet and the firewall
//! rule there; the service project's answer says nothing about either. Asked only when the
//! network's project differs from the cluster's (one more testIamPermissions call).

use serde_json::Value;

use crate::state::Base;

/// What doctor reads in the host project.
pub const HOST_READS: &[&str] = &[
    "compute.networks.get",
    "compute.subnetworks.list",
    "compute.firewalls.list",
];

/// What install writes in the host project.
pub const HOST_WRITES: &[&str] = &[
    "compute.subnetworks.create",
    "compute.subnetworks.update",
    "compute.firewalls.create",
    "compute.firewalls.update",
];

/// Who may grant roles on the host project (an owner, or a Shared VPC admin given that right).
pub const SET_IAM: &str = "resourcemanager.projects.setIamPolicy";

/// The caller's IAM in the Shared VPC host project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostIam {
    pub project: String,
    /// Permissions of [`HOST_READS`] and [`HOST_WRITES`] IAM does not grant there.
    pub missing: Vec<String>,
    /// Whether the caller may set the host project's IAM policy (grant the roles itself).
    pub can_grant: bool,
    /// The caller as an IAM member, when the credentials name it (a service-account key file).
    pub member: Option<String>,
}

/// Ask the host project, when the VPC lives in one (None otherwise).
pub async fn denied_host(b: &Base) -> Option<Result<HostIam, String>> {
    let c = &b.cluster;
    if !c.shared_vpc() {
        return None;
    }
    let asked: Vec<&str> = HOST_READS.iter().chain(HOST_WRITES).copied().chain([SET_IAM]).collect();
    Some(
        b.gcp
            .granted(&c.network_project, &asked)
            .await
            .map(|granted| HostIam {
                project: c.network_project.clone(),
                missing: asked
                    .iter()
                    .filter(|p| **p != SET_IAM && !granted.iter().any(|g| g == *p))
                    .map(|p| p.to_string())
                    .collect(),
                can_grant: granted.iter().any(|g| g == SET_IAM),
                member: member_of_credentials(),
            })
            .map_err(|e| format!("{e:#}")),
    )
}

/// `serviceAccount:EMAIL` when GOOGLE_APPLICATION_CREDENTIALS is a service-account key file (a
/// user's ADC file does not name its account).
fn member_of_credentials() -> Option<String> {
    let path = crate::env::var(crate::env::ADC_FILE)?;
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    (v["type"] == "service_account")
        .then(|| v["client_email"].as_str().map(|e| format!("serviceAccount:{e}")))
        .flatten()
}

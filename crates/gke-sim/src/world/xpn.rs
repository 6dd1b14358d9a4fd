//! Shared VPC (XPN) data: the host project that owns the VPC, and who may change it.

/// The host project of a Shared VPC world. The cluster, its nodes and its load balancers live in
/// the service project (`World::project`); the network, its subnets and firewall rules in `host`.
#[derive(Debug, Clone, Default)]
pub struct SharedVpc {
    pub host: String,
    pub host_number: String,
    /// Host-project permissions the caller (the sim's access token) lacks.
    pub caller_denied: Vec<String>,
    /// A second token: the host project's network admin, who may do everything there.
    pub admin_token: String,
    /// Whether GKE's service agent may write firewall rules in the host project.
    pub agent_writes_firewalls: bool,
    /// The caller as an IAM member (`user:EMAIL`), as bindings in the host's policy name it.
    pub caller_member: String,
    /// The host project's IAM policy bindings set since the start (`{"role", "members"}`).
    pub bindings: Vec<serde_json::Value>,
}

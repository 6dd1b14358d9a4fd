//! Typed models of just the fields of Google's resources that the plugin uses
//! (names and shapes from the Compute v1 and Container v1 discovery documents).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Cluster {
    pub name: String,
    pub location: String,
    pub network: String,
    pub subnetwork: String,
    pub endpoint: String,
    pub network_config: NetworkConfig,
    pub ip_allocation_policy: IpAllocationPolicy,
    pub cluster_ipv4_cidr: String,
    pub services_ipv4_cidr: String,
    pub addons_config: AddonsConfig,
    pub current_master_version: String,
    pub locations: Vec<String>,
    pub private_cluster_config: PrivateClusterConfig,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NetworkConfig {
    pub network: String,
    pub subnetwork: String,
    pub gateway_api_config: GatewayApiConfig,
}

/// `networkConfig.gatewayApiConfig`: absent or `CHANNEL_DISABLED` until Gateway API is enabled.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayApiConfig {
    pub channel: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IpAllocationPolicy {
    pub use_ip_aliases: bool,
    pub cluster_ipv4_cidr_block: String,
    pub services_ipv4_cidr_block: String,
    pub cluster_secondary_range_name: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AddonsConfig {
    pub http_load_balancing: Disabled,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Disabled {
    pub disabled: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PrivateClusterConfig {
    pub master_ipv4_cidr_block: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClusterList {
    pub clusters: Vec<Cluster>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Network {
    pub name: String,
    pub self_link: String,
    pub auto_create_subnetworks: Option<bool>,
    /// VPC Network Peering: networks whose clients reach this VPC's internal addresses.
    pub peerings: Vec<Peering>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Peering {
    pub name: String,
    /// The peer network's URL.
    pub network: String,
    /// `ACTIVE` or `INACTIVE`.
    pub state: String,
}

/// A regional SSL certificate (`regionSslCertificates`): only its public certificate is read.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SslCertificate {
    pub name: String,
    /// PEM.
    pub certificate: Option<String>,
    pub expire_time: Option<String>,
    pub subject_alternative_names: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Subnetwork {
    pub name: String,
    pub self_link: String,
    pub network: String,
    pub ip_cidr_range: String,
    pub secondary_ip_ranges: Vec<SecondaryRange>,
    pub purpose: Option<String>,
    pub role: Option<String>,
    pub region: String,
    pub state: Option<String>,
    pub description: Option<String>,
    pub fingerprint: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct SecondaryRange {
    pub range_name: String,
    pub ip_cidr_range: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Firewall {
    pub name: String,
    pub self_link: String,
    pub network: String,
    pub direction: Option<String>,
    pub priority: Option<i64>,
    pub source_ranges: Vec<String>,
    pub destination_ranges: Vec<String>,
    pub source_tags: Vec<String>,
    pub target_tags: Vec<String>,
    pub target_service_accounts: Vec<String>,
    pub allowed: Vec<FirewallRule>,
    pub denied: Vec<FirewallRule>,
    pub disabled: bool,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct FirewallRule {
    #[serde(rename = "IPProtocol")]
    pub ip_protocol: String,
    pub ports: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Operation {
    pub name: String,
    pub status: String,
    pub self_link: String,
    pub target_link: String,
    pub error: Option<OperationError>,
    pub http_error_status_code: Option<u16>,
    pub http_error_message: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct OperationError {
    pub errors: Vec<OperationErrorItem>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct OperationErrorItem {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NetworkEndpointGroup {
    pub name: String,
    pub zone: String,
    pub size: u64,
    pub self_link: String,
    pub network_endpoint_type: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BackendService {
    pub name: String,
    pub self_link: String,
    pub backends: Vec<Backend>,
    pub health_checks: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Backend {
    pub group: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HealthCheck {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub http_health_check: HttpHealthCheck,
    pub https_health_check: HttpHealthCheck,
    pub check_interval_sec: Option<i64>,
    pub timeout_sec: Option<i64>,
}

impl HealthCheck {
    /// The protocol's settings (`httpsHealthCheck` for an HTTPS check, else `httpHealthCheck`).
    pub fn settings(&self) -> &HttpHealthCheck {
        if self.kind == "HTTPS" || self.kind == "HTTP2" {
            &self.https_health_check
        } else {
            &self.http_health_check
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpHealthCheck {
    pub port: Option<i64>,
    pub port_specification: Option<String>,
    pub request_path: Option<String>,
    pub host: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GroupHealth {
    pub health_status: Vec<HealthStatus>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HealthStatus {
    pub ip_address: String,
    pub port: Option<i64>,
    pub instance: String,
    pub health_state: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ForwardingRule {
    pub name: String,
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    pub load_balancing_scheme: String,
    pub network: Option<String>,
    pub subnetwork: Option<String>,
    pub self_link: String,
    /// Clients in every region of the VPC (not only the load balancer's) may connect.
    pub allow_global_access: Option<bool>,
    /// `80-80`, `443-443`.
    pub port_range: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Address {
    pub name: String,
    pub address: String,
    pub address_type: Option<String>,
    pub purpose: Option<String>,
    pub subnetwork: Option<String>,
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Instance {
    pub name: String,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Tags {
    pub items: Vec<String>,
}

/// The last path segment of a Google resource URL.
pub fn short(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

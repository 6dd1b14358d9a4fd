//! Every environment variable the plugin reads, by name. Nothing else reads the environment.

pub const NO_COLOR: &str = "NO_COLOR";
/// Terminal width for tables (else the terminal's own).
pub const COLUMNS: &str = "COLUMNS";
pub const KUBECONFIG: &str = "KUBECONFIG";
pub const COMPUTE_ENDPOINT: &str = "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE";
pub const CONTAINER_ENDPOINT: &str = "CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER";
pub const CRM_ENDPOINT: &str = "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER";
pub const ADC_FILE: &str = "GOOGLE_APPLICATION_CREDENTIALS";
pub const QUOTA_PROJECT: &str = "GOOGLE_CLOUD_QUOTA_PROJECT";
pub const HOME: &str = "HOME";
/// Who holds the lock (see `lock`): the user and host a second run names.
pub const USER: &str = "USER";
pub const USERNAME: &str = "USERNAME";
pub const HOSTNAME: &str = "HOSTNAME";
pub const APPDATA: &str = "APPDATA";
pub const CLOUD_SHELL: &str = "CLOUD_SHELL";
/// `1`: use the metadata server as the credential where DMI detection cannot see Google Cloud;
/// `0`: never use it (tests set this).
pub const USE_METADATA: &str = "KASTEN_ILB_USE_METADATA_SERVER";

pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

//! Checks that stop install before anything changes.

use crate::discover::{ClusterInfo, K10};
use crate::error;
use crate::state::Observed;

use super::Settings;

/// `1.33.5-gke.1308000` >= `1.16.5-gke.10`?
pub fn version_ok(v: &str) -> bool {
    let nums: Vec<u64> = v
        .split(['.', '-'])
        .filter_map(|p| p.trim_start_matches("gke").parse().ok())
        .collect();
    let want = [1u64, 16, 5, 10];
    for (i, w) in want.iter().enumerate() {
        let have = nums.get(i).copied().unwrap_or(0);
        if have != *w {
            return have > *w;
        }
    }
    false // equal to 1.16.5-gke.10: must be *later*
}

/// Does the readinessProbe let GKE infer a passing health check once the port is declared?
pub fn probe_usable(k: &K10, port: i32) -> bool {
    match &k.probe {
        Some(p) => {
            (p.scheme == "HTTP" || p.scheme == "HTTPS")
                && !p.has_host
                && (p.port.as_i64() == Some(i64::from(port)) || (p.port.is_string() && p.port == k.target_port))
        }
        None => false,
    }
}

/// Checks that stop install before anything changes; the container port the Service reaches.
pub fn preconditions(seen: &Observed, s: &Settings) -> anyhow::Result<i32> {
    cluster_ready(&seen.cluster)?;
    k10_ready(&seen.k10, s)
}

fn cluster_ready(c: &ClusterInfo) -> anyhow::Result<()> {
    if !c.vpc_native {
        return Err(error::environment(
            format!(
                "cluster `{}` is routes-based, not VPC-native: GKE internal Ingress needs NEGs, which need alias IPs",
                c.r.cluster
            ),
            "create a VPC-native cluster (`gcloud container clusters create ... --enable-ip-alias`); \
             an existing cluster cannot be converted",
        ));
    }
    if !c.http_lb {
        return Err(error::environment(
            format!(
                "the HttpLoadBalancing add-on is disabled on cluster `{}`: no controller would act on the Ingress",
                c.r.cluster
            ),
            format!(
                "enable it: `gcloud container clusters update {} --location {} \
                 --update-addons=HttpLoadBalancing=ENABLED`",
                c.r.cluster, c.r.location
            ),
        ));
    }
    if !version_ok(&c.version) {
        return Err(error::environment(
            format!(
                "cluster version {} is too old: internal Ingress needs GKE later than 1.16.5-gke.10",
                c.version
            ),
            format!(
                "upgrade the control plane: `gcloud container clusters upgrade {} --location {} --master`",
                c.r.cluster, c.r.location
            ),
        ));
    }
    Ok(())
}

fn k10_ready(k: &K10, s: &Settings) -> anyhow::Result<i32> {
    if k.auth.is_none() && !s.allow_unauthenticated {
        return Err(error::environment(
            format!(
                "K10 release `{}` in `{}` has no authentication configured: exposing it would give anyone in the \
                 VPC full control of your backups",
                k.release, k.namespace
            ),
            "configure an auth method (e.g. `helm upgrade k10 kasten/k10 -n kasten-io --reuse-values \
             --set auth.tokenAuth.enabled=true`), or pass --allow-unauthenticated if you accept the risk \
             (the K10 chart itself refuses to render an Ingress without auth)",
        ));
    }
    if k.service_port != 80 && k.service_port_name.as_deref() != Some("http") {
        return Err(error::environment(
            format!(
                "Service `gateway` in `{}` has no port 80 (it serves port {}): this is not the layout of the K10 chart",
                k.namespace, k.service_port
            ),
            "restore the chart's Service (`helm upgrade --reuse-values`), or check that -n points at K10",
        ));
    }
    let Some(port) = k.container_port else {
        return Err(error::environment(
            format!(
                "Service `gateway` targets port `{}`, but no container of the gateway pods declares a port of that \
                 name",
                k.target_port.as_str().unwrap_or_default()
            ),
            "GKE cannot resolve a named targetPort the pods do not declare (its NEGs stay empty): set the \
             Service's targetPort to the number (8000), or declare the named port in the Deployment",
        ));
    };
    if k.ready_pods() == 0 {
        return Err(error::environment(
            format!("the gateway Deployment in `{}` has no ready pods", k.namespace),
            format!(
                "fix K10 first: `kubectl -n {} get pods -l service=gateway` and `kubectl -n {} describe deployment \
                 gateway`",
                k.namespace, k.namespace
            ),
        ));
    }
    Ok(port)
}

//! The cluster can serve an internal Ingress: VPC-native, HttpLoadBalancing on, a recent GKE.

use serde_json::json;

use crate::doctor::{Check, CheckId, Facts};
use crate::plan::version_ok;

pub fn check(f: &Facts) -> Check {
    let c = f.cluster();
    let mut problems = vec![];
    if !c.vpc_native {
        problems.push("not VPC-native (routes-based): NEGs cannot work".to_string());
    }
    if !c.http_lb {
        problems.push("the HttpLoadBalancing add-on is disabled: nothing acts on Ingresses".to_string());
    }
    if !version_ok(&c.version) {
        problems.push(format!("version {} is not later than 1.16.5-gke.10", c.version));
    }
    let ev = json!({
        "vpcNative": c.vpc_native, "httpLoadBalancing": c.http_lb, "version": c.version,
        "network": format!("projects/{}/global/networks/{}", c.network_project, c.network), "region": c.region,
    });
    if problems.is_empty() {
        let finding = format!("VPC-native, HttpLoadBalancing on, GKE {}", c.version);
        return Check::pass(CheckId::Cluster, finding).evidence(ev);
    }
    let (name, loc) = (&c.r.cluster, &c.r.location);
    let hint = if !c.http_lb {
        format!("`gcloud container clusters update {name} --location {loc} --update-addons=HttpLoadBalancing=ENABLED`")
    } else if !c.vpc_native {
        "internal Ingress needs a VPC-native cluster: create one with --enable-ip-alias \
         (a cluster cannot be converted)"
            .into()
    } else {
        format!("`gcloud container clusters upgrade {name} --location {loc} --master`")
    };
    Check::fail(CheckId::Cluster, problems.join("; "))
        .hint(hint)
        .evidence(ev)
}

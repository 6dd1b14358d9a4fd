//! Kubernetes RBAC and IAM allow everything install needs; on a Shared VPC, IAM is asked in the
//! network's host project for what doctor reads and install writes there.

use serde_json::{json, Value};

use crate::doctor::host_iam::{HostIam, HOST_READS, HOST_WRITES};
use crate::doctor::{Check, CheckId, Facts};

/// The namespace is the one in use (`-n`), not kasten-io.
fn roles_hint(namespace: &str) -> String {
    format!(
        "README.md (Permissions) lists the least-privilege roles: roles/compute.networkAdmin + \
         roles/compute.securityAdmin (or a custom role with the permissions above) and namespace RBAC for {namespace}"
    )
}

pub fn check(f: &Facts) -> Check {
    let id = CheckId::Permissions;
    let host = f.denied_host.as_ref();
    let gcp = service_denied(f);
    match (&f.denied_kube, &gcp, host.map(|h| h.as_ref())) {
        (Ok(k), Ok(g), None | Some(Ok(_))) if !k.is_empty() || !g.is_empty() => {
            let mut parts = vec![];
            if !k.is_empty() {
                parts.push(format!("Kubernetes denies: {}", k.join(", ")));
            }
            if !g.is_empty() {
                parts.push(format!("IAM lacks: {}", g.join(", ")));
            }
            Check::fail(id, parts.join("; "))
                .hint(roles_hint(&f.namespace))
                .evidence(evidence(k, g, host))
        }
        (Ok(k), Ok(g), Some(Ok(h))) if !h.missing.is_empty() => host_check(f, h).evidence(evidence(k, g, host)),
        (Ok(k), Ok(g), None | Some(Ok(_))) => Check::pass(id, allowed(f)).evidence(evidence(k, g, host)),
        (k, g, h) => {
            let errs: Vec<String> = [k.as_ref().err(), g.as_ref().err(), h.and_then(|h| h.err())]
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            Check::warn(id, format!("could not ask: {}", errs.join("; ")))
                .hint("make sure SelfSubjectAccessReview and cloudresourcemanager testIamPermissions are reachable")
                .evidence(Value::Null)
        }
    }
}

/// IAM missing on the cluster's project; on a Shared VPC without the network's permissions,
/// which are asked of the host project instead.
fn service_denied(f: &Facts) -> Result<Vec<String>, String> {
    let shared = f.denied_host.is_some();
    let network = |p: &String| HOST_READS.contains(&p.as_str()) || HOST_WRITES.contains(&p.as_str());
    f.denied_gcp
        .as_ref()
        .map(|g| g.iter().filter(|p| !(shared && network(p))).cloned().collect())
        .map_err(Clone::clone)
}

fn allowed(f: &Facts) -> String {
    let host = match &f.denied_host {
        Some(Ok(h)) => format!(" and on host project {}", h.project),
        _ => String::new(),
    };
    format!(
        "Kubernetes RBAC in {} and IAM on {}{host} allow everything install needs",
        f.namespace,
        f.cluster().r.project
    )
}

fn evidence(k: &[String], g: &[String], host: Option<&Result<HostIam, String>>) -> Value {
    let mut v = json!({"kubernetesDenied": k, "iamMissing": g});
    if let Some(Ok(h)) = host {
        v["hostProject"] = json!(h.project);
        v["hostIamMissing"] = json!(h.missing);
        v["hostCanGrant"] = json!(h.can_grant);
    }
    v
}

/// FAIL when doctor cannot read the network in the host project; WARN when install may not write
/// there (the usual Shared VPC: install then stops with the network admin's commands).
fn host_check(f: &Facts, h: &HostIam) -> Check {
    let id = CheckId::Permissions;
    let reads: Vec<&String> = h.missing.iter().filter(|p| HOST_READS.contains(&p.as_str())).collect();
    let what = |ps: &[&String]| ps.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ");
    if !reads.is_empty() {
        let finding = format!(
            "IAM on Shared VPC host project {} lacks {}: doctor cannot read network {} there",
            h.project,
            what(&reads),
            f.cluster().network
        );
        return Check::fail(id, finding).hint(grant_hint(f, h));
    }
    let all: Vec<&String> = h.missing.iter().collect();
    let finding = format!(
        "IAM on Shared VPC host project {} lacks {}: install cannot make the proxy-only subnet or firewall rule there \
         itself (it stops before any change and prints the network admin's commands)",
        h.project,
        what(&all)
    );
    Check::warn(id, finding).hint(grant_hint(f, h))
}

/// The predefined roles that grant the missing permissions: networkViewer reads, networkAdmin
/// reads and writes subnets, securityAdmin writes firewall rules.
fn roles(missing: &[String]) -> Vec<&'static str> {
    let has = |prefix: &str| missing.iter().any(|p| p.starts_with(prefix));
    let subnets = has("compute.subnetworks.create") || has("compute.subnetworks.update");
    let reads = missing.iter().any(|p| HOST_READS.contains(&p.as_str()));
    let mut out = vec![];
    if subnets {
        out.push("roles/compute.networkAdmin");
    } else if reads {
        out.push("roles/compute.networkViewer");
    }
    if has("compute.firewalls.create") || has("compute.firewalls.update") {
        out.push("roles/compute.securityAdmin");
    }
    out
}

/// `gcloud projects add-iam-policy-binding HOST --member=... --role=...` for each role, for the
/// caller to run when it may grant, else for whoever may (its owner or Shared VPC admin).
fn grant_hint(f: &Facts, h: &HostIam) -> String {
    let member = match (&h.member, h.can_grant) {
        (Some(m), _) => m.clone(),
        (None, true) => "user:$(gcloud config get-value account)".into(),
        (None, false) => "user:ACCOUNT".into(),
    };
    let commands: Vec<String> = roles(&h.missing)
        .iter()
        .map(|role| {
            format!(
                "`gcloud projects add-iam-policy-binding {} --member={member} --role={role} --condition=None`",
                h.project
            )
        })
        .collect();
    let commands = commands.join(" and ");
    if h.can_grant {
        return format!("grant them in host project {}: {commands}", h.project);
    }
    let account = if h.member.is_none() {
        " (ACCOUNT: yours, `gcloud config get-value account`)"
    } else {
        ""
    };
    format!(
        "you may not grant roles in host project {p}: ask its owner or Shared VPC admin to run {commands}{account}, \
         or its network admin to run the commands `kubectl kasten-ilb install -n {ns}` prints when it stops",
        p = h.project,
        ns = f.namespace
    )
}

//! The exact repair for a known controller message in the world at hand: real names, the
//! namespace in use, the cluster's region and subnet, the project that owns each resource. Where
//! no command can do it (a certificate only its owner has), the hint says what to decide.

use crate::doctor::Facts;

const STATIC_IP: &str = "kubernetes.io/ingress.regional-static-ip-name";

/// `Some(hint)` for the messages whose fix depends on the world, `None` for the others.
pub fn exact(f: &Facts, ingress: &str, msg: &str) -> Option<String> {
    if msg.contains("doesn't translate to an existing static IP") {
        let name = between(msg, "static IP name ", " doesn't")?;
        return Some(format!("reserve it: `{}`", reserve(f, name)));
    }
    if msg.contains("Forwarding rule's subnetwork must have purpose=PRIVATE") {
        let name = static_ip_of(f, ingress)?;
        let fresh = format!("{name}-private");
        return Some(format!(
            "the address {name} is in the proxy-only subnet, which only the proxies use: reserve one in the \
             cluster's subnet and name it: `{}` then `kubectl -n {} annotate ingress {ingress} {STATIC_IP}={fresh} \
             --overwrite`",
            reserve(f, &fresh),
            f.namespace
        ));
    }
    if msg.contains("Could not find TLS certificate") || msg.contains("error initializing translator env: secrets") {
        let secret = between(msg, "secrets \"", "\"")?;
        return Some(format!(
            "create it from your certificate and key (only their owner has them, so no command can make them \
             for you): `kubectl -n {} create secret tls {secret} --cert=tls.crt --key=tls.key`",
            f.namespace
        ));
    }
    None
}

/// `gcloud compute addresses create NAME` in the cluster's region and subnet (a Shared VPC
/// subnet by its full path), in the cluster's project, where the load balancer lives.
fn reserve(f: &Facts, name: &str) -> String {
    let c = f.cluster();
    let subnet = if c.shared_vpc() {
        format!(
            "projects/{}/regions/{}/subnetworks/{}",
            c.network_project, c.region, c.subnetwork
        )
    } else {
        c.subnetwork.clone()
    };
    format!(
        "gcloud compute addresses create {name} --region={} --subnet={subnet} --project={}",
        c.region, c.r.project
    )
}

fn static_ip_of(f: &Facts, ingress: &str) -> Option<String> {
    let ing = f
        .ingresses()
        .into_iter()
        .find(|i| i.metadata.name.as_deref() == Some(ingress))?;
    ing.metadata.annotations.as_ref()?.get(STATIC_IP).cloned()
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &s[s.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_name_the_world_at_hand() {
        let f = Facts::healthy();
        let ip = exact(
            &f,
            "k10-ingress",
            "the given static IP name k10-ip doesn't translate to an existing static IP.",
        );
        assert_eq!(
            ip.as_deref(),
            Some(
                "reserve it: `gcloud compute addresses create k10-ip --region=us-central1 --subnet=default \
                 --project=kasten-demo`"
            )
        );
        let tls = exact(
            &f,
            "k10-ingress",
            "error initializing translator env: secrets \"k10-tls\" not found",
        )
        .unwrap();
        assert!(
            tls.contains("`kubectl -n kasten-io create secret tls k10-tls --cert=tls.crt --key=tls.key`"),
            "{tls}"
        );
        assert_eq!(exact(&f, "k10-ingress", "quotaExceeded"), None);
    }
}

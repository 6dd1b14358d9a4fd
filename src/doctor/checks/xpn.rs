//! Shared VPC: when GKE may not write its firewall rule in the host project, the ingress
//! controller raises a Normal `XPN` event on the Ingress with the command the host's network admin
//! must run (ingress-gce `pkg/firewalls`: "Firewall change required by security admin: `…`").
//! Not a check of its own: the `firewall` check gives that command as its hint.

use crate::doctor::Facts;

/// The command of the newest `XPN` event in the namespace.
pub fn command(f: &Facts) -> Option<String> {
    f.events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("XPN"))
        .max_by_key(|e| e.last_timestamp.as_ref().map(|t| t.0))
        .and_then(|e| e.message.as_deref()?.split('`').nth(1).map(str::to_string))
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::Event;

    use super::*;

    #[test]
    fn the_newest_xpn_events_command_is_the_one() {
        let ev = |reason: &str, msg: &str| Event {
            reason: Some(reason.into()),
            message: Some(msg.into()),
            ..Event::default()
        };
        let msg = "Firewall change required by security admin: `gcloud compute firewall-rules create x`";
        let f = Facts::healthy()
            .with_event(ev("Sync", "Scheduled for sync"))
            .with_event(ev("XPN", msg));
        assert_eq!(command(&f).as_deref(), Some("gcloud compute firewall-rules create x"));
        assert_eq!(command(&Facts::healthy().with_event(ev("Sync", "ok"))), None);
    }
}

//! Shared VPC: the network belongs to a host project. install writes the proxy-only subnet and the
//! firewall rule there when the caller may, and otherwise stops before any change with the host
//! network admin's commands; doctor reads GKE's XPN events. Checked with the real gcloud.

mod common;

use common::*;

const HOST: &str = "kasten-net-host";

/// Runs `cmd` (a command line as install or doctor printed it) with the host network admin's token.
fn as_network_admin(w: &TestWorld, cmd: &str) -> Option<()> {
    which("gcloud").or_else(|| {
        eprintln!("SKIP: `gcloud` is not installed; the network admin's part is skipped");
        None
    })?;
    let token = w
        .sim
        .world()
        .shared_vpc
        .as_ref()
        .expect("a Shared VPC world")
        .admin_token
        .clone();
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(cmd)
        .env_clear()
        .envs(w.envs())
        .env("CLOUDSDK_AUTH_ACCESS_TOKEN", token)
        .output()
        .expect("bash runs");
    ok(&out);
    Some(())
}

fn names(w: &TestWorld, what: &[&str], project: &str) -> Option<String> {
    let project = format!("--project={project}");
    let args = [what, &["list", "--format=value(name)", &project]].concat();
    Some(ok(&w.gcloud(&args)?))
}

#[test]
fn install_on_a_shared_vpc_puts_the_subnet_and_the_rule_in_the_host_project() {
    let w = TestWorld::start("shared-vpc");
    ok(&w.run(&["install", "--yes"]));
    let writes: Vec<String> = w.writes().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    let host_subnet = format!("POST /compute/v1/projects/{HOST}/regions/us-central1/subnetworks");
    assert!(writes.contains(&host_subnet), "{writes:#?}");
    assert!(
        writes.contains(&format!("POST /compute/v1/projects/{HOST}/global/firewalls")),
        "{writes:#?}"
    );
    assert!(
        !writes
            .iter()
            .any(|r| r.contains("/projects/kasten-demo/global/firewalls")),
        "{writes:#?}"
    );
    let Some(subnets) = names(&w, &["compute", "networks", "subnets"], HOST) else {
        return;
    };
    assert!(subnets.contains("proxy-only-corp-vpc"), "{subnets}");
    let rules = names(&w, &["compute", "firewall-rules"], HOST).unwrap();
    assert!(rules.contains("kasten-ilb-kasten-demo-proxy-to-8000"), "{rules}");
    assert!(
        rules.contains("k8s-fw-l7--"),
        "GKE may write its own rule here: {rules}"
    );
    assert_eq!(
        names(&w, &["compute", "firewall-rules"], "kasten-demo").unwrap().trim(),
        ""
    );
}

#[test]
fn without_host_permissions_install_stops_with_the_admins_commands_then_resumes_and_doctor_names_xpn() {
    let w = TestWorld::start("shared-vpc-no-fw-permission");
    let before = w.fingerprint();
    let o = w.run(&["install", "--yes"]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert_eq!(w.fingerprint(), before, "install changed something");
    assert!(w.writes().is_empty(), "{:?}", w.writes());
    let said = stderr(&o);
    assert!(said.contains(&format!("host project `{HOST}`")), "{said}");
    let commands: Vec<&str> = said.lines().filter_map(|l| l.strip_prefix("  ")).collect();
    assert_eq!(commands.len(), 3, "subnet, proxy rule, health-check rule: {said}");
    for cmd in &commands {
        assert!(
            cmd.starts_with("gcloud ") && cmd.ends_with(&format!("--project={HOST}")),
            "{cmd}"
        );
        if as_network_admin(&w, cmd).is_none() {
            return;
        }
    }
    ok(&w.run(&["install", "--yes"]));
    // GKE could not write its own rule: its XPN event says what the network admin must run.
    let events = ok(&w
        .kubectl(&["-n", "kasten-io", "get", "events", "--field-selector=reason=XPN"])
        .unwrap());
    assert!(
        events.contains("Firewall change required by security admin"),
        "{events}"
    );
    // Without the health-check rule, doctor's firewall hint is the XPN event's command.
    as_network_admin(
        &w,
        &format!("gcloud -q compute firewall-rules delete kasten-ilb-kasten-demo-hc-to-8000 --project={HOST}"),
    );
    let (code, report) = doctor_report(&w, &["--no-exec"]);
    assert_eq!(code, 1, "{report}");
    let fw = check_of(&report, "firewall");
    assert!(fw["finding"].as_str().unwrap().contains("XPN event"), "{fw}");
    let hint = fw["hint"].as_str().unwrap();
    let cmd = hint.split('`').nth(1).unwrap();
    assert!(
        cmd.starts_with("gcloud compute firewall-rules create k8s-fw-l7--"),
        "{hint}"
    );
    assert!(cmd.ends_with(&format!("--project {HOST}")), "{hint}");
    as_network_admin(&w, cmd);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while doctor_report(&w, &[]).0 != 0 {
        assert!(std::time::Instant::now() < deadline, "{}", doctor_report(&w, &[]).1);
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// The Ingresses that carry an `XPN` event.
fn xpn_events_on(w: &TestWorld) -> Vec<String> {
    let out = ok(&w.kubectl(&["-n", "kasten-io", "get", "events", "-o", "json"]).unwrap());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["reason"] == "XPN")
        .map(|e| e["involvedObject"]["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn the_suppress_annotation_silences_the_xpn_event() {
    let w = TestWorld::start("shared-vpc-no-fw-permission");
    let class = "--annotation=kubernetes.io/ingress.class=gce-internal";
    let quiet = "--annotation=networking.gke.io/suppress-firewall-xpn-error=true";
    let rule = "--rule=/k10/*=gateway:80";
    let Some(o) = w.kubectl(&["-n", "kasten-io", "create", "ingress", "quiet", rule, class, quiet]) else {
        return;
    };
    ok(&o);
    ok(&w
        .kubectl(&["-n", "kasten-io", "create", "ingress", "loud", rule, class])
        .unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !xpn_events_on(&w).contains(&"loud".to_string()) {
        assert!(std::time::Instant::now() < deadline, "no XPN event on `loud`");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(!xpn_events_on(&w).contains(&"quiet".to_string()));
}

#[test]
fn doctor_asks_the_host_project_and_the_owners_grant_lets_install_write_there() {
    let w = TestWorld::start("shared-vpc-no-fw-permission");
    let (_, report) = doctor_report(&w, &["--no-exec"]);
    let perms = check_of(&report, "permissions");
    assert_eq!(perms["result"], "WARN", "{perms}");
    let finding = perms["finding"].as_str().unwrap();
    assert!(
        finding.contains(&format!(
            "Shared VPC host project {HOST} lacks compute.subnetworks.create"
        )),
        "{perms}"
    );
    assert_eq!(perms["evidence"]["hostCanGrant"], false, "{perms}");
    let hint = perms["hint"].as_str().unwrap();
    assert!(hint.contains("ask its owner or Shared VPC admin"), "{hint}");
    assert!(hint.contains("kubectl kasten-ilb install -n kasten-io"), "{hint}");
    let (caller, admin_token) = {
        let world = w.sim.world();
        let x = world.shared_vpc.as_ref().unwrap();
        (x.caller_member.clone(), x.admin_token.clone())
    };
    let account = caller.strip_prefix("user:").unwrap();
    // The commands as printed, with ACCOUNT the caller's (as the hint says).
    let grants: Vec<String> = hint
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|c| c.starts_with("gcloud projects add-iam-policy-binding"))
        .map(|c| c.replace("ACCOUNT", account))
        .collect();
    assert_eq!(grants.len(), 2, "networkAdmin and securityAdmin: {hint}");
    assert!(grants[0].starts_with(&format!(
        "gcloud projects add-iam-policy-binding {HOST} --member={caller}"
    )));
    // The caller may not grant itself (the real gcloud gets Resource Manager's 403) ...
    let Some(o) = w.gcloud(
        &common::hints::words(&grants[0])
            .iter()
            .skip(1)
            .map(String::as_str)
            .collect::<Vec<_>>(),
    ) else {
        return;
    };
    assert!(!o.status.success(), "{}", both(&o));
    // ... the host project's owner may.
    for cmd in &grants {
        let o = std::process::Command::new("bash")
            .arg("-c")
            .arg(cmd)
            .env_clear()
            .envs(w.envs())
            .env("CLOUDSDK_AUTH_ACCESS_TOKEN", &admin_token)
            .output()
            .expect("bash runs");
        ok(&o);
    }
    let (_, report) = doctor_report(&w, &["--no-exec"]);
    let perms = check_of(&report, "permissions");
    assert_eq!(perms["result"], "PASS", "{perms}");
    assert!(
        perms["finding"]
            .as_str()
            .unwrap()
            .contains(&format!("host project {HOST}")),
        "{perms}"
    );
    // With the roles, install writes the subnet and the rule in the host project itself (it then
    // waits on GKE's health-check rule, which GKE's service agent still may not write: not this test).
    let o = w.run(&["install", "--yes", "--timeout", "15s"]);
    assert!(!stderr(&o).contains("you may not change VPC network"), "{}", both(&o));
    let writes: Vec<String> = w.writes().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert!(
        writes.contains(&format!("POST /compute/v1/projects/{HOST}/global/firewalls")),
        "{writes:#?}"
    );
    let rules = names(&w, &["compute", "firewall-rules"], HOST).unwrap();
    assert!(rules.contains("kasten-ilb-kasten-demo-proxy-to-8000"), "{rules}");
}

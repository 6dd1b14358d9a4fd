//! The regional internal Application Load Balancer of a `gke-l7-rilb` Gateway: per backend a NEG
//! per zone (the NEG controller's, shared with the Ingress path), a health check and a backend
//! service; the controller's firewall rule for Google's health-check ranges; the URL map from the
//! attached HTTPRoutes; a target proxy and a forwarding rule per listener protocol.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::super::{meta_str, names, policies, routes};
use super::Key;
use crate::controller::{app_protocol, sync_negs, upsert};
use crate::data_plane::l7_rule_differs;
use crate::world::{compute, World, CLUSTER_UID, HC_SOURCE_RANGES};

/// Build (or update) everything; returns the Gateway's `networking.gke.io/*` annotations.
pub(super) fn build(
    w: &mut World,
    key: &Key,
    gw: &Value,
    listeners: &[String],
    attached: &[(Value, Vec<String>)],
    ip: &str,
) -> Vec<(String, String)> {
    let mut ports = BTreeSet::new();
    let mut backends = BTreeSet::new();
    let mut by_host: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (route, _) in attached {
        for (hosts, paths, (svc, port)) in routes::rules(w, route) {
            let url = backend(w, &svc, &port, &mut ports);
            backends.insert(url.rsplit('/').next().unwrap_or_default().to_string());
            for h in hosts {
                by_host
                    .entry(h)
                    .or_default()
                    .push(json!({"paths": paths, "service": url}));
            }
        }
    }
    let fw = firewall(w, &ports);
    let um = url_map(w, key, &by_host);
    let (tps, frs) = frontends(w, key, gw, listeners, &um, ip);
    drop_unused_backends(w);
    let path = |coll: &str, n: &String| format!("/projects/{}/regions/{}/{coll}/{n}", w.project_number, w.region);
    let join = |coll: &str, ns: &[String]| ns.iter().map(|n| path(coll, n)).collect::<Vec<_>>().join(",");
    let bs: Vec<String> = backends.into_iter().collect();
    vec![
        (
            "networking.gke.io/backend-services".into(),
            join("backendServices", &bs),
        ),
        ("networking.gke.io/health-checks".into(), join("healthChecks", &bs)),
        (
            "networking.gke.io/firewalls".into(),
            format!("/projects/{}/global/firewalls/{fw}", w.project_number),
        ),
        (
            "networking.gke.io/forwarding-rules".into(),
            join("forwardingRules", &frs),
        ),
        (
            "networking.gke.io/target-http-proxies".into(),
            join("targetHttpProxies", &tps),
        ),
        ("networking.gke.io/url-maps".into(), join("urlMaps", &[um])),
    ]
}

/// NEGs, health check and backend service of one Service port; returns the backend service URL.
fn backend(w: &mut World, svc: &Value, port: &Value, ports: &mut BTreeSet<i64>) -> String {
    let ns = meta_str(svc, "namespace");
    let svc_name = meta_str(svc, "name");
    let sport = port["port"].as_i64().unwrap_or(80);
    let name = names::backend(&ns, &svc_name, sport);
    let (groups, target_port) = sync_negs(w, &ns, svc, port);
    ports.extend(target_port);
    let region = w.region.clone();
    let hc = policies::health_check(w, svc, port, &name);
    let hc_url = hc["selfLink"].clone();
    upsert(&mut w.compute.health_checks, format!("{region}/{name}"), hc);
    let url = format!("{}/backendServices/{name}", w.region_url(&region));
    let backends: Vec<Value> = groups
        .iter()
        .map(|g| json!({"group": g, "balancingMode": "RATE", "maxRatePerEndpoint": 1_000_000, "capacityScaler": 1}))
        .collect();
    let bs = json!({"kind": "compute#backendService", "name": name, "backends": backends, "healthChecks": [hc_url],
        "loadBalancingScheme": "INTERNAL_MANAGED", "protocol": app_protocol(svc, port), "timeoutSec": 30,
        "sessionAffinity": "NONE", "connectionDraining": {"drainingTimeoutSec": 0},
        "description": json!({"kubernetes.io/service-name": format!("{ns}/{svc_name}"),
                              "kubernetes.io/service-port": sport.to_string()}).to_string(),
        "region": w.region_url(&region), "selfLink": url});
    upsert(&mut w.compute.backend_services, format!("{region}/{name}"), bs);
    url
}

/// The controller's rule letting Google's health checkers reach the NEG ports on the nodes.
fn firewall(w: &mut World, ports: &BTreeSet<i64>) -> String {
    let name = names::firewall(&w.network, &w.region);
    let mut all: BTreeSet<String> = ports.iter().map(|p| p.to_string()).collect();
    if let Some(f) = w.compute.firewalls.get(&name) {
        all.extend(
            f["allowed"][0]["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str().map(str::to_string)),
        );
    }
    let want = json!({"sourceRanges": HC_SOURCE_RANGES, "targetTags": [w.node_tag],
        "allowed": [{"IPProtocol": "tcp", "ports": all.into_iter().collect::<Vec<_>>()}],
        "description": "GKE Gateway L7 firewall rule"});
    if w.compute.firewalls.get(&name).is_none_or(|f| l7_rule_differs(f, &want)) {
        compute::firewall(w, &name, want);
    }
    name
}

/// The URL map: one path matcher per hostname; unmatched requests go to the 404 backend.
fn url_map(w: &mut World, key: &Key, by_host: &BTreeMap<String, Vec<Value>>) -> String {
    let region = w.region.clone();
    let name = names::frontend("um", &key.0, &key.1);
    let default = format!("{}/backendServices/{}", w.region_url(&region), names::serve404(&key.0));
    let matchers: Vec<Value> = by_host
        .values()
        .enumerate()
        .map(|(i, rules)| json!({"name": format!("host{i}"), "defaultService": default, "pathRules": rules}))
        .collect();
    let hrs: Vec<Value> = by_host
        .keys()
        .enumerate()
        .map(|(i, h)| json!({"hosts": [h], "pathMatcher": format!("host{i}")}))
        .collect();
    let um = json!({"kind": "compute#urlMap", "name": name, "defaultService": default, "hostRules": hrs,
        "pathMatchers": matchers, "region": w.region_url(&region),
        "selfLink": format!("{}/urlMaps/{name}", w.region_url(&region))});
    upsert(&mut w.compute.url_maps, format!("{region}/{name}"), um);
    name
}

/// A target proxy and a forwarding rule per listener protocol (HTTP, HTTPS); stale ones go.
fn frontends(w: &mut World, key: &Key, gw: &Value, valid: &[String], um: &str, ip: &str) -> (Vec<String>, Vec<String>) {
    let region = w.region.clone();
    let rurl = w.region_url(&region);
    let global_access = policies::global_access(w, gw);
    let (mut tps, mut frs) = (vec![], vec![]);
    for (protocol, suffix) in [("HTTP", ""), ("HTTPS", "-https")] {
        let (tp, fr) = (
            names::frontend(&format!("tp{suffix}"), &key.0, &key.1),
            names::frontend(&format!("fr{suffix}"), &key.0, &key.1),
        );
        let port = gw["spec"]["listeners"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| {
                l["protocol"] == json!(protocol) && l["name"].as_str().is_some_and(|n| valid.iter().any(|v| v == n))
            })
            .and_then(|l| l["port"].as_i64());
        let Some(port) = port else {
            w.compute.target_proxies.remove(&format!("{region}/{tp}"));
            w.compute.forwarding_rules.remove(&format!("{region}/{fr}"));
            continue;
        };
        let kind = if protocol == "HTTP" {
            "compute#targetHttpProxy"
        } else {
            "compute#targetHttpsProxy"
        };
        let tp_obj = json!({"kind": kind, "name": tp, "urlMap": format!("{rurl}/urlMaps/{um}"), "region": rurl,
            "selfLink": format!("{rurl}/targetHttpProxies/{tp}")});
        upsert(&mut w.compute.target_proxies, format!("{region}/{tp}"), tp_obj);
        let subnet = w.cluster["subnetwork"].as_str().unwrap_or("default").to_string();
        let fr_obj = json!({"kind": "compute#forwardingRule", "name": fr, "IPAddress": ip, "IPProtocol": "TCP",
            "portRange": format!("{port}-{port}"), "target": format!("{rurl}/targetHttpProxies/{tp}"),
            "loadBalancingScheme": "INTERNAL_MANAGED", "network": w.network_url(&w.network),
            "subnetwork": w.subnet_url(&region, &subnet), "networkTier": "PREMIUM", "allowGlobalAccess": global_access,
            "description": format!("{{\"k8s-resource\":\"/namespaces/{}/gateways/{}\"}}", key.0, key.1),
            "region": rurl, "selfLink": format!("{rurl}/forwardingRules/{fr}")});
        upsert(&mut w.compute.forwarding_rules, format!("{region}/{fr}"), fr_obj);
        tps.push(tp);
        frs.push(fr);
    }
    (tps, frs)
}

/// Delete a Gateway's frontend, the backend services (and health checks) no other Gateway uses,
/// the NEGs nothing uses any more, and the firewall rule once no `gke-l7-rilb` Gateway is left.
pub(super) fn garbage_collect(w: &mut World, ns: &str, name: &str) {
    let region = w.region.clone();
    for kind in ["um", "tp", "fr", "tp-https", "fr-https"] {
        let k = format!("{region}/{}", names::frontend(kind, ns, name));
        w.compute.url_maps.remove(&k);
        w.compute.target_proxies.remove(&k);
        w.compute.forwarding_rules.remove(&k);
    }
    drop_unused_backends(w);
    let others = w
        .kube_in_ns("Gateway", "")
        .iter()
        .any(|g| g["spec"]["gatewayClassName"] == json!(super::RILB) && g["metadata"]["deletionTimestamp"].is_null());
    if !others {
        w.compute.firewalls.remove(&names::firewall(&w.network, &w.region));
    }
}

/// Backend services (and health checks) of Gateways that no URL map uses any more go, then the NEGs
/// nothing uses.
fn drop_unused_backends(w: &mut World) {
    let used: BTreeSet<String> = w.compute.url_maps.values().flat_map(services_of).collect();
    let stale: Vec<String> = w
        .compute
        .backend_services
        .keys()
        .filter(|k| names::is_gateway_name(k.rsplit('/').next().unwrap_or_default()))
        .filter(|k| {
            !used
                .iter()
                .any(|u| u.ends_with(&format!("/{}", k.rsplit('/').next().unwrap_or_default())))
        })
        .cloned()
        .collect();
    for k in stale {
        w.compute.backend_services.remove(&k);
        w.compute.health_checks.remove(&k);
    }
    drop_unused_negs(w);
}

fn services_of(um: &Value) -> Vec<String> {
    let rules = um["pathMatchers"].as_array().into_iter().flatten();
    let paths = rules.flat_map(|m| m["pathRules"].as_array().into_iter().flatten());
    paths
        .filter_map(|r| r["service"].as_str().map(str::to_string))
        .collect()
}

/// NEGs no backend service uses any more go, and with them their Service's `neg-status`.
fn drop_unused_negs(w: &mut World) {
    let groups: BTreeSet<String> = w
        .compute
        .backend_services
        .values()
        .flat_map(|b| b["backends"].as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["group"].as_str().map(str::to_string))
        .collect();
    let gone: Vec<(String, Value)> = w
        .compute
        .negs
        .iter()
        .filter(|(_, n)| n["selfLink"].as_str().is_some_and(|s| !groups.contains(s)))
        .filter(|(_, n)| n["description"].as_str().is_some_and(|d| d.contains(&CLUSTER_UID[..8])))
        .map(|(k, n)| (k.clone(), n.clone()))
        .collect();
    for (k, neg) in gone {
        w.compute.negs.remove(&k);
        let desc: Value = serde_json::from_str(neg["description"].as_str().unwrap_or("{}")).unwrap_or_default();
        let (sns, sname) = (
            desc["namespace"].as_str().unwrap_or_default(),
            desc["service-name"].as_str().unwrap_or_default(),
        );
        if let Some(mut svc) = w.kube_get("Service", sns, sname).cloned() {
            if let Some(a) = svc["metadata"]["annotations"].as_object_mut() {
                if a.remove("cloud.google.com/neg-status").is_some() {
                    w.kube_put(svc);
                }
            }
        }
    }
}

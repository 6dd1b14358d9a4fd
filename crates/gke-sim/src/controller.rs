//! A model of the controllers that run in and around a GKE cluster: the Deployment controller
//! (pods follow their template), the NEG controller and GKE's ingress controller (`ingress-gce`).
//!
//! Names, annotations, events and error texts follow ../shared/domain/gke-internal-ingress.md.
//! Backend health is computed from the world (firewall rules, health-check path, what the pod
//! answers), never set directly.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use ipnet::Ipv4Net;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::data_plane;
use crate::default_backend;
use crate::world::{compute, firewall, now_rfc3339, World, CLUSTER_UID, KUBE_SYSTEM_UID};
use crate::Shared;

mod l7_ports;

pub const FINALIZER_V2: &str = "networking.gke.io/ingress-finalizer-V2";
pub const DEFAULT_BACKEND_404: &str = "response 404 (backend NotFound), service rules for the path non-existent";

/// Run every controller to a steady state at once, ignoring the configured delays.
pub fn settle(w: &mut World) {
    if w.controllers_paused {
        return;
    }
    sync_pods(w);
    sync_endpoints(w);
    for _ in 0..2 {
        for key in ingress_keys(w) {
            reconcile_ingress(w, &key.0, &key.1, true);
        }
    }
    crate::gateway_api::tick(w, true);
    if !crate::readiness::reflect(w).is_empty() {
        sync_pods(w);
        sync_endpoints(w);
        for key in ingress_keys(w) {
            reconcile_ingress(w, &key.0, &key.1, true);
        }
        crate::gateway_api::tick(w, true);
    }
}

/// The shortest time between two passes (the old polling period): a burst of writes makes one pass.
const MIN_GAP: Duration = Duration::from_millis(50);

/// The controllers' loop: one pass whenever the world changed (`World::touch`, poked by every
/// write) or a delayed action falls due (`next_due`); asleep otherwise.
pub async fn run(world: Shared) {
    let changed = world.lock().unwrap().changed.clone();
    let mut last = tokio::time::Instant::now() - MIN_GAP;
    loop {
        tokio::time::sleep_until(last + MIN_GAP).await;
        last = tokio::time::Instant::now();
        let due = {
            let mut w = world.lock().unwrap();
            // Due times are compared with the pass's start: one falling due during the pass (which
            // the pass may have missed) wakes the loop again at once.
            let started = Instant::now();
            w.controller_passes += 1;
            tick(&mut w);
            next_due(&w, started)
        };
        match due {
            Some(at) => {
                tokio::select! {
                    _ = changed.notified() => {}
                    _ = tokio::time::sleep_until(at.into()) => {}
                }
            }
            None => changed.notified().await,
        }
    }
}

/// When the next delayed action falls due after `now`: an Ingress waiting out the load balancer
/// programming delay, or one being deleted. `None`: nothing is waiting (a due time at or before
/// `now` was acted on by the pass that started at `now`).
pub fn next_due(w: &World, now: Instant) -> Option<Instant> {
    let delay = w.cfg.lb_delay;
    w.ingress_memo
        .values()
        .flat_map(|m| [m.first_seen.map(|t| t + delay), m.deleting_since.map(|t| t + delay / 2)])
        .flatten()
        .chain(crate::readiness::next_timeout(w))
        .chain(crate::gateway_api::next_due(w))
        .filter(|t| *t > now)
        .min()
}

/// One pass of every controller, honouring delays.
pub fn tick(w: &mut World) {
    if w.controllers_paused {
        return;
    }
    sync_pods(w);
    sync_endpoints(w);
    for key in ingress_keys(w) {
        reconcile_ingress(w, &key.0, &key.1, false);
    }
    crate::gateway_api::tick(w, false);
    if !crate::readiness::reflect(w).is_empty() {
        w.touch(); // the next pass finishes what the gate held back
    }
}

fn ingress_keys(w: &World) -> Vec<(String, String)> {
    w.kube_in_ns("Ingress", "")
        .iter()
        .map(|i| {
            (
                i["metadata"]["namespace"].as_str().unwrap_or_default().to_string(),
                i["metadata"]["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// GKE's admission of Services: on a VPC-native cluster (not Shared VPC) new Services get
/// `cloud.google.com/neg: {"ingress":true}` (container-native load balancing by default).
pub fn admit_service(w: &World, svc: &mut Value) {
    if w.vpc_native() && svc["spec"]["type"].as_str().unwrap_or("ClusterIP") == "ClusterIP" {
        let ann = &mut svc["metadata"]["annotations"];
        if ann.is_null() {
            *ann = json!({});
        }
        if ann.get("cloud.google.com/neg").is_none() {
            ann["cloud.google.com/neg"] = json!("{\"ingress\":true}");
        }
    }
}

// ---------------------------------------------------------------- Deployments and pods

fn short_hash(v: &Value, n: usize) -> String {
    let h = Sha256::digest(v.to_string().as_bytes());
    content_hash_bytes(&h, n)
}

fn content_hash_bytes(h: &[u8], n: usize) -> String {
    const A: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    h.iter().take(n).map(|b| A[(*b as usize) % 36] as char).collect()
}

/// ingress-gce's `ContentHash`: each sha256 byte mod 36 onto `0-9a-z`.
pub fn content_hash(s: &str, n: usize) -> String {
    content_hash_bytes(&Sha256::digest(s.as_bytes()), n)
}

/// Make every Deployment's pods follow its template and replica count (a finished rollout).
pub fn sync_pods(w: &mut World) {
    let deployments = w.kube_in_ns("Deployment", "");
    let nodes = w.kube_in_ns("Node", "");
    let mut wanted_pods: BTreeSet<(String, String)> = BTreeSet::new();
    for d in &deployments {
        let ns = d["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
        let dname = d["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let replicas = d["spec"]["replicas"].as_i64().unwrap_or(1).max(0) as usize;
        let tpl = &d["spec"]["template"];
        let hash = short_hash(tpl, 10);
        let not_ready = d["metadata"]["annotations"]["sim.kasten-ilb/not-ready"] == json!("true");
        let existing: Vec<Value> = w
            .kube_in_ns("Pod", &ns)
            .into_iter()
            .filter(|p| p["metadata"]["ownerReferences"][0]["name"].as_str() == Some(&format!("{dname}-{hash}")))
            .collect();
        let dname_offset: usize = dname.bytes().map(usize::from).sum();
        for i in 0..replicas {
            let pname = format!("{dname}-{hash}-{}", short_hash(&json!([dname, i]), 5));
            wanted_pods.insert((ns.clone(), pname.clone()));
            let exists = existing.iter().any(|p| p["metadata"]["name"] == json!(pname));
            let node_idx = (dname_offset + i) % nodes.len().max(1);
            let node = nodes.get(node_idx).cloned().unwrap_or(Value::Null);
            let ready = if not_ready { "False" } else { "True" };
            if exists {
                let p = w.kube_get("Pod", &ns, &pname).cloned().unwrap();
                let want_ready = !not_ready && crate::readiness::gate_open(&p);
                if containers_ready(&p) == not_ready || pod_ready(&p) != want_ready {
                    let mut p = p;
                    set_pod_ready(&mut p, !not_ready);
                    w.kube_put(p);
                }
                continue;
            }
            let node_name = node["metadata"]["name"].as_str().unwrap_or_default().to_string();
            // An old pod kept by a rolling update still holds its address: take the next free one.
            let taken: BTreeSet<String> = w
                .kube_in_ns("Pod", "")
                .iter()
                .filter_map(|p| p["status"]["podIP"].as_str().map(str::to_string))
                .collect();
            let pod_ip = (0..240)
                .map(|k| format!("10.52.{}.{}", node_idx, 10 + (dname_offset + i * 7 + k) % 240))
                .find(|ip| !taken.contains(ip))
                .unwrap_or_default();
            let host_ip = node["status"]["addresses"][0]["address"].clone();
            let mut labels = tpl["metadata"]["labels"].clone();
            labels["pod-template-hash"] = json!(hash);
            let mut spec = tpl["spec"].clone();
            spec["nodeName"] = json!(node_name);
            let containers = spec["containers"].as_array().cloned().unwrap_or_default();
            let statuses: Vec<Value> = containers
                .iter()
                .map(|c| {
                    json!({"name": c["name"], "image": c["image"], "imageID": "", "ready": !not_ready, "restartCount": 0, "started": true,
                            "state": {"running": {"startedAt": now_rfc3339()}}, "containerID": format!("containerd://{}", short_hash(c, 32))})
                })
                .collect();
            let mut pod = json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": pname, "namespace": ns, "labels": labels, "generateName": format!("{dname}-{hash}-"),
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{dname}-{hash}"), "uid": crate::world::uuid_like(&hash), "controller": true, "blockOwnerDeletion": true}]},
                "spec": spec,
                "status": {"phase": "Running", "podIP": pod_ip, "podIPs": [{"ip": pod_ip}], "hostIP": host_ip, "qosClass": "Burstable", "startTime": now_rfc3339(),
                    "conditions": [
                        {"type": "Initialized", "status": "True", "lastTransitionTime": now_rfc3339()},
                        {"type": "Ready", "status": ready, "lastTransitionTime": now_rfc3339()},
                        {"type": "ContainersReady", "status": ready, "lastTransitionTime": now_rfc3339()},
                        {"type": "PodScheduled", "status": "True", "lastTransitionTime": now_rfc3339()}],
                    "containerStatuses": statuses},
            });
            crate::readiness::inject(w, &mut pod);
            set_pod_ready(&mut pod, !not_ready);
            w.kube_put(pod);
        }
        let new_ready = keep_old_pods_while_rolling(w, (&ns, &dname, &hash), replicas, &mut wanted_pods);
        // Deployment status
        let mut d2 = w.kube_get("Deployment", &ns, &dname).cloned().unwrap();
        let ready_n = if not_ready { 0 } else { new_ready };
        let status = json!({"observedGeneration": d2["metadata"]["generation"], "replicas": replicas, "updatedReplicas": replicas,
            "readyReplicas": ready_n, "availableReplicas": ready_n,
            "conditions": [{"type": "Available", "status": if ready_n > 0 || replicas == 0 { "True" } else { "False" }, "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                           {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": format!("ReplicaSet \"{dname}-{hash}\" has successfully progressed.")}]});
        let mut s2 = status.clone();
        if ready_n == 0 {
            s2.as_object_mut().unwrap().remove("readyReplicas");
            s2.as_object_mut().unwrap().remove("availableReplicas");
            s2["unavailableReplicas"] = json!(replicas);
        }
        if d2["status"] != s2 {
            d2["status"] = s2;
            w.kube_put(d2);
        }
    }
    // Remove pods whose Deployment moved on.
    for p in w.kube_in_ns("Pod", "") {
        let ns = p["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
        let name = p["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let owned = p["metadata"]["ownerReferences"][0]["kind"] == json!("ReplicaSet");
        if owned && !wanted_pods.contains(&(ns.clone(), name.clone())) {
            w.kube_delete("Pod", &ns, &name);
        }
    }
}

/// A rolling update keeps the old pods until the new ones are Ready (maxUnavailable 0 for one
/// replica), so a new pod held back by its readiness gate stalls the rollout. Returns how many
/// new pods are Ready.
fn keep_old_pods_while_rolling(
    w: &World,
    (ns, dname, hash): (&str, &str, &str),
    replicas: usize,
    wanted: &mut BTreeSet<(String, String)>,
) -> usize {
    let name = |p: &Value| p["metadata"]["name"].as_str().unwrap_or_default().to_string();
    let current = format!("{dname}-{hash}");
    let new_ready = w
        .kube_in_ns("Pod", ns)
        .iter()
        .filter(|p| wanted.contains(&(ns.to_string(), name(p))))
        .filter(|p| p["metadata"]["ownerReferences"][0]["name"].as_str() == Some(current.as_str()))
        .filter(|p| pod_ready(p))
        .count();
    if new_ready < replicas {
        for p in old_pods(w, ns, dname, hash) {
            wanted.insert((ns.to_string(), name(&p)));
        }
    }
    new_ready
}

/// The pods of Deployment `dname` from an older template (another ReplicaSet hash).
fn old_pods(w: &World, ns: &str, dname: &str, hash: &str) -> Vec<Value> {
    let current = format!("{dname}-{hash}");
    w.kube_in_ns("Pod", ns)
        .into_iter()
        .filter(|p| {
            let owner = p["metadata"]["ownerReferences"][0]["name"].as_str().unwrap_or_default();
            owner != current
                && owner
                    .strip_prefix(&format!("{dname}-"))
                    .is_some_and(|h| !h.is_empty() && !h.contains('-'))
        })
        .collect()
}

/// Set the containers' readiness; the pod is Ready when they are and its readiness gates are True.
pub fn set_pod_ready(p: &mut Value, containers: bool) {
    let ready = containers && crate::readiness::gate_open(p);
    let s = |b: bool| if b { "True" } else { "False" };
    if let Some(conds) = p["status"]["conditions"].as_array_mut() {
        for c in conds {
            if c["type"] == json!("Ready") {
                c["status"] = json!(s(ready));
            } else if c["type"] == json!("ContainersReady") {
                c["status"] = json!(s(containers));
            }
        }
    }
    if let Some(cs) = p["status"]["containerStatuses"].as_array_mut() {
        for c in cs {
            c["ready"] = json!(containers);
        }
    }
}

/// Are the pod's containers ready (whatever its readiness gates say)?
pub fn containers_ready(p: &Value) -> bool {
    p["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == json!("ContainersReady") && c["status"] == json!("True"))
    })
}

pub fn pod_ready(p: &Value) -> bool {
    p["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == json!("Ready") && c["status"] == json!("True"))
    })
}

pub fn labels_match(selector: &Value, labels: &Value) -> bool {
    match selector.as_object() {
        Some(m) if !m.is_empty() => m.iter().all(|(k, v)| labels.get(k) == Some(v)),
        _ => false,
    }
}

/// Pods selected by a Service.
pub fn service_pods(w: &World, svc: &Value) -> Vec<Value> {
    let ns = svc["metadata"]["namespace"].as_str().unwrap_or_default();
    w.kube_in_ns("Pod", ns)
        .into_iter()
        .filter(|p| labels_match(&svc["spec"]["selector"], &p["metadata"]["labels"]))
        .collect()
}

/// Resolve a Service port's targetPort against a pod: `Some(port)` when the pod serves it.
pub fn resolve_target_port(svc_port: &Value, pod: &Value) -> Option<i64> {
    let tp = &svc_port["targetPort"];
    if let Some(n) = tp.as_i64() {
        return Some(n);
    }
    if let Some(name) = tp.as_str() {
        if let Ok(n) = name.parse::<i64>() {
            return Some(n);
        }
        for c in pod["spec"]["containers"].as_array().into_iter().flatten() {
            for p in c["ports"].as_array().into_iter().flatten() {
                if p["name"].as_str() == Some(name) {
                    return p["containerPort"].as_i64();
                }
            }
        }
        return None;
    }
    svc_port["port"].as_i64()
}

fn sync_endpoints(w: &mut World) {
    for svc in w.kube_in_ns("Service", "") {
        let ns = svc["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
        let name = svc["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let pods = service_pods(w, &svc);
        let mut ready = vec![];
        let mut not_ready = vec![];
        for p in &pods {
            let addr = json!({"ip": p["status"]["podIP"], "nodeName": p["spec"]["nodeName"],
                               "targetRef": {"kind": "Pod", "name": p["metadata"]["name"], "namespace": ns, "uid": p["metadata"]["uid"]}});
            if pod_ready(p) {
                ready.push(addr)
            } else {
                not_ready.push(addr)
            }
        }
        let ports: Vec<Value> = svc["spec"]["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|sp| {
                let tp = pods.first().and_then(|p| resolve_target_port(sp, p))?;
                Some(json!({"name": sp["name"], "port": tp, "protocol": "TCP"}))
            })
            .collect();
        let mut subset = json!({"ports": ports});
        if !ready.is_empty() {
            subset["addresses"] = json!(ready);
        }
        if !not_ready.is_empty() {
            subset["notReadyAddresses"] = json!(not_ready);
        }
        let subsets = if pods.is_empty() || ports.is_empty() {
            json!([])
        } else {
            json!([subset])
        };
        let current = w.kube_get("Endpoints", &ns, &name).map(|e| e["subsets"].clone());
        if current.as_ref() != Some(&subsets) {
            w.kube_put(json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": ns, "labels": svc["metadata"]["labels"]}, "subsets": subsets}));
        }
    }
}

// ---------------------------------------------------------------- Ingress controller

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Internal,
    External,
    Ignored,
}

pub fn classify(ing: &Value) -> Class {
    match ing["metadata"]["annotations"]["kubernetes.io/ingress.class"].as_str() {
        Some("gce-internal") => Class::Internal,
        Some("gce") | Some("") => Class::External,
        Some(_) => Class::Ignored,
        None if ing["spec"]["ingressClassName"].is_string() => Class::Ignored,
        None => Class::External,
    }
}

/// `k8s1-<cuid8>-<ns>-<svc>-<port>-<hash8>`: the NEG, backend service and health check name.
pub fn neg_name(ns: &str, svc: &str, port: i64) -> String {
    let cuid8 = &CLUSTER_UID[..8];
    let h = Sha256::digest(format!("{CLUSTER_UID};{ns};{svc};{port}").as_bytes());
    let hash8: String = h.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let (mut a, mut b, mut c) = (ns.to_string(), svc.to_string(), port.to_string());
    while a.len() + b.len() + c.len() > 38 {
        // trim evenly, longest first
        if a.len() >= b.len() && a.len() >= c.len() {
            a.pop();
        } else if b.len() >= c.len() {
            b.pop();
        } else {
            c.pop();
        }
    }
    format!("k8s1-{cuid8}-{a}-{b}-{c}-{hash8}")
}

/// v2 frontend names: `k8s2-<kind>-<cuid8>-<ns>-<name>-<hash8>`.
pub fn frontend_name(kind: &str, ns: &str, name: &str) -> String {
    let cuid8 = content_hash(KUBE_SYSTEM_UID, 8);
    let hash8 = content_hash(&format!("{KUBE_SYSTEM_UID};{ns};{name}"), 8);
    let ns_t: String = ns.chars().take(18).collect();
    let name_t: String = name.chars().take(18).collect();
    format!("k8s2-{kind}-{cuid8}-{ns_t}-{name_t}-{hash8}")
}

pub fn l7_firewall_name() -> String {
    format!("k8s-fw-l7--{CLUSTER_UID}")
}

#[derive(Debug, Clone)]
struct Backend {
    svc: String,
    port: Value,
}

#[derive(Debug, Clone)]
struct Route {
    host: String,
    paths: Vec<String>,
    backend: usize,
}

fn ingress_backends(ing: &Value) -> (Vec<Backend>, Vec<Route>, Option<usize>) {
    let mut backends: Vec<Backend> = vec![];
    let mut routes = vec![];
    let idx = |b: &Value, backends: &mut Vec<Backend>| -> usize {
        let svc = b["service"]["name"].as_str().unwrap_or_default().to_string();
        let port = if b["service"]["port"]["number"].is_number() {
            b["service"]["port"]["number"].clone()
        } else {
            b["service"]["port"]["name"].clone()
        };
        if let Some(i) = backends.iter().position(|x| x.svc == svc && x.port == port) {
            return i;
        }
        backends.push(Backend { svc, port });
        backends.len() - 1
    };
    for rule in ing["spec"]["rules"].as_array().into_iter().flatten() {
        let host = rule["host"].as_str().unwrap_or("*").to_string();
        for p in rule["http"]["paths"].as_array().into_iter().flatten() {
            let path = p["path"].as_str().unwrap_or("/").to_string();
            let paths = match p["pathType"].as_str().unwrap_or("ImplementationSpecific") {
                "Prefix" if path == "/" => vec!["/*".to_string()],
                "Prefix" => {
                    let base = path.trim_end_matches('/').to_string();
                    vec![base.clone(), format!("{base}/*")]
                }
                _ => vec![path],
            };
            let b = idx(&p["backend"], &mut backends);
            routes.push(Route {
                host: host.clone(),
                paths,
                backend: b,
            });
        }
    }
    let default = if ing["spec"]["defaultBackend"].is_object() {
        Some(idx(&ing["spec"]["defaultBackend"], &mut backends))
    } else {
        None
    };
    (backends, routes, default)
}

fn warn_once(w: &mut World, key: &(String, String), ing: &Value, reason: &str, msg: &str) {
    w.event(ing, "Warning", reason, msg, "loadbalancer-controller");
    w.ingress_memo.entry(key.clone()).or_default().last_warning = Some(msg.to_string());
}

pub fn reconcile_ingress(w: &mut World, ns: &str, name: &str, immediate: bool) {
    let key = (ns.to_string(), name.to_string());
    let Some(ing) = w.kube_get("Ingress", ns, name).cloned() else {
        w.ingress_memo.remove(&key);
        return;
    };
    let delay = w.cfg.lb_delay;
    let now = Instant::now();
    let class = classify(&ing);
    if !ing["metadata"]["deletionTimestamp"].is_null() {
        let memo = w.ingress_memo.entry(key.clone()).or_default();
        let since = *memo.deleting_since.get_or_insert(now);
        if immediate || now >= since + delay / 2 {
            garbage_collect(w, ns, name);
            let mut ing = ing;
            if let Some(f) = ing["metadata"]["finalizers"].as_array_mut() {
                f.retain(|x| x != FINALIZER_V2);
                if f.is_empty() {
                    w.kube_delete("Ingress", ns, name);
                    w.ingress_memo.remove(&key);
                    maybe_remove_l7_firewall(w);
                    return;
                }
            }
            w.kube_put(ing);
        }
        return;
    }
    if class == Class::Ignored || !w.http_lb_enabled() {
        return;
    }
    let generation = ing["metadata"]["generation"].as_i64().unwrap_or(1);
    let fresh = !w.ingress_memo.contains_key(&key);
    if fresh {
        let mut ing2 = ing.clone();
        let fins = ing2["metadata"]["finalizers"].as_array().cloned().unwrap_or_default();
        if !fins.iter().any(|f| f == FINALIZER_V2) {
            let mut f = fins;
            f.push(json!(FINALIZER_V2));
            ing2["metadata"]["finalizers"] = json!(f);
            w.kube_put(ing2);
        }
        let ing_now = w.kube_get("Ingress", ns, name).cloned().unwrap();
        w.event(
            &ing_now,
            "Normal",
            "Sync",
            "Scheduled for sync",
            "loadbalancer-controller",
        );
        let memo = w.ingress_memo.entry(key.clone()).or_default();
        memo.first_seen = Some(now);
        memo.generation_seen = generation;
        if !immediate {
            return;
        }
    }
    {
        let memo = w.ingress_memo.entry(key.clone()).or_default();
        if memo.generation_seen != generation {
            memo.generation_seen = generation;
            memo.first_seen = Some(now);
            memo.last_warning = None;
            if !immediate {
                return;
            }
        }
        if !immediate && now < memo.first_seen.unwrap_or(now) + delay {
            return;
        }
    }
    let ing = w.kube_get("Ingress", ns, name).cloned().unwrap();
    sync_ingress(w, &key, &ing, class);
}

/// Warn about an Ingress once per distinct message (ingress-gce repeats only changed errors).
fn warn_if_new(w: &mut World, key: &(String, String), ing: &Value, reason: &str, msg: &str) {
    if w.ingress_memo.get(key).and_then(|m| m.last_warning.clone()).as_deref() != Some(msg) {
        warn_once(w, key, ing, reason, msg);
    }
}

/// What the Ingress asks of the frontend (from its annotations and TLS section).
struct Frontend {
    tls: bool,
    allow_http: bool,
    static_name: Option<String>,
}

fn sync_ingress(w: &mut World, key: &(String, String), ing: &Value, class: Class) {
    let (backends, routes, default_backend) = ingress_backends(ing);
    let Some(svc_objs) = translate(w, key, ing, &backends) else {
        return;
    };
    // Backends: NEGs, health checks, backend services, and the L7 firewall rule.
    let mut backend_links = vec![];
    let mut neg_ports = BTreeSet::new();
    for (svc, port) in &svc_objs {
        let (bs_link, tport) = sync_backend(w, &key.0, svc, port);
        backend_links.push(bs_link);
        neg_ports.extend(tport);
    }
    // No spec.defaultBackend: the system default backend gets its own NEGs and backend service.
    if default_backend.is_none() && class == Class::Internal {
        if let Some((svc, port)) = default_backend::service_port(w) {
            let (bs_link, tport) = sync_backend(w, default_backend::NAMESPACE, &svc, &port);
            backend_links.push(bs_link);
            neg_ports.extend(tport);
        }
    }
    let extra = l7_ports::extra_ports(w, ing, class, &svc_objs);
    ensure_l7_firewall(w, &neg_ports, &extra);
    let Some(fe) = check_frontend(w, key, ing, class) else {
        return;
    };
    let Some(ip) = ingress_ip(w, key, ing, class, &fe) else {
        return;
    };
    let um_obj = url_map(w, &backend_links, &routes, default_backend);
    let names = sync_frontend(w, key, class, &fe, &ip, um_obj);
    publish(w, key, ing, &ip, &fe, &names, &backend_links);
}

/// Translate the Ingress's backends into (Service, port) pairs; warn and return `None` when one
/// cannot be served.
fn translate(w: &mut World, key: &(String, String), ing: &Value, backends: &[Backend]) -> Option<Vec<(Value, Value)>> {
    let ns = &key.0;
    let mut errors = vec![];
    let mut svc_objs = vec![];
    for b in backends {
        let Some(svc) = w.kube_get("Service", ns, &b.svc).cloned() else {
            errors.push(format!("could not find service \"{ns}/{}\"", b.svc));
            continue;
        };
        let port = svc["spec"]["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["port"] == b.port || (b.port.is_string() && p["name"] == b.port))
            .cloned();
        let Some(port) = port else {
            let shown = b
                .port
                .as_i64()
                .map(|n| n.to_string())
                .unwrap_or_else(|| b.port.as_str().unwrap_or_default().to_string());
            errors.push(format!("could not find port \"{shown}\" in service \"{ns}/{}\"", b.svc));
            continue;
        };
        let neg = svc["metadata"]["annotations"]["cloud.google.com/neg"]
            .as_str()
            .unwrap_or_default();
        let neg_on = serde_json::from_str::<Value>(neg)
            .map(|v| v["ingress"] == json!(true))
            .unwrap_or(false);
        if !neg_on && svc["spec"]["type"].as_str().unwrap_or("ClusterIP") == "ClusterIP" {
            errors.push(format!(
                "service \"{ns}/{}\" is type \"ClusterIP\", expected \"NodePort\" or \"LoadBalancer\" \
                 when not using NEGs",
                b.svc
            ));
            continue;
        }
        if let Some(e) = backend_config_error(w, &svc, &port) {
            errors.push(e);
            continue;
        }
        svc_objs.push((svc, port));
    }
    if !errors.is_empty() {
        let msg = format!("Translation failed: invalid ingress spec: {}", errors.join("; "));
        warn_if_new(w, key, ing, "Translate", &msg);
        return None;
    }
    Some(svc_objs)
}

/// The frontend's settings, or `None` (with a warning) when the controller will not build it.
fn check_frontend(w: &mut World, key: &(String, String), ing: &Value, class: Class) -> Option<Frontend> {
    let ann = &ing["metadata"]["annotations"];
    let fe = Frontend {
        tls: ing["spec"]["tls"].as_array().is_some_and(|t| !t.is_empty())
            || ann["ingress.gcp.kubernetes.io/pre-shared-cert"].is_string(),
        allow_http: ann["kubernetes.io/ingress.allow-http"].as_str() != Some("false"),
        static_name: ann["kubernetes.io/ingress.regional-static-ip-name"]
            .as_str()
            .map(str::to_string),
    };
    if class == Class::Internal && fe.tls && fe.allow_http && fe.static_name.is_none() {
        let msg = "gce-internal Ingress class must be configured with a static-ip to use both HTTP and HTTPS \
                   served on the same IP. Please configure a static-ip with Purpose=SHARED_LOADBALANCER_VIP and \
                   attach it to the ingress with the kubernetes.io/ingress.regional-static-ip-name annotation.";
        warn_if_new(w, key, ing, "WillNotConfigureFrontend", msg);
        return None;
    }
    for t in ing["spec"]["tls"].as_array().into_iter().flatten() {
        let secret = t["secretName"].as_str().unwrap_or_default();
        if w.kube_get("Secret", &key.0, secret).is_none() {
            let msgs = crate::alb::missing_tls_secret(secret);
            let last = w.ingress_memo.get(key).and_then(|m| m.last_warning.clone());
            if !msgs.iter().any(|m| last.as_ref() == Some(m)) {
                msgs.iter().for_each(|m| warn_once(w, key, ing, "Sync", m));
            }
            return None;
        }
    }
    if !fe.allow_http && !fe.tls {
        let msg = "invalid configuration: both HTTP and HTTPS are disabled (kubernetes.io/ingress.allow-http is \
                   false and there is no valid TLS configuration); your Ingress will not be able to serve any \
                   traffic";
        warn_if_new(w, key, ing, "Sync", msg);
        return None;
    }
    Some(fe)
}

/// The Ingress's IP: kept, the named static address, or a new one; `None` (with a warning) when
/// the load balancer cannot be built.
fn ingress_ip(w: &mut World, key: &(String, String), ing: &Value, class: Class, fe: &Frontend) -> Option<String> {
    let region = w.region.clone();
    let lb_name = frontend_name("um", &key.0, &key.1);
    let err = |detail: String| {
        format!(
            "Error syncing to GCP: error running load balancer syncing routine: \
             loadbalancer {lb_name} does not exist: {detail}"
        )
    };
    if class == Class::Internal && active_proxy_subnet(w).is_none() {
        let tp = frontend_name("tp", &key.0, &key.1);
        let tp_url = format!("{}/targetHttpProxies/{}", w.region_url(&region), tp);
        let msg = err(format!("googleapi: Error 400: {}, invalid", invalid_target(&tp_url)));
        warn_if_new(w, key, ing, "Sync", &msg);
        return None;
    }
    // A changed class replaces the load balancer, and with it an address of the other kind.
    let mut ip = w
        .ingress_memo
        .get(key)
        .and_then(|m| m.ip.clone())
        .filter(|ip| ip.starts_with("10.") == (class == Class::Internal));
    if let Some(sname) = &fe.static_name {
        match w.compute.addresses.get(&format!("{region}/{sname}")) {
            Some(a) if crate::alb::in_proxy_only_subnet(w, a) => {
                warn_if_new(w, key, ing, "Sync", &err(crate::alb::NOT_PRIVATE.into()));
                return None;
            }
            Some(a) => ip = a["address"].as_str().map(str::to_string),
            None => {
                let msg = err(format!(
                    "the given static IP name {sname} doesn't translate to an existing static IP."
                ));
                warn_if_new(w, key, ing, "Sync", &msg);
                return None;
            }
        }
    }
    Some(match ip {
        Some(ip) => ip,
        None if class == Class::Internal => w.alloc_internal_ip(),
        None => {
            let n = w.next_ip;
            w.next_ip += 1;
            format!("34.149.{}.{}", 100 + n / 250, n % 250 + 2)
        }
    })
}

/// Compute's error for a forwarding rule of an internal proxy load balancer when the region and
/// VPC have no ACTIVE proxy-only subnet (shared by the Ingress and Gateway controllers).
pub fn invalid_target(tp_url: &str) -> String {
    format!(
        "Invalid value for field 'resource.target': '{tp_url}'. A reserved and active subnetwork is required \
         in the same region and VPC as the forwarding rule."
    )
}

/// Names of the frontend pieces: (URL map, target proxy, forwarding rule).
struct FrontendNames {
    um: String,
    tp: String,
    fr: String,
}

/// The URL map, target proxy and forwarding rule.
fn sync_frontend(
    w: &mut World,
    key: &(String, String),
    class: Class,
    fe: &Frontend,
    ip: &str,
    mut um_obj: Value,
) -> FrontendNames {
    let (ns, name) = (&key.0, &key.1);
    let names = FrontendNames {
        um: frontend_name("um", ns, name),
        tp: frontend_name("tp", ns, name),
        fr: frontend_name("fr", ns, name),
    };
    let (um, tp, fr) = (&names.um, &names.tp, &names.fr);
    let region = w.region.clone();
    let internal = class == Class::Internal;
    let (fs, ts) = (frontend_name("fs", ns, name), frontend_name("ts", ns, name));
    let before = frontend_present(w, class, &region, [um, tp, fr, &ts, &fs]);
    let scope_url = if internal {
        w.region_url(&region)
    } else {
        format!("{}/global", w.project_url())
    };
    let regional = |w: &World| {
        if internal {
            json!(w.region_url(&region))
        } else {
            Value::Null
        }
    };
    um_obj["name"] = json!(um);
    um_obj["selfLink"] = json!(format!("{scope_url}/urlMaps/{um}"));
    um_obj["region"] = regional(w);
    upsert(&mut w.compute.url_maps, format!("{region}/{um}"), um_obj);
    let tp_obj = json!({"kind": "compute#targetHttpProxy", "name": tp, "urlMap": format!("{scope_url}/urlMaps/{um}"),
        "selfLink": format!("{scope_url}/targetHttpProxies/{tp}"), "region": regional(w)});
    upsert(&mut w.compute.target_proxies, format!("{region}/{tp}"), tp_obj);
    let both = internal && fe.allow_http && fe.tls;
    let port_range = match (fe.allow_http, fe.tls) {
        (true, true) if internal => "80-80",
        (true, true) => "80-443",
        (true, false) => "80-80",
        (false, _) => "443-443",
    };
    let fr_obj = json!({
        "kind": "compute#forwardingRule", "name": fr, "IPAddress": ip, "IPProtocol": "TCP", "portRange": port_range,
        "target": format!("{scope_url}/targetHttpProxies/{tp}"),
        "loadBalancingScheme": if internal { "INTERNAL_MANAGED" } else { "EXTERNAL_MANAGED" },
        "network": if internal { json!(w.network_url(&w.network)) } else { Value::Null },
        "subnetwork": if internal { json!(w.subnet_url(&region, &subnet_of_cluster(w))) } else { Value::Null },
        "networkTier": "PREMIUM", "allowGlobalAccess": false,
        "description": format!("{{\"kubernetes.io/ingress-name\":\"{ns}/{name}\"}}"),
        "selfLink": format!("{scope_url}/forwardingRules/{fr}"),
        "region": regional(w),
    });
    crate::alb::sync_https_rule(w, &region, &fr_obj, (um, &fs, &ts), both);
    if internal {
        w.compute.global_forwarding_rules.remove(fr);
        upsert(&mut w.compute.forwarding_rules, format!("{region}/{fr}"), fr_obj);
    } else {
        w.compute.forwarding_rules.remove(&format!("{region}/{fr}"));
        upsert(&mut w.compute.global_forwarding_rules, fr.clone(), fr_obj);
    }
    let after = frontend_present(w, class, &region, [um, tp, fr, &ts, &fs]);
    created_events(w, key, [um, tp, fr, &ts, &fs], before, after);
    names
}

/// Which of (url map, target HTTP proxy, HTTP rule, target HTTPS proxy, HTTPS rule) exist.
fn frontend_present(w: &World, class: Class, region: &str, n: [&String; 5]) -> [bool; 5] {
    let c = &w.compute;
    let k = |name: &String| format!("{region}/{name}");
    let rule = |name: &String| {
        if class == Class::Internal {
            c.forwarding_rules.contains_key(&k(name))
        } else {
            c.global_forwarding_rules.contains_key(name)
        }
    };
    [
        c.url_maps.contains_key(&k(n[0])),
        c.target_proxies.contains_key(&k(n[1])),
        rule(n[2]),
        c.target_proxies.contains_key(&k(n[3])),
        c.forwarding_rules.contains_key(&k(n[4])),
    ]
}

/// ingress-gce's Normal `Sync` events, in its order (`edgeHop`: the URL map, then HTTP, then
/// HTTPS): `UrlMap %q created` (`url_maps.go`), `TargetProxy %q created` (`target_proxies.go`),
/// `ForwardingRule %q created` (`forwarding_rules.go`).
fn created_events(w: &mut World, key: &(String, String), n: [&String; 5], before: [bool; 5], after: [bool; 5]) {
    let Some(ing) = w.kube_get("Ingress", &key.0, &key.1).cloned() else {
        return;
    };
    let what = [
        "UrlMap",
        "TargetProxy",
        "ForwardingRule",
        "TargetProxy",
        "ForwardingRule",
    ];
    for i in 0..5 {
        if after[i] && !before[i] {
            let msg = format!("{} {:?} created", what[i], n[i]);
            w.event(&ing, "Normal", "Sync", &msg, "loadbalancer-controller");
        }
    }
}

/// The URL map's routing (one path matcher per host), without its name and links.
fn url_map(w: &World, bs_urls: &[String], routes: &[Route], default_backend: Option<usize>) -> Value {
    let mut host_rules: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for r in routes {
        host_rules
            .entry(r.host.clone())
            .or_default()
            .push(json!({"paths": r.paths, "service": bs_urls.get(r.backend)}));
    }
    let default_service = match default_backend {
        Some(i) => json!(bs_urls.get(i)),
        None => json!(format!(
            "{}/backendServices/{}",
            w.region_url(&w.region),
            neg_name("kube-system", "default-http-backend", 80)
        )),
    };
    let matchers: Vec<Value> = host_rules
        .iter()
        .enumerate()
        .map(|(i, (_, rules))| json!({"name": format!("host{i}"), "defaultService": default_service, "pathRules": rules}))
        .collect();
    let hrs: Vec<Value> = host_rules
        .keys()
        .enumerate()
        .map(|(i, h)| json!({"hosts": [h], "pathMatcher": format!("host{i}")}))
        .collect();
    json!({"kind": "compute#urlMap", "name": null, "defaultService": default_service, "hostRules": hrs,
        "pathMatchers": matchers, "selfLink": null, "region": null})
}

/// The Ingress's annotations (backends' health, frontend names) and status, and the memo.
fn publish(
    w: &mut World,
    key: &(String, String),
    ing: &Value,
    ip: &str,
    fe: &Frontend,
    names: &FrontendNames,
    backend_links: &[String],
) {
    let mut health = serde_json::Map::new();
    for link in backend_links {
        let bs = link.rsplit('/').next().unwrap_or_default().to_string();
        let h = backend_health(w, &bs);
        let state = if h.iter().any(|e| e.3 == "HEALTHY") {
            "HEALTHY"
        } else if let Some(e) = h.last() {
            e.3
        } else {
            "Unknown"
        };
        health.insert(bs, json!(state));
    }
    let https = https_annotations(w, key, ing);
    let mut ing2 = ing.clone();
    let a = &mut ing2["metadata"]["annotations"];
    a["ingress.kubernetes.io/backends"] = json!(Value::Object(health).to_string());
    a["ingress.kubernetes.io/forwarding-rule"] = json!(names.fr);
    a["ingress.kubernetes.io/target-proxy"] = json!(names.tp);
    a["ingress.kubernetes.io/url-map"] = json!(names.um);
    if let Some(m) = a.as_object_mut() {
        for k in HTTPS_ANNOTATIONS {
            m.remove(k);
        }
        m.extend(https);
    }
    if let Some(s) = &fe.static_name {
        a["ingress.kubernetes.io/static-ip"] = json!(s);
    }
    let status = json!({"loadBalancer": {"ingress": [{"ip": ip}]}});
    let changed_ip = ing["status"] != status;
    ing2["status"] = status;
    if ing2 != *ing {
        w.kube_put(ing2);
    }
    let memo = w.ingress_memo.entry(key.clone()).or_default();
    memo.ip = Some(ip.to_string());
    memo.last_warning = None;
    memo.synced_generation = memo.generation_seen;
    if changed_ip {
        let ing_now = w.kube_get("Ingress", &key.0, &key.1).cloned().unwrap();
        let msg = format!("IP is now {ip}");
        w.event(&ing_now, "Normal", "IPChanged", &msg, "loadbalancer-controller");
    }
}

/// The status annotations of the HTTPS front end (`getFrontendAnnotations` in ingress-gce's
/// `pkg/loadbalancers/l7.go`, keys from `pkg/annotations/ingress.go`), each deleted when absent.
const HTTPS_ANNOTATIONS: [&str; 3] = [
    "ingress.kubernetes.io/https-forwarding-rule",
    "ingress.kubernetes.io/https-target-proxy",
    "ingress.kubernetes.io/ssl-cert",
];

/// `https-forwarding-rule` and `https-target-proxy` when the HTTPS rule and proxy exist;
/// `ssl-cert`: the certificates' names joined by `,` (modelled for `pre-shared-cert` only).
fn https_annotations(w: &World, key: &(String, String), ing: &Value) -> serde_json::Map<String, Value> {
    let region = &w.region;
    let (fs, ts) = (frontend_name("fs", &key.0, &key.1), frontend_name("ts", &key.0, &key.1));
    let mut out = serde_json::Map::new();
    if w.compute.forwarding_rules.contains_key(&format!("{region}/{fs}")) {
        out.insert(HTTPS_ANNOTATIONS[0].into(), json!(fs));
    }
    if w.compute.target_proxies.contains_key(&format!("{region}/{ts}")) {
        out.insert(HTTPS_ANNOTATIONS[1].into(), json!(ts));
    }
    let pre_shared = ing["metadata"]["annotations"]["ingress.gcp.kubernetes.io/pre-shared-cert"].as_str();
    if let Some(certs) = pre_shared.filter(|c| !c.is_empty()) {
        let names: Vec<&str> = certs.split(',').map(str::trim).collect();
        out.insert(HTTPS_ANNOTATIONS[2].into(), json!(names.join(",")));
    }
    out
}

fn subnet_of_cluster(w: &World) -> String {
    w.cluster["subnetwork"].as_str().unwrap_or("default").to_string()
}

pub(crate) fn upsert(map: &mut BTreeMap<String, Value>, key: String, mut v: Value) {
    if let Some(old) = map.get(&key) {
        v["id"] = old["id"].clone();
        v["creationTimestamp"] = old["creationTimestamp"].clone();
        v["fingerprint"] = old["fingerprint"].clone();
        // Global access set outside the controller (gcloud) is kept: the Ingress has no say in it.
        if old["allowGlobalAccess"] == json!(true) {
            v["allowGlobalAccess"] = json!(true);
        }
    } else {
        v["id"] = json!(format!(
            "{}",
            5_000_000_000_000_000_000u64 + (key.len() as u64) * 7919 + map.len() as u64
        ));
        v["creationTimestamp"] = json!(now_rfc3339());
        v["fingerprint"] = json!(compute::fingerprint(&key));
    }
    map.insert(key, v);
}

/// The BackendConfig named for a Service port, if any: `Ok(None)` when there is no annotation.
pub fn backend_config_for(w: &World, svc: &Value, port: &Value) -> Result<Option<Value>, String> {
    let ann = &svc["metadata"]["annotations"];
    let raw = ann["cloud.google.com/backend-config"]
        .as_str()
        .or_else(|| ann["beta.cloud.google.com/backend-config"].as_str());
    let Some(raw) = raw else { return Ok(None) };
    let ns = svc["metadata"]["namespace"].as_str().unwrap_or_default();
    let parsed: Value =
        serde_json::from_str(raw).map_err(|_| "BackendConfig annotation is invalid json".to_string())?;
    let by_port = |p: &Value| -> Option<String> {
        let ports = &parsed["ports"];
        ports[port["name"].as_str().unwrap_or("\u{0}")]
            .as_str()
            .or_else(|| ports[p["port"].as_i64().map(|n| n.to_string()).unwrap_or_default()].as_str())
            .map(str::to_string)
    };
    let name = by_port(port).or_else(|| parsed["default"].as_str().map(str::to_string));
    if parsed.get("ports").is_none() && parsed.get("default").is_none() {
        return Err("no BackendConfig's found in annotation".into());
    }
    let Some(name) = name else { return Ok(None) };
    match w.kube_get("BackendConfig", ns, &name) {
        Some(bc) => Ok(Some(bc.clone())),
        None => Err(format!(
            "no BackendConfig for service port exists: BackendConfig {ns}/{name} not found"
        )),
    }
}

fn backend_config_error(w: &World, svc: &Value, port: &Value) -> Option<String> {
    match backend_config_for(w, svc, port) {
        Ok(Some(bc)) => {
            let hc = &bc["spec"]["healthCheck"];
            let ns = svc["metadata"]["namespace"].as_str().unwrap_or_default();
            let n = bc["metadata"]["name"].as_str().unwrap_or_default();
            if let (Some(t), Some(i)) = (hc["timeoutSec"].as_i64(), hc["checkIntervalSec"].as_i64()) {
                if t > i {
                    return Some(format!(
                        "BackendConfig {ns}/{n} is not valid: timeoutSec ({t}) must be <= checkIntervalSec ({i})"
                    ));
                }
            }
            None
        }
        Ok(None) => None,
        Err(e) => Some(e),
    }
}

/// The protocol the load balancer speaks to a Service port: `cloud.google.com/app-protocols`
/// keyed by the port's name (`HTTP2` counts as TLS as well), else HTTP.
pub fn app_protocol(svc: &Value, port: &Value) -> &'static str {
    let raw = svc["metadata"]["annotations"]["cloud.google.com/app-protocols"]
        .as_str()
        .unwrap_or("{}");
    let v: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
    match port["name"].as_str().and_then(|n| v[n].as_str()) {
        Some("HTTPS") => "HTTPS",
        Some("HTTP2") => "HTTP2",
        _ => "HTTP",
    }
}

/// Where a health check keeps its settings: `httpsHealthCheck` for HTTPS (and HTTP2), else
/// `httpHealthCheck`.
pub fn hc_settings_key(hc: &Value) -> &'static str {
    match hc["type"].as_str() {
        Some("HTTPS") => "httpsHealthCheck",
        Some("HTTP2") => "http2HealthCheck",
        _ => "httpHealthCheck",
    }
}

/// Change a health check's protocol, moving its settings to the key of the new one.
fn set_hc_protocol(hc: &mut Value, protocol: &str) {
    let from = hc_settings_key(hc);
    hc["type"] = json!(protocol);
    let to = hc_settings_key(hc);
    if from != to {
        let settings = hc.as_object_mut().and_then(|o| o.remove(from)).unwrap_or(json!({}));
        hc[to] = settings;
    }
}

/// The health check GKE infers when it first creates it (../shared/domain §3).
pub fn infer_health_check(w: &World, svc: &Value, port: &Value) -> (String, Option<i64>, i64, i64, Option<String>) {
    // (requestPath, fixed port, checkIntervalSec, timeoutSec, host)
    let mut path = "/".to_string();
    let (mut interval, mut timeout) = (15, 15);
    let mut host = None;
    let mut pods = service_pods(w, svc);
    pods.sort_by(|a, b| a["metadata"]["name"].as_str().cmp(&b["metadata"]["name"].as_str()));
    let tp = &port["targetPort"];
    'outer: for pod in &pods {
        for c in pod["spec"]["containers"].as_array().into_iter().flatten() {
            let declared = c["ports"].as_array().into_iter().flatten().find(|p| {
                if let Some(n) = tp.as_i64() {
                    p["containerPort"].as_i64() == Some(n)
                } else {
                    p["name"] == *tp
                }
            });
            let Some(declared) = declared else { continue };
            let probe = &c["readinessProbe"]["httpGet"];
            if !probe.is_object() || probe["host"].is_string() {
                continue;
            }
            // The probe's scheme must match the port's app protocol (HTTP2 maps to HTTPS).
            let want = if app_protocol(svc, port) == "HTTP" {
                "HTTP"
            } else {
                "HTTPS"
            };
            if probe["scheme"].as_str().unwrap_or("HTTP") != want {
                continue;
            }
            let pport = &probe["port"];
            let matches = pport.as_i64() == declared["containerPort"].as_i64()
                || (pport.is_string() && *pport == declared["name"]);
            if !matches {
                continue;
            }
            let p = probe["path"].as_str().unwrap_or("/");
            path = if p.starts_with('/') {
                p.to_string()
            } else {
                format!("/{p}")
            };
            if let Some(t) = c["readinessProbe"]["timeoutSeconds"].as_i64() {
                timeout = t;
            }
            if let Some(i) = c["readinessProbe"]["periodSeconds"].as_i64() {
                interval = i;
            }
            host = probe["httpHeaders"]
                .as_array()
                .and_then(|h| h.iter().find(|x| x["name"] == json!("Host")))
                .and_then(|x| x["value"].as_str())
                .map(str::to_string);
            break 'outer;
        }
    }
    (path, None, interval, timeout, host)
}

/// The NEG controller's part, shared by the Ingress and Gateway controllers: one NEG per zone
/// with candidate nodes behind a Service port (size 0 where no pod runs), and the Service's
/// `neg-status` listing them all. Returns the NEG URLs and the NEG target port.
pub fn sync_negs(w: &mut World, ns: &str, svc: &Value, port: &Value) -> (Vec<String>, Option<i64>) {
    let svc_name = svc["metadata"]["name"].as_str().unwrap_or_default().to_string();
    let sport = port["port"].as_i64().unwrap_or(80);
    let name = neg_name(ns, &svc_name, sport);
    let region = w.region.clone();
    let pods = service_pods(w, svc);

    // NEGs in every zone with candidate nodes (ingress-gce `listTargetZonesPerSubnet`), with pods or not.
    let mut zones_pods: BTreeMap<String, Vec<(String, i64, String)>> =
        candidate_zones(w).into_iter().map(|z| (z, vec![])).collect();
    let mut target_port = None;
    for p in &pods {
        let node = p["spec"]["nodeName"].as_str().unwrap_or_default();
        let zone = w
            .kube_get("Node", "", node)
            .and_then(|n| n["metadata"]["labels"]["topology.kubernetes.io/zone"].as_str())
            .unwrap_or_default()
            .to_string();
        let entry = zones_pods.entry(zone).or_default();
        if let Some(tp) = resolve_target_port(port, p) {
            target_port = Some(tp);
            if pod_ready(p) || (containers_ready(p) && !crate::readiness::gate_open(p)) {
                entry.push((
                    p["status"]["podIP"].as_str().unwrap_or_default().to_string(),
                    tp,
                    node.to_string(),
                ));
            }
        }
    }
    let mut neg_status_zones = vec![];
    let mut groups = vec![];
    let svc_obj = svc.clone();
    for (zone, eps) in &zones_pods {
        let key = format!("{zone}/{name}");
        let url = format!("{}/networkEndpointGroups/{}", w.zone_url(zone), name);
        let size = eps.len();
        let existed = w.compute.negs.contains_key(&key);
        let old_size = w.compute.negs.get(&key).and_then(|n| n["size"].as_u64()).unwrap_or(0) as usize;
        let desc = json!({"cluster-uid": &CLUSTER_UID[..8], "namespace": ns, "service-name": svc_name, "port": sport.to_string()}).to_string();
        let neg = json!({"kind": "compute#networkEndpointGroup", "name": name, "zone": w.zone_url(zone), "networkEndpointType": "GCE_VM_IP_PORT",
            "size": size, "defaultPort": target_port.unwrap_or(0), "network": w.network_url(&w.network.clone()),
            "subnetwork": w.subnet_url(&region, &subnet_of_cluster(w)), "description": desc, "selfLink": url,
            "endpoints": eps.iter().map(|(ip, p, inst)| json!({"ipAddress": ip, "port": p, "instance": inst})).collect::<Vec<_>>()});
        upsert(&mut w.compute.negs, key, neg);
        if !existed {
            w.event(
                &svc_obj,
                "Normal",
                "Create",
                &format!(
                    "Created NEG \"{name}\" for {ns}/{svc_name}-{name}-{sport}/{} in \"{zone}\".",
                    target_port.unwrap_or(0)
                ),
                "neg-controller",
            );
        }
        if size > old_size {
            w.event(
                &svc_obj,
                "Normal",
                "Attach",
                &format!(
                    "Attach {} network endpoint(s) (NEG \"{name}\" in zone \"{zone}\")",
                    size - old_size
                ),
                "neg-controller",
            );
        }
        neg_status_zones.push(zone.clone());
        groups.push(url);
    }
    // Keep NEGs of zones that no longer have candidate nodes (size 0).
    for (k, n) in w.compute.negs.iter_mut() {
        let zone = k.split('/').next().unwrap_or_default();
        if k.ends_with(&format!("/{name}")) && !zones_pods.contains_key(zone) {
            n["size"] = json!(0);
            n["endpoints"] = json!([]);
            if !groups.iter().any(|g| g.contains(&format!("/zones/{zone}/"))) {
                groups.push(n["selfLink"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    // neg-status annotation
    let status = json!({"network_endpoint_groups": {sport.to_string(): name}, "zones": neg_status_zones}).to_string();
    if svc["metadata"]["annotations"]["cloud.google.com/neg-status"].as_str() != Some(&status) {
        let mut s2 = w.kube_get("Service", ns, &svc_name).cloned().unwrap();
        s2["metadata"]["annotations"]["cloud.google.com/neg-status"] = json!(status);
        w.kube_put(s2);
    }
    (groups, target_port)
}

/// Zones of the nodes that may hold endpoints (ingress-gce `candidateNodeFilter`: Ready nodes).
fn candidate_zones(w: &World) -> BTreeSet<String> {
    w.kube_in_ns("Node", "")
        .iter()
        .filter(|n| {
            n["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == json!("Ready") && c["status"] == json!("True"))
        })
        .filter_map(|n| {
            n["metadata"]["labels"]["topology.kubernetes.io/zone"]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

/// Create or update the NEGs, health check and backend service for one Service port.
/// Returns the backend service URL and the NEG target port.
fn sync_backend(w: &mut World, ns: &str, svc: &Value, port: &Value) -> (String, Option<i64>) {
    let svc_name = svc["metadata"]["name"].as_str().unwrap_or_default().to_string();
    let sport = port["port"].as_i64().unwrap_or(80);
    let name = neg_name(ns, &svc_name, sport);
    let region = w.region.clone();
    let (groups, target_port) = sync_negs(w, ns, svc, port);

    // Health check: inferred when first created; BackendConfig always wins.
    let hc_key = format!("{region}/{name}");
    let hc_url = format!("{}/healthChecks/{}", w.region_url(&region), name);
    let protocol = app_protocol(svc, port);
    let mut hc = match w.compute.health_checks.get(&hc_key) {
        Some(h) => {
            // The protocol follows the backend's app protocol; the other settings are kept.
            let mut h = h.clone();
            set_hc_protocol(&mut h, protocol);
            h
        }
        None => {
            let (path, _, interval, timeout, host) = infer_health_check(w, svc, port);
            let mut http = json!({"portSpecification": "USE_SERVING_PORT", "requestPath": path, "proxyHeader": "NONE"});
            if let Some(h) = host {
                http["host"] = json!(h);
            }
            let key = hc_settings_key(&json!({"type": protocol}));
            json!({"kind": "compute#healthCheck", "name": name, "type": protocol, key: http,
                   "checkIntervalSec": interval, "timeoutSec": timeout, "healthyThreshold": 1, "unhealthyThreshold": 2,
                   "description": "{\"kubernetes.io/service-name\":\"".to_string() + ns + "/" + &svc_name + "\",\"kubernetes.io/service-port\":\"" + &sport.to_string() + "\"}",
                   "region": w.region_url(&region), "selfLink": hc_url})
        }
    };
    if let Ok(Some(bc)) = backend_config_for(w, svc, port) {
        let b = &bc["spec"]["healthCheck"];
        for f in [
            "checkIntervalSec",
            "timeoutSec",
            "healthyThreshold",
            "unhealthyThreshold",
        ] {
            if b[f].is_number() {
                hc[f] = b[f].clone();
            }
        }
        if let Some(t) = b["type"].as_str() {
            set_hc_protocol(&mut hc, t);
        }
        let key = hc_settings_key(&hc);
        if let Some(p) = b["requestPath"].as_str() {
            hc[key]["requestPath"] = json!(p);
        }
        if let Some(p) = b["port"].as_i64() {
            hc[key]["port"] = json!(p);
            hc[key]["portSpecification"] = json!("USE_FIXED_PORT");
        }
    }
    if ns == default_backend::NAMESPACE && svc_name == default_backend::SERVICE {
        let key = hc_settings_key(&hc);
        hc[key]["requestPath"] = json!(default_backend::HC_PATH);
    }
    upsert(&mut w.compute.health_checks, hc_key, hc);

    // Backend service
    let bs_url = format!("{}/backendServices/{}", w.region_url(&region), name);
    let backends: Vec<Value> = groups
        .iter()
        .map(|g| json!({"group": g, "balancingMode": "RATE", "maxRatePerEndpoint": 1, "capacityScaler": 1}))
        .collect();
    let bs = json!({"kind": "compute#backendService", "name": name, "backends": backends, "healthChecks": [hc_url],
        "loadBalancingScheme": "INTERNAL_MANAGED", "protocol": protocol, "port": 80, "portName": "http", "timeoutSec": 30,
        "sessionAffinity": "NONE", "connectionDraining": {"drainingTimeoutSec": 0},
        "description": format!("{{\"kubernetes.io/service-name\":\"{ns}/{svc_name}\",\"kubernetes.io/service-port\":\"{sport}\"}}"),
        "region": w.region_url(&region), "selfLink": bs_url});
    upsert(&mut w.compute.backend_services, format!("{region}/{name}"), bs);
    (bs_url, target_port)
}

/// `extra`: the BackendConfig health-check ports and the node-port range ([`l7_ports`]).
fn ensure_l7_firewall(w: &mut World, ports: &BTreeSet<i64>, extra: &[String]) {
    let name = l7_firewall_name();
    let mut all_ports: BTreeSet<String> = ports
        .iter()
        .map(|p| p.to_string())
        .chain(extra.iter().cloned())
        .collect();
    if let Some(f) = w.compute.firewalls.get(&name) {
        for p in f["allowed"][0]["ports"].as_array().into_iter().flatten() {
            all_ports.insert(p.as_str().unwrap_or_default().to_string());
        }
    }
    let tag = w.node_tag.clone();
    let want = json!({"sourceRanges": data_plane::l7_source_ranges(w), "targetTags": [tag],
        "allowed": [{"IPProtocol": "tcp", "ports": all_ports.into_iter().collect::<Vec<_>>()}],
        "description": "GCE L7 firewall rule"});
    if w.compute
        .firewalls
        .get(&name)
        .is_some_and(|f| !data_plane::l7_rule_differs(f, &want))
    {
        return;
    }
    if crate::xpn::firewall_blocked(w) {
        let ings: Vec<Value> = w
            .kube_in_ns("Ingress", "")
            .into_iter()
            .filter(|i| classify(i) != Class::Ignored)
            .collect();
        return crate::xpn::raise(w, &ings, &name, &want);
    }
    compute::firewall(w, &name, want);
}

fn maybe_remove_l7_firewall(w: &mut World) {
    let any = w
        .kube_in_ns("Ingress", "")
        .iter()
        .any(|i| classify(i) != Class::Ignored);
    if !any {
        w.compute.firewalls.remove(&l7_firewall_name());
    }
}

fn garbage_collect(w: &mut World, ns: &str, name: &str) {
    let region = w.region.clone();
    for kind in ["um", "tp", "fr", "ts", "fs"] {
        let n = frontend_name(kind, ns, name);
        let key = format!("{region}/{n}");
        w.compute.url_maps.remove(&key);
        w.compute.target_proxies.remove(&key);
        w.compute.forwarding_rules.remove(&key);
        w.compute.global_forwarding_rules.remove(&n);
    }
    // Backends no other Ingress uses.
    let ing = w.kube_get("Ingress", ns, name).cloned().unwrap_or(Value::Null);
    let (backends, _, _) = ingress_backends(&ing);
    let others: Vec<Value> = w
        .kube_in_ns("Ingress", "")
        .into_iter()
        .filter(|i| !(i["metadata"]["namespace"] == json!(ns) && i["metadata"]["name"] == json!(name)))
        .collect();
    for b in backends {
        let used = others
            .iter()
            .any(|o| ingress_backends(o).0.iter().any(|x| x.svc == b.svc) && o["metadata"]["namespace"] == json!(ns));
        if used {
            continue;
        }
        let Some(svc) = w.kube_get("Service", ns, &b.svc).cloned() else {
            continue;
        };
        let sport = svc["spec"]["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["port"] == b.port || p["name"] == b.port)
            .and_then(|p| p["port"].as_i64())
            .unwrap_or(80);
        let n = neg_name(ns, &b.svc, sport);
        w.compute.backend_services.remove(&format!("{region}/{n}"));
        w.compute.health_checks.remove(&format!("{region}/{n}"));
        if crate::gateway_api::uses_neg(w, &n) {
            continue; // a Gateway's backend service still serves from these NEGs
        }
        w.compute.negs.retain(|k, _| !k.ends_with(&format!("/{n}")));
        let mut s2 = svc;
        if let Some(a) = s2["metadata"]["annotations"].as_object_mut() {
            a.remove("cloud.google.com/neg-status");
        }
        w.kube_put(s2);
    }
    let default_used = others
        .iter()
        .any(|o| classify(o) == Class::Internal && ingress_backends(o).2.is_none());
    if !default_used {
        remove_default_backend(w);
    }
}

/// The system default backend's backend service, health check and NEGs, once no Ingress uses them.
fn remove_default_backend(w: &mut World) {
    let Some((svc, port)) = default_backend::service_port(w) else {
        return;
    };
    let n = neg_name(
        default_backend::NAMESPACE,
        default_backend::SERVICE,
        port["port"].as_i64().unwrap_or(80),
    );
    let region = w.region.clone();
    w.compute.backend_services.remove(&format!("{region}/{n}"));
    w.compute.health_checks.remove(&format!("{region}/{n}"));
    w.compute.negs.retain(|k, _| !k.ends_with(&format!("/{n}")));
    let mut s2 = svc;
    if let Some(a) = s2["metadata"]["annotations"].as_object_mut() {
        if a.remove("cloud.google.com/neg-status").is_some() {
            w.kube_put(s2);
        }
    }
}

// ---------------------------------------------------------------- health, firewall evaluation

pub fn active_proxy_subnet(w: &World) -> Option<Value> {
    let net = w.network_url(&w.network.clone());
    w.compute
        .subnetworks
        .iter()
        .filter(|(k, _)| k.starts_with(&format!("{}/", w.region)))
        .map(|(_, s)| s)
        .find(|s| {
            let purpose = s["purpose"].as_str().unwrap_or_default();
            (purpose == "REGIONAL_MANAGED_PROXY" || purpose == "INTERNAL_HTTPS_LOAD_BALANCER")
                && s["role"] == json!("ACTIVE")
                && s["network"] == json!(net)
        })
        .cloned()
}

/// Does the VPC firewall let traffic from every address of `src` reach `dst:port/tcp` on a VM with
/// `tags`? (See `world::firewall`.)
pub fn firewall_allows(w: &World, src: Ipv4Net, dst: Ipv4Addr, port: u16, tags: &[String]) -> bool {
    let to = firewall::Dest { addr: dst, port, tags };
    firewall::allows(w.compute.firewalls.values(), &w.network_url(&w.network), src, to)
}

/// What a pod answers on `port` for `path`: (HTTP status, body). `None`: nothing listens there
/// (or a NetworkPolicy drops it).
/// `tls`: the client speaks TLS (an HTTPS health check or backend, `curl https://`).
pub fn pod_http(w: &World, pod: &Value, port: u16, path: &str, tls: bool) -> Option<(u16, String)> {
    if !containers_ready(pod) {
        return None;
    }
    let labels = &pod["metadata"]["labels"];
    let path_only = path.split(['?', '#']).next().unwrap_or("/");
    if default_backend::is_pod(pod) {
        return default_backend::answer(port, path_only);
    }
    if labels["service"] == json!("gateway") {
        if port != 8000 {
            return None; // the gateway listens on 8000 only; NetworkPolicy allow-external admits only 8000
        }
        return crate::k10_gateway::answer(w, pod, path, tls);
    }
    if port == 8000 && path_only == "/v0/healthz" {
        return Some((200, "{\"status\":\"ok\"}".into()));
    }
    Some((404, "404 page not found\n".into()))
}

/// Do the NetworkPolicies of the pod's namespace admit traffic from any source (the load
/// balancer's proxies) on `port`? No policy selecting the pod: yes. Otherwise some selecting
/// policy must have an ingress rule with no `from` restriction (or an empty one) covering the port.
pub fn netpol_admits_any(w: &World, pod: &Value, port: u16) -> bool {
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default();
    let labels = &pod["metadata"]["labels"];
    let selecting: Vec<&Value> = w
        .kube_refs("NetworkPolicy", ns)
        .filter(|np| {
            let sel = &np["spec"]["podSelector"]["matchLabels"];
            sel.as_object()
                .is_none_or(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)))
        })
        .collect();
    if selecting.is_empty() {
        return true;
    }
    selecting.iter().any(|np| {
        np["spec"]["ingress"].as_array().into_iter().flatten().any(|rule| {
            let open = rule["from"].as_array().is_none_or(|f| f.is_empty());
            let ports_ok = rule["ports"]
                .as_array()
                .is_none_or(|ps| ps.is_empty() || ps.iter().any(|p| p["port"].as_i64() == Some(i64::from(port))));
            open && ports_ok
        })
    })
}

/// Health of every endpoint of a backend service: (ip, port, instance, state).
pub fn backend_health(w: &World, bs_name: &str) -> Vec<(String, i64, String, &'static str)> {
    let region = w.region.clone();
    let Some(bs) = w.compute.backend_services.get(&format!("{region}/{bs_name}")) else {
        return vec![];
    };
    let hc_name = bs["healthChecks"][0]
        .as_str()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let hc = w
        .compute
        .health_checks
        .get(&format!("{region}/{hc_name}"))
        .cloned()
        .unwrap_or(Value::Null);
    let mut out = vec![];
    for b in bs["backends"].as_array().into_iter().flatten() {
        let group = b["group"].as_str().unwrap_or_default();
        let Some(neg) = w.compute.negs.values().find(|n| n["selfLink"].as_str() == Some(group)) else {
            continue;
        };
        for ep in neg["endpoints"].as_array().into_iter().flatten() {
            let ip = ep["ipAddress"].as_str().unwrap_or_default().to_string();
            let eport = ep["port"].as_i64().unwrap_or(0);
            let inst = ep["instance"].as_str().unwrap_or_default().to_string();
            let settings = &hc[hc_settings_key(&hc)];
            let hport = if settings["portSpecification"] == json!("USE_FIXED_PORT") {
                settings["port"].as_i64().unwrap_or(eport)
            } else {
                eport
            };
            let path = settings["requestPath"].as_str().unwrap_or("/");
            let tls = hc_settings_key(&hc) == "httpsHealthCheck";
            let pod = w
                .kube_refs("Pod", "")
                .find(|p| p["status"]["podIP"].as_str() == Some(&ip));
            // Probes come from the health-check ranges, not the proxy-only range (data_plane).
            let healthy = match (pod, ip.parse::<Ipv4Addr>()) {
                (Some(pod), Ok(dst)) => {
                    data_plane::health_checkers_reach(w, pod, dst, hport as u16)
                        && pod_http(w, pod, hport as u16, path, tls).is_some_and(|(code, _)| code == 200)
                }
                _ => false,
            };
            out.push((ip, eport, inst, if healthy { "HEALTHY" } else { "UNHEALTHY" }));
        }
    }
    out
}

/// Serve an HTTP request sent from inside the VPC (a pod) to `host:port/path`, as the network
/// would: an internal load balancer, a Service ClusterIP/DNS name, or a pod IP.
/// Returns Err(curl exit code, message) when nothing answers.
pub fn vpc_http(
    w: &World,
    from_ns: &str,
    host: &str,
    port: u16,
    path: &str,
    host_header: Option<&str>,
    tls: bool,
) -> Result<(u16, String), (i32, String)> {
    // Internal load balancers (and external ones, which are reachable from inside too).
    let all_frs: Vec<&Value> = w
        .compute
        .forwarding_rules
        .values()
        .chain(w.compute.global_forwarding_rules.values())
        .collect();
    let on_ip: Vec<&&Value> = all_frs
        .iter()
        .filter(|f| f["IPAddress"].as_str() == Some(host))
        .collect();
    if !on_ip.is_empty() {
        let serves = |f: &Value| {
            let r = f["portRange"].as_str().unwrap_or("80-80");
            let (a, b) = r.split_once('-').unwrap_or((r, r));
            a.parse::<u16>().is_ok_and(|a| a <= port) && b.parse::<u16>().is_ok_and(|b| port <= b)
        };
        let Some(fr) = on_ip.iter().find(|f| serves(f)) else {
            return Err((
                28,
                format!("Failed to connect to {host} port {port} after 5001 ms: Timeout was reached"),
            ));
        };
        let tp_name = fr["target"]
            .as_str()
            .unwrap_or_default()
            .rsplit('/')
            .next()
            .unwrap_or_default();
        let region = w.region.clone();
        let tp = w.compute.target_proxies.get(&format!("{region}/{tp_name}"));
        let um_name = tp
            .and_then(|t| t["urlMap"].as_str())
            .unwrap_or_default()
            .rsplit('/')
            .next()
            .unwrap_or_default();
        let Some(um) = w.compute.url_maps.get(&format!("{region}/{um_name}")) else {
            return Err((52, "Empty reply from server".into()));
        };
        let path_only = path.split('?').next().unwrap_or("/");
        let mut service = um["defaultService"].as_str().unwrap_or_default().to_string();
        let mut best_len = 0usize;
        // The host rule that matches the Host header picks the path matcher; none: the default service.
        let hh = host_header.unwrap_or(host);
        let matcher = um["hostRules"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|hr| {
                hr["hosts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|h| h.as_str())
                    .any(|h| h == "*" || h == hh)
            })
            .and_then(|hr| hr["pathMatcher"].as_str())
            .map(str::to_string);
        for m in um["pathMatchers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| matcher.as_deref() == m["name"].as_str())
        {
            for r in m["pathRules"].as_array().into_iter().flatten() {
                for p in r["paths"].as_array().into_iter().flatten().filter_map(|p| p.as_str()) {
                    let hit = match p.strip_suffix("/*") {
                        Some(base) => path_only.starts_with(&format!("{base}/")) || (p == "/*"),
                        None => path_only == p,
                    };
                    if hit && p.len() >= best_len {
                        best_len = p.len();
                        service = r["service"].as_str().unwrap_or_default().to_string();
                    }
                }
            }
        }
        let bs_name = service.rsplit('/').next().unwrap_or_default().to_string();
        if bs_name.contains("-kube-system-default-http-backend-") || bs_name.contains("-gw-serve404-") {
            return Ok((404, DEFAULT_BACKEND_404.to_string()));
        }
        let internal = fr["loadBalancingScheme"] == json!("INTERNAL_MANAGED");
        let health = backend_health(w, &bs_name);
        let Some((ip, eport, _, _)) = health.iter().find(|h| h.3 == "HEALTHY") else {
            return Ok(data_plane::lb_error(internal, false));
        };
        let pod = w
            .kube_refs("Pod", "")
            .find(|p| p["status"]["podIP"].as_str() == Some(ip.as_str()));
        // The backend service speaks the Service port's app protocol to the pods.
        let to_pods_tls = w
            .compute
            .backend_services
            .get(&format!("{region}/{bs_name}"))
            .is_some_and(|b| b["protocol"] == json!("HTTPS"));
        // Requests come from the proxies, a separate source from the health checkers.
        let reached = pod.filter(|p| {
            let dst = ip.parse().unwrap_or(Ipv4Addr::UNSPECIFIED);
            data_plane::proxies_reach(w, internal, p, dst, *eport as u16)
        });
        return match reached.and_then(|p| pod_http(w, p, *eport as u16, path, to_pods_tls)) {
            Some(r) => Ok(r),
            None => Ok(data_plane::lb_error(internal, true)),
        };
    }
    // Services by ClusterIP or DNS name.
    let svc = w.kube_refs("Service", "").find(|s| {
        let n = s["metadata"]["name"].as_str().unwrap_or_default();
        let ns = s["metadata"]["namespace"].as_str().unwrap_or_default();
        s["spec"]["clusterIP"].as_str() == Some(host)
            || host == n && ns == from_ns
            || host == format!("{n}.{ns}")
            || host == format!("{n}.{ns}.svc")
            || host == format!("{n}.{ns}.svc.cluster.local")
    });
    if let Some(svc) = svc {
        let Some(sp) = svc["spec"]["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["port"].as_i64() == Some(port as i64))
            .cloned()
        else {
            return Err((
                7,
                format!("Failed to connect to {host} port {port} after 1 ms: Couldn't connect to server"),
            ));
        };
        for pod in service_pods(w, svc) {
            if let Some(tp) = resolve_target_port(&sp, &pod) {
                if let Some(r) = pod_http(w, &pod, tp as u16, path, tls) {
                    return Ok(r);
                }
            }
        }
        return Err((
            7,
            format!("Failed to connect to {host} port {port} after 1 ms: Couldn't connect to server"),
        ));
    }
    if let Some(pod) = w
        .kube_refs("Pod", "")
        .find(|p| p["status"]["podIP"].as_str() == Some(host))
    {
        if let Some(r) = pod_http(w, pod, port, path, tls) {
            return Ok(r);
        }
        return Err((
            7,
            format!("Failed to connect to {host} port {port} after 1 ms: Couldn't connect to server"),
        ));
    }
    if host.parse::<Ipv4Addr>().is_err() {
        return Err((6, format!("Could not resolve host: {host}")));
    }
    Err((
        28,
        format!("Failed to connect to {host} port {port} after 10002 ms: Timeout was reached"),
    ))
}

pub const BAD_GATEWAY_HTML: &str = "<html><head>\n<meta http-equiv=\"content-type\" content=\"text/html;charset=utf-8\">\n<title>502 Server Error</title>\n</head>\n<body text=#000000 bgcolor=#ffffff>\n<h1>Error: Server Error</h1>\n<h2>The server encountered a temporary error and could not complete your request.<p>Please try again in 30 seconds.</h2>\n<h2></h2>\n</body></html>\n";

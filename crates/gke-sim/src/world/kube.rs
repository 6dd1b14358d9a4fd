//! The Kubernetes object store: get, list, put (server-set metadata), delete, watch changes, events.

use serde_json::{json, Value};

use super::{now_rfc3339, res_by_kind, ResDef, World};

impl World {
    pub fn kube_list(&self, rd: &ResDef) -> Vec<&Value> {
        self.kube
            .get(&rd.key())
            .map(|m| m.values().collect())
            .unwrap_or_default()
    }

    pub fn kube_get(&self, kind: &str, ns: &str, name: &str) -> Option<&Value> {
        let rd = res_by_kind(kind)?;
        let ns = if rd.namespaced { ns } else { "" };
        self.kube.get(&rd.key())?.get(&(ns.to_string(), name.to_string()))
    }

    pub fn kube_get_mut(&mut self, kind: &str, ns: &str, name: &str) -> Option<&mut Value> {
        let rd = res_by_kind(kind)?;
        let ns = if rd.namespaced { ns } else { "" };
        self.kube
            .get_mut(&rd.key())?
            .get_mut(&(ns.to_string(), name.to_string()))
    }

    /// Objects of a kind in a namespace ("" = all namespaces).
    pub fn kube_in_ns(&self, kind: &str, ns: &str) -> Vec<Value> {
        self.kube_refs(kind, ns).cloned().collect()
    }

    /// The same, borrowed: for lookups on a read path (every pod cloned for each endpoint of each
    /// `getHealth` was a sixth of a fleet run's simulator CPU).
    pub fn kube_refs<'a>(&'a self, kind: &str, ns: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        res_by_kind(kind)
            .and_then(|rd| self.kube.get(&rd.key()))
            .into_iter()
            .flat_map(move |m| {
                m.iter()
                    .filter(move |((n, _), _)| ns.is_empty() || n == ns)
                    .map(|(_, v)| v)
            })
    }

    /// Store an object, filling in the server-set metadata fields. Returns the stored object.
    pub fn kube_put(&mut self, mut obj: Value) -> Value {
        let kind = obj["kind"].as_str().unwrap_or_default().to_string();
        let rd = res_by_kind(&kind).unwrap_or_else(|| panic!("unknown kind {kind}"));
        let ns = if rd.namespaced {
            obj["metadata"]["namespace"].as_str().unwrap_or("default").to_string()
        } else {
            String::new()
        };
        let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_string();
        if obj["apiVersion"].is_null() {
            obj["apiVersion"] = json!(rd.api_version());
        }
        if rd.namespaced {
            obj["metadata"]["namespace"] = json!(ns);
        }
        let existing = self
            .kube
            .get(&rd.key())
            .and_then(|m| m.get(&(ns.clone(), name.clone())))
            .cloned();
        let meta = &mut obj["metadata"];
        match &existing {
            Some(old) => {
                meta["uid"] = old["metadata"]["uid"].clone();
                meta["creationTimestamp"] = old["metadata"]["creationTimestamp"].clone();
                let old_gen = old["metadata"]["generation"].as_i64().unwrap_or(1);
                let spec_changed = old.get("spec") != obj.get("spec");
                obj["metadata"]["generation"] = json!(if spec_changed { old_gen + 1 } else { old_gen });
            }
            None => {
                if meta["uid"].is_null() {
                    let n = self.new_id();
                    obj["metadata"]["uid"] = json!(uuid_like(&n));
                }
                if obj["metadata"]["creationTimestamp"].is_null() {
                    obj["metadata"]["creationTimestamp"] = json!(now_rfc3339());
                }
                obj["metadata"]["generation"] = json!(1);
            }
        }
        let rv = self.next_rv();
        obj["metadata"]["resourceVersion"] = json!(rv);
        self.kube.entry(rd.key()).or_default().insert((ns, name), obj.clone());
        self.record_change(
            rd.key(),
            if existing.is_some() { "MODIFIED" } else { "ADDED" },
            obj.clone(),
        );
        obj
    }

    pub fn record_change(&mut self, key: String, typ: &'static str, obj: Value) {
        self.touch();
        self.changes.push_back((self.resource_version, key, typ, obj));
        while self.changes.len() > 20_000 {
            self.changes.pop_front();
        }
    }

    pub fn kube_delete(&mut self, kind: &str, ns: &str, name: &str) -> Option<Value> {
        let rd = res_by_kind(kind)?;
        let ns = if rd.namespaced { ns } else { "" };
        self.resource_version += 1;
        let mut gone = self
            .kube
            .get_mut(&rd.key())?
            .remove(&(ns.to_string(), name.to_string()))?;
        gone["metadata"]["resourceVersion"] = json!(self.resource_version.to_string());
        self.record_change(rd.key(), "DELETED", gone.clone());
        Some(gone)
    }

    /// Record a Kubernetes Event about an object, merging repeats as the API server's event
    /// correlator does (same reason and message: count + 1).
    pub fn event(&mut self, involved: &Value, type_: &str, reason: &str, message: &str, source: &str) {
        let ns = involved["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        let oname = involved["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let kind = involved["kind"].as_str().unwrap_or_default().to_string();
        let now = now_rfc3339();
        let existing = self.kube_in_ns("Event", &ns).into_iter().find(|e| {
            e["involvedObject"]["name"] == json!(oname)
                && e["involvedObject"]["kind"] == json!(kind)
                && e["involvedObject"]["uid"] == involved["metadata"]["uid"]
                && e["reason"] == json!(reason)
                && e["message"] == json!(message)
        });
        if let Some(mut e) = existing {
            e["count"] = json!(e["count"].as_i64().unwrap_or(1) + 1);
            e["lastTimestamp"] = json!(now);
            self.kube_put(e);
            return;
        }
        let suffix = format!("{:x}", super::event_nanos());
        self.next_id += 1;
        let ev = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": format!("{oname}.{suffix}"), "namespace": ns},
            "involvedObject": {
                "apiVersion": involved["apiVersion"], "kind": kind, "name": oname, "namespace": ns,
                "uid": involved["metadata"]["uid"], "resourceVersion": involved["metadata"]["resourceVersion"],
            },
            "reason": reason,
            "message": message,
            "type": type_,
            "source": {"component": source},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "reportingComponent": source,
            "reportingInstance": "",
        });
        self.kube_put(ev);
    }
}

pub fn uuid_like(seed: &str) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(seed.as_bytes());
    let x: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

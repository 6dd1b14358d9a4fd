//! What an update changes, field by field (`spec.rules[0].host: "a" -> "b"`), so a plan that
//! would change a working object says exactly what it will change.

use serde_json::Value;

/// Leaf values by path (`a.b[0].c`); an empty object or array is a leaf.
fn leaves(v: &Value, at: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                let p = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                leaves(x, p, out);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, format!("{at}[{i}]"), out);
            }
        }
        other => out.push((at, other.clone())),
    }
}

fn shown(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(none)".into(),
        Some(v) => v.to_string(),
    }
}

/// Every leaf that differs between `from` and `to` under `prefix`: `path: old -> new`.
pub fn changes(prefix: &str, from: &Value, to: &Value) -> Vec<String> {
    let (mut a, mut b) = (vec![], vec![]);
    leaves(from, prefix.to_string(), &mut a);
    leaves(to, prefix.to_string(), &mut b);
    let old: std::collections::BTreeMap<_, _> = a.into_iter().collect();
    let new: std::collections::BTreeMap<_, _> = b.into_iter().collect();
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| format!("{k}: {} -> {}", shown(old.get(k)), shown(new.get(k))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_changed_leaf_is_named_with_both_values() {
        let from = json!({"rules": [{"http": {"paths": [{"path": "/k10/", "pathType": "Prefix"}]}}]});
        let to = json!({"rules": [{"host": "k10.corp", "http": {"paths": [{"path": "/x/", "pathType": "Prefix"}]}}],
                        "tls": [{"secretName": "t"}]});
        let c = changes("spec", &from, &to);
        assert_eq!(
            c,
            vec![
                "spec.rules[0].host: (none) -> \"k10.corp\"",
                "spec.rules[0].http.paths[0].path: \"/k10/\" -> \"/x/\"",
                "spec.tls[0].secretName: (none) -> \"t\"",
            ]
        );
        assert!(changes("spec", &from, &from).is_empty());
    }
}

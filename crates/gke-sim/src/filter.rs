//! List filters: Google's `filter` query parameter and Kubernetes label/field selectors.

use serde_json::Value;

/// One comparison of a Google list filter.
#[derive(Debug, Clone)]
struct Term {
    field: String,
    op: Op,
    value: String,
    /// `value` as an RE2 full match, for `eq` and `ne`.
    re: Option<regex::Regex>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    /// `eq`: RE2 full match (gcloud turns `--filter=name~^p` into `name eq ".*(^p).*"`)
    ReEq,
    ReNe,
}

/// A parsed Compute list filter: a conjunction of comparisons, e.g.
/// `(purpose = "REGIONAL_MANAGED_PROXY") (network = "…")`, `purpose eq REGIONAL_MANAGED_PROXY`,
/// `name = "a" AND role != "BACKUP"`.
#[derive(Debug, Clone, Default)]
pub struct GoogleFilter {
    terms: Vec<Term>,
}

/// `value` as a full-match regular expression, compiled once per pattern for the life of the
/// simulator (a fleet asks the same few filters for each of its clusters, and compiling was most
/// of the cost of a filtered list).
fn full_match(value: &str) -> Result<regex::Regex, regex::Error> {
    static COMPILED: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, regex::Regex>>> =
        std::sync::LazyLock::new(Default::default);
    if let Some(re) = COMPILED.lock().unwrap().get(value) {
        return Ok(re.clone());
    }
    let re = regex::Regex::new(&format!("^(?:{value})$"))?;
    COMPILED.lock().unwrap().insert(value.to_string(), re.clone());
    Ok(re)
}

impl GoogleFilter {
    pub fn parse(s: &str) -> Result<GoogleFilter, String> {
        let mut terms = vec![];
        let toks = tokenize(s)?;
        let mut i = 0;
        while i < toks.len() {
            let t = &toks[i];
            if t == "(" || t == ")" || t.eq_ignore_ascii_case("AND") {
                i += 1;
                continue;
            }
            if t.eq_ignore_ascii_case("OR") {
                return Err("Invalid list filter expression: OR is not supported here".into());
            }
            let field = t.clone();
            let op = toks
                .get(i + 1)
                .ok_or_else(|| format!("Invalid list filter expression: missing operator after '{field}'"))?;
            let op = match op.as_str() {
                "=" => Op::Eq,
                "!=" => Op::Ne,
                "eq" => Op::ReEq,
                "ne" => Op::ReNe,
                o => return Err(format!("Invalid list filter expression: unknown operator '{o}'")),
            };
            let value = toks
                .get(i + 2)
                .filter(|v| *v != "(" && *v != ")")
                .ok_or_else(|| format!("Invalid list filter expression: missing value after '{field}'"))?
                .clone();
            let re = match op {
                Op::ReEq | Op::ReNe => Some(
                    full_match(&value)
                        .map_err(|e| format!("Invalid list filter expression: bad regular expression: {e}"))?,
                ),
                Op::Eq | Op::Ne => None,
            };
            terms.push(Term { field, op, value, re });
            i += 3;
        }
        Ok(GoogleFilter { terms })
    }

    pub fn matches(&self, item: &Value) -> bool {
        self.terms.iter().all(|t| {
            let v = lookup(item, &t.field);
            let vals: Vec<String> = match v {
                Some(Value::Array(a)) => a.iter().map(scalar).collect(),
                Some(v) => vec![scalar(v)],
                None => vec![String::new()],
            };
            match t.op {
                Op::Eq => vals.iter().any(|v| glob_eq(v, &t.value)),
                Op::Ne => !vals.iter().any(|v| glob_eq(v, &t.value)),
                Op::ReEq => vals.iter().any(|v| t.re.as_ref().is_some_and(|re| re.is_match(v))),
                Op::ReNe => !vals.iter().any(|v| t.re.as_ref().is_some_and(|re| re.is_match(v))),
            }
        })
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn glob_eq(v: &str, pat: &str) -> bool {
    // `=` compares literally, with `*` as a wildcard (Compute's documented behaviour).
    if !pat.contains('*') {
        return v == pat;
    }
    let parts: Vec<&str> = pat.split('*').collect();
    let mut rest = v;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            if !rest.starts_with(p) {
                return false;
            }
            rest = &rest[p.len()..];
        } else if i == parts.len() - 1 {
            return rest.ends_with(p);
        } else if let Some(pos) = rest.find(p) {
            rest = &rest[pos + p.len()..];
        } else {
            return false;
        }
    }
    true
}

fn tokenize(s: &str) -> Result<Vec<String>, String> {
    let mut out = vec![];
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            ' ' | '\t' | '\n' => {
                chars.next();
            }
            '(' | ')' => {
                out.push(c.to_string());
                chars.next();
            }
            '"' | '\'' => {
                chars.next();
                let mut v = String::new();
                loop {
                    match chars.next() {
                        Some(x) if x == c => break,
                        Some('\\') => v.extend(chars.next()),
                        Some(x) => v.push(x),
                        None => return Err("Invalid list filter expression: unterminated string".into()),
                    }
                }
                out.push(v);
            }
            '=' => {
                out.push("=".into());
                chars.next();
            }
            '!' => {
                chars.next();
                if chars.next() != Some('=') {
                    return Err("Invalid list filter expression: expected '!='".into());
                }
                out.push("!=".into());
            }
            _ => {
                let mut v = String::new();
                while let Some(&x) = chars.peek() {
                    if x.is_whitespace() || x == '(' || x == ')' || x == '=' || x == '!' {
                        break;
                    }
                    v.push(x);
                    chars.next();
                }
                out.push(v);
            }
        }
    }
    Ok(out)
}

/// Look up a dotted path (`involvedObject.kind`, `metadata.name`) in a JSON value.
pub fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for part in path.split('.') {
        cur = cur.get(part)?;
    }
    Some(cur)
}

/// A Kubernetes field selector: `a=b,c!=d` (`==` too).
pub fn field_selector_matches(sel: &str, obj: &Value) -> bool {
    sel.split(',').filter(|s| !s.is_empty()).all(|req| {
        let (k, v, neg) = if let Some((k, v)) = req.split_once("!=") {
            (k, v, true)
        } else if let Some((k, v)) = req.split_once("==") {
            (k, v, false)
        } else if let Some((k, v)) = req.split_once('=') {
            (k, v, false)
        } else {
            return true;
        };
        let actual = lookup(obj, k.trim()).map(scalar).unwrap_or_default();
        (actual == v.trim()) != neg
    })
}

/// A Kubernetes label selector: `a=b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x)`.
pub fn label_selector_matches(sel: &str, labels: &Value) -> bool {
    let mut reqs = vec![];
    let mut depth = 0;
    let mut cur = String::new();
    for c in sel.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                reqs.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    reqs.push(cur);
    reqs.iter().map(|r| r.trim()).filter(|r| !r.is_empty()).all(|r| {
        let get = |k: &str| labels.get(k.trim()).and_then(|v| v.as_str()).map(str::to_string);
        if let Some((k, set)) = r.split_once(" notin ") {
            let set = parse_set(set);
            return get(k).is_none_or(|v| !set.contains(&v));
        }
        if let Some((k, set)) = r.split_once(" in ") {
            let set = parse_set(set);
            return get(k).is_some_and(|v| set.contains(&v));
        }
        if let Some((k, v)) = r.split_once("!=") {
            return get(k).as_deref() != Some(v.trim());
        }
        if let Some((k, v)) = r.split_once("==").or_else(|| r.split_once('=')) {
            return get(k).as_deref() == Some(v.trim());
        }
        if let Some(k) = r.strip_prefix('!') {
            return get(k).is_none();
        }
        get(r).is_some()
    })
}

fn parse_set(s: &str) -> Vec<String> {
    s.trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(|x| x.trim().to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn google_filters_as_gcloud_and_clients_send_them() {
        let s = json!({"purpose": "REGIONAL_MANAGED_PROXY", "role": "ACTIVE", "name": "proxy-only-subnet"});
        assert!(GoogleFilter::parse("purpose eq REGIONAL_MANAGED_PROXY")
            .unwrap()
            .matches(&s));
        assert!(
            GoogleFilter::parse(r#"(purpose = "REGIONAL_MANAGED_PROXY") (role = "ACTIVE")"#)
                .unwrap()
                .matches(&s)
        );
        assert!(!GoogleFilter::parse(r#"purpose = "PRIVATE""#).unwrap().matches(&s));
        assert!(GoogleFilter::parse(r#"name = "proxy-*""#).unwrap().matches(&s));
        assert!(GoogleFilter::parse(r#"role != "BACKUP" AND name eq proxy.*"#)
            .unwrap()
            .matches(&s));
        assert!(GoogleFilter::parse("name eq (").is_err());
    }

    #[test]
    fn gclouds_name_tilde_filter_is_an_re2_full_match() {
        // `gcloud ... list --filter='name~^proxy'` sends `name eq ".*(^proxy).*"`.
        let f = GoogleFilter::parse(r#"name eq ".*(^proxy).*""#).unwrap();
        assert!(f.matches(&json!({"name": "proxy-only-subnet"})));
        assert!(!f.matches(&json!({"name": "my-proxy"})));
        let f = GoogleFilter::parse(r#"name ne "k8s-fw-l7--[0-9a-f]+""#).unwrap();
        assert!(f.matches(&json!({"name": "default-allow-ssh"})));
        assert!(!f.matches(&json!({"name": "k8s-fw-l7--3f9c1a27"})));
        assert!(GoogleFilter::parse(r#"name eq "(unclosed""#).is_err());
    }

    #[test]
    fn kubernetes_selectors() {
        let ev = json!({"involvedObject": {"kind": "Ingress", "name": "k10"}, "type": "Warning"});
        assert!(field_selector_matches("involvedObject.kind=Ingress,type=Warning", &ev));
        assert!(!field_selector_matches("involvedObject.kind=Service", &ev));
        assert!(field_selector_matches("involvedObject.name!=x", &ev));
        let l = json!({"app": "k10", "release": "k10"});
        assert!(label_selector_matches("app=k10,release in (k10,k11)", &l));
        assert!(!label_selector_matches("app=k10,!release", &l));
        assert!(label_selector_matches("service notin (gateway)", &l));
    }
}

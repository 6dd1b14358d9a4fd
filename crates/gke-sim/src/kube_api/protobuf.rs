//! Kubernetes' Protobuf encoding of the built-in kinds kubectl's typed clients write.
//!
//! `kubectl create secret|configmap|namespace|serviceaccount|deployment|ingress` send
//! `Content-Type: application/vnd.kubernetes.protobuf`: the 4 bytes `k8s\0`, then a `runtime.Unknown`
//! (typeMeta = 1, raw = 2, contentEncoding = 3, contentType = 4) whose `raw` is the object. This module
//! turns that into the JSON object the rest of gke-sim stores. It knows only the kinds and fields below
//! (tags from kubernetes/api `generated.proto`, as in the `k8s-pb` 0.9 crate); anything else is refused
//! with a message that names it, never dropped.

use axum::http::Method;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::status;

pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";
const MAGIC: &[u8] = b"k8s\0";

/// How one field's value is encoded, and how it reads in JSON.
#[derive(Clone, Copy)]
enum Ty {
    /// A string; `""` is left out.
    Str,
    /// Bytes, base64 in JSON.
    Bytes,
    /// An integer; 0 is left out (a non-pointer Go field).
    Int,
    /// An integer that is kept even when 0 (a pointer Go field, sent only when set).
    OptInt,
    /// A bool; false is left out.
    Bool,
    /// A bool kept even when false.
    OptBool,
    /// `metav1.Time`: seconds = 1, nanos = 2; the zero time is `null`.
    Time,
    /// `intstr.IntOrString`: type = 1 (1 = string), intVal = 2, strVal = 3.
    IntOrStr,
    /// `resource.Quantity`: string = 1.
    Qty,
    Msg(&'static [F]),
    /// A struct embedded inline in JSON (`IngressRuleValue` in `IngressRule`).
    Inline(&'static [F]),
    /// `map<string, string>`: entries key = 1, value = 2.
    MapStr,
    /// `map<string, bytes>`.
    MapBytes,
    /// `map<string, Quantity>`.
    MapQty,
}

/// A field: tag, JSON name, type, repeated.
struct F(u32, &'static str, Ty, bool);

const fn one(tag: u32, name: &'static str, ty: Ty) -> F {
    F(tag, name, ty, false)
}

const fn many(tag: u32, name: &'static str, ty: Ty) -> F {
    F(tag, name, ty, true)
}

use Ty::*;

const OWNER_REFERENCE: &[F] = &[
    one(5, "apiVersion", Str),
    one(1, "kind", Str),
    one(3, "name", Str),
    one(4, "uid", Str),
    one(6, "controller", OptBool),
    one(7, "blockOwnerDeletion", OptBool),
];
const OBJECT_META: &[F] = &[
    one(1, "name", Str),
    one(2, "generateName", Str),
    one(3, "namespace", Str),
    one(4, "selfLink", Str),
    one(5, "uid", Str),
    one(6, "resourceVersion", Str),
    one(7, "generation", Int),
    one(8, "creationTimestamp", Time),
    one(9, "deletionTimestamp", Time),
    one(10, "deletionGracePeriodSeconds", OptInt),
    one(11, "labels", MapStr),
    one(12, "annotations", MapStr),
    many(13, "ownerReferences", Msg(OWNER_REFERENCE)),
    many(14, "finalizers", Str),
];
const OBJECT_REFERENCE: &[F] = &[
    one(1, "kind", Str),
    one(2, "namespace", Str),
    one(3, "name", Str),
    one(4, "uid", Str),
    one(5, "apiVersion", Str),
    one(6, "resourceVersion", Str),
    one(7, "fieldPath", Str),
];
const LOCAL_OBJECT_REFERENCE: &[F] = &[one(1, "name", Str)];

const SECRET: &[F] = &[
    one(1, "metadata", Msg(OBJECT_META)),
    one(2, "data", MapBytes),
    one(3, "type", Str),
    one(4, "stringData", MapStr),
    one(5, "immutable", OptBool),
];
const CONFIG_MAP: &[F] = &[
    one(1, "metadata", Msg(OBJECT_META)),
    one(2, "data", MapStr),
    one(3, "binaryData", MapBytes),
    one(4, "immutable", OptBool),
];
const NAMESPACE: &[F] = &[
    one(1, "metadata", Msg(OBJECT_META)),
    one(2, "spec", Msg(&[many(1, "finalizers", Str)])),
    one(3, "status", Msg(&[one(1, "phase", Str)])),
];
const SERVICE_ACCOUNT: &[F] = &[
    one(1, "metadata", Msg(OBJECT_META)),
    many(2, "secrets", Msg(OBJECT_REFERENCE)),
    many(3, "imagePullSecrets", Msg(LOCAL_OBJECT_REFERENCE)),
    one(4, "automountServiceAccountToken", OptBool),
];

const SERVICE_BACKEND_PORT: &[F] = &[one(1, "name", Str), one(2, "number", Int)];
const INGRESS_BACKEND: &[F] = &[
    one(
        4,
        "service",
        Msg(&[one(1, "name", Str), one(2, "port", Msg(SERVICE_BACKEND_PORT))]),
    ),
    one(
        3,
        "resource",
        Msg(&[one(1, "apiGroup", Str), one(2, "kind", Str), one(3, "name", Str)]),
    ),
];
const HTTP_INGRESS_PATH: &[F] = &[
    one(1, "path", Str),
    one(3, "pathType", Str),
    one(2, "backend", Msg(INGRESS_BACKEND)),
];
const INGRESS_RULE: &[F] = &[
    one(1, "host", Str),
    one(
        2,
        "",
        Inline(&[one(1, "http", Msg(&[many(1, "paths", Msg(HTTP_INGRESS_PATH))]))]),
    ),
];
const INGRESS_SPEC: &[F] = &[
    one(4, "ingressClassName", Str),
    one(1, "defaultBackend", Msg(INGRESS_BACKEND)),
    many(2, "tls", Msg(&[many(1, "hosts", Str), one(2, "secretName", Str)])),
    many(3, "rules", Msg(INGRESS_RULE)),
];
const INGRESS_STATUS: &[F] = &[one(
    1,
    "loadBalancer",
    Msg(&[many(1, "ingress", Msg(&[one(1, "ip", Str), one(2, "hostname", Str)]))]),
)];
const INGRESS: &[F] = &[
    one(1, "metadata", Msg(OBJECT_META)),
    one(2, "spec", Msg(INGRESS_SPEC)),
    one(3, "status", Msg(INGRESS_STATUS)),
];

const LABEL_SELECTOR: &[F] = &[
    one(1, "matchLabels", MapStr),
    many(
        2,
        "matchExpressions",
        Msg(&[one(1, "key", Str), one(2, "operator", Str), many(3, "values", Str)]),
    ),
];
const CONTAINER_PORT: &[F] = &[
    one(1, "name", Str),
    one(2, "hostPort", Int),
    one(3, "containerPort", Int),
    one(4, "protocol", Str),
    one(5, "hostIP", Str),
];
const CONTAINER: &[F] = &[
    one(1, "name", Str),
    one(2, "image", Str),
    many(3, "command", Str),
    many(4, "args", Str),
    one(5, "workingDir", Str),
    many(6, "ports", Msg(CONTAINER_PORT)),
    many(7, "env", Msg(&[one(1, "name", Str), one(2, "value", Str)])),
    one(
        8,
        "resources",
        Msg(&[one(1, "limits", MapQty), one(2, "requests", MapQty)]),
    ),
    one(13, "terminationMessagePath", Str),
    one(14, "imagePullPolicy", Str),
    one(16, "stdin", Bool),
    one(17, "stdinOnce", Bool),
    one(18, "tty", Bool),
    one(20, "terminationMessagePolicy", Str),
];
const POD_SPEC: &[F] = &[
    many(2, "containers", Msg(CONTAINER)),
    one(3, "restartPolicy", Str),
    one(4, "terminationGracePeriodSeconds", OptInt),
    one(6, "dnsPolicy", Str),
    one(7, "nodeSelector", MapStr),
    one(8, "serviceAccountName", Str),
    one(9, "serviceAccount", Str),
    many(15, "imagePullSecrets", Msg(LOCAL_OBJECT_REFERENCE)),
    one(19, "schedulerName", Str),
    many(20, "initContainers", Msg(CONTAINER)),
    one(21, "automountServiceAccountToken", OptBool),
    one(30, "enableServiceLinks", OptBool),
];
const POD_TEMPLATE_SPEC: &[F] = &[one(1, "metadata", Msg(OBJECT_META)), one(2, "spec", Msg(POD_SPEC))];
const DEPLOYMENT_STRATEGY: &[F] = &[
    one(1, "type", Str),
    one(
        2,
        "rollingUpdate",
        Msg(&[one(1, "maxUnavailable", IntOrStr), one(2, "maxSurge", IntOrStr)]),
    ),
];
const DEPLOYMENT_SPEC: &[F] = &[
    one(1, "replicas", OptInt),
    one(2, "selector", Msg(LABEL_SELECTOR)),
    one(3, "template", Msg(POD_TEMPLATE_SPEC)),
    one(4, "strategy", Msg(DEPLOYMENT_STRATEGY)),
    one(5, "minReadySeconds", Int),
    one(6, "revisionHistoryLimit", OptInt),
    one(7, "paused", Bool),
    one(9, "progressDeadlineSeconds", OptInt),
];
const DEPLOYMENT_STATUS: &[F] = &[
    one(1, "observedGeneration", Int),
    one(2, "replicas", Int),
    one(3, "updatedReplicas", Int),
    one(4, "availableReplicas", Int),
    one(5, "unavailableReplicas", Int),
    one(7, "readyReplicas", Int),
    one(8, "collisionCount", OptInt),
    one(9, "terminatingReplicas", OptInt),
];
const DEPLOYMENT: &[F] = &[
    one(1, "metadata", Msg(OBJECT_META)),
    one(2, "spec", Msg(DEPLOYMENT_SPEC)),
    one(3, "status", Msg(DEPLOYMENT_STATUS)),
];

/// The kinds gke-sim decodes: apiVersion, kind, fields.
const KINDS: &[(&str, &str, &[F])] = &[
    ("v1", "Secret", SECRET),
    ("v1", "ConfigMap", CONFIG_MAP),
    ("v1", "Namespace", NAMESPACE),
    ("v1", "ServiceAccount", SERVICE_ACCOUNT),
    ("networking.k8s.io/v1", "Ingress", INGRESS),
    ("apps/v1", "Deployment", DEPLOYMENT),
];

/// Whether a request's `Content-Type` is Kubernetes' Protobuf.
pub fn is_protobuf(content_type: &str) -> bool {
    content_type.split(';').next().is_some_and(|m| m.trim() == MEDIA_TYPE)
}

/// The JSON object a Protobuf request body carries.
pub fn to_json(body: &[u8]) -> Result<Value, String> {
    let unknown = body
        .strip_prefix(MAGIC)
        .ok_or("the body does not start with Kubernetes' Protobuf prefix k8s\\0")?;
    let envelope = message(unknown, UNKNOWN)?;
    let api_version = envelope["typeMeta"]["apiVersion"].as_str().unwrap_or_default();
    let kind = envelope["typeMeta"]["kind"].as_str().unwrap_or_default();
    if envelope["contentEncoding"].as_str().is_some_and(|e| !e.is_empty()) {
        return Err(format!(
            "contentEncoding {} is not supported",
            envelope["contentEncoding"]
        ));
    }
    let Some((_, _, fields)) = KINDS.iter().find(|(v, k, _)| *v == api_version && *k == kind) else {
        let known: Vec<String> = KINDS.iter().map(|(v, k, _)| format!("{k} {v}")).collect();
        return Err(format!(
            "gke-sim decodes Protobuf only for {}, not {kind} {api_version}: send JSON",
            known.join(", ")
        ));
    };
    let raw = envelope["raw"].as_str().map(base64_decode).unwrap_or_default();
    let mut obj = message(&raw, fields).map_err(|e| format!("{kind}: {e}"))?;
    obj["apiVersion"] = json!(api_version);
    obj["kind"] = json!(kind);
    Ok(obj)
}

/// A POST or PUT body in Protobuf, as JSON; every other body as it came. A body gke-sim cannot read
/// gets 415 (a kind or field it does not decode) or 400 (not Kubernetes' Protobuf).
pub fn request_body(method: &Method, content_type: &str, body: Vec<u8>) -> Result<Vec<u8>, Response> {
    if !(is_protobuf(content_type) && (method == Method::POST || method == Method::PUT)) {
        return Ok(body);
    }
    match to_json(&body) {
        Ok(v) => Ok(v.to_string().into_bytes()),
        Err(e) if e.starts_with("gke-sim") || e.contains("not one gke-sim") => {
            Err(status(415, "UnsupportedMediaType", &e, None))
        }
        Err(e) => Err(status(
            400,
            "BadRequest",
            &format!("the object provided is unrecognized: {e}"),
            None,
        )),
    }
}

/// 406 when the client accepts none of what gke-sim answers (JSON); the API server's message
/// lists the media types it serves (apimachinery `NewNotAcceptableError`).
pub fn not_acceptable(accept: &str) -> Option<Response> {
    let json = |item: &str| {
        let media = item.split(';').next().unwrap_or_default().trim();
        matches!(media, "" | "application/json" | "*/*" | "application/*")
    };
    if accept.trim().is_empty() || accept.split(',').any(json) {
        return None;
    }
    let msg = "only the following media types are accepted: application/json";
    Some(status(406, "NotAcceptable", msg, None))
}

/// `runtime.Unknown`, with `raw` kept as base64 until the kind is known.
const UNKNOWN: &[F] = &[
    one(1, "typeMeta", Msg(&[one(1, "apiVersion", Str), one(2, "kind", Str)])),
    one(2, "raw", Bytes),
    one(3, "contentEncoding", Str),
    one(4, "contentType", Str),
];

/// One message's fields as a JSON object.
fn message(buf: &[u8], fields: &[F]) -> Result<Value, String> {
    let mut out = Map::new();
    let mut r = Reader { buf, pos: 0 };
    while !r.done() {
        let key = r.varint()?;
        let (tag, wire) = ((key >> 3) as u32, key & 7);
        let Some(f) = fields.iter().find(|f| f.0 == tag) else {
            // Go's generated code writes every non-pointer field, set or not: a zero value is unset.
            if r.zero(wire)? {
                continue;
            }
            return Err(format!("field {tag} is not one gke-sim decodes"));
        };
        let v = value(&mut r, wire, f.2).map_err(|e| format!("{}: {e}", f.1))?;
        put(&mut out, f, v);
    }
    Ok(Value::Object(out))
}

fn value(r: &mut Reader, wire: u64, ty: Ty) -> Result<Value, String> {
    match (wire, ty) {
        (0, Int | OptInt) => Ok(json!(r.varint()? as i64)),
        (0, Bool | OptBool) => Ok(json!(r.varint()? != 0)),
        (2, _) => length_delimited(r.bytes()?, ty),
        _ => Err(format!("unexpected wire type {wire}")),
    }
}

fn length_delimited(b: &[u8], ty: Ty) -> Result<Value, String> {
    Ok(match ty {
        Str => json!(std::str::from_utf8(b).map_err(|e| e.to_string())?),
        Bytes => json!(base64_encode(b)),
        Msg(fields) | Inline(fields) => message(b, fields)?,
        Time => time(&message(b, &[one(1, "s", Int), one(2, "n", Int)])?),
        IntOrStr => int_or_str(&message(b, &[one(1, "t", Int), one(2, "i", Int), one(3, "s", Str)])?),
        Qty => message(b, &[one(1, "s", Str)])?["s"].clone(),
        MapStr => entry(b, Str)?,
        MapBytes => entry(b, Bytes)?,
        MapQty => entry(b, Qty)?,
        Int | OptInt | Bool | OptBool => return Err("a length-delimited scalar".into()),
    })
}

/// A map entry (key = 1, value = 2) as a one-key object.
fn entry(b: &[u8], value: Ty) -> Result<Value, String> {
    let kv = message(b, &[one(1, "k", Str), one(2, "v", value)])?;
    let key = kv["k"].as_str().unwrap_or_default().to_string();
    let v = match kv.get("v") {
        Some(v) => v.clone(),
        None if matches!(value, Qty) => Value::Null,
        None => json!(""),
    };
    Ok(json!({ key: v }))
}

fn time(t: &Value) -> Value {
    match t["s"].as_i64() {
        Some(s) if s != 0 => json!(crate::world::rfc3339(s - 1_795_000_000)),
        _ => Value::Null,
    }
}

fn int_or_str(v: &Value) -> Value {
    if v["t"].as_i64() == Some(1) {
        json!(v["s"].as_str().unwrap_or_default())
    } else {
        json!(v["i"].as_i64().unwrap_or(0))
    }
}

/// Add a decoded field as Go's JSON encoding would show it.
fn put(out: &mut Map<String, Value>, f: &F, v: Value) {
    let F(_, name, ty, repeated) = *f;
    match ty {
        MapStr | MapBytes | MapQty => {
            let map = out.entry(name).or_insert_with(|| json!({}));
            if let (Some(m), Value::Object(e)) = (map.as_object_mut(), v) {
                m.extend(e);
            }
        }
        Inline(_) => {
            if let Value::Object(m) = v {
                out.extend(m);
            }
        }
        _ if repeated => {
            if let Some(a) = out.entry(name).or_insert_with(|| json!([])).as_array_mut() {
                a.push(v);
            }
        }
        Str | Int | Bool if is_zero(&v) => {}
        _ => {
            out.insert(name.to_string(), v);
        }
    }
}

fn is_zero(v: &Value) -> bool {
    v.as_str() == Some("") || v.as_i64() == Some(0) || v.as_bool() == Some(false)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or("truncated varint")?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint longer than 10 bytes".into())
    }

    /// Reads a value of a field gke-sim does not know: whether it is the zero value.
    fn zero(&mut self, wire: u64) -> Result<bool, String> {
        match wire {
            0 => Ok(self.varint()? == 0),
            2 => Ok(self.bytes()?.is_empty()),
            _ => Err(format!("unexpected wire type {wire}")),
        }
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let len = usize::try_from(self.varint()?).map_err(|e| e.to_string())?;
        let end = self
            .pos
            .checked_add(len)
            .filter(|e| *e <= self.buf.len())
            .ok_or("truncated field")?;
        let b = &self.buf[self.pos..end];
        self.pos = end;
        Ok(b)
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding, as Go's encoding/json writes `[]byte`.
fn base64_encode(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len().div_ceil(3) * 4);
    for c in b.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn base64_decode(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().take_while(|c| *c != b'=') {
        let Some(v) = B64.iter().position(|b| *b == c) else {
            continue;
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(tag: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![(tag << 3 | 2) as u8, payload.len() as u8];
        v.extend_from_slice(payload);
        v
    }

    fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
        let tm = [field(1, api_version.as_bytes()), field(2, kind.as_bytes())].concat();
        [
            MAGIC.to_vec(),
            field(1, &tm),
            field(2, raw),
            field(3, b""),
            field(4, b""),
        ]
        .concat()
    }

    #[test]
    fn a_secret_reads_as_kubectl_would_have_sent_it_in_json() {
        let meta = [field(1, b"tls"), field(8, &[])].concat();
        let entry = [field(1, b"tls.crt"), field(2, b"\x00\xffcert")].concat();
        let raw = [field(1, &meta), field(2, &entry), field(3, b"kubernetes.io/tls")].concat();
        let v = to_json(&envelope("v1", "Secret", &raw)).unwrap();
        assert_eq!(
            v,
            json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                   "metadata": {"name": "tls", "creationTimestamp": null},
                   "data": {"tls.crt": "AP9jZXJ0"}})
        );
    }

    #[test]
    fn unknown_kinds_and_fields_are_refused_by_name() {
        let e = to_json(&envelope("v1", "Pod", &[])).unwrap_err();
        assert!(e.contains("not Pod v1"), "{e}");
        let e = to_json(&envelope("v1", "ConfigMap", &field(9, b"x"))).unwrap_err();
        assert_eq!(e, "ConfigMap: field 9 is not one gke-sim decodes");
        let unset = to_json(&envelope("v1", "ConfigMap", &field(9, b""))).unwrap();
        assert_eq!(unset, json!({"apiVersion": "v1", "kind": "ConfigMap"}));
        assert!(to_json(b"{}").is_err());
    }

    #[test]
    fn protobuf_only_clients_get_406_and_the_rest_get_json() {
        assert!(not_acceptable("application/vnd.kubernetes.protobuf").is_some());
        assert!(not_acceptable("application/vnd.kubernetes.protobuf;stream=watch").is_some());
        for ok in [
            "",
            "application/vnd.kubernetes.protobuf,application/json",
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
            "*/*",
        ] {
            assert!(not_acceptable(ok).is_none(), "{ok}");
        }
    }

    #[test]
    fn base64_round_trips() {
        for s in ["", "a", "ab", "abc", "abcd", "\u{0}\u{ff}"] {
            assert_eq!(base64_decode(&base64_encode(s.as_bytes())), s.as_bytes());
        }
        assert_eq!(base64_encode(b"ab"), "YWI=");
    }
}

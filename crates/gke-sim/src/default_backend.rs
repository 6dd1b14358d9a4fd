//! GKE's system default backend (FIDELITY.md, issue 10 item 5): the HTTP load-balancing add-on's
//! `kube-system/l7-default-backend` Deployment and its `default-http-backend` Service (port `http`
//! 80 -> 8080), a 404 server that answers `/healthz` with 200. A `gce-internal` Ingress without
//! `spec.defaultBackend` gets NEGs, a health check on `/healthz` and a backend service for it
//! (`controller::sync_ingress`), and its URL map's default service is that backend service.

use serde_json::{json, Value};

use crate::world::World;

pub const NAMESPACE: &str = "kube-system";
/// ingress-gce `pkg/flags/flags.go`: `"default-backend-service", "kube-system/default-http-backend"`.
pub const SERVICE: &str = "default-http-backend";
/// ingress-gce `pkg/flags/flags.go`: `"default-backend-service-port", "http"`.
pub const PORT_NAME: &str = "http";
/// The health check path GKE gives the default backend (`DefaultBackendHealthCheckPath`).
pub const HC_PATH: &str = "/healthz";
const TARGET_PORT: i64 = 8080;

/// Put the add-on's Service and Deployment into the world (the HTTP load-balancing add-on is on).
pub fn install(w: &mut World) {
    if w.cluster["addonsConfig"]["httpLoadBalancing"]["disabled"] == json!(true) {
        return;
    }
    let labels = json!({"k8s-app": "glbc", "kubernetes.io/name": "GLBCDefaultBackend",
        "kubernetes.io/cluster-service": "true", "addonmanager.kubernetes.io/mode": "Reconcile"});
    w.kube_put(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": SERVICE, "namespace": NAMESPACE, "labels": labels},
        "spec": {"type": "NodePort", "selector": {"k8s-app": "glbc"}, "clusterIP": "34.118.226.41",
                 "clusterIPs": ["34.118.226.41"], "externalTrafficPolicy": "Cluster", "sessionAffinity": "None",
                 "ports": [{"name": PORT_NAME, "port": 80, "protocol": "TCP", "targetPort": TARGET_PORT,
                            "nodePort": 31594}],
                 "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"},
        "status": {"loadBalancer": {}},
    }));
    let probe = json!({"httpGet": {"path": HC_PATH, "port": TARGET_PORT, "scheme": "HTTP"}, "initialDelaySeconds": 30,
                       "periodSeconds": 10, "timeoutSeconds": 5, "successThreshold": 1, "failureThreshold": 3});
    w.kube_put(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "l7-default-backend", "namespace": NAMESPACE,
                     "labels": {"k8s-app": "glbc", "kubernetes.io/name": "GLBC",
                                "kubernetes.io/cluster-service": "true", "addonmanager.kubernetes.io/mode": "Reconcile"},
                     "annotations": {"deployment.kubernetes.io/revision": "1", "components.gke.io/layer": "addon"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"k8s-app": "glbc"}},
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                 "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
                 "template": {"metadata": {"labels": {"k8s-app": "glbc", "name": "glbc"}},
                              "spec": {"containers": [{"name": "default-http-backend",
                                  "image": "gke.gcr.io/ingress-gce-404-server-with-metrics:v1.33.0",
                                  "imagePullPolicy": "IfNotPresent", "livenessProbe": probe,
                                  "ports": [{"containerPort": TARGET_PORT, "protocol": "TCP"}],
                                  "resources": {"requests": {"cpu": "10m", "memory": "20Mi"}}}],
                                       "restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
                                       "terminationGracePeriodSeconds": 30}}},
    }));
}

/// The add-on turned off: GKE removes its objects.
pub fn remove(w: &mut World) {
    w.kube_delete("Service", NAMESPACE, SERVICE);
    w.kube_delete("Deployment", NAMESPACE, "l7-default-backend");
}

/// Is this pod the default backend's?
pub fn is_pod(pod: &Value) -> bool {
    pod["metadata"]["namespace"] == json!(NAMESPACE) && pod["metadata"]["labels"]["k8s-app"] == json!("glbc")
}

/// What the 404 server answers on `port` for `path` (the `default backend - 404` body of
/// defaultbackend / ingress-gce-404-server; `/healthz` answers `ok`).
pub fn answer(port: u16, path: &str) -> Option<(u16, String)> {
    if i64::from(port) != TARGET_PORT {
        return None;
    }
    Some(if path == HC_PATH {
        (200, "ok".into())
    } else {
        (404, "default backend - 404".into())
    })
}

/// The default backend's Service and its `http` port, when the Ingress gets them: a
/// `gce-internal` Ingress without `spec.defaultBackend` (ingress-gce `pkg/neg/controller.go`
/// `mergeDefaultBackendServicePortInfoMap`: "ILB always has neg enabled, regardless of neg
/// annotation").
pub fn service_port(w: &World) -> Option<(Value, Value)> {
    let svc = w.kube_get("Service", NAMESPACE, SERVICE)?.clone();
    let port = svc["spec"]["ports"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == json!(PORT_NAME))?
        .clone();
    Some((svc, port))
}

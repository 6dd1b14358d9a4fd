//! The resource kinds the simulated Kubernetes API serves.

/// The resource kinds the simulated Kubernetes API serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResDef {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short: &'static [&'static str],
}

impl ResDef {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
    /// Key of this resource in the store: `plural.group`.
    pub fn key(&self) -> String {
        format!("{}.{}", self.plural, self.group)
    }
}

pub const RESOURCES: &[ResDef] = &[
    ResDef {
        group: "",
        version: "v1",
        plural: "namespaces",
        kind: "Namespace",
        namespaced: false,
        short: &["ns"],
    },
    ResDef {
        group: "",
        version: "v1",
        plural: "nodes",
        kind: "Node",
        namespaced: false,
        short: &["no"],
    },
    ResDef {
        group: "",
        version: "v1",
        plural: "pods",
        kind: "Pod",
        namespaced: true,
        short: &["po"],
    },
    ResDef {
        group: "",
        version: "v1",
        plural: "services",
        kind: "Service",
        namespaced: true,
        short: &["svc"],
    },
    ResDef {
        group: "",
        version: "v1",
        plural: "endpoints",
        kind: "Endpoints",
        namespaced: true,
        short: &["ep"],
    },
    ResDef {
        group: "",
        version: "v1",
        plural: "events",
        kind: "Event",
        namespaced: true,
        short: &["ev"],
    },
    ResDef {
        group: "",
        version: "v1",
        plural: "configmaps",
        kind: "ConfigMap",
        namespaced: true,
        short: &["cm"],
    },
    ResDef {
        group: "",
        version: "v1",
        plural: "secrets",
        kind: "Secret",
        namespaced: true,
        short: &[],
    },
    ResDef {
        group: "",
        version: "v1",
        plural: "serviceaccounts",
        kind: "ServiceAccount",
        namespaced: true,
        short: &["sa"],
    },
    ResDef {
        group: "apps",
        version: "v1",
        plural: "deployments",
        kind: "Deployment",
        namespaced: true,
        short: &["deploy"],
    },
    ResDef {
        group: "networking.k8s.io",
        version: "v1",
        plural: "ingresses",
        kind: "Ingress",
        namespaced: true,
        short: &["ing"],
    },
    ResDef {
        group: "networking.k8s.io",
        version: "v1",
        plural: "networkpolicies",
        kind: "NetworkPolicy",
        namespaced: true,
        short: &["netpol"],
    },
    ResDef {
        group: "networking.k8s.io",
        version: "v1",
        plural: "ingressclasses",
        kind: "IngressClass",
        namespaced: false,
        short: &[],
    },
    ResDef {
        group: "discovery.k8s.io",
        version: "v1",
        plural: "endpointslices",
        kind: "EndpointSlice",
        namespaced: true,
        short: &[],
    },
    ResDef {
        group: "cloud.google.com",
        version: "v1",
        plural: "backendconfigs",
        kind: "BackendConfig",
        namespaced: true,
        short: &["bc"],
    },
    ResDef {
        group: "networking.gke.io",
        version: "v1beta1",
        plural: "frontendconfigs",
        kind: "FrontendConfig",
        namespaced: true,
        short: &[],
    },
    ResDef {
        group: "coordination.k8s.io",
        version: "v1",
        plural: "leases",
        kind: "Lease",
        namespaced: true,
        short: &[],
    },
    // Gateway API (served only once the cluster's Gateway API channel is on: `gateway_api::served`).
    ResDef {
        group: "gateway.networking.k8s.io",
        version: "v1",
        plural: "gatewayclasses",
        kind: "GatewayClass",
        namespaced: false,
        short: &["gc"],
    },
    ResDef {
        group: "gateway.networking.k8s.io",
        version: "v1",
        plural: "gateways",
        kind: "Gateway",
        namespaced: true,
        short: &["gtw"],
    },
    ResDef {
        group: "gateway.networking.k8s.io",
        version: "v1",
        plural: "httproutes",
        kind: "HTTPRoute",
        namespaced: true,
        short: &[],
    },
    ResDef {
        group: "networking.gke.io",
        version: "v1",
        plural: "healthcheckpolicies",
        kind: "HealthCheckPolicy",
        namespaced: true,
        short: &[],
    },
    ResDef {
        group: "networking.gke.io",
        version: "v1",
        plural: "gcpgatewaypolicies",
        kind: "GCPGatewayPolicy",
        namespaced: true,
        short: &[],
    },
    ResDef {
        group: "authorization.k8s.io",
        version: "v1",
        plural: "selfsubjectaccessreviews",
        kind: "SelfSubjectAccessReview",
        namespaced: false,
        short: &[],
    },
];

pub fn res_by_plural(group: &str, plural: &str) -> Option<&'static ResDef> {
    RESOURCES.iter().find(|r| r.group == group && r.plural == plural)
}

pub fn res_by_kind(kind: &str) -> Option<&'static ResDef> {
    RESOURCES.iter().find(|r| r.kind == kind)
}

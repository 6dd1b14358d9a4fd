#!/usr/bin/env python3
"""Regenerate the trimmed schema extract that gke-sim validates request bodies against.

Source: Google's discovery documents for Compute Engine v1 and Kubernetes Engine v1, as shipped in
`googleapiclient/discovery_cache/documents/` of the PyPI package google-api-python-client 2.202.0
(Apache License 2.0). Usage:

    python3 crates/gke-sim/schemas/extract.py ../shared/gcp-discovery crates/gke-sim/schemas
"""
import json
import sys

ROOTS = {
    "compute.v1.json": ["Subnetwork", "Firewall", "Address", "ResourceGroupReference",
                         "NetworkEndpointGroupsListEndpointsRequest", "Operation", "SslCertificate"],
    "container.v1.json": ["UpdateClusterRequest", "SetAddonsConfigRequest"],
}
KEEP = {"type", "properties", "items", "enum", "$ref", "additionalProperties", "format"}


def trim(schema):
    out = {k: v for k, v in schema.items() if k in KEEP}
    if "properties" in out:
        props = {}
        for name, p in out["properties"].items():
            t = trim(p)
            req = p.get("annotations", {}).get("required")
            if req:
                t["requiredFor"] = req
            props[name] = t
        out["properties"] = props
    if "items" in out:
        out["items"] = trim(out["items"])
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = trim(out["additionalProperties"])
    return out


def refs(schema, acc):
    if isinstance(schema, dict):
        if "$ref" in schema:
            acc.add(schema["$ref"])
        for v in schema.values():
            refs(v, acc)
    elif isinstance(schema, list):
        for v in schema:
            refs(v, acc)


def main(src, dst):
    for doc_name, roots in ROOTS.items():
        doc = json.load(open(f"{src}/{doc_name}"))
        want, seen = list(roots), set()
        while want:
            name = want.pop()
            if name in seen:
                continue
            seen.add(name)
            acc = set()
            refs(doc["schemas"][name], acc)
            want.extend(acc - seen)
        out = {
            "source": f"{doc_name} revision {doc['revision']} from google-api-python-client 2.202.0 (Apache-2.0); trimmed by extract.py",
            "schemas": {n: trim(doc["schemas"][n]) for n in sorted(seen)},
        }
        with open(f"{dst}/{doc_name.replace('.json', '.extract.json')}", "w") as f:
            json.dump(out, f, indent=1, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

"""A small kustomize renderer for the tests, so they need no kustomize binary.

It implements only the subset deploy/k8s uses, and refuses anything else (an unknown
kustomization key fails the render, so an overlay cannot silently outgrow it):
`resources` (files and directories), `namespace`, `images` (newName / newTag),
`replicas` (Deployments), and `patches` with a `path` to a strategic-merge patch. Strategic merge
here: maps merge recursively, `null` deletes a key, lists of containers, volumes,
mounts and env merge by `name` (ports by `containerPort`), other lists are replaced.

Checked against `kubectl kustomize` (kustomize v5.5.0) on deploy/k8s/overlays/prod
when written; see deploy/k8s/README.md.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

Resource = dict[str, Any]
SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches"}
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "volumes": "name",
    "volumeMounts": "name",
    "env": "name",
    "ports": "containerPort",
}
# Kinds without a namespace of their own.
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}


def load_yaml_documents(path: Path) -> list[Resource]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def build(directory: Path) -> list[Resource]:
    """The resources `kustomize build directory` would emit (order not guaranteed)."""
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(spec) - SUPPORTED
    if unknown:
        raise ValueError(f"{directory}: kustomization keys not supported here: {unknown}")
    resources: list[Resource] = []
    for entry in spec.get("resources", []):
        target = directory / entry
        if target.is_dir():
            resources.extend(build(target))
        else:
            resources.extend(load_yaml_documents(target))
    for patch in spec.get("patches", []):
        _apply_patch(resources, load_yaml_documents(directory / patch["path"]))
    for replica in spec.get("replicas", []):
        _find(resources, "Deployment", replica["name"])["spec"]["replicas"] = replica["count"]
    for image in spec.get("images", []):
        _set_image(resources, image)
    if "namespace" in spec:
        for resource in resources:
            if resource["kind"] not in CLUSTER_SCOPED:
                resource["metadata"]["namespace"] = spec["namespace"]
    return resources


def strategic_merge(base: Any, patch: Any, key: str | None = None) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for name, value in patch.items():
            if value is None:
                merged.pop(name, None)
            elif name in merged:
                merged[name] = strategic_merge(merged[name], value, name)
            else:
                merged[name] = copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(patch, list) and key in MERGE_KEYS:
        by = MERGE_KEYS[key]
        merged_list = [copy.deepcopy(item) for item in base]
        for item in patch:
            match = next((i for i, b in enumerate(merged_list) if b.get(by) == item.get(by)), None)
            if match is None:
                merged_list.append(copy.deepcopy(item))
            else:
                merged_list[match] = strategic_merge(merged_list[match], item)
        return merged_list
    return copy.deepcopy(patch)


def _find(resources: list[Resource], kind: str, name: str) -> Resource:
    found = [r for r in resources if (r["kind"], r["metadata"]["name"]) == (kind, name)]
    if len(found) != 1:
        raise ValueError(f"expected one {kind} named {name}, found {len(found)}")
    return found[0]


def _apply_patch(resources: list[Resource], patches: list[Resource]) -> None:
    for patch in patches:
        target = _find(resources, patch["kind"], patch["metadata"]["name"])
        resources[resources.index(target)] = strategic_merge(target, patch)


def _set_image(resources: list[Resource], image: dict[str, str]) -> None:
    for resource in resources:
        pod = resource.get("spec", {}).get("template", {}).get("spec", {})
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            name, _, tag = container["image"].partition(":")
            if name != image["name"]:
                continue
            new_name = image.get("newName", name)
            new_tag = image.get("newTag", tag)
            container["image"] = f"{new_name}:{new_tag}" if new_tag else new_name

"""Helpers shared by the tests of the deploy files (deploy/, docker-compose.yml, docs/)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from gateway.settings import Settings
from tests.kustomize import Resource

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy/k8s"
KUSTOMIZATIONS = {"base": K8S / "base", "prod": K8S / "overlays/prod"}
# Container name -> the `hiregraph` command it runs.
COMMANDS = {"gateway": "serve", "worker": "worker", "migrate": "migrate"}


def setting_env_vars(model: type[BaseModel] = Settings, prefix: str = "HIREGRAPH_") -> set[str]:
    """Every environment variable Settings reads: the prefix, `__` between sections."""
    names: set[str] = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= setting_env_vars(annotation, f"{prefix}{name.upper()}__")
        else:
            names.add(f"{prefix}{name.upper()}")
    return names


def uvicorn_graceful_seconds() -> int:
    """`hiregraph serve`'s uvicorn timeout_graceful_shutdown as deployed: the configmap's
    HIREGRAPH_RESILIENCE__SHUTDOWN_GRACE_SECONDS (gateway/cli.py passes the setting)."""
    source = (ROOT / "gateway/cli.py").read_text()
    assert '"timeout_graceful_shutdown": grace_seconds' in source
    configmap = (ROOT / "deploy/k8s/base/configmap.yaml").read_text()
    (seconds,) = re.findall(r'HIREGRAPH_RESILIENCE__SHUTDOWN_GRACE_SECONDS:\s*"(\d+)"', configmap)
    return int(seconds)


def one(resources: list[Resource], kind: str, name: str) -> Resource:
    (found,) = [r for r in resources if (r["kind"], r["metadata"]["name"]) == (kind, name)]
    return found


def pod_specs(resources: list[Resource]) -> Iterator[tuple[str, dict[str, Any]]]:
    for r in resources:
        if r["kind"] in {"Deployment", "Job"}:
            yield r["metadata"]["name"], r["spec"]["template"]["spec"]


def wired(resources: list[Resource]) -> dict[str, str]:
    """The environment every HireGraph pod gets: the ConfigMap and the Secret."""
    config = one(resources, "ConfigMap", "hiregraph-config")["data"]
    secret = one(resources, "Secret", "hiregraph-secrets")["stringData"]
    assert not set(config) & set(secret), "a setting is in both the ConfigMap and the Secret"
    return {**config, **secret}

"""The Kubernetes manifests (deploy/k8s): schemas, settings wiring, cross-references.

No cluster runs where these tests run: both kustomizations are rendered in Python
(tests/kustomize.py) and every resource is validated, in strict mode, against the
Kubernetes OpenAPI schemas that `kubernetes-validate` ships.
"""

from __future__ import annotations

import copy
import ipaddress
import os
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from gateway.settings import Settings
from tests.deploy import K8S, one, pod_specs, setting_env_vars, wired
from tests.kustomize import Resource, build

# The oldest Kubernetes minor these manifests target, and the newest schemas shipped.
K8S_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
# Settings that are unset on purpose: setting them at all changes behaviour. Each is
# explained in deploy/k8s/README.md ("Optional settings").
OPTIONAL = {
    "HIREGRAPH_AUTH__JWKS_FILE",
    "HIREGRAPH_AUTH__JWKS_URL",
    "HIREGRAPH_AUTH__AUDIENCE",
    "HIREGRAPH_AUTH__ISSUER",
    "HIREGRAPH_POSTGRES_READ_URL",  # a replica, when there is one (secret.yaml shows it)
}
SECRET_KEYS = {
    "HIREGRAPH_POSTGRES_URL",
    "HIREGRAPH_MONGO_URL",
    "HIREGRAPH_REDIS_URL",
    "HIREGRAPH_BROKER_URL",
    "HIREGRAPH_AUTH__JWT_SECRET",
}


# ---------------------------------------------------------------- schemas


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_resource_matches_the_kubernetes_schema(
    rendered: list[Resource], version: str
) -> None:
    assert len(rendered) >= 14
    for resource in rendered:
        kubernetes_validate.validate(resource, version, strict=True)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["spec", "template", "spec", "containers", 0, "readinesProbe"], {}),  # typo
        (["spec", "template", "spec", "containers", 0, "ports", 0, "containerPort"], "http"),
        (["spec", "replicas"], "three"),
        (["spec", "template", "spec", "securityContext", "runAsNonRoot"], "yes"),
    ],
)
def test_schema_validation_is_not_vacuous(
    prod: list[Resource], path: list[Any], value: Any
) -> None:
    broken = copy.deepcopy(one(prod, "Deployment", "hiregraph-gateway"))
    node = broken
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSIONS[-1], strict=True)


def test_the_renderer_refuses_kustomize_features_it_does_not_implement(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\nconfigMapGenerator: []\n")
    with pytest.raises(ValueError, match="configMapGenerator"):
        build(tmp_path)


# ---------------------------------------------------------------- settings wiring


def test_every_setting_is_wired_or_documented_as_optional(rendered: list[Resource]) -> None:
    env = setting_env_vars()
    assert {"HIREGRAPH_ENV", "HIREGRAPH_LIMITS__MAX_DEPTH", "HIREGRAPH_AUTH__JWT_SECRET"} <= env
    keys = {key for key in wired(rendered) if key.startswith("HIREGRAPH_")}
    assert sorted(env - keys - OPTIONAL) == [], "wire these in configmap.yaml or secret.yaml"
    # Settings ignores unknown variables, so a typo here would silently do nothing.
    assert sorted(keys - env) == [], "not a setting (typo, or a removed setting)"
    assert not OPTIONAL & keys
    assert env >= OPTIONAL
    assert set(wired(rendered)) - keys == {"FORWARDED_ALLOW_IPS"}  # uvicorn's own


def test_only_proxies_are_trusted_for_the_client_address(rendered: list[Resource]) -> None:
    """uvicorn trusting "*" takes the leftmost X-Forwarded-For entry, which the client
    writes when the ingress appends to the header: it could then dodge its rate limit."""
    trusted = wired(rendered)["FORWARDED_ALLOW_IPS"].split(",")
    networks = [ipaddress.ip_network(entry) for entry in trusted]
    assert all(network.is_private for network in networks)


def test_optional_settings_are_documented() -> None:
    readme = (K8S / "README.md").read_text()
    section = readme.split("## Optional settings", 1)[1].split("\n## ", 1)[0]
    assert set(re.findall(r"`(HIREGRAPH_\w+)` \|", section)) == OPTIONAL


def test_secrets_are_in_the_secret_only(rendered: list[Resource]) -> None:
    secret = one(rendered, "Secret", "hiregraph-secrets")
    assert set(secret["stringData"]) == SECRET_KEYS
    config = one(rendered, "ConfigMap", "hiregraph-config")["data"]
    assert not any(re.search(r"(SECRET|PASSWORD|_URL)$", key) for key in config)


def test_settings_accept_the_wired_environment(
    rendered: list[Resource], monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in [v for v in os.environ if v.startswith("HIREGRAPH_")]:
        monkeypatch.delenv(var)
    for key, value in wired(rendered).items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.env == "prod"
    assert settings.embedded_stores == ()
    assert settings.host == "0.0.0.0"
    assert settings.auth.jwt_enabled
    assert str(settings.data_dir).startswith("/tmp/")  # the only writable path


def test_prod_overrides_the_pools(prod: list[Resource]) -> None:
    config = one(prod, "ConfigMap", "hiregraph-config")["data"]
    assert config["HIREGRAPH_POOLS__POSTGRES_POOL_SIZE"] == "20"
    assert config["HIREGRAPH_LIMITS__MAX_DEPTH"] == "10"  # the rest of the base survives


def test_every_pod_reads_the_config_and_the_secret(rendered: list[Resource]) -> None:
    for name, pod in pod_specs(rendered):
        for container in pod["containers"]:
            sources = [next(iter(s.values()))["name"] for s in container["envFrom"]]
            assert sources == ["hiregraph-config", "hiregraph-secrets"], name
            assert "env" not in container, f"{name}: wire settings in the ConfigMap"

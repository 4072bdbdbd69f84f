"""The Kubernetes workloads (deploy/k8s) against what the app does: commands, probes,
shutdown timing, security, and the references between resources."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from tests.deploy import (
    COMMANDS,
    ROOT,
    one,
    pod_specs,
    uvicorn_graceful_seconds,
    wired,
)
from tests.kustomize import Resource

GATEWAY = "hiregraph-gateway"
DEFAULT_PORTS = {"postgresql+asyncpg": 5432, "mongodb": 27017, "redis": 6379, "amqp": 5672}


def container(resources: list[Resource], kind: str, name: str) -> dict[str, Any]:
    (only,) = one(resources, kind, name)["spec"]["template"]["spec"]["containers"]
    return only


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector["matchLabels"].items())


def test_each_workload_runs_its_command_of_the_one_image(rendered: list[Resource]) -> None:
    images = set()
    for name, pod in pod_specs(rendered):
        (c,) = pod["containers"]
        assert c["args"][0] == COMMANDS[c["name"]], name
        images.add(c["image"])
    assert len(images) == 1


def test_prod_pins_the_image_and_runs_three_gateways(prod: list[Resource]) -> None:
    image = container(prod, "Deployment", GATEWAY)["image"]
    assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+", image), image
    assert one(prod, "Deployment", GATEWAY)["spec"]["replicas"] == 3
    hpa = one(prod, "HorizontalPodAutoscaler", GATEWAY)["spec"]
    assert hpa["minReplicas"] == 3 < hpa["maxReplicas"]
    pdb = one(prod, "PodDisruptionBudget", GATEWAY)["spec"]
    assert pdb["minAvailable"] == 2
    assert "maxUnavailable" not in pdb
    namespaced = [r for r in prod if r["kind"] != "Namespace"]
    assert all(r["metadata"].get("namespace") == "hiregraph" for r in namespaced)


def test_gateway_probes_and_port(rendered: list[Resource]) -> None:
    c = container(rendered, "Deployment", GATEWAY)
    (port,) = c["ports"]
    assert (port["name"], port["containerPort"]) == ("http", 8000)
    assert c["args"][-2:] == ["--port", "8000"]
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["startupProbe"]["httpGet"]["path"] == "/healthz"


def test_gateway_drains_within_its_grace_period(rendered: list[Resource]) -> None:
    pod = one(rendered, "Deployment", GATEWAY)["spec"]["template"]["spec"]
    command = pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    pre_stop = int(command[1])
    assert pre_stop >= 5  # endpoints and load balancers need a few seconds to let go
    # preStop, then uvicorn's drain, then the lifespan closing clients: 5 s to spare at least.
    assert pod["terminationGracePeriodSeconds"] >= pre_stop + uvicorn_graceful_seconds() + 5


def test_worker_stops_within_its_grace_period(rendered: list[Resource]) -> None:
    pod = one(rendered, "Deployment", "hiregraph-worker")["spec"]["template"]["spec"]
    shutdown = float(wired(rendered)["HIREGRAPH_BROKER__SHUTDOWN_TIMEOUT_SECONDS"])
    assert pod["terminationGracePeriodSeconds"] >= shutdown + 5


def test_pods_run_as_the_image_user_on_a_read_only_root(rendered: list[Resource]) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    (uid,) = re.findall(r"^USER (\d+):\d+$", dockerfile, re.MULTILINE)
    for name, pod in pod_specs(rendered):
        assert pod["securityContext"]["runAsUser"] == int(uid), name
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        (c,) = pod["containers"]
        security = c["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"] == {"drop": ["ALL"]}
        (mount,) = c["volumeMounts"]
        assert mount["mountPath"] == "/tmp"
        (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
        assert "emptyDir" in volume
        limits, requests = c["resources"]["limits"], c["resources"]["requests"]
        assert set(limits) == set(requests) == {"cpu", "memory"}, name


def test_migrate_job_runs_once_per_apply(rendered: list[Resource]) -> None:
    job = one(rendered, "Job", "hiregraph-migrate")["spec"]
    assert job["template"]["spec"]["restartPolicy"] == "Never"
    assert 0 < job["backoffLimit"] <= 5


def test_service_hpa_and_pdbs_select_the_right_pods(rendered: list[Resource]) -> None:
    labels = {
        r["metadata"]["name"]: r["spec"]["template"]["metadata"]["labels"]
        for r in rendered
        if r["kind"] == "Deployment"
    }
    service = one(rendered, "Service", GATEWAY)["spec"]
    by_service = {"matchLabels": service["selector"]}
    assert [n for n, lab in labels.items() if selects(by_service, lab)] == [GATEWAY]
    assert service["ports"][0]["targetPort"] == "http"
    for pdb in [r for r in rendered if r["kind"] == "PodDisruptionBudget"]:
        assert [n for n, lab in labels.items() if selects(pdb["spec"]["selector"], lab)] == [
            pdb["metadata"]["name"]
        ]
    hpa = one(rendered, "HorizontalPodAutoscaler", GATEWAY)["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": GATEWAY}
    kinds = {m["type"]: m for m in hpa["metrics"]}
    assert kinds["Resource"]["resource"]["name"] == "cpu"
    assert kinds["Pods"]["pods"]["metric"]["name"].endswith("requests_per_second")


def test_network_policies_let_through_what_the_app_needs(rendered: list[Resource]) -> None:
    policies = [r["spec"] for r in rendered if r["kind"] == "NetworkPolicy"]
    gateway_labels = one(rendered, "Deployment", GATEWAY)["spec"]["template"]["metadata"]["labels"]
    worker_labels = one(rendered, "Deployment", "hiregraph-worker")["spec"]["template"]["metadata"][
        "labels"
    ]

    def ports(labels: dict[str, str], direction: str) -> set[int]:
        return {
            port["port"]
            for p in policies
            if selects(p["podSelector"], labels)
            for rule in p.get(direction, [])
            for port in rule["ports"]
        }

    assert any(p["policyTypes"] == ["Ingress", "Egress"] and not p.get("ingress") for p in policies)
    assert ports(gateway_labels, "ingress") == {8000}
    assert ports(worker_labels, "ingress") == set()
    for name, url in wired(rendered).items():
        if name.endswith("_URL"):
            parts = urlsplit(url)
            port = parts.port or DEFAULT_PORTS[parts.scheme]
            assert port in ports(worker_labels, "egress") & ports(gateway_labels, "egress"), name
    assert 53 in ports(worker_labels, "egress")
    assert 443 in ports(gateway_labels, "egress") - ports(worker_labels, "egress")

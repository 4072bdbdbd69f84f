"""docker-compose.yml's local scale-out: two gateways behind nginx, the worker, and MongoDB
as a single-node replica set. Read offline (no Docker engine where the tests run);
test_deploy_files.py validates the file against the Compose Specification."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from gateway.settings import LimitSettings
from gateway.settings_events import WebSocketSettings
from tests.deploy import uvicorn_graceful_seconds
from tests.unit.test_deploy_files import GATEWAYS

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = "deploy/nginx/nginx.conf"


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services: dict[str, Any] = compose["services"]
    return services


@pytest.fixture(scope="module")
def nginx() -> str:
    """nginx.conf with comments removed."""
    text = (ROOT / NGINX_CONF).read_text()
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def _seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m)?", value)
    assert match, f"not a duration: {value}"
    return int(match[1]) * {"ms": 0.001, "s": 1, "m": 60, None: 1}[match[2]]


def test_two_identical_gateways(services: dict[str, Any]) -> None:
    first, second = (services[name] for name in GATEWAYS)
    assert first == second
    assert [n for n, s in services.items() if s.get("command", [""])[0] == "serve"] == list(
        GATEWAYS
    )
    assert "ports" not in first  # reachable through the load balancer only


def test_the_load_balancer_spreads_over_both_gateways(services: dict[str, Any], nginx: str) -> None:
    lb = services["lb"]
    assert re.fullmatch(r"nginx:\d+\.\d+-alpine", lb["image"])
    assert lb["volumes"] == [f"./{NGINX_CONF}:/etc/nginx/nginx.conf:ro"]
    assert (ROOT / NGINX_CONF).is_file()
    (upstream,) = re.findall(r"upstream hiregraph \{(.*?)\}", nginx, re.DOTALL)
    servers = re.findall(r"server ([\w-]+):(\d+)", upstream)
    port = services[GATEWAYS[0]]["command"][-1]
    assert servers == [(name, port) for name in GATEWAYS]
    (listen,) = re.findall(r"listen (\d+);", nginx)
    assert lb["ports"] == [f"8000:{listen}"]
    assert lb["depends_on"] == {name: {"condition": "service_healthy"} for name in GATEWAYS}
    assert "/lb-healthz" in " ".join(lb["healthcheck"]["test"])
    assert "location = /lb-healthz" in nginx


def test_nginx_passes_websockets_and_the_client_address(nginx: str) -> None:
    assert "proxy_http_version 1.1;" in nginx
    assert "proxy_set_header Upgrade $http_upgrade;" in nginx
    assert "proxy_set_header Connection $connection_upgrade;" in nginx
    # Overwritten: the gateways trust "*", so an appended, client-chosen entry would win.
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in nginx
    # The gateway decides when a request or a socket times out, never nginx.
    (read_timeout,) = re.findall(r"proxy_read_timeout (\w+);", nginx)
    assert _seconds(read_timeout) > WebSocketSettings().idle_timeout_seconds
    assert _seconds(read_timeout) > LimitSettings().execution_timeout_seconds
    # Bodies the gateway refuses itself (BODY_TOO_LARGE) must reach it.
    (body,) = re.findall(r"client_max_body_size (\d+)m;", nginx)
    assert int(body) << 20 > LimitSettings().max_body_bytes


def test_gateways_trust_the_forwarded_client_address(services: dict[str, Any]) -> None:
    for name in GATEWAYS:
        assert services[name]["environment"]["FORWARDED_ALLOW_IPS"] == "*"


def test_gateways_drain_before_compose_kills_them(services: dict[str, Any]) -> None:
    for name in GATEWAYS:
        grace = _seconds(services[name]["stop_grace_period"])
        assert grace > uvicorn_graceful_seconds()


def test_the_worker_runs_next_to_the_gateways(services: dict[str, Any]) -> None:
    worker = services["worker"]
    assert worker["command"] == ["worker"]
    assert worker["image"] == services[GATEWAYS[0]]["image"]
    assert _seconds(worker["stop_grace_period"]) > 10  # HIREGRAPH_BROKER__SHUTDOWN_TIMEOUT


def test_mongo_is_a_single_node_replica_set(services: dict[str, Any]) -> None:
    mongo = services["mongo"]
    command = mongo["command"]
    replica_set = command[command.index("--replSet") + 1]
    check = " ".join(mongo["healthcheck"]["test"])
    # The health check initiates the set, naming the member as the gateways reach it.
    assert f"rs.initiate({{_id: '{replica_set}', members: [{{_id: 0, host: 'mongo:27017'}}]}})" in (
        check
    )
    assert "isWritablePrimary" in check  # healthy only once it accepts writes
    for name in (*GATEWAYS, "migrate", "worker"):
        url = urlsplit(services[name]["environment"]["HIREGRAPH_MONGO_URL"])
        assert parse_qs(url.query)["replicaSet"] == [replica_set], name

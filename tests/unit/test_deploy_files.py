"""Static checks of the deploy files: Dockerfile, .dockerignore and docker-compose.yml.

No Docker engine runs where these tests run, so nothing is built or started: the
compose file is validated against the Compose Specification schema and the files are
read for the properties the gateway relies on.

data/compose_spec.json: Apache-2.0, from the compose-spec project via Debian docker-compose 1.29.2.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from jsonschema import Draft7Validator

from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
STORES = ("postgres", "mongo", "redis", "rabbitmq")
GATEWAYS = ("gateway-1", "gateway-2")
APP_SERVICES = ("migrate", *GATEWAYS, "worker")
# env var -> (URL scheme, compose service it must point at, port)
STORE_URLS = {
    "HIREGRAPH_POSTGRES_URL": ("postgresql+asyncpg", "postgres", 5432),
    "HIREGRAPH_MONGO_URL": ("mongodb", "mongo", 27017),
    "HIREGRAPH_REDIS_URL": ("redis", "redis", 6379),
    "HIREGRAPH_BROKER_URL": ("amqp", "rabbitmq", 5672),
}
HEALTHY = {"condition": "service_healthy"}

Compose = dict[str, Any]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads((ROOT / "tests/data/compose_spec.json").read_text())


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft7Validator:
    return Draft7Validator(schema)


@pytest.fixture
def compose() -> Compose:
    """A fresh parse per test, so a test may mutate it."""
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _interpolate(value: str) -> str:
    """What compose makes of a value when no variable is set: `${VAR:-default}` -> default."""
    resolved = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)
    assert "$" not in resolved, f"unhandled interpolation in {value!r}"
    return resolved


def _environment(compose: Compose, service: str) -> dict[str, str]:
    env = compose["services"][service].get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: _interpolate(str(value)) for key, value in env.items()}


# ---------------------------------------------------------------- the schema itself


def test_schema_is_the_compose_spec_and_knows_what_we_use(schema: dict[str, Any]) -> None:
    Draft7Validator.check_schema(schema)
    assert schema["$schema"].startswith("http://json-schema.org/")
    assert schema["id"] == "compose_spec.json"
    depends_on = schema["definitions"]["service"]["properties"]["depends_on"]["oneOf"][1]
    condition = depends_on["patternProperties"]["^[a-zA-Z0-9._-]+$"]["properties"]["condition"]
    assert "service_completed_successfully" in condition["enum"]
    healthcheck = schema["definitions"]["healthcheck"]["properties"]
    assert {"test", "interval", "timeout", "retries", "start_period", "disable"} <= set(healthcheck)


# ---------------------------------------------------------------- docker-compose.yml


def test_compose_file_matches_the_compose_spec(
    compose: Compose, validator: Draft7Validator
) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []
    assert "version" not in compose  # the modern spec infers it


def _unknown_service_key(c: Compose) -> None:
    c["services"]["gateway-1"]["restart_policy"] = "always"


def _unknown_condition(c: Compose) -> None:
    c["services"]["gateway-1"]["depends_on"]["migrate"]["condition"] = "service_finished"


def _unknown_healthcheck_key(c: Compose) -> None:
    c["services"]["postgres"]["healthcheck"]["command"] = "pg_isready"


def _unknown_top_level_key(c: Compose) -> None:
    c["service"] = c.pop("services")


def _ports_not_a_list(c: Compose) -> None:
    c["services"]["lb"]["ports"] = {"8000": 8080}


@pytest.mark.parametrize(
    "breakage",
    [
        _unknown_service_key,
        _unknown_condition,
        _unknown_healthcheck_key,
        _unknown_top_level_key,
        _ports_not_a_list,
    ],
)
def test_schema_rejects_a_broken_compose_file(
    compose: Compose, validator: Draft7Validator, breakage: Callable[[Compose], None]
) -> None:
    """Guards against a vacuous validation (a schema that accepts anything)."""
    broken = copy.deepcopy(compose)
    breakage(broken)
    assert list(validator.iter_errors(broken)) != []


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_are_wired_to_every_store_in_prod(compose: Compose, service: str) -> None:
    env = _environment(compose, service)
    assert env["HIREGRAPH_ENV"] == "prod"
    assert env["HIREGRAPH_MONGO_DB"]
    for var, (scheme, host, port) in STORE_URLS.items():
        url = urlsplit(env[var])
        assert (url.scheme, url.hostname, url.port) == (scheme, host, port), var
        assert host in compose["services"]


def test_store_credentials_match_the_stores(compose: Compose) -> None:
    env = _environment(compose, "migrate")
    assert _environment(compose, "worker") == env
    for gateway in GATEWAYS:
        # Only uvicorn's proxy trust differs: the gateways sit behind nginx.
        assert _environment(compose, gateway) == {**env, "FORWARDED_ALLOW_IPS": "*"}
    pg, pg_env = urlsplit(env["HIREGRAPH_POSTGRES_URL"]), _environment(compose, "postgres")
    assert (pg.username, pg.password, pg.path) == (
        pg_env["POSTGRES_USER"],
        pg_env["POSTGRES_PASSWORD"],
        "/" + pg_env["POSTGRES_DB"],
    )
    amqp, mq_env = urlsplit(env["HIREGRAPH_BROKER_URL"]), _environment(compose, "rabbitmq")
    assert (amqp.username, amqp.password) == (
        mq_env["RABBITMQ_DEFAULT_USER"],
        mq_env["RABBITMQ_DEFAULT_PASS"],
    )
    assert amqp.username != "guest"  # RabbitMQ's guest may only log in from localhost


def test_compose_environment_is_accepted_by_settings(
    compose: Compose, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in [v for v in os.environ if v.startswith("HIREGRAPH_")]:
        monkeypatch.delenv(var)
    env = _environment(compose, "gateway-1")
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    settings = Settings()
    assert settings.env == "prod"
    assert settings.embedded_stores == ()
    assert settings.broker_url == env["HIREGRAPH_BROKER_URL"]
    assert settings.mongo_db == env["HIREGRAPH_MONGO_DB"]


def test_start_order_waits_for_healthy_stores_and_finished_migrations(compose: Compose) -> None:
    services = compose["services"]
    stores_healthy = dict.fromkeys(STORES, HEALTHY)
    assert services["migrate"]["depends_on"] == stores_healthy
    for name in (*GATEWAYS, "worker"):
        assert services[name]["depends_on"] == {
            **stores_healthy,
            "migrate": {"condition": "service_completed_successfully"},
        }, name
    for name, service in services.items():
        for dep, how in service.get("depends_on", {}).items():
            if how == HEALTHY:
                check = services[dep].get("healthcheck", {})
                assert check.get("test"), f"{name} waits on {dep}, which has no healthcheck"
                assert not check.get("disable"), f"{name} waits on {dep}, whose check is off"


def test_stores_use_the_expected_images_and_named_volumes(compose: Compose) -> None:
    services = compose["services"]
    images = {name: services[name]["image"] for name in STORES}
    assert images == {
        "postgres": "postgres:17",
        "mongo": "mongo:8",
        "redis": "redis:7",
        "rabbitmq": "rabbitmq:4-management",
    }
    assert "mongosh" in services["mongo"]["healthcheck"]["test"]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    for name in ("postgres", "mongo"):
        assert services[name]["volumes"], name
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/", "~")):
                assert source in compose["volumes"], f"{name}: undeclared volume {source}"


def test_only_the_load_balancer_is_published_beyond_loopback(compose: Compose) -> None:
    for name, service in compose["services"].items():
        ports = [str(port) for port in service.get("ports", [])]
        if name == "lb":
            assert ports == ["8000:8080"]
        else:
            assert all(port.startswith("127.0.0.1:") for port in ports), name


def test_app_services_run_the_built_image(compose: Compose) -> None:
    migrate, *gateways, worker = (compose["services"][name] for name in APP_SERVICES)
    for service in (migrate, *gateways, worker):
        assert (service["build"], service["image"]) == (".", migrate["image"])
    assert migrate["command"] == ["migrate"]
    assert migrate["healthcheck"] == {"disable": True}  # a one-shot serves no /healthz
    assert worker["command"] == ["worker"]
    for gateway in gateways:
        assert gateway["command"][0] == "serve"
        assert "/healthz" in " ".join(gateway["healthcheck"]["test"])


# ---------------------------------------------------------------- Dockerfile


def _instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction; continuations joined, comments dropped."""
    instructions, pending = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        pending = ""
    return instructions


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return _instructions((ROOT / "Dockerfile").read_text())


@pytest.fixture(scope="module")
def final_stage(dockerfile: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(dockerfile) if keyword == "FROM")
    return dockerfile[last_from:]


def _args(instructions: list[tuple[str, str]], keyword: str) -> list[str]:
    return [args for kw, args in instructions if kw == keyword]


def test_dockerfile_is_multi_stage_on_a_slim_python(dockerfile: list[tuple[str, str]]) -> None:
    froms = _args(dockerfile, "FROM")
    assert len(froms) >= 2
    build_args = dict(a.split("=", 1) for a in _args(dockerfile, "ARG") if "=" in a)
    base = re.sub(r"\$\{(\w+)\}", lambda m: build_args[m.group(1)], froms[-1].split()[0])
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", base), base


def test_final_stage_is_the_app_only_run_as_non_root(final_stage: list[tuple[str, str]]) -> None:
    copies = _args(final_stage, "COPY") + _args(final_stage, "ADD")
    assert copies, "the runtime stage copies the built app"
    assert all(c.startswith("--from=builder ") and c.split()[-1] == "/app" for c in copies)
    users = _args(final_stage, "USER")
    assert users
    assert users[-1].split(":")[0] not in {"root", "0"}
    env = " ".join(_args(final_stage, "ENV"))
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "PYTHONUNBUFFERED=1" in env


def test_healthcheck_probes_healthz_with_urllib(final_stage: list[tuple[str, str]]) -> None:
    (healthcheck,) = _args(final_stage, "HEALTHCHECK")
    assert "CMD" in healthcheck.split()
    assert "urllib.request" in healthcheck
    assert ":8000/healthz" in healthcheck
    assert "curl" not in healthcheck  # python:*-slim ships none


def test_entrypoint_cmd_and_port(final_stage: list[tuple[str, str]]) -> None:
    assert [json.loads(e) for e in _args(final_stage, "ENTRYPOINT")] == [["hiregraph"]]
    assert [json.loads(c) for c in _args(final_stage, "CMD")] == [
        ["serve", "--host", "0.0.0.0", "--port", "8000"]
    ]
    assert "8000" in " ".join(_args(final_stage, "EXPOSE")).split()


def test_uv_sync_installs_locked_runtime_deps_only(dockerfile: list[tuple[str, str]]) -> None:
    syncs = [shlex.split(r) for r in _args(dockerfile, "RUN") if "uv sync" in r]
    assert len(syncs) == 2  # dependencies layer, then the project
    for tokens in syncs:
        flags = set(tokens[tokens.index("sync") :])
        assert {"--frozen", "--no-dev"} <= flags
        assert not flags & {"--extra", "--all-extras", "--dev", "--group", "--all-groups"}
    assert "--no-install-project" in syncs[0]
    assert not any("embedded" in args for _, args in dockerfile)


def test_uv_binary_is_pinned(dockerfile: list[tuple[str, str]]) -> None:
    sources = [c for c in _args(dockerfile, "COPY") if "astral-sh/uv" in c]
    assert len(sources) == 1
    assert re.search(r"--from=ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+ ", sources[0]), sources[0]


# ---------------------------------------------------------------- .dockerignore


def _dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _ignored(path: str, patterns: list[str]) -> bool:
    """Rough .dockerignore semantics: later lines win, `!` re-includes, dirs cover contents.

    fnmatch's `*` also crosses `/`, so this errs towards "ignored", the safe side for
    asserting that a file reaches the build context.
    """
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        glob = pattern.lstrip("!").strip("/").removeprefix("**/")
        if any(fnmatch.fnmatch(p, glob) or fnmatch.fnmatch(p, "*/" + glob) for p in prefixes):
            ignored = not negate
    return ignored


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        ".git/HEAD",
        ".hiregraph/pg/PG_VERSION",
        "tests/unit/test_x.py",
        "bench/results/run.json",
        "gateway/__pycache__/app.cpython-311.pyc",
        ".env",
        ".pytest_cache/README.md",
        ".mypy_cache/3.11/x.json",
    ],
)
def test_dockerignore_keeps_local_state_out(path: str) -> None:
    assert _ignored(path, _dockerignore())


@pytest.mark.parametrize(
    "path",
    [
        "pyproject.toml",
        "uv.lock",
        "README.md",
        "gateway/cli.py",
        "schema/query.py",
        "resolvers/loaders.py",
        "domain/records.py",
        "datasources/postgres/migrations/env.py",
        "datasources/postgres/migrations/script.py.mako",
    ],
)
def test_dockerignore_keeps_what_the_build_needs(path: str) -> None:
    assert not _ignored(path, _dockerignore())

""".github/workflows/ci.yml mirrors .ci/run: the same make targets, the same uv, the same
stores. GitHub Actions cannot run here, so the file is read for what it promises."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    return loaded


def _runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def test_the_workflow_runs_what_ci_run_runs(workflow: dict[str, Any]) -> None:
    ci_run = (ROOT / ".ci/run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    jobs = workflow["jobs"]
    assert set(jobs) == {"lint", "test", "image"}
    for target in ("lint typecheck", "test"):
        assert f"make {target}\n" in ci_run
    assert "make lint typecheck" in _runs(jobs["lint"])
    assert "make test" in _runs(jobs["test"])
    for job in ("lint", "test"):
        assert "uv sync --frozen --extra embedded" in _runs(jobs[job])
    for target in ("lint", "typecheck", "test"):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), target


def test_uv_and_python_match_the_image(workflow: dict[str, Any]) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    (uv,) = re.findall(r"ghcr\.io/astral-sh/uv:(\d+\.\d+\.\d+)", dockerfile)
    (python,) = re.findall(r"ARG PYTHON_IMAGE=python:(\d+\.\d+)-slim", dockerfile)
    assert workflow["env"] == {"UV_VERSION": uv, "PYTHON_VERSION": python}


def test_tests_run_against_services_and_embedded_stores(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["test"]
    assert {"services", "embedded"} <= set(job["strategy"]["matrix"]["stores"])
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name in ("postgres", "redis"):
        assert job["services"][name]["image"] == compose[name]["image"]
    amqp = job["env"]["HIREGRAPH_TEST_AMQP_URL"]
    rabbit = job["services"]["rabbitmq"]["env"]
    assert f"{rabbit['RABBITMQ_DEFAULT_USER']}:{rabbit['RABBITMQ_DEFAULT_PASS']}@" in amqp
    steps = " ".join(_runs(job))
    assert "nats:2 -js" in steps  # the JetStream tests need it
    assert "--replSet rs0" in steps
    assert "HIREGRAPH_TEST_POSTGRES_URL=" in steps
    assert "HIREGRAPH_TEST_REDIS_URL=" in steps


def test_the_image_job_builds_the_dockerfile(workflow: dict[str, Any]) -> None:
    steps = workflow["jobs"]["image"]["steps"]
    (build,) = [s for s in steps if s.get("uses", "").startswith("docker/build-push-action")]
    assert build["with"]["context"] == "."
    assert build["with"]["push"] is False

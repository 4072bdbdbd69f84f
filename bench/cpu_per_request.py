"""CPU seconds the gateway worker (and PostgreSQL) spend per job-board request under load.

    uv run --extra embedded python bench/cpu_per_request.py [--duration 10]
        [--variant hiregraph --variant "response cache" ...]

Starts each variant as in job_board.py, drives it with wrk, and reads the worker's and
the PostgreSQL backends' CPU time from /proc before and after. Unlike req/s on this
2-core machine, where wrk itself takes a large share of the CPU when the gateway is
fast, CPU per request compares what the gateway itself spends.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import job_board  # noqa: E402


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu() -> float:
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += cpu_seconds(int(entry.name))
            except OSError:
                continue
    return total


def listener_pid(port: str) -> int:
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True)
    return int(out.stdout.split("pid=")[1].split(",")[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT / ".hiregraph-bench"))
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--variant", action="append", choices=list(job_board.VARIANTS))
    args = parser.parse_args()
    args.pg_url = args.mongo_url = args.redis_url = None
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"query": job_board.QUERY}, f)
    names = args.variant or ["hiregraph"]
    with job_board.stores(args) as env:
        for name in names:
            with job_board.server(job_board.VARIANTS[name], env) as url:
                measure(name, url, f.name, args)


def measure(name: str, url: str, body_file: str, args: argparse.Namespace) -> None:
    pid = listener_pid(url.split(":")[2].split("/")[0])
    job_board.check(url)
    job_board.wrk(url, body_file, 3, args.connections)  # warm-up
    gateway0, postgres0, started = cpu_seconds(pid), postgres_cpu(), time.monotonic()
    result = job_board.wrk(url, body_file, args.duration, args.connections)
    elapsed = time.monotonic() - started
    requests = result["rps"] * elapsed
    gateway = (cpu_seconds(pid) - gateway0) / requests * 1000
    postgres = (postgres_cpu() - postgres0) / requests * 1000
    share = gateway * result["rps"] / 10  # ms/request x requests/s / 1000 ms, in percent
    print(f"{name}: {result['rps']:.1f} req/s; gateway worker {gateway:.3f} ms CPU/request "
          f"({share:.0f}% of a core); PostgreSQL {postgres:.3f} ms CPU/request")  # fmt: skip


if __name__ == "__main__":
    main()

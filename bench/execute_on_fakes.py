"""Pure execution cost of the job board: the schema over in-memory fakes, no I/O, no HTTP.

    uv run python bench/execute_on_fakes.py [--repeat 300]

Prints the mean time per operation for growing selections of the job-board query, so
the cost of GraphQL execution and of each edge shows without the stores' noise.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.viewer import Role, Viewer
from resolvers.context import Context
from schema import build_schema
from tests import factories as f

SALARY = "salary { min { amount currency } max { amount currency } }"
SELECTIONS = {
    "title": "title",
    "+ location, salary": f"title location {SALARY}",
    "+ company": f"title location {SALARY} company {{ name industry }}",
    "full job board": f"title location {SALARY} company {{ name industry }} "
    "applications { totalCount }",
}

ADMIN = Viewer(Role.ADMIN, user_id="bench")  # sees every applicant count, as the naive app


async def main(repeat: int) -> None:
    companies = [f.company(i) for i in range(1, 30)]
    jobs = [f.job(i, company_id=1 + i % 29) for i in range(1, 61)]
    datasources, _ = f.fake_datasources(companies, jobs)
    schema = build_schema()
    for name, selection in SELECTIONS.items():
        query = f"{{ jobs(first: 50) {{ edges {{ node {{ {selection} }} }} }} }}"
        for _ in range(30):
            result = await schema.execute(query, context_value=Context(datasources, viewer=ADMIN))
            assert result.errors is None, result.errors
        started = time.perf_counter()
        for _ in range(repeat):
            await schema.execute(query, context_value=Context(datasources, viewer=ADMIN))
        print(f"{name:20} {(time.perf_counter() - started) / repeat * 1000:.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300)
    asyncio.run(main(parser.parse_args().repeat))

"""Liveness and readiness.

/healthz: the process answers. /readyz: every store answers a ping within the
readiness timeout. Only PostgreSQL is required (503 when it is down): without it no
job, company or application can be read, and every pod of the deployment shares the
fault, so taking this one out of rotation is right. MongoDB down costs candidate
fields only (null with UPSTREAM_*, the job board is untouched) and Redis is a cache:
either reports `degraded`, with the store named in `degraded`, and 200, so the pod
keeps serving what it can. `breakers` shows each store's circuit breaker.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from datasources.ports import Probe

REQUIRED = frozenset({"postgres"})

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _check(probe: Probe, limit_s: float) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), limit_s)
    except TimeoutError:
        return {"status": "down", "error": f"no answer within {limit_s:g}s"}
    except Exception as exc:  # any failure of a ping means "down"
        return {"status": "down", "error": type(exc).__name__}
    return {"status": "up", "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    probes: dict[str, Probe] = dict(request.app.state.datasources.probes)
    timeout: float = request.app.state.settings.readiness_timeout
    results = await asyncio.gather(*(_check(p, timeout) for p in probes.values()))
    stores = dict(zip(probes, results, strict=True))
    down = {name for name, r in stores.items() if r["status"] != "up"}
    if down & REQUIRED:
        status, code = "unavailable", 503
    elif down:
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    body: dict[str, Any] = {"status": status, "stores": stores}
    if down:
        body["degraded"] = sorted(down)
    resilience = getattr(request.app.state, "resilience", None)
    if resilience is not None:
        body["breakers"] = {s: b.name.lower() for s, b in resilience.breakers().items()}
    return JSONResponse(body, status_code=code)

"""node(id) / nodes(ids): global IDs of any type, loaded through the type's DataLoader."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from domain.errors import InvalidInput
from resolvers.context import Context
from schema.ids import parse_global_id
from schema.types.application import ApplicationType
from schema.types.candidate import CandidateType
from schema.types.company import CompanyType
from schema.types.job import JobType


def _int(key: str) -> int | None:
    return int(key) if key.isdigit() and len(key) <= 18 else None


async def _company(ctx: Context, key: str) -> Any:
    pk = _int(key)
    record = await ctx.loaders.company.load(pk) if pk is not None else None
    return CompanyType.from_record(record) if record else None


async def _job(ctx: Context, key: str) -> Any:
    pk = _int(key)
    record = await ctx.loaders.job.load(pk) if pk is not None else None
    return JobType.from_record(record) if record else None


async def _application(ctx: Context, key: str) -> Any:
    pk = _int(key)
    record = await ctx.loaders.application.load(pk) if pk is not None else None
    return ApplicationType.from_record(record) if record else None


async def _candidate(ctx: Context, key: str) -> Any:
    record = await ctx.loaders.candidate.load(key)
    return CandidateType.from_record(record) if record else None


_BY_TYPE: dict[str, Callable[[Context, str], Awaitable[Any]]] = {
    "Company": _company,
    "Job": _job,
    "Application": _application,
    "Candidate": _candidate,
}


async def load_nodes(ctx: Context, ids: Sequence[str]) -> list[Any]:
    """One object (or None) per ID, in order; each type's keys go out as one batch."""
    lookups = []
    for gid in ids:
        type_name, key = parse_global_id(gid)
        loader = _BY_TYPE.get(type_name)
        if loader is None:
            raise InvalidInput(f"unknown node type in id {gid!r}")
        lookups.append(loader(ctx, key))
    return list(await asyncio.gather(*lookups))

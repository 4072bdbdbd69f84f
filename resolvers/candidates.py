"""Candidate profile reads (MongoDB)."""

from __future__ import annotations

from domain.records import Candidate
from resolvers.context import Context


async def candidate_by_id(ctx: Context, candidate_id: str) -> Candidate | None:
    return await ctx.loaders.candidate.load(candidate_id)

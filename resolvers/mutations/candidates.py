"""Candidate profile use cases: create (ADMIN) and patch (ADMIN or the candidate)."""

from __future__ import annotations

from domain import write_policy
from domain.commands import NewCandidate, ProfilePatch
from domain.records import Candidate
from resolvers.context import Context
from resolvers.mutations.common import actor, configured, invalidate, remember, require


async def create_candidate(ctx: Context, new: NewCandidate) -> Candidate:
    """A profile at version 1; CONFLICT when the email is taken."""
    require(write_policy.can_create_candidate(ctx.viewer), "only an admin may create profiles")
    writer = configured(ctx.datasources.candidate_writer, "mongo")
    candidate = await writer.create(new, actor(ctx.viewer))
    return await _written(ctx, candidate)


async def update_candidate_profile(
    ctx: Context, candidate_id: str, patch: ProfilePatch, expected_version: int | None
) -> Candidate:
    """The patched profile; NOT_FOUND, or CONFLICT when `expected_version` is stale."""
    require(
        write_policy.can_update_profile(ctx.viewer, candidate_id),
        "only an admin or the candidate may update a profile",
    )
    writer = configured(ctx.datasources.candidate_writer, "mongo")
    candidate = await writer.update_profile(
        candidate_id, patch, expected_version, actor(ctx.viewer)
    )
    return await _written(ctx, candidate)


async def _written(ctx: Context, candidate: Candidate) -> Candidate:
    remember(ctx.loaders.candidate, candidate.id, candidate)
    ctx.loaders.forget("matching_jobs", "matching_candidates")
    await invalidate(ctx.datasources, [("Candidate", [candidate.id])])
    return candidate

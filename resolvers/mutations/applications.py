"""Application use cases: apply to a job, and move an application along the pipeline."""

from __future__ import annotations

import asyncio

from domain import write_policy
from domain.enums import ApplicationStatus, JobStatus
from domain.errors import Conflict, NotFound
from domain.records import Application, Job
from resolvers.context import Context
from resolvers.mutations.common import actor, configured, invalidate, remember, require


async def apply_to_job(ctx: Context, job_id: int, candidate_id: str, source: str) -> Application:
    """A new APPLIED application. NOT_FOUND (candidate or job), CONFLICT (the job is not
    open), ALREADY_APPLIED (one application per candidate and job)."""
    require(
        write_policy.can_apply(ctx.viewer, candidate_id),
        "only an admin or the candidate themselves may apply",
    )
    writer = configured(ctx.datasources.application_writer, "postgres")
    # The profile is in Mongo and the job in Postgres: both checked before the write,
    # concurrently (each loader's batch is one round trip).
    candidate, job = await asyncio.gather(
        ctx.loaders.candidate.load(candidate_id), _job_to_apply_to(ctx, job_id)
    )
    if candidate is None:
        raise NotFound(f"no candidate {candidate_id}")
    if job is None:
        raise NotFound(f"no job {job_id}")
    if job.status is not JobStatus.OPEN:
        raise Conflict(f"job {job_id} is not open for applications")
    application = await writer.apply(job_id, candidate_id, source, actor(ctx.viewer))
    return await _written(ctx, application)


async def _job_to_apply_to(ctx: Context, job_id: int) -> Job | None:
    """The job as the viewer sees it or, if they cannot, a CLOSED job: a candidate sees
    open jobs only, but one who applies to a job that has just closed must learn that
    it closed (CONFLICT), not that it never existed. A draft stays NOT_FOUND."""
    job = await ctx.loaders.job.load(job_id)
    if job is not None:
        return job
    (found,) = await ctx.datasources.jobs.get_many([job_id])
    return found if found is not None and found.status is JobStatus.CLOSED else None


async def advance_application(
    ctx: Context, application_id: int, to: ApplicationStatus, note: str | None
) -> Application:
    """The application moved to `to`. NOT_FOUND (including an application the viewer
    may not see), INVALID_TRANSITION with the allowed moves."""
    writer = configured(ctx.datasources.application_writer, "postgres")
    application = await ctx.loaders.application.load(application_id)
    if application is None:
        raise NotFound(f"no application {application_id}")
    job = await ctx.loaders.job.load(application.job_id)
    require(
        write_policy.can_advance(
            ctx.viewer, application, job.company_id if job is not None else None, to
        ),
        "only an admin or a recruiter of the job's company may move an application; "
        "the candidate may only withdraw it",
    )
    moved = await writer.advance(application_id, to, note, actor(ctx.viewer))
    return await _written(ctx, moved)


async def _written(ctx: Context, application: Application) -> Application:
    loaders = ctx.loaders
    remember(loaders.application, application.id, application)
    loaders.history.clear(application.id)
    # Lists and counts of applications, and what recruiters may see of applicants.
    loaders.forget(
        "applications_of_job",
        "applications_of_candidate",
        "application_count_of_job",
        "application_count_of_candidate",
        "applied_to",
        "personal",
    )
    changes = [("Application", [application.id]), ("Job", [application.job_id])]
    await invalidate(ctx.datasources, changes)
    return application

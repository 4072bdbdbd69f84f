"""Job use cases: post, update, publish, close; an admin's or the company's recruiter's.

An existing job is loaded through the viewer's job loader first, to learn its company:
a job the viewer may not see is NOT_FOUND (as for reads), one they see but do not
manage is FORBIDDEN.
"""

from __future__ import annotations

from domain import write_policy
from domain.commands import Changes, NewJob
from domain.errors import NotFound
from domain.records import Job
from resolvers.context import Context
from resolvers.mutations.common import actor, configured, invalidate, remember, require

_MANAGE = "only an admin or a recruiter of the job's company may change its jobs"


async def post_job(ctx: Context, new: NewJob) -> Job:
    """A DRAFT job (OPEN when `new.publish`); NOT_FOUND when the company does not exist."""
    require(write_policy.can_manage_jobs(ctx.viewer, new.company_id), _MANAGE)
    writer = configured(ctx.datasources.job_writer, "postgres")
    job = await writer.post(new, actor(ctx.viewer))
    return await _written(ctx, job)


async def update_job(ctx: Context, job_id: int, changes: Changes) -> Job:
    """CONFLICT when the job is closed."""
    writer = configured(ctx.datasources.job_writer, "postgres")
    await _managed(ctx, job_id)
    return await _written(ctx, await writer.update(job_id, changes, actor(ctx.viewer)))


async def publish_job(ctx: Context, job_id: int) -> Job:
    """DRAFT -> OPEN; CONFLICT unless the job is a draft."""
    writer = configured(ctx.datasources.job_writer, "postgres")
    await _managed(ctx, job_id)
    return await _written(ctx, await writer.publish(job_id, actor(ctx.viewer)))


async def close_job(ctx: Context, job_id: int) -> Job:
    """DRAFT or OPEN -> CLOSED; CONFLICT when already closed."""
    writer = configured(ctx.datasources.job_writer, "postgres")
    await _managed(ctx, job_id)
    return await _written(ctx, await writer.close(job_id, actor(ctx.viewer)))


async def _managed(ctx: Context, job_id: int) -> Job:
    job = await ctx.loaders.job.load(job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    require(write_policy.can_manage_jobs(ctx.viewer, job.company_id), _MANAGE)
    return job


async def _written(ctx: Context, job: Job) -> Job:
    remember(ctx.loaders.job, job.id, job)
    # A company's job lists and the matches depend on the jobs' fields and statuses.
    ctx.loaders.forget("jobs_of_company", "matching_jobs", "matching_candidates")
    await invalidate(ctx.datasources, [("Job", [job.id])])
    return job

"""Company use cases: create (ADMIN) and update (ADMIN, or a recruiter of the company)."""

from __future__ import annotations

from domain import write_policy
from domain.commands import Changes, NewCompany
from domain.records import Company
from resolvers.context import Context
from resolvers.mutations.common import actor, configured, invalidate, remember, require


async def create_company(ctx: Context, new: NewCompany) -> Company:
    """A new company; CONFLICT when the slug is taken."""
    require(write_policy.can_create_company(ctx.viewer), "only an admin may create companies")
    writer = configured(ctx.datasources.company_writer, "postgres")
    company = await writer.create(new, actor(ctx.viewer))
    await _written(ctx, company)
    return company


async def update_company(ctx: Context, company_id: int, changes: Changes) -> Company:
    """The company with `changes` applied; NOT_FOUND when it does not exist."""
    require(
        write_policy.can_update_company(ctx.viewer, company_id),
        "only an admin or a recruiter of the company may update it",
    )
    writer = configured(ctx.datasources.company_writer, "postgres")
    company = await writer.update(company_id, changes, actor(ctx.viewer))
    await _written(ctx, company)
    return company


async def _written(ctx: Context, company: Company) -> None:
    remember(ctx.loaders.company, company.id, company)
    remember(ctx.loaders.company_by_slug, company.slug, company)
    await invalidate(ctx.datasources, [("Company", [company.id])])

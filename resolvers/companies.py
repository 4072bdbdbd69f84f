"""Company reads."""

from __future__ import annotations

from domain.records import Company
from resolvers.context import Context


async def company_by_slug(ctx: Context, slug: str) -> Company | None:
    return await ctx.loaders.company_by_slug.load(slug)

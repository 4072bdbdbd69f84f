"""PostgreSQL company reads."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, func, select, true

from datasources.postgres.keyset import Keyset
from datasources.postgres.reader import PgReader
from datasources.postgres.rows import company_from_row
from datasources.postgres.tables import companies
from domain.queries import (
    CompanyFilter,
    CompanyOrder,
    CompanyOrderField,
    Direction,
    Page,
    PageRequest,
)
from domain.records import Company

_BY_IDS = "SELECT * FROM companies WHERE id = ANY($1::bigint[])"
_BY_SLUGS = "SELECT * FROM companies WHERE slug = ANY($1::text[])"


def _conditions(f: CompanyFilter) -> ColumnElement[bool]:
    conds: list[ColumnElement[bool]] = []
    if f.search:
        # Substring match on the name; the pattern's wildcards in user input are escaped.
        needle = (
            f.search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        )
        conds.append(func.lower(companies.c.name).like(f"%{needle}%", escape="\\"))
    if f.industries is not None:
        conds.append(companies.c.industry.in_(list(f.industries)))
    return and_(true(), *conds)


def _keyset(order: CompanyOrder) -> Keyset:
    desc = order.direction is Direction.DESC
    first = companies.c.name if order.field is CompanyOrderField.NAME else companies.c.created_at
    return Keyset([first, companies.c.id], desc)


class PgCompanyRepository(PgReader):
    async def get_many(self, ids: Sequence[int]) -> list[Company | None]:
        rows = await self._fetch(_BY_IDS, list(ids))
        by_id = {r["id"]: company_from_row(r) for r in rows}
        return [by_id.get(i) for i in ids]

    async def get_many_by_slug(self, slugs: Sequence[str]) -> list[Company | None]:
        rows = await self._fetch(_BY_SLUGS, list(slugs))
        by_slug = {r["slug"]: company_from_row(r) for r in rows}
        return [by_slug.get(s) for s in slugs]

    async def search(
        self, f: CompanyFilter, order: CompanyOrder, page: PageRequest
    ) -> Page[Company]:
        ks = _keyset(order)
        keys = [e.label(f"k{i}") for i, e in enumerate(ks.exprs)]
        stmt = ks.apply(select(companies, *keys).where(_conditions(f)), page)
        rows = await self._rows(stmt)
        return ks.finish(
            [company_from_row(r) for r in rows], [(r["k0"], r["k1"]) for r in rows], page
        )

    async def count(self, f: CompanyFilter) -> int:
        stmt = select(func.count().label("n")).select_from(companies).where(_conditions(f))
        rows = await self._rows(stmt)
        return int(rows[0]["n"])

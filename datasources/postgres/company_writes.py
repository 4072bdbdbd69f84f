"""PostgreSQL company writes: one transaction each, with its event in the outbox."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from datasources.postgres.outbox import add_events
from datasources.postgres.rows import company_from_row
from datasources.postgres.tables import companies
from datasources.postgres.writes import maybe_row, one_row, translated
from domain.commands import Actor, Changes, NewCompany
from domain.errors import Conflict, NotFound
from domain.events import COMPANY_CREATED, COMPANY_UPDATED, DomainEvent
from domain.records import Company
from domain.validation import validate_company_changes, validate_new_company

# Record field -> column, where they differ.
_COLUMN = {"size": "size_band"}


def _columns(values: Mapping[str, Any]) -> dict[str, Any]:
    return {_COLUMN.get(name, name): value for name, value in values.items()}


def company_event(kind: str, company: Company, changed: Iterable[str], actor: Actor) -> DomainEvent:
    payload = {"company_id": company.id, "changed": sorted(changed), "by": actor.subject}
    return DomainEvent(kind, str(company.id), payload, occurred_at=company.updated_at)


class PgCompanyWriter:
    """`CompanyWriter` over the SQLAlchemy engine (transactions; reads use the pool)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, new: NewCompany, actor: Actor) -> Company:
        """CompanyCreated. Conflict when the slug is taken."""
        new = validate_new_company(new)
        values = _columns({f.name: getattr(new, f.name) for f in fields(new)})
        stmt = insert(companies).values(**values).returning(*companies.c)
        try:
            async with self._engine.begin() as conn:
                company = company_from_row(one_row(await conn.execute(stmt)))
                await add_events(conn, [company_event(COMPANY_CREATED, company, (), actor)])
        except IntegrityError as e:
            taken = Conflict(f"the slug {new.slug!r} is taken")
            raise translated(e, {"companies_slug_key": taken}) from None
        return company

    async def update(self, company_id: int, changes: Changes, actor: Actor) -> Company:
        """CompanyUpdated with the changed field names. An empty patch changes nothing
        and publishes nothing. NotFound."""
        changes = validate_company_changes(changes)
        if not changes.values:
            return await self._get(company_id)
        stmt = (
            update(companies)
            .where(companies.c.id == company_id)
            .values(**_columns(changes.values), updated_at=func.now())
            .returning(*companies.c)
        )
        try:
            async with self._engine.begin() as conn:
                row = maybe_row(await conn.execute(stmt))
                if row is None:
                    raise NotFound(f"company {company_id} not found")
                company = company_from_row(row)
                event = company_event(COMPANY_UPDATED, company, changes.values, actor)
                await add_events(conn, [event])
        except IntegrityError as e:
            raise translated(e) from None
        return company

    async def _get(self, company_id: int) -> Company:
        async with self._engine.connect() as conn:
            stmt = select(companies).where(companies.c.id == company_id)
            row = maybe_row(await conn.execute(stmt))
        if row is None:
            raise NotFound(f"company {company_id} not found")
        return company_from_row(row)

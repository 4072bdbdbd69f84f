"""Where each GraphQL field's value comes from, read straight off the domain records.

Compiled operations render records, not Strawberry objects. Most fields are an
attribute of the record with the field's Python name (the one the Strawberry type
declares), so that is the default. `OVERRIDES` lists the fields that differ: global IDs,
values assembled from several columns, and the edges, which are loaded per list.
A field that is neither keeps its operation on the Strawberry path, so an unknown field
can make an operation slower but never wrong; `tests/unit/test_compiled.py` checks that
every field of the schema is covered and renders exactly as Strawberry renders it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from domain.queries import Page
from domain.records import (
    Application,
    Candidate,
    Company,
    Education,
    Experience,
    Job,
    Link,
    Location,
    Money,
    Preferences,
    Skill,
    builder,
)
from resolvers.context import Context
from schema import edge_loads as loads
from schema.ids import encode_cursor, to_global_id


class EdgeSource:
    """One edge of a connection: the node, its sort key and the connection's cursor kind."""

    __slots__ = ("key", "kind", "node")

    def __init__(self, node: Any, key: tuple[object, ...], kind: str) -> None:
        self.node, self.key, self.kind = node, key, kind

    @property
    def cursor(self) -> str:
        return encode_cursor(self.kind, self.key)


class ConnSource:
    """A connection (and its PageInfo): one page and the cursor kind of its order."""

    __slots__ = ("kind", "page", "total_count")

    def __init__(self, page: Page[Any], kind: str) -> None:
        self.page, self.kind, self.total_count = page, kind, page.total

    @property
    def edges(self) -> list[EdgeSource]:
        kind = self.kind
        return [
            EdgeSource(n, k, kind) for n, k in zip(self.page.items, self.page.keys, strict=True)
        ]

    @property
    def page_info(self) -> ConnSource:
        return self

    # PageInfo; an empty first page has no cursors and no neighbours (as on Strawberry's path).
    def _empty(self) -> bool:
        return not self.page.items and not self.page.has_previous_page

    @property
    def has_next_page(self) -> bool:
        return False if self._empty() else self.page.has_next_page

    @property
    def has_previous_page(self) -> bool:
        return self.page.has_previous_page

    @property
    def start_cursor(self) -> str | None:
        keys = self.page.keys
        return encode_cursor(self.kind, keys[0]) if keys and not self._empty() else None

    @property
    def end_cursor(self) -> str | None:
        keys = self.page.keys
        return encode_cursor(self.kind, keys[-1]) if keys and not self._empty() else None


RECORD_TYPES = frozenset({"Job", "Company", "Application", "Candidate"})

# The Python class whose instances are the source values of each GraphQL object type.
TYPE_SOURCES: dict[str, type] = {
    "Job": Job,
    "Company": Company,
    "Application": Application,
    "Candidate": Candidate,
    "Skill": Skill,
    "Experience": Experience,
    "Education": Education,
    "Location": Location,
    "Link": Link,
    "Preferences": Preferences,
    "Money": Money,
    "SalaryRange": Job,  # assembled from the job's salary columns (see OVERRIDES)
    "PageInfo": ConnSource,
    **{f"{t}Connection": ConnSource for t in ("Job", "Company", "Candidate", "Application")},
    **{f"{t}Edge": EdgeSource for t in ("Job", "Company", "Candidate", "Application")},
}


@dataclass(frozen=True, slots=True)
class Call:
    """The value is `fn(record)`, which reads the record's `reads` (None: unknown)."""

    fn: Callable[[Any], Any]
    reads: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Attr:
    """The value is `record.<name>`."""

    name: str


# (ctx, coerced GraphQL arguments, parent keys, page selected, totalCount selected)
# -> one value per key, in key order.
EdgeLoad = Callable[[Context, Mapping[str, Any], list[Any], bool, bool], Awaitable[list[Any]]]


@dataclass(frozen=True, slots=True)
class Edge:
    """A field loaded once per list: the parent's `key` attribute keys the batch."""

    key: str
    shape: Literal["one", "list", "connection"]
    load: EdgeLoad
    # Reads whole jobs through the job loader, where a root page primes them: an operation
    # with such an edge reads its root jobs whole (no projection), so they can be primed.
    uses_job_loader: bool = False


async def _companies(ctx: Context, _: Any, keys: list[int], *__: bool) -> list[Any]:
    return await ctx.loaders.company.load_many(keys)


async def _jobs(ctx: Context, _: Any, keys: list[int], *__: bool) -> list[Any]:
    return await ctx.loaders.job.load_many(keys)


async def _candidates(ctx: Context, _: Any, keys: list[str], *__: bool) -> list[Any]:
    return await ctx.loaders.candidate.load_many(keys)


def _nested(
    load: Callable[..., Awaitable[tuple[Any, Any]]], kind: str
) -> Callable[..., Awaitable[list[ConnSource]]]:
    """A nested connection per parent, shaped as Strawberry's path shapes it."""

    async def connections(
        ctx: Context, raw: Mapping[str, Any], keys: Sequence[Any], page: bool, total: bool
    ) -> list[ConnSource]:
        pages, totals = await load(ctx, raw, keys, page, total)
        counts = totals if totals is not None else [None] * len(keys)
        if pages is None:
            return [ConnSource(Page([], total=t), kind) for t in counts]
        return [
            ConnSource(Page(p.items, p.keys, p.has_next_page, False, t), kind)
            for p, t in zip(pages, counts, strict=True)
        ]

    return connections


async def _job_applications(ctx: Context, raw: Any, keys: Any, page: bool, total: bool) -> Any:
    return await loads.applications(ctx, True, raw, keys, page, total)


async def _candidate_applications(
    ctx: Context, raw: Any, keys: Any, page: bool, total: bool
) -> Any:
    return await loads.applications(ctx, False, raw, keys, page, total)


async def _matching_candidates(ctx: Context, raw: Any, keys: Any, *_: bool) -> list[Any]:
    return await loads.matching_candidates(ctx, raw, keys)


async def _matching_jobs(ctx: Context, raw: Any, keys: Any, *_: bool) -> list[Any]:
    return await loads.matching_jobs(ctx, raw, keys)


def _global_id(type_name: str) -> Call:
    return Call(lambda record: to_global_id(type_name, record.id), ("id",))


_new_money = builder(Money)


def _money(amount: str) -> Call:
    def money(j: Job) -> Money | None:
        value, currency = getattr(j, amount), j.salary_currency
        return (
            None
            if value is None or currency is None
            else _new_money(amount=value, currency=currency)
        )

    return Call(money, (amount, "salary_currency"))


_APPLICATIONS_KIND = "applications:applied_at:desc"

# Personal fields need a per-viewer check that may fail with a FORBIDDEN error (see
# schema.types.candidate), so an operation selecting any of them runs on graphql-core.
# An application's history is read through the writer's port (ApplicationWriter.history),
# which the compiled programs do not know: it runs there too.
NOT_COMPILED = frozenset(
    {
        ("Candidate", "email"),
        ("Candidate", "phone"),
        ("Candidate", "attributes"),
        ("Preferences", "salaryExpectation"),
        ("Application", "history"),
    }
)

OVERRIDES: dict[tuple[str, str], Call | Attr | Edge] = {
    ("Job", "id"): _global_id("Job"),
    # The job itself is the SalaryRange's source: its fields read these three.
    ("Job", "salary"): Call(
        lambda j: None if j.salary_currency is None else j,
        ("salary_min", "salary_max", "salary_currency"),
    ),
    ("Job", "company"): Edge("company_id", "one", _companies),
    ("Job", "applications"): Edge(
        "id", "connection", _nested(_job_applications, _APPLICATIONS_KIND)
    ),
    ("Job", "matchingCandidates"): Edge("id", "list", _matching_candidates, True),
    ("SalaryRange", "min"): _money("salary_min"),
    ("SalaryRange", "max"): _money("salary_max"),
    ("SalaryRange", "currency"): Attr("salary_currency"),
    ("Company", "id"): _global_id("Company"),
    ("Company", "jobs"): Edge(
        "id", "connection", _nested(loads.company_jobs, "jobs:posted_at:desc")
    ),
    ("Application", "id"): _global_id("Application"),
    ("Application", "job"): Edge("job_id", "one", _jobs, True),
    ("Application", "candidate"): Edge("candidate_id", "one", _candidates),
    ("Candidate", "id"): _global_id("Candidate"),
    ("Candidate", "applications"): Edge(
        "id", "connection", _nested(_candidate_applications, _APPLICATIONS_KIND)
    ),
    ("Candidate", "matchingJobs"): Edge("id", "list", _matching_jobs),
}

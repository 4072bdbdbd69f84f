"""The naive N+1 variant of the job board, for comparison in the same benchmark run.

This is how a typical Strawberry + SQLAlchemy app resolves the page: every job's
`company` and `applications.totalCount` is its own async resolver and its own query.
Same data, same response shape, same repositories; only the resolution strategy differs.
"""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.queries import ApplicationFilter, JobFilter, JobOrder, PageRequest
from domain.records import Job
from resolvers.context import Context
from schema.operation import GatewayOperationWithRoundTrips

Info = strawberry.Info[Context, None]


@strawberry.type(name="Money")
class NaiveMoney:
    amount: int
    currency: str


@strawberry.type(name="SalaryRange")
class NaiveSalary:
    min: NaiveMoney | None
    max: NaiveMoney | None
    currency: str


@strawberry.type(name="Company")
class NaiveCompany:
    name: str
    industry: str


@strawberry.type(name="ApplicationConnection")
class NaiveApplications:
    job_id: strawberry.Private[int]

    @strawberry.field
    async def total_count(self, info: Info) -> int:
        counts = await info.context.datasources.applications.count_for_jobs(
            [self.job_id], ApplicationFilter()
        )
        return counts[self.job_id]


@strawberry.type(name="Job")
class NaiveJob:
    record: strawberry.Private[Job]

    @strawberry.field
    def title(self) -> str:
        return self.record.title

    @strawberry.field
    def location(self) -> str:
        return self.record.location

    @strawberry.field
    def salary(self) -> NaiveSalary | None:
        j = self.record
        if j.salary_currency is None:
            return None
        lo = NaiveMoney(amount=j.salary_min, currency=j.salary_currency) if j.salary_min else None
        hi = NaiveMoney(amount=j.salary_max, currency=j.salary_currency) if j.salary_max else None
        return NaiveSalary(min=lo, max=hi, currency=j.salary_currency)

    @strawberry.field
    async def company(self, info: Info) -> NaiveCompany | None:
        (c,) = await info.context.datasources.companies.get_many([self.record.company_id])
        return NaiveCompany(name=c.name, industry=c.industry) if c else None

    @strawberry.field
    def applications(self) -> NaiveApplications:
        return NaiveApplications(job_id=self.record.id)


@strawberry.type(name="JobEdge")
class NaiveEdge:
    node: NaiveJob


@strawberry.type(name="JobConnection")
class NaiveConnection:
    edges: list[NaiveEdge]


@strawberry.enum(name="JobOrderBy")
class NaiveOrder(Enum):
    POSTED_AT_DESC = "posted_at:desc"


@strawberry.type
class NaiveQuery:
    @strawberry.field
    async def jobs(
        self, info: Info, first: int = 20, order_by: NaiveOrder = NaiveOrder.POSTED_AT_DESC
    ) -> NaiveConnection:
        jobs = info.context.datasources.jobs
        page = await jobs.search(JobFilter(), JobOrder(), PageRequest(first))
        return NaiveConnection(edges=[NaiveEdge(node=NaiveJob(record=j)) for j in page.items])


def naive_schema() -> strawberry.Schema:
    return strawberry.Schema(query=NaiveQuery, extensions=[GatewayOperationWithRoundTrips])

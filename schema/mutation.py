"""The Mutation root: input -> domain command -> use case -> payload or typed error.

Each mutation takes one `input` and returns a union of its success payload and the
user errors it can produce (`schema.types.payloads`). The payload's nested selection
(`job { company { name } }`) is loaded by the edge expander through the request's
loaders, which the use case has refreshed with the record as written. A failure that
is not one of the union's members (a store that is down) stays a GraphQL error with
its code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar, get_args

import strawberry

from domain.commands import ValidationFailed
from domain.errors import HireGraphError
from resolvers import mutations as use
from schema import inputs_write as w
from schema import write_args as args
from schema.expand import expand
from schema.info import Info
from schema.types.payloads import (
    AlreadyAppliedError,
    ApplicationPayload,
    CandidatePayload,
    CompanyPayload,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    InvalidTransitionError,
    JobPayload,
    NotFoundError,
    user_error,
)
from schema.wants import wants_of

R = TypeVar("R")

CreateCompanyResult = Annotated[
    CompanyPayload | InvalidInputError | ConflictError | ForbiddenError,
    strawberry.union("CreateCompanyResult"),
]
UpdateCompanyResult = Annotated[
    CompanyPayload | InvalidInputError | NotFoundError | ForbiddenError,
    strawberry.union("UpdateCompanyResult"),
]
PostJobResult = Annotated[
    JobPayload | InvalidInputError | NotFoundError | ForbiddenError,
    strawberry.union("PostJobResult"),
]
_JobChange = JobPayload | InvalidInputError | NotFoundError | ConflictError | ForbiddenError
UpdateJobResult = Annotated[_JobChange, strawberry.union("UpdateJobResult")]
PublishJobResult = Annotated[_JobChange, strawberry.union("PublishJobResult")]
CloseJobResult = Annotated[_JobChange, strawberry.union("CloseJobResult")]
CreateCandidateResult = Annotated[
    CandidatePayload | InvalidInputError | ConflictError | ForbiddenError,
    strawberry.union("CreateCandidateResult"),
]
UpdateCandidateProfileResult = Annotated[
    CandidatePayload | InvalidInputError | NotFoundError | ConflictError | ForbiddenError,
    strawberry.union("UpdateCandidateProfileResult"),
]
ApplyToJobResult = Annotated[
    ApplicationPayload | InvalidInputError | NotFoundError | ConflictError | AlreadyAppliedError
    | ForbiddenError,
    strawberry.union("ApplyToJobResult"),
]  # fmt: skip
AdvanceApplicationResult = Annotated[
    ApplicationPayload | InvalidInputError | NotFoundError | InvalidTransitionError
    | ForbiddenError,
    strawberry.union("AdvanceApplicationResult"),
]  # fmt: skip


def _members(result: Any) -> tuple[type, ...]:
    union, _ = get_args(result)
    return get_args(union)


async def _run(
    info: Info,
    result: Any,
    write: Callable[[], Awaitable[R]],
    payload: Callable[[R], Any],
    field: str,
) -> Any:
    """Run one mutation: the written record as `payload`, with its selection loaded, or
    the union member for an expected failure (anything else propagates)."""
    try:
        record = await write()
    except (HireGraphError, ValidationFailed) as error:
        member = user_error(error)
        if member is None or not isinstance(member, _members(result)):
            raise
        return member
    out = payload(record)
    await expand(info.context, [getattr(out, field)], wants_of(info).child(field))
    return out


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a company (admins).")
    async def create_company(
        self, info: Info, input: w.CreateCompanyInput
    ) -> CreateCompanyResult | None:
        async def write() -> Any:
            return await use.create_company(info.context, args.new_company(input))

        out: CreateCompanyResult = await _run(
            info, CreateCompanyResult, write, CompanyPayload.from_record, "company"
        )
        return out

    @strawberry.mutation(description="Change a company's details (its recruiters, admins).")
    async def update_company(
        self, info: Info, input: w.UpdateCompanyInput
    ) -> UpdateCompanyResult | None:
        async def write() -> Any:
            return await use.update_company(info.context, *args.company_changes(input))

        out: UpdateCompanyResult = await _run(
            info, UpdateCompanyResult, write, CompanyPayload.from_record, "company"
        )
        return out

    @strawberry.mutation(description="Post a job: a draft, or open at once with `publish`.")
    async def post_job(self, info: Info, input: w.PostJobInput) -> PostJobResult | None:
        async def write() -> Any:
            return await use.post_job(info.context, args.new_job(input))

        out: PostJobResult = await _run(info, PostJobResult, write, JobPayload.from_record, "job")
        return out

    @strawberry.mutation(description="Change a job that is not closed.")
    async def update_job(self, info: Info, input: w.UpdateJobInput) -> UpdateJobResult | None:
        async def write() -> Any:
            return await use.update_job(info.context, *args.job_changes(input))

        out: UpdateJobResult = await _run(
            info, UpdateJobResult, write, JobPayload.from_record, "job"
        )
        return out

    @strawberry.mutation(description="Open a draft job.")
    async def publish_job(self, info: Info, input: w.PublishJobInput) -> PublishJobResult | None:
        async def write() -> Any:
            return await use.publish_job(info.context, args.job_id(input))

        out: PublishJobResult = await _run(
            info, PublishJobResult, write, JobPayload.from_record, "job"
        )
        return out

    @strawberry.mutation(description="Close a draft or open job.")
    async def close_job(self, info: Info, input: w.CloseJobInput) -> CloseJobResult | None:
        async def write() -> Any:
            return await use.close_job(info.context, args.job_id(input))

        out: CloseJobResult = await _run(info, CloseJobResult, write, JobPayload.from_record, "job")
        return out

    @strawberry.mutation(description="Create a candidate profile (admins).")
    async def create_candidate(
        self, info: Info, input: w.CreateCandidateInput
    ) -> CreateCandidateResult | None:
        async def write() -> Any:
            return await use.create_candidate(info.context, args.new_candidate(input))

        out: CreateCandidateResult = await _run(
            info, CreateCandidateResult, write, CandidatePayload.from_record, "candidate"
        )
        return out

    @strawberry.mutation(description="Patch a profile (the candidate, admins).")
    async def update_candidate_profile(
        self, info: Info, input: w.UpdateCandidateProfileInput
    ) -> UpdateCandidateProfileResult | None:
        async def write() -> Any:
            return await use.update_candidate_profile(info.context, *args.profile_patch(input))

        out: UpdateCandidateProfileResult = await _run(
            info, UpdateCandidateProfileResult, write, CandidatePayload.from_record, "candidate"
        )
        return out

    @strawberry.mutation(description="Apply to an open job (the candidate, admins).")
    async def apply_to_job(self, info: Info, input: w.ApplyToJobInput) -> ApplyToJobResult | None:
        async def write() -> Any:
            return await use.apply_to_job(info.context, *args.application(input))

        out: ApplyToJobResult = await _run(
            info, ApplyToJobResult, write, ApplicationPayload.from_record, "application"
        )
        return out

    @strawberry.mutation(
        description="Move an application along the pipeline (the job's recruiters, admins); "
        "the candidate may withdraw it."
    )
    async def advance_application(
        self, info: Info, input: w.AdvanceApplicationInput
    ) -> AdvanceApplicationResult | None:
        async def write() -> Any:
            return await use.advance_application(info.context, *args.move(input))

        out: AdvanceApplicationResult = await _run(
            info, AdvanceApplicationResult, write, ApplicationPayload.from_record, "application"
        )
        return out


__all__ = ["Mutation"]

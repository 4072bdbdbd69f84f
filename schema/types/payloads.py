"""Mutation results: a success payload, or a typed user error (a union member).

Expected failures are data, not GraphQL errors: each mutation's result is a union of
its payload and the errors it can produce, and every error implements `UserError`
with the stable `code` a client can switch on. `user_error` maps a domain error to its
member; anything else (a store that is down, a bug) stays a GraphQL error.
"""

from __future__ import annotations

from typing import Self

import strawberry

from domain import errors
from domain.commands import ValidationFailed
from domain.records import Application, Candidate, Company, Job
from schema.enums import ApplicationStatus
from schema.ids import to_global_id
from schema.types.application import ApplicationType
from schema.types.candidate import CandidateType
from schema.types.company import CompanyType
from schema.types.job import JobType


@strawberry.interface(description="An expected failure of a mutation, returned as data.")
class UserError:
    message: str
    code: str = strawberry.field(
        description="Stable: BAD_USER_INPUT, NOT_FOUND, CONFLICT, ALREADY_APPLIED, "
        "FORBIDDEN or INVALID_TRANSITION."
    )


@strawberry.type(description="One invalid input value.")
class FieldError:
    path: list[str] = strawberry.field(description='Where in the arguments: ["input", "email"].')
    message: str


@strawberry.type(name="InvalidInput")
class InvalidInputError(UserError):
    field_errors: list[FieldError]


@strawberry.type(name="NotFound")
class NotFoundError(UserError):
    pass


@strawberry.type(name="Conflict", description="The change conflicts with the current state.")
class ConflictError(UserError):
    pass


@strawberry.type(name="AlreadyApplied")
class AlreadyAppliedError(UserError):
    application_id: strawberry.ID | None = strawberry.field(
        description="The existing application, when known."
    )


@strawberry.type(name="Forbidden")
class ForbiddenError(UserError):
    pass


@strawberry.type(name="InvalidTransition")
class InvalidTransitionError(UserError):
    from_: ApplicationStatus = strawberry.field(name="from")
    allowed: list[ApplicationStatus] = strawberry.field(
        description="The statuses the application may move to now."
    )


def _status(value: str) -> ApplicationStatus:
    try:
        return ApplicationStatus(value)
    except ValueError:
        return ApplicationStatus[value.upper()]


def invalid_input(failure: ValidationFailed) -> InvalidInputError:
    return InvalidInputError(
        message=str(failure) or "invalid input",
        code=errors.InvalidInput.code,
        field_errors=[FieldError(path=list(e.path), message=e.message) for e in failure.errors],
    )


def user_error(error: Exception) -> UserError | None:
    """The union member for an expected failure; None for anything else."""
    if isinstance(error, ValidationFailed):
        return invalid_input(error)
    if not isinstance(error, errors.HireGraphError):
        return None
    message, code = error.message, error.code
    if isinstance(error, errors.InvalidInput):
        return InvalidInputError(message=message, code=code, field_errors=[])
    if isinstance(error, errors.AlreadyApplied):
        app_id = error.application_id
        gid = None if app_id is None else strawberry.ID(to_global_id("Application", app_id))
        return AlreadyAppliedError(message=message, code=code, application_id=gid)
    if isinstance(error, errors.InvalidTransition):
        allowed = [_status(s) for s in error.allowed]
        return InvalidTransitionError(
            message=message, code=code, from_=_status(error.current), allowed=allowed
        )
    for domain_error, member in _SIMPLE:
        if isinstance(error, domain_error):
            return member(message=message, code=code)
    return None


_SIMPLE: tuple[tuple[type[errors.HireGraphError], type[UserError]], ...] = (
    (errors.NotFound, NotFoundError),
    (errors.Conflict, ConflictError),
    (errors.Forbidden, ForbiddenError),
)


# -- success payloads ------------------------------------------------------------------------


@strawberry.type
class CompanyPayload:
    company: CompanyType

    @classmethod
    def from_record(cls, c: Company) -> Self:
        return cls(company=CompanyType.from_record(c))


@strawberry.type
class JobPayload:
    job: JobType

    @classmethod
    def from_record(cls, j: Job) -> Self:
        return cls(job=JobType.from_record(j))


@strawberry.type
class CandidatePayload:
    candidate: CandidateType

    @classmethod
    def from_record(cls, c: Candidate) -> Self:
        return cls(candidate=CandidateType.from_record(c))


@strawberry.type
class ApplicationPayload:
    application: ApplicationType

    @classmethod
    def from_record(cls, a: Application) -> Self:
        return cls(application=ApplicationType.from_record(a))

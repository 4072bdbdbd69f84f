"""Shared plumbing for the write adapters: result rows, and constraint violations as
what they mean for the caller.

Commands are validated before any I/O (domain.validation), but a patch is checked
against the row it merges into only by the database: a CHECK constraint that fails is
reported on the input field it guards, like any other validation failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, cast

from sqlalchemy import CursorResult
from sqlalchemy.exc import DBAPIError

from domain.commands import FieldError, ValidationFailed
from domain.validation import camel

UNIQUE_VIOLATION: Final = "23505"
FOREIGN_KEY_VIOLATION: Final = "23503"
CHECK_VIOLATION: Final = "23514"

# CHECK constraint -> (input field, message)
_CHECKS: Final = {
    "companies_slug_format": ("slug", "must be lower-case words joined by single hyphens"),
    "companies_founded_year_check": ("founded_year", "must be between 1800 and 2100"),
    "jobs_salary_range": ("salary_max", "must be at least salaryMin"),
    "jobs_salary_currency": ("salary_currency", "is required with a salary"),
    "jobs_salary_min_check": ("salary_min", "must not be negative"),
    "jobs_experience_range": ("experience_max", "must be at least experienceMin"),
    "jobs_experience_min_check": ("experience_min", "must not be negative"),
    "applications_candidate_id_check": ("candidate_id", "is not a candidate id"),
    "application_history_note_check": ("note", "is too long"),
}


def violation(exc: DBAPIError) -> tuple[str | None, str | None]:
    """(SQLSTATE, constraint name) of the driver error behind `exc`."""
    cause = getattr(exc.orig, "__cause__", None)
    return getattr(cause, "sqlstate", None), getattr(cause, "constraint_name", None)


def check_failure(exc: DBAPIError) -> ValidationFailed | None:
    """The validation failure a known CHECK violation stands for, else None."""
    state, constraint = violation(exc)
    if state != CHECK_VIOLATION or constraint not in _CHECKS:
        return None
    field, message = _CHECKS[constraint]
    return ValidationFailed([FieldError(("input", camel(field)), message)])


def translated(exc: DBAPIError, expected: Mapping[str, Exception] | None = None) -> Exception:
    """What to raise for `exc`: `expected[constraint]` for a unique or foreign key
    violation the caller expects, a validation failure for a known CHECK, else `exc`
    itself (unexpected: a primary key collision is a bug, not a taken slug)."""
    state, constraint = violation(exc)
    mapped = (expected or {}).get(constraint or "")
    if state in (UNIQUE_VIOLATION, FOREIGN_KEY_VIOLATION) and mapped is not None:
        return mapped
    return check_failure(exc) or exc


def one_row(result: CursorResult[Any]) -> Mapping[str, Any]:
    """The only row of `result`, by column name (raises unless exactly one)."""
    return cast(Mapping[str, Any], result.mappings().one())


def maybe_row(result: CursorResult[Any]) -> Mapping[str, Any] | None:
    """The only row of `result` by column name, or None."""
    return cast(Mapping[str, Any] | None, result.mappings().one_or_none())


def all_rows(result: CursorResult[Any]) -> list[Mapping[str, Any]]:
    return cast(list[Mapping[str, Any]], result.mappings().all())

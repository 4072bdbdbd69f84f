"""Validation of company and job write commands: pure, before any I/O.

Each `validate_*` returns the command normalized (text trimmed, codes upper-cased, skills
lower-cased and deduplicated) or raises `ValidationFailed` with every problem found.
Paths are the GraphQL input's: `("input", "salaryMax")`. The database's CHECK constraints
stay as the last line of defence (a patch can conflict with values it does not carry).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import fields
from enum import Enum
from typing import Any, Final, TypeVar

from domain.commands import (
    COMPANY_MUTABLE,
    JOB_MUTABLE,
    Changes,
    FieldError,
    NewCompany,
    NewJob,
    ValidationFailed,
)
from domain.enums import CompanySize, EmploymentType, RemotePolicy, Seniority

SLUG_MAX: Final = 80
NAME_MAX: Final = 200
INDUSTRY_MAX: Final = 100
PLACE_MAX: Final = 200
CITY_MAX: Final = 100
WEBSITE_MAX: Final = 2048
COMPANY_DESCRIPTION_MAX: Final = 5_000
JOB_DESCRIPTION_MAX: Final = 20_000
SKILL_MAX: Final = 50
SKILLS_MAX: Final = 50
SALARY_LIMIT: Final = 1_000_000_000  # within the column's int4
EXPERIENCE_LIMIT: Final = 60  # years
FOUNDED_MIN: Final = 1800  # the column's CHECK
FOUNDED_MAX: Final = 2100
NOTE_MAX: Final = 2_000  # application_history.note's CHECK

_SLUG = re.compile(r"^[a-z0-9](-?[a-z0-9])*$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")

E = TypeVar("E", bound=Enum)
Rule = Callable[[Any], Any]
"""Takes a field's value, returns it normalized or raises `_Invalid`."""


class _Invalid(Exception):
    pass


def camel(name: str) -> str:
    """A record field name as the GraphQL input spells it: `salary_max` -> `salaryMax`."""
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def _path(name: str) -> tuple[str, ...]:
    return ("input", camel(name))


def _text(max_len: int, *, required: bool) -> Rule:
    """Trimmed text; blank is an error when required, else None."""

    def rule(value: Any) -> str | None:
        if value is None:
            if required:
                raise _Invalid("is required")
            return None
        if not isinstance(value, str):
            raise _Invalid("must be a string")
        text = value.strip()
        if not text:
            if required:
                raise _Invalid("must not be blank")
            return None
        if len(text) > max_len:
            raise _Invalid(f"must be at most {max_len} characters")
        return text

    return rule


def _code(pattern: re.Pattern[str], what: str, *, required: bool) -> Rule:
    """An upper-case code (country, currency); lower case is accepted and upper-cased."""

    def rule(value: Any) -> str | None:
        if value is None:
            if required:
                raise _Invalid("is required")
            return None
        if not isinstance(value, str) or not pattern.match(value.strip().upper()):
            raise _Invalid(f"must be {what}")
        return value.strip().upper()

    return rule


def _choice(enum_cls: type[E], *, required: bool) -> Rule:
    def rule(value: Any) -> E | None:
        if value is None:
            if required:
                raise _Invalid("is required")
            return None
        try:
            return enum_cls(value)
        except ValueError:
            raise _Invalid(f"must be one of {', '.join(str(m.value) for m in enum_cls)}") from None

    return rule


def _int(low: int, high: int) -> Rule:
    """An optional integer within [low, high]."""

    def rule(value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid("must be an integer")
        if not low <= value <= high:
            raise _Invalid(f"must be between {low} and {high}")
        return value

    return rule


def _slug(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _Invalid("is required")
    if len(value) > SLUG_MAX:
        raise _Invalid(f"must be at most {SLUG_MAX} characters")
    if not _SLUG.match(value):
        raise _Invalid("must be lower-case letters and digits, words joined by single hyphens")
    return value


def _website(value: Any) -> str | None:
    url: str | None = _text(WEBSITE_MAX, required=False)(value)
    if url is not None and not url.lower().startswith(("http://", "https://")):
        raise _Invalid("must be an http(s) URL")
    return url


def _company_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Invalid("must be a positive integer")
    return value


def _skills(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(s, str) for s in value):
        raise _Invalid("must be a list of strings")
    unique: dict[str, None] = {}
    for skill in value:
        name = skill.strip().lower()
        if not name:
            raise _Invalid("must not contain blank skills")
        if len(name) > SKILL_MAX:
            raise _Invalid(f"each skill must be at most {SKILL_MAX} characters")
        unique[name] = None
    if len(unique) > SKILLS_MAX:
        raise _Invalid(f"must hold at most {SKILLS_MAX} skills")
    return tuple(unique)


def _publish(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("must be a boolean")
    return value


COMPANY_RULES: Final[Mapping[str, Rule]] = {
    "slug": _slug,
    "name": _text(NAME_MAX, required=True),
    "industry": _text(INDUSTRY_MAX, required=True),
    "size": _choice(CompanySize, required=False),
    "headquarters": _text(PLACE_MAX, required=False),
    "website": _website,
    "founded_year": _int(FOUNDED_MIN, FOUNDED_MAX),
    "description": _text(COMPANY_DESCRIPTION_MAX, required=False),
}

JOB_RULES: Final[Mapping[str, Rule]] = {
    "company_id": _company_id,
    "title": _text(NAME_MAX, required=True),
    "description": _text(JOB_DESCRIPTION_MAX, required=True),
    "location": _text(PLACE_MAX, required=True),
    "city": _text(CITY_MAX, required=False),
    "country": _code(_COUNTRY, "an ISO 3166-1 alpha-2 code", required=True),
    "remote": _choice(RemotePolicy, required=True),
    "employment_type": _choice(EmploymentType, required=True),
    "seniority": _choice(Seniority, required=True),
    "experience_min": _int(0, EXPERIENCE_LIMIT),
    "experience_max": _int(0, EXPERIENCE_LIMIT),
    "salary_min": _int(0, SALARY_LIMIT),
    "salary_max": _int(0, SALARY_LIMIT),
    "salary_currency": _code(_CURRENCY, "an ISO 4217 code", required=False),
    "skills": _skills,
    "publish": _publish,
}


def _apply(
    rules: Mapping[str, Rule], values: Mapping[str, Any], allowed: frozenset[str]
) -> tuple[dict[str, Any], list[FieldError]]:
    """Each value through its field's rule: (the valid ones normalized, the errors)."""
    valid: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, value in values.items():
        if name not in allowed:
            errors.append(FieldError(_path(name), "is not a field that can be set here"))
            continue
        try:
            valid[name] = rules[name](value)
        except _Invalid as e:
            errors.append(FieldError(_path(name), str(e)))
    return valid, errors


def _job_ranges(valid: Mapping[str, Any], values: Mapping[str, Any]) -> list[FieldError]:
    """Cross-field rules over the fields present (and individually valid)."""
    errors = []
    for low, high in (("salary_min", "salary_max"), ("experience_min", "experience_max")):
        lo, hi = valid.get(low), valid.get(high)
        if lo is not None and hi is not None and lo > hi:
            errors.append(FieldError(_path(high), f"must be at least {camel(low)}"))
    salary = any(valid.get(k) is not None for k in ("salary_min", "salary_max"))
    currency_given = "salary_currency" in values
    if salary and currency_given and valid.get("salary_currency", "") is None:
        errors.append(FieldError(_path("salary_currency"), "is required with a salary"))
    return errors


def _values(command: NewCompany | NewJob) -> dict[str, Any]:
    return {f.name: getattr(command, f.name) for f in fields(command)}


def validate_new_company(new: NewCompany) -> NewCompany:
    valid, errors = _apply(COMPANY_RULES, _values(new), frozenset(COMPANY_RULES))
    if errors:
        raise ValidationFailed(errors)
    return NewCompany(**valid)


def validate_company_changes(changes: Changes) -> Changes:
    """Only `COMPANY_MUTABLE` fields (the slug is fixed); required ones cannot be cleared."""
    valid, errors = _apply(COMPANY_RULES, changes.values, COMPANY_MUTABLE)
    if errors:
        raise ValidationFailed(errors)
    return Changes(valid)


def validate_new_job(new: NewJob) -> NewJob:
    values = _values(new)
    valid, errors = _apply(JOB_RULES, values, frozenset(JOB_RULES))
    errors += _job_ranges(valid, values)
    if errors:
        raise ValidationFailed(errors)
    return NewJob(**valid)


def validate_job_changes(changes: Changes) -> Changes:
    """Only `JOB_MUTABLE` fields; the ranges are checked where the patch holds both ends
    (the database checks the merged row)."""
    valid, errors = _apply(JOB_RULES, changes.values, JOB_MUTABLE)
    errors += _job_ranges(valid, changes.values)
    if errors:
        raise ValidationFailed(errors)
    return Changes(valid)


def validate_note(note: str | None) -> str | None:
    """A status change's note: trimmed, blank is None, at most `NOTE_MAX` characters."""
    try:
        text: str | None = _text(NOTE_MAX, required=False)(note)
    except _Invalid as e:
        raise ValidationFailed([FieldError(_path("note"), str(e))]) from None
    return text

"""Validation rules for candidate profile input: every problem found, with its GraphQL path.

Checks append `FieldError`s to a list instead of raising, so one response can name every
bad field. Paths are the GraphQL input's, camelCase, under "input": ("input", "email"),
("input", "skillsUpsert", "2", "level"), ("input", "attributesSet", "foo", "bar").

`attributes` are free-form per candidate (why profiles live in a document store), so
they are bounded here instead of by a schema:
- a top-level key matches `ATTRIBUTE_KEY` (letters, digits, "_"; 1-64 characters), so it
  is safe to use as a dotted path segment (`attributes.<key>`) in a store's update;
- no key at any depth contains "$", "." or NUL (operator injection, path ambiguity);
- values are JSON-like (None, bool, int, float, str, list, dict), finite numbers only;
- a value nests at most `MAX_ATTRIBUTE_DEPTH` containers (`{"a": {"b": 1}}`: depth 1
  for the value of "a"; `[[1]]`: depth 2);
- at most `MAX_ATTRIBUTE_KEYS` top-level keys and `MAX_ATTRIBUTES_BYTES` of compact JSON.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from domain.commands import FieldError
from domain.records import Education, Experience, Link, Location, Preferences, Skill

Path = tuple[str, ...]
Errors = list[FieldError]

EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
ATTRIBUTE_KEY: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
CURRENCY: Final = re.compile(r"^[A-Z]{3}$")
MAX_NAME: Final = 200
MAX_EMAIL: Final = 254
MAX_TEXT: Final = {"phone": 40, "headline": 200, "summary": 10_000}
MAX_SKILLS: Final = 100
MAX_SKILL_YEARS: Final = 60
MAX_LIST: Final = 50  # experience, education and links entries
MAX_ATTRIBUTE_KEYS: Final = 64
MAX_ATTRIBUTES_BYTES: Final = 16 * 1024
MAX_ATTRIBUTE_DEPTH: Final = 4


def camel(name: str) -> str:
    """The GraphQL spelling of a record field name: `salary_expectation` -> `salaryExpectation`."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def normalize_email(email: str) -> str:
    """Emails are stored trimmed and lower-cased, so the unique index sees one spelling."""
    return email.strip().lower()


def check_name(value: Any, path: Path, errors: Errors) -> None:
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError(path, "must not be empty"))
    elif len(value.strip()) > MAX_NAME:
        errors.append(FieldError(path, f"must be at most {MAX_NAME} characters"))


def check_email(value: Any, path: Path, errors: Errors) -> None:
    if not isinstance(value, str) or not EMAIL.match(normalize_email(value)):
        errors.append(FieldError(path, "is not an email address"))
    elif len(normalize_email(value)) > MAX_EMAIL:
        errors.append(FieldError(path, f"must be at most {MAX_EMAIL} characters"))


def check_text(field: str, value: Any, path: Path, errors: Errors) -> None:
    """An optional text field (`phone`, `headline`, `summary`): None or a bounded string."""
    if value is None:
        return
    if not isinstance(value, str):
        errors.append(FieldError(path, "must be a string"))
    elif len(value) > MAX_TEXT[field]:
        errors.append(FieldError(path, f"must be at most {MAX_TEXT[field]} characters"))


def check_location(value: Any, path: Path, errors: Errors) -> None:
    if not isinstance(value, Location):
        errors.append(FieldError(path, "must be a location"))
        return
    for name in ("city", "country"):
        part = getattr(value, name)
        if part is not None and (not isinstance(part, str) or len(part) > MAX_NAME):
            errors.append(FieldError((*path, name), f"must be at most {MAX_NAME} characters"))


def check_skill(skill: Skill, path: Path, errors: Errors) -> None:
    if not skill.name.strip():
        errors.append(FieldError((*path, "name"), "must not be empty"))
    if isinstance(skill.level, bool) or not 1 <= skill.level <= 5:
        errors.append(FieldError((*path, "level"), "must be between 1 and 5"))
    if not (math.isfinite(skill.years) and 0 <= skill.years <= MAX_SKILL_YEARS):
        errors.append(FieldError((*path, "years"), f"must be between 0 and {MAX_SKILL_YEARS}"))


def check_skills(skills: Sequence[Skill], path: Path, errors: Errors) -> None:
    """Each skill, no name twice, and at most `MAX_SKILLS`."""
    seen: set[str] = set()
    for i, skill in enumerate(skills):
        check_skill(skill, (*path, str(i)), errors)
        name = skill.name.strip()
        if name in seen:
            errors.append(FieldError((*path, str(i), "name"), "appears more than once"))
        seen.add(name)
    check_skill_count(len(skills), path, errors)


def check_skill_count(count: int, path: Path, errors: Errors) -> None:
    if count > MAX_SKILLS:
        errors.append(FieldError(path, f"a profile has at most {MAX_SKILLS} skills"))


def check_experience(items: Sequence[Experience], path: Path, errors: Errors) -> None:
    _check_length(items, path, errors)
    for i, e in enumerate(items):
        at = (*path, str(i))
        _non_empty(e.company, (*at, "company"), errors)
        _non_empty(e.title, (*at, "title"), errors)
        if e.end is not None and _comparable(e.end) < _comparable(e.start):
            errors.append(FieldError((*at, "end"), "must not be before start"))


def check_education(items: Sequence[Education], path: Path, errors: Errors) -> None:
    _check_length(items, path, errors)
    for i, e in enumerate(items):
        at = (*path, str(i))
        _non_empty(e.institution, (*at, "institution"), errors)
        _non_empty(e.degree, (*at, "degree"), errors)
        if e.start_year is not None and e.end_year is not None and e.end_year < e.start_year:
            errors.append(FieldError((*at, "endYear"), "must not be before startYear"))


def check_links(items: Sequence[Link], path: Path, errors: Errors) -> None:
    _check_length(items, path, errors)
    for i, link in enumerate(items):
        _non_empty(link.kind, (*path, str(i), "kind"), errors)
        _non_empty(link.url, (*path, str(i), "url"), errors)


def check_preferences(value: Preferences, path: Path, errors: Errors) -> None:
    money = value.salary_expectation
    if money is not None:
        at = (*path, "salaryExpectation")
        if money.amount < 0:
            errors.append(FieldError((*at, "amount"), "must not be negative"))
        if not CURRENCY.match(money.currency):
            errors.append(FieldError((*at, "currency"), "must be a 3-letter currency code"))
    if len(value.locations) > MAX_LIST:
        errors.append(FieldError((*path, "locations"), f"at most {MAX_LIST} entries"))


def check_attribute_keys(keys: Iterable[Any], path: Path, errors: Errors) -> None:
    """Top-level attribute keys: each reported at its own path."""
    for key in keys:
        if not isinstance(key, str) or not ATTRIBUTE_KEY.match(key):
            errors.append(
                FieldError((*path, str(key)), "must be letters, digits or _ (at most 64)")
            )


def check_attribute_values(values: Mapping[str, Any], path: Path, errors: Errors) -> None:
    for key, value in values.items():
        _check_value(value, (*path, str(key)), 0, errors)


def check_attributes_total(attributes: Mapping[str, Any], path: Path, errors: Errors) -> None:
    """The bounds on a profile's whole `attributes` (after a patch is merged)."""
    if len(attributes) > MAX_ATTRIBUTE_KEYS:
        errors.append(FieldError(path, f"at most {MAX_ATTRIBUTE_KEYS} attributes"))
    try:
        text = json.dumps(attributes, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return  # already reported by check_attribute_values
    if len(text.encode()) > MAX_ATTRIBUTES_BYTES:
        errors.append(FieldError(path, f"attributes exceed {MAX_ATTRIBUTES_BYTES} bytes"))


def _check_value(value: Any, path: Path, depth: int, errors: Errors) -> None:
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            errors.append(FieldError(path, "must be a finite number"))
        return
    if not isinstance(value, list | tuple | dict):
        errors.append(FieldError(path, "must be a JSON value"))
        return
    if depth >= MAX_ATTRIBUTE_DEPTH:
        errors.append(FieldError(path, f"nests deeper than {MAX_ATTRIBUTE_DEPTH} levels"))
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or any(c in key for c in "$.\x00"):
                errors.append(FieldError((*path, str(key)), "must not contain '$', '.' or NUL"))
            else:
                _check_value(item, (*path, key), depth + 1, errors)
    else:
        for i, item in enumerate(value):
            _check_value(item, (*path, str(i)), depth + 1, errors)


def _non_empty(value: str, path: Path, errors: Errors) -> None:
    if not value.strip():
        errors.append(FieldError(path, "must not be empty"))


def _check_length(items: Sequence[object], path: Path, errors: Errors) -> None:
    if len(items) > MAX_LIST:
        errors.append(FieldError(path, f"at most {MAX_LIST} entries"))


def _comparable(value: datetime) -> datetime:
    # A naive datetime is taken as UTC (as the stores read it back), so it compares to aware.
    return value if value.tzinfo else value.replace(tzinfo=UTC)

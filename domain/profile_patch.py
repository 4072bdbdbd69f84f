"""Candidate profile writes as pure functions: validate input, apply a patch to a profile.

`apply_patch` answers what a `ProfilePatch` changes on a given profile, as new values of
whole parts (`skills` after the upserts and removals, `experience` and the recomputed
`years_experience`, ...) plus the attribute keys to set and unset one by one, so a store
can write exactly those paths. It checks the bounds that depend on the current profile
(at most 100 skills, the attribute limits after merging) as well as the patch itself.
Rules and messages: `domain.profile_rules`. No I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final

from domain import profile_rules as rules
from domain.commands import (
    PROFILE_SCALARS,
    FieldError,
    NewCandidate,
    ProfilePatch,
    ValidationFailed,
)
from domain.records import Candidate, Experience, Skill

# Part names, in the order events list them (`payload.changed`).
PARTS: Final = (
    "name", "email", "phone", "headline", "summary", "location", "skills",
    "experience", "education", "links", "preferences", "attributes",
)  # fmt: skip
INPUT: Final = ("input",)


@dataclass(frozen=True, slots=True)
class ProfileChange:
    """What a patch does to one profile.

    `values`: part name -> its new value (domain values: a `str`, a `Location`, a tuple of
    `Skill`...), plus `years_experience` when `experience` is replaced. Attributes are
    changed key by key: `attributes_set` (key -> JSON-like value) and `attributes_unset`.
    `changed`: the parts the patch touches, in `PARTS` order.
    """

    values: Mapping[str, Any]
    attributes_set: Mapping[str, Any] = field(default_factory=dict)
    attributes_unset: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()


def validate_new(new: NewCandidate) -> NewCandidate:
    """`new` with its email normalized and name trimmed; ValidationFailed lists every problem."""
    errors: rules.Errors = []
    rules.check_name(new.name, (*INPUT, "name"), errors)
    rules.check_email(new.email, (*INPUT, "email"), errors)
    for name in ("phone", "headline", "summary"):
        rules.check_text(name, getattr(new, name), (*INPUT, name), errors)
    rules.check_location(new.location, (*INPUT, "location"), errors)
    rules.check_skills(new.skills, (*INPUT, "skills"), errors)
    rules.check_experience(new.experience, (*INPUT, "experience"), errors)
    rules.check_education(new.education, (*INPUT, "education"), errors)
    rules.check_links(new.links, (*INPUT, "links"), errors)
    rules.check_preferences(new.preferences, (*INPUT, "preferences"), errors)
    attributes = (*INPUT, "attributes")
    rules.check_attribute_keys(new.attributes, attributes, errors)
    rules.check_attribute_values(new.attributes, attributes, errors)
    if not errors:
        rules.check_attributes_total(new.attributes, attributes, errors)
    if errors:
        raise ValidationFailed(errors)
    return replace(
        new,
        name=new.name.strip(),
        email=rules.normalize_email(new.email),
        skills=tuple(replace(s, name=s.name.strip()) for s in new.skills),
    )


def created_parts(new: NewCandidate) -> tuple[str, ...]:
    """The parts a new profile fills in (for `CandidateCreated.payload.changed`)."""
    empty = NewCandidate(name="", email="")
    return tuple(
        p
        for p in PARTS
        if p in ("name", "email") or getattr(new, p) != getattr(empty, p)  # not the default
    )


def is_empty(patch: ProfilePatch) -> bool:
    return patch == ProfilePatch()


def validate_patch(patch: ProfilePatch) -> None:
    """The checks that need no current profile. ValidationFailed lists every problem."""
    if is_empty(patch):
        raise ValidationFailed([FieldError(INPUT, "nothing to change")])
    errors: rules.Errors = []
    _check_scalars(patch.set_fields, errors)
    _check_skills(patch, errors)
    if patch.experience is not None:
        rules.check_experience(patch.experience, (*INPUT, "experience"), errors)
    if patch.education is not None:
        rules.check_education(patch.education, (*INPUT, "education"), errors)
    if patch.links is not None:
        rules.check_links(patch.links, (*INPUT, "links"), errors)
    if patch.preferences is not None:
        rules.check_preferences(patch.preferences, (*INPUT, "preferences"), errors)
    _check_attributes(patch, errors)
    if errors:
        raise ValidationFailed(errors)


def apply_patch(current: Candidate, patch: ProfilePatch, now: datetime) -> ProfileChange:
    """What `patch` changes on `current` (see `ProfileChange`); `now` dates the experience."""
    validate_patch(patch)
    values: dict[str, Any] = {}
    for name, value in patch.set_fields.items():
        values[name] = _normalized(name, value)
    if patch.skills_upsert or patch.skills_remove:
        values["skills"] = merge_skills(current.skills, patch.skills_upsert, patch.skills_remove)
    for name in ("experience", "education", "links", "preferences"):
        if getattr(patch, name) is not None:
            values[name] = getattr(patch, name)
    if patch.experience is not None:
        values["years_experience"] = years_of_experience(patch.experience, now)
    _check_merged(current, patch, values)
    touched = set(values)
    if patch.attributes_set or patch.attributes_unset:
        touched.add("attributes")
    return ProfileChange(
        values=values,
        attributes_set=dict(patch.attributes_set),
        attributes_unset=tuple(patch.attributes_unset),
        changed=tuple(p for p in PARTS if p in touched),
    )


def merge_skills(
    current: Sequence[Skill], upsert: Sequence[Skill], remove: Sequence[str]
) -> tuple[Skill, ...]:
    """Skills by name: replaced in place, new ones appended in the order given, then removed."""
    by_name = {s.name.strip(): replace(s, name=s.name.strip()) for s in upsert}
    merged = [by_name.pop(s.name, s) for s in current]
    merged.extend(by_name.values())
    dropped = {name.strip() for name in remove}
    return tuple(s for s in merged if s.name not in dropped)


def years_of_experience(items: Sequence[Experience], now: datetime) -> int:
    """Whole years covered by the work history (overlaps counted once; no end = until now).

    Counted in calendar months, as the seed lays out careers (stints that start on the
    first of a month and cover `years * 12` months).
    """
    spans = sorted((_utc(e.start), _utc(e.end) if e.end else _utc(now)) for e in items)
    months = 0
    start: datetime | None = None
    end: datetime | None = None
    for s, e in spans:
        if end is None or s > end:
            months += _months(start, end)
            start, end = s, e
        elif e > end:
            end = e
    months += _months(start, end)
    return months // 12


def _months(start: datetime | None, end: datetime | None) -> int:
    if start is None or end is None or end <= start:
        return 0
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - (1 if (end.day, end.time()) < (start.day, start.time()) else 0)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _normalized(name: str, value: Any) -> Any:
    if name == "email":
        return rules.normalize_email(value)
    if name == "name":
        return str(value).strip()
    return value


def _check_scalars(values: Mapping[str, Any], errors: rules.Errors) -> None:
    for name, value in values.items():
        path = (*INPUT, "set", rules.camel(name))  # they come in `input.set`
        if name not in PROFILE_SCALARS:
            errors.append(FieldError(path, "is not a profile field"))
        elif name == "name":
            rules.check_name(value, path, errors)
        elif name == "email":
            rules.check_email(value, path, errors)
        elif name == "location":
            rules.check_location(value, path, errors)
        else:
            rules.check_text(name, value, path, errors)


def _check_skills(patch: ProfilePatch, errors: rules.Errors) -> None:
    path = (*INPUT, "skillsUpsert")
    rules.check_skills(patch.skills_upsert, path, errors)
    upserted = {s.name.strip() for s in patch.skills_upsert}
    for i, name in enumerate(patch.skills_remove):
        at = (*INPUT, "skillsRemove", str(i))
        if not name.strip():
            errors.append(FieldError(at, "must not be empty"))
        elif name.strip() in upserted:
            errors.append(FieldError(at, "is also in skillsUpsert"))


def _check_attributes(patch: ProfilePatch, errors: rules.Errors) -> None:
    set_path, unset_path = (*INPUT, "attributesSet"), (*INPUT, "attributesUnset")
    rules.check_attribute_keys(patch.attributes_set, set_path, errors)
    rules.check_attribute_values(patch.attributes_set, set_path, errors)
    rules.check_attribute_keys(patch.attributes_unset, unset_path, errors)
    for key in patch.attributes_unset:
        if key in patch.attributes_set:
            errors.append(FieldError((*unset_path, key), "is also in attributesSet"))


def _check_merged(current: Candidate, patch: ProfilePatch, values: Mapping[str, Any]) -> None:
    errors: rules.Errors = []
    if "skills" in values:
        rules.check_skill_count(len(values["skills"]), (*INPUT, "skillsUpsert"), errors)
    if patch.attributes_set:
        merged = {**current.attributes, **patch.attributes_set}
        for key in patch.attributes_unset:
            merged.pop(key, None)
        rules.check_attributes_total(merged, (*INPUT, "attributesSet"), errors)
    if errors:
        raise ValidationFailed(errors)

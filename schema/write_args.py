"""Mutation inputs -> domain commands, before any I/O.

Every problem the input's shape can show (an id of the wrong type, a required value
sent as null, attributes that are not a JSON object) is collected as a `FieldError`
with its path in the arguments (`["input", "jobId"]`), and all of them are raised
together as one `ValidationFailed`. Value rules (lengths, ranges, formats) are the
domain validation's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from strawberry import UNSET

from domain.commands import (
    Changes,
    FieldError,
    NewCandidate,
    NewCompany,
    NewJob,
    ProfilePatch,
    ValidationFailed,
)
from domain.enums import ApplicationStatus
from domain.errors import InvalidInput
from domain.records import Education, Experience, Link, Location, Money, Preferences, Skill
from schema import inputs_write as w
from schema.ids import from_global_id, int_key

COMPANY_REQUIRED = frozenset({"name", "industry"})
JOB_REQUIRED = frozenset(
    {"title", "description", "location", "country", "remote", "employment_type", "seniority"}
)
_COMPANY_FIELDS = ("name", "industry", "size", "headquarters", "website", "founded_year",
                   "description")  # fmt: skip
_JOB_FIELDS = ("title", "description", "location", "city", "country", "remote",
               "employment_type", "seniority", "experience_min", "experience_max",
               "salary_min", "salary_max", "salary_currency", "skills")  # fmt: skip
_PROFILE_FIELDS = ("name", "email", "phone", "headline", "summary", "location")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class _Problems:
    """Field errors found so far; `done` raises them all at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, path: Iterable[str], message: str) -> None:
        self.errors.append(FieldError(tuple(path), message))

    def int_id(self, value: str, type_name: str, field: str) -> int:
        try:
            return int_key(value, type_name)
        except InvalidInput as bad:
            self.add(("input", field), bad.message)
            return 0

    def str_id(self, value: str, type_name: str, field: str) -> str:
        try:
            return from_global_id(value, type_name)
        except InvalidInput as bad:
            self.add(("input", field), bad.message)
            return ""

    def changes(self, given: Any, names: Iterable[str], required: frozenset[str]) -> Changes:
        values: dict[str, Any] = {}
        for name in names:
            value = getattr(given, name)
            if value is UNSET:
                continue
            if value is None and name in required:
                self.add(("input", _camel(name)), "cannot be null")
            values[name] = tuple(value) if isinstance(value, list) else value
        return Changes(values)

    def json_object(self, value: Any, path: tuple[str, ...]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(path, "must be a JSON object")
            return {}
        return value

    def done(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


def new_company(i: w.CreateCompanyInput) -> NewCompany:
    return NewCompany(
        slug=i.slug, name=i.name, industry=i.industry, size=i.size,
        headquarters=i.headquarters, website=i.website, founded_year=i.founded_year,
        description=i.description,
    )  # fmt: skip


def company_changes(i: w.UpdateCompanyInput) -> tuple[int, Changes]:
    problems = _Problems()
    company_id = problems.int_id(i.id, "Company", "id")
    changes = problems.changes(i, _COMPANY_FIELDS, COMPANY_REQUIRED)
    problems.done()
    return company_id, changes


def new_job(i: w.PostJobInput) -> NewJob:
    problems = _Problems()
    company_id = problems.int_id(i.company_id, "Company", "companyId")
    problems.done()
    return NewJob(
        company_id=company_id, title=i.title, description=i.description, location=i.location,
        country=i.country, remote=i.remote, employment_type=i.employment_type,
        seniority=i.seniority, city=i.city, experience_min=i.experience_min,
        experience_max=i.experience_max, salary_min=i.salary_min, salary_max=i.salary_max,
        salary_currency=i.salary_currency, skills=tuple(i.skills), publish=i.publish,
    )  # fmt: skip


def job_changes(i: w.UpdateJobInput) -> tuple[int, Changes]:
    problems = _Problems()
    job_id = problems.int_id(i.id, "Job", "id")
    changes = problems.changes(i, _JOB_FIELDS, JOB_REQUIRED | {"skills"})
    problems.done()
    return job_id, changes


def job_id(i: w.PublishJobInput | w.CloseJobInput) -> int:
    problems = _Problems()
    found = problems.int_id(i.id, "Job", "id")
    problems.done()
    return found


def _location(i: w.LocationInput | None) -> Location:
    return Location(None, None) if i is None else Location(i.city, i.country)


def _skills(items: Iterable[w.SkillInput]) -> tuple[Skill, ...]:
    return tuple(Skill(s.name, s.level, s.years) for s in items)


def _experience(items: Iterable[w.ExperienceInput]) -> tuple[Experience, ...]:
    return tuple(Experience(e.company, e.title, e.start, e.end, tuple(e.highlights)) for e in items)


def _education(items: Iterable[w.EducationInput]) -> tuple[Education, ...]:
    return tuple(
        Education(e.institution, e.degree, e.field, e.start_year, e.end_year) for e in items
    )


def _links(items: Iterable[w.LinkInput]) -> tuple[Link, ...]:
    return tuple(Link(lk.kind, lk.url) for lk in items)


def _preferences(p: w.PreferencesInput) -> Preferences:
    money = p.salary_expectation
    return Preferences(
        remote=p.remote,
        locations=tuple(p.locations),
        salary_expectation=None if money is None else Money(money.amount, money.currency),
        employment_types=tuple(p.employment_types),
    )


def new_candidate(i: w.CreateCandidateInput) -> NewCandidate:
    problems = _Problems()
    attributes = problems.json_object(i.attributes, ("input", "attributes"))
    problems.done()
    return NewCandidate(
        name=i.name, email=i.email, phone=i.phone, headline=i.headline, summary=i.summary,
        location=_location(i.location), skills=_skills(i.skills),
        experience=_experience(i.experience), education=_education(i.education),
        links=_links(i.links),
        preferences=_preferences(i.preferences) if i.preferences else Preferences(False, (), None),
        attributes=attributes,
    )  # fmt: skip


def _profile_fields(problems: _Problems, given: w.ProfileFieldsInput | None) -> dict[str, Any]:
    if given is None:
        return {}
    fields: dict[str, Any] = {}
    for name in _PROFILE_FIELDS:
        value = getattr(given, name)
        if value is UNSET:
            continue
        if value is None and name in ("name", "email"):
            problems.add(("input", "set", name), "cannot be null")
        fields[name] = _location(value) if name == "location" else value
    return fields


def profile_patch(i: w.UpdateCandidateProfileInput) -> tuple[str, ProfilePatch, int | None]:
    """(candidate id, the patch, the expected version)."""
    problems = _Problems()
    candidate_id = problems.str_id(i.id, "Candidate", "id")
    patch = ProfilePatch(
        set_fields=_profile_fields(problems, i.set),
        skills_upsert=_skills(i.skills_upsert or ()),
        skills_remove=tuple(i.skills_remove or ()),
        experience=None if i.experience is None else _experience(i.experience),
        education=None if i.education is None else _education(i.education),
        links=None if i.links is None else _links(i.links),
        preferences=None if i.preferences is None else _preferences(i.preferences),
        attributes_set=problems.json_object(i.attributes_set, ("input", "attributesSet")),
        attributes_unset=tuple(i.attributes_unset or ()),
    )
    problems.done()
    return candidate_id, patch, i.expected_version


def application(i: w.ApplyToJobInput) -> tuple[int, str, str]:
    """(job id, candidate id, source)."""
    problems = _Problems()
    job = problems.int_id(i.job_id, "Job", "jobId")
    candidate = problems.str_id(i.candidate_id, "Candidate", "candidateId")
    problems.done()
    return job, candidate, i.source


def move(i: w.AdvanceApplicationInput) -> tuple[int, ApplicationStatus, str | None]:
    """(application id, the status to move to, the note)."""
    problems = _Problems()
    application_id = problems.int_id(i.id, "Application", "id")
    problems.done()
    return application_id, i.to, i.note

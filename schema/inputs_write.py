"""Mutation inputs: one `input` argument per mutation (Relay style).

Update inputs have patch semantics: a field left out is left alone, a field sent as
null is cleared (refused with a field error where the value is required). Ids are
global ids; `schema.write_args` turns these into domain commands.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON

from schema.enums import ApplicationStatus, CompanySize, EmploymentType, RemotePolicy, Seniority

# -- companies --------------------------------------------------------------------------------


@strawberry.input
class CreateCompanyInput:
    slug: str = strawberry.field(description="URL name: lowercase letters, digits, hyphens.")
    name: str
    industry: str
    size: CompanySize | None = None
    headquarters: str | None = None
    website: str | None = None
    founded_year: int | None = None
    description: str | None = None


@strawberry.input
class UpdateCompanyInput:
    id: strawberry.ID
    name: str | None = UNSET
    industry: str | None = UNSET
    size: CompanySize | None = UNSET
    headquarters: str | None = UNSET
    website: str | None = UNSET
    founded_year: int | None = UNSET
    description: str | None = UNSET


# -- jobs -------------------------------------------------------------------------------------


@strawberry.input
class PostJobInput:
    company_id: strawberry.ID
    title: str
    description: str
    location: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country code.")
    remote: RemotePolicy
    employment_type: EmploymentType
    seniority: Seniority
    city: str | None = None
    experience_min: int | None = None
    experience_max: int | None = None
    salary_min: int | None = None
    salary_max: int | None = None
    salary_currency: str | None = None
    skills: list[str] = strawberry.field(default_factory=list)
    publish: bool = strawberry.field(
        default=False, description="Open the job at once instead of saving a draft."
    )


@strawberry.input
class UpdateJobInput:
    id: strawberry.ID
    title: str | None = UNSET
    description: str | None = UNSET
    location: str | None = UNSET
    city: str | None = UNSET
    country: str | None = UNSET
    remote: RemotePolicy | None = UNSET
    employment_type: EmploymentType | None = UNSET
    seniority: Seniority | None = UNSET
    experience_min: int | None = UNSET
    experience_max: int | None = UNSET
    salary_min: int | None = UNSET
    salary_max: int | None = UNSET
    salary_currency: str | None = UNSET
    skills: list[str] | None = UNSET


@strawberry.input
class PublishJobInput:
    id: strawberry.ID


@strawberry.input
class CloseJobInput:
    id: strawberry.ID


# -- candidate profiles -------------------------------------------------------------------------


@strawberry.input
class LocationInput:
    city: str | None = None
    country: str | None = None


@strawberry.input
class SkillInput:
    name: str
    level: int = strawberry.field(description="1 (basic) to 5.")
    years: float


@strawberry.input
class ExperienceInput:
    company: str
    title: str
    start: datetime
    end: datetime | None = None
    highlights: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class EducationInput:
    institution: str
    degree: str
    field: str | None = None
    start_year: int | None = None
    end_year: int | None = None


@strawberry.input
class LinkInput:
    kind: str
    url: str


@strawberry.input
class MoneyInput:
    amount: int
    currency: str


@strawberry.input
class PreferencesInput:
    remote: bool
    locations: list[str] = strawberry.field(default_factory=list)
    salary_expectation: MoneyInput | None = None
    employment_types: list[EmploymentType] = strawberry.field(default_factory=list)


@strawberry.input
class CreateCandidateInput:
    name: str
    email: str
    phone: str | None = None
    headline: str | None = None
    summary: str | None = None
    location: LocationInput | None = None
    skills: list[SkillInput] = strawberry.field(default_factory=list)
    experience: list[ExperienceInput] = strawberry.field(default_factory=list)
    education: list[EducationInput] = strawberry.field(default_factory=list)
    links: list[LinkInput] = strawberry.field(default_factory=list)
    preferences: PreferencesInput | None = None
    attributes: JSON | None = strawberry.field(default=None, description="A JSON object.")


@strawberry.input(description="Profile scalars to set; a field left out is left alone.")
class ProfileFieldsInput:
    name: str | None = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    headline: str | None = UNSET
    summary: str | None = UNSET
    location: LocationInput | None = UNSET


@strawberry.input
class UpdateCandidateProfileInput:
    id: strawberry.ID
    expected_version: int | None = strawberry.field(
        default=None, description="The version read; CONFLICT when the profile moved on."
    )
    set: ProfileFieldsInput | None = None
    skills_upsert: list[SkillInput] | None = strawberry.field(
        default=None, description="Added, or replacing the skill of the same name."
    )
    skills_remove: list[str] | None = None
    experience: list[ExperienceInput] | None = strawberry.field(
        default=None, description="Replaces the whole list."
    )
    education: list[EducationInput] | None = strawberry.field(
        default=None, description="Replaces the whole list."
    )
    links: list[LinkInput] | None = strawberry.field(
        default=None, description="Replaces the whole list."
    )
    preferences: PreferencesInput | None = None
    attributes_set: JSON | None = strawberry.field(
        default=None, description="A JSON object of attributes to set."
    )
    attributes_unset: list[str] | None = None


# -- applications -------------------------------------------------------------------------------


@strawberry.input
class ApplyToJobInput:
    job_id: strawberry.ID
    candidate_id: strawberry.ID
    source: str = "direct"


@strawberry.input
class AdvanceApplicationInput:
    id: strawberry.ID
    to: ApplicationStatus
    note: str | None = None

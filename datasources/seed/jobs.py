"""Job rows: each `JobPlan` expanded into a full posting (title, skills, pay, text)."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from datasources.seed.companies import CompanyDirectory
from datasources.seed.geography import BY_CODE, SENIORITY_PAY, Country
from datasources.seed.plan import JobPlan
from datasources.seed.rows import JobRow
from datasources.seed.scale import ANCHOR
from datasources.seed.text import REMOTE_LINES, job_description
from datasources.seed.vocabulary import (
    EXPERIENCE_BANDS,
    FAMILIES,
    PRACTICES,
    TITLE_PREFIX,
    Family,
    Role,
    title_for,
)

_REMOTE = ("onsite", "hybrid", "remote")
_REMOTE_WEIGHTS = (35, 45, 20)
_EMPLOYMENT = ("full_time", "contract", "part_time")
_EMPLOYMENT_WEIGHTS = (85, 10, 5)
_NO_SALARY = 0.10


def job_skills(rng: random.Random, family: Family, role: Role) -> list[str]:
    """One stack that fits the title, 3-5 of the family's tools, sometimes a practice."""
    picked = [*rng.choice(family.stacks_for(role)), *rng.sample(family.tools, rng.randint(3, 5))]
    if rng.random() < 0.4:
        picked.append(rng.choice(PRACTICES))
    return list(dict.fromkeys(picked))


def salary_band(
    rng: random.Random, country: Country, seniority: str, family: Family, employment: str
) -> tuple[int, int]:
    """Annual (min, max) in the country's currency, rounded to its pay step."""
    factor = SENIORITY_PAY[seniority] * family.salary_factor * rng.uniform(0.88, 1.12)
    if employment == "part_time":
        factor *= 0.6
    step = country.pay_step
    low = max(step, int(country.mid_band[0] * factor / step) * step)
    high = max(low, -(-int(country.mid_band[1] * factor) // step) * step)
    return low, high


def experience_text(low: int | None, high: int | None) -> str:
    if high is None:
        return f"{low}+ years"
    if high == 0:
        return "No prior professional experience needed; internships or projects"
    return f"{low}-{high} years"


def _part(span: timedelta, fraction: float) -> timedelta:
    """`fraction` of `span`, in whole seconds (stored dates carry no sub-second noise)."""
    return timedelta(seconds=int(span.total_seconds() * fraction))


def _dates(rng: random.Random, plan: JobPlan) -> tuple[datetime, datetime]:
    """(created_at, updated_at) consistent with the plan's status dates."""
    if plan.posted_at is None:  # draft
        created = ANCHOR - timedelta(seconds=rng.randint(3_600, 60 * 86_400))
        return created, created + _part(ANCHOR - created, rng.random() / 2)
    created = plan.posted_at - timedelta(seconds=rng.randint(0, 14 * 86_400))
    if plan.status == "closed" and plan.closes_at is not None:
        return created, plan.closes_at
    return created, plan.posted_at + _part(ANCHOR - plan.posted_at, rng.random() * 0.3)


def expand_job(rng: random.Random, plan: JobPlan, companies: CompanyDirectory) -> JobRow:
    family = FAMILIES[plan.family]
    role = rng.choice(family.roles)
    title = title_for(plan.seniority, role, rng.choice(TITLE_PREFIX[plan.seniority]))
    skills = job_skills(rng, family, role)
    exp_min, exp_max = rng.choice(EXPERIENCE_BANDS[plan.seniority])
    country = BY_CODE[plan.country]
    city = rng.choice(country.cities)
    remote = rng.choices(_REMOTE, _REMOTE_WEIGHTS)[0]
    employment = (
        "internship"
        if plan.seniority == "intern"
        else rng.choices(_EMPLOYMENT, _EMPLOYMENT_WEIGHTS)[0]
    )
    salary: tuple[int | None, int | None] = (None, None)
    if rng.random() >= _NO_SALARY:
        salary = salary_band(rng, country, plan.seniority, family, employment)
    company = companies.by_id(plan.company_id)
    created, updated = _dates(rng, plan)
    return JobRow(
        id=plan.id,
        company_id=plan.company_id,
        title=title,
        description=job_description(
            rng,
            company=company.name,
            industry=company.industry,
            family=family.name,
            title=title,
            skills=skills,
            experience=experience_text(exp_min, exp_max),
            remote_line=REMOTE_LINES[remote].format(city=city, country=country.name),
        ),
        location=f"Remote, {country.name}" if remote == "remote" else f"{city}, {country.name}",
        city=None if remote == "remote" else city,
        country=country.code,
        remote=remote,
        employment_type=employment,
        seniority=plan.seniority,
        experience_min=exp_min,
        experience_max=exp_max,
        salary_min=salary[0],
        salary_max=salary[1],
        salary_currency=None if salary[0] is None else country.currency,
        skills=skills,
        status=plan.status,
        posted_at=plan.posted_at,
        created_at=created,
        updated_at=updated,
    )


def job_rows(
    seed: int, plans: Sequence[JobPlan], companies: CompanyDirectory, fixed: Sequence[JobRow]
) -> Iterator[JobRow]:
    """Rows for `plans` in id order; the first `len(fixed)` plans are the `fixed` rows."""
    rng = random.Random(f"{seed}/jobs")
    yield from fixed
    for plan in plans[len(fixed) :]:
        yield expand_job(rng, plan, companies)

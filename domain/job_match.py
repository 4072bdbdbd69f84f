"""`job_matches`: the `JobFilter` of the `jobs` query, tested on one job in memory.

Subscriptions filter each event's job with this instead of a query; it mirrors the SQL
of `datasources.postgres.job_sql.job_conditions` field by field (a missing value never
matches a condition on it, as NULL never does in SQL). `search` is the one approximation:
Postgres matches stemmed lexemes, here every search word (lower case, `-word` excluded,
`or` ignored) must occur in the title, description or skills.
"""

from __future__ import annotations

import re

from domain.enums import JobStatus
from domain.queries import JobFilter, SalaryFilter
from domain.records import Job

_WORD = re.compile(r"-?[\w+#.]+")


def _search_matches(search: str, job: Job) -> bool:
    text = " ".join((job.title, job.description, *job.skills)).lower()
    for word in _WORD.findall(search.lower()):
        if word == "or":
            continue
        if word.startswith("-"):
            if word[1:] and word[1:] in text:
                return False
        elif word not in text:
            return False
    return True


def _salary_matches(s: SalaryFilter, job: Job) -> bool:
    if job.salary_currency is None or job.salary_currency != s.currency.upper():
        return False
    if s.min is not None and (job.salary_max is None or job.salary_max < s.min):
        return False
    return not (s.max is not None and (job.salary_min is None or job.salary_min > s.max))


def _posted_matches(f: JobFilter, job: Job) -> bool:
    if f.posted_after is None and f.posted_before is None:
        return True
    if job.posted_at is None:
        return False
    if f.posted_after is not None and job.posted_at < f.posted_after:
        return False
    return not (f.posted_before is not None and job.posted_at >= f.posted_before)


def _in(values: tuple[object, ...] | None, value: object) -> bool:
    return values is None or value in values


def job_matches(f: JobFilter, job: Job) -> bool:
    """Whether `job` is one the `jobs` query would return under `f`."""
    if job.status not in f.statuses:
        return False
    if f.scope_company_id is not None and not (
        job.status is JobStatus.OPEN or job.company_id == f.scope_company_id
    ):
        return False
    skills = {s.lower() for s in job.skills}
    return (
        _in(f.company_ids, job.company_id)
        and _in(f.cities, None if job.city is None else job.city.lower())
        and _in(f.countries, job.country)
        and _in(f.remote, job.remote)
        and _in(f.employment_types, job.employment_type)
        and _in(f.seniorities, job.seniority)
        and (f.salary is None or _salary_matches(f.salary, job))
        and (f.skills_any is None or bool(skills & set(f.skills_any)))
        and (f.skills_all is None or set(f.skills_all) <= skills)
        and _posted_matches(f, job)
        and (f.search is None or _search_matches(f.search, job))
    )

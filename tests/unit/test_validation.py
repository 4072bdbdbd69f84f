"""Company and job command validation: normalization, every error at once, input paths."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from domain.commands import Changes, NewCompany, NewJob, ValidationFailed
from domain.enums import CompanySize, EmploymentType, RemotePolicy, Seniority
from domain.validation import (
    camel,
    validate_company_changes,
    validate_job_changes,
    validate_new_company,
    validate_new_job,
    validate_note,
)

COMPANY = NewCompany(slug="acme-labs", name="Acme Labs", industry="Software")
JOB = NewJob(
    company_id=1, title="Backend Engineer", description="Build APIs.", location="Pune, India",
    country="IN", remote=RemotePolicy.HYBRID, employment_type=EmploymentType.FULL_TIME,
    seniority=Seniority.MID,
)  # fmt: skip


def paths(exc: pytest.ExceptionInfo[ValidationFailed]) -> dict[tuple[str, ...], str]:
    return {e.path: e.message for e in exc.value.errors}


def failing_job(**over: Any) -> dict[tuple[str, ...], str]:
    with pytest.raises(ValidationFailed) as exc:
        validate_new_job(replace(JOB, **over))
    return paths(exc)


def test_camel_case_paths() -> None:
    assert camel("salary_max") == "salaryMax"
    assert camel("employment_type") == "employmentType"
    assert camel("title") == "title"


def test_a_valid_company_is_normalized() -> None:
    got = validate_new_company(
        replace(COMPANY, name="  Acme Labs ", headquarters="   ", size="51-200", website=None)
    )
    assert got == replace(COMPANY, size=CompanySize.S51_200)


@pytest.mark.parametrize(
    "slug",
    ["Acme", "acme--labs", "-acme", "acme-", "acme labs", "acme_labs", "", "a" * 81, "ac\u00e9"],
)
def test_bad_slugs(slug: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        validate_new_company(replace(COMPANY, slug=slug))
    assert list(paths(exc)) == [("input", "slug")]


@pytest.mark.parametrize("slug", ["a", "0", "acme-labs-2", "a" * 80, "a-b-c"])
def test_good_slugs(slug: str) -> None:
    assert validate_new_company(replace(COMPANY, slug=slug)).slug == slug


def test_every_company_error_is_reported_at_once() -> None:
    bad = replace(
        COMPANY, slug="Bad Slug", name="  ", industry="x" * 101, size="huge",
        website="ftp://acme.example", founded_year=1700,
    )  # fmt: skip
    with pytest.raises(ValidationFailed) as exc:
        validate_new_company(bad)
    assert set(paths(exc)) == {
        ("input", p) for p in ("slug", "name", "industry", "size", "website", "foundedYear")
    }
    assert "input.foundedYear" in str(exc.value)


def test_a_valid_job_is_normalized() -> None:
    new = replace(
        JOB, title=" Backend Engineer ", country="in", city="  ", salary_min=10,
        salary_max=20, salary_currency="inr", skills=(" Python", "python", "FastAPI"),
    )  # fmt: skip
    got = validate_new_job(new)
    assert got.title == "Backend Engineer"
    assert got.country == "IN"
    assert got.city is None
    assert got.salary_currency == "INR"
    assert got.skills == ("python", "fastapi")


def test_salary_range_and_currency() -> None:
    assert failing_job(salary_min=30, salary_max=20, salary_currency="EUR") == {
        ("input", "salaryMax"): "must be at least salaryMin"
    }
    assert set(failing_job(salary_max=20)) == {("input", "salaryCurrency")}
    assert set(failing_job(salary_min=20)) == {("input", "salaryCurrency")}
    assert set(failing_job(salary_min=-1, salary_currency="EUR")) == {("input", "salaryMin")}
    assert set(failing_job(salary_max=10, salary_currency="EURO")) == {("input", "salaryCurrency")}
    assert validate_new_job(replace(JOB, salary_min=20, salary_max=20, salary_currency="EUR"))


def test_experience_range() -> None:
    assert set(failing_job(experience_min=5, experience_max=3)) == {("input", "experienceMax")}
    assert set(failing_job(experience_min=-1)) == {("input", "experienceMin")}
    assert set(failing_job(experience_max=True)) == {("input", "experienceMax")}


def test_job_text_country_and_enums() -> None:
    got = failing_job(
        title=" ", description="", location="x" * 201, country="IND", remote="sometimes",
        company_id=0,
    )  # fmt: skip
    assert set(got) == {
        ("input", p) for p in ("title", "description", "location", "country", "remote", "companyId")
    }


def test_skills_are_bounded() -> None:
    assert validate_new_job(replace(JOB, skills=tuple(f"s{i}" for i in range(50)) * 2)).skills
    assert set(failing_job(skills=tuple(f"s{i}" for i in range(51)))) == {("input", "skills")}
    assert set(failing_job(skills=("python", " "))) == {("input", "skills")}
    assert set(failing_job(skills=("x" * 51,))) == {("input", "skills")}
    assert set(failing_job(skills="python")) == {("input", "skills")}


def test_company_changes_reject_unknown_and_fixed_fields() -> None:
    with pytest.raises(ValidationFailed) as exc:
        validate_company_changes(Changes({"slug": "new-slug", "colour": "red", "name": "Ok"}))
    assert set(paths(exc)) == {("input", "slug"), ("input", "colour")}


def test_company_changes_normalize_and_clear() -> None:
    got = validate_company_changes(Changes({"name": " New ", "website": None, "size": "5000+"}))
    assert got.values == {"name": "New", "website": None, "size": CompanySize.S5000_PLUS}
    with pytest.raises(ValidationFailed) as exc:
        validate_company_changes(Changes({"name": None, "industry": " "}))
    assert set(paths(exc)) == {("input", "name"), ("input", "industry")}


def test_job_changes() -> None:
    assert validate_job_changes(Changes({})).values == {}
    got = validate_job_changes(Changes({"skills": ["Go", "go"], "country": "de", "city": None}))
    assert got.values == {"skills": ("go",), "country": "DE", "city": None}
    for bad, path in [
        ({"status": "open"}, "status"),
        ({"company_id": 2}, "companyId"),
        ({"title": None}, "title"),
        ({"salary_min": 9, "salary_max": 1}, "salaryMax"),
        ({"experience_min": 9, "experience_max": 1}, "experienceMax"),
        ({"salary_min": 9, "salary_currency": None}, "salaryCurrency"),
        ({"publish": True}, "publish"),
    ]:
        with pytest.raises(ValidationFailed) as exc:
            validate_job_changes(Changes(bad))
        assert set(paths(exc)) == {("input", path)}, bad
    # One end of a range alone is left to the database, which sees the merged row.
    assert validate_job_changes(Changes({"salary_min": 9})).values == {"salary_min": 9}


def test_note() -> None:
    assert validate_note("  looks good ") == "looks good"
    assert validate_note("   ") is None
    assert validate_note(None) is None
    assert validate_note("x" * 2000) == "x" * 2000
    with pytest.raises(ValidationFailed) as exc:
        validate_note("x" * 2001)
    assert set(paths(exc)) == {("input", "note")}

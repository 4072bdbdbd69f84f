"""Nested parts of a candidate profile: work history, education, links, preferences and
the free-form `attributes` whose keys vary per candidate (why profiles live in Mongo)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from datasources.seed.geography import DEGREES, DEGREES_IN, FIELDS, SENIORITY_PAY, Country
from datasources.seed.pools import PersonName
from datasources.seed.text import highlights

# fmt: off
LANGUAGES: dict[str, tuple[str, ...]] = {
    "IN": ("Hindi", "Marathi", "Tamil", "Telugu", "Kannada", "Bengali", "Gujarati"),
    "DE": ("German",), "FR": ("French",), "ES": ("Spanish", "Catalan"), "NL": ("Dutch",),
    "SG": ("Mandarin", "Malay", "Tamil"), "CA": ("French",),
}
CERTIFICATIONS: tuple[str, ...] = (
    "AWS Certified Solutions Architect - Associate", "Certified Kubernetes Administrator",
    "Google Cloud Professional Data Engineer", "Microsoft Certified: Azure Developer Associate",
    "HashiCorp Certified: Terraform Associate", "Oracle Certified Professional: Java SE",
    "Databricks Certified Data Engineer Associate", "Professional Scrum Master I",
    "AWS Certified Machine Learning - Specialty", "MongoDB Certified Developer",
)
# fmt: on
NOTICE_DAYS = (0, 15, 30, 30, 45, 60, 60, 90)
TITLES_BY_LEVEL = ("Intern", "Junior", "", "Senior", "Lead", "Staff")


def month_start(months: int) -> datetime:
    """The first day of month number `months` (year * 12 + month - 1), midnight UTC."""
    year, month = divmod(months, 12)
    return datetime(year, month + 1, 1, tzinfo=UTC)


def experience(
    rng: random.Random,
    *,
    years: int,
    role: str,
    created: datetime,
    employers: tuple[str, ...],
    skills: list[str],
) -> list[dict[str, Any]]:
    """1-4 jobs covering the last `years` years, oldest first; the last one often current."""
    now = created.year * 12 + created.month - 1
    total = max(years * 12, 6)
    stints = 1 + min(3, years // 3, rng.randint(0, 3))
    cuts = sorted(rng.sample(range(1, total), stints - 1)) if stints > 1 else []
    bounds = [now - total, *(now - total + c for c in cuts), now]
    current = rng.random() < 0.8
    entries = []
    for n in range(stints):
        level = min(5, 1 + (years * (n + 1)) // (stints * 3))
        prefix = TITLES_BY_LEVEL[level]
        last = n == stints - 1
        entries.append(
            {
                "company": rng.choice(employers),
                "title": f"{prefix} {role}".strip() if level else f"{role} Intern",
                "start": month_start(bounds[n]),
                "end": None if last and current else month_start(bounds[n + 1]),
                "highlights": highlights(rng, skills, rng.randint(1, 3)),
            }
        )
    return entries


def education(rng: random.Random, country: Country, career_start: int) -> list[dict[str, Any]]:
    degrees = DEGREES_IN if country.code == "IN" else DEGREES
    end = career_start
    entries: list[dict[str, Any]] = []
    for _ in range(1 if rng.random() < 0.8 else 2):
        length = 4 if not entries else 2
        entries.append(
            {
                "institution": rng.choice(country.universities),
                "degree": rng.choice(degrees[:2] if not entries else degrees[2:4]),
                "field": rng.choice(FIELDS),
                "start_year": end - length,
                "end_year": end,
            }
        )
        end -= length
    entries.reverse()  # bachelor's first
    return entries


def links(rng: random.Random, first: PersonName, last: PersonName, n: int) -> list[dict[str, str]]:
    out = []
    if rng.random() < 0.7:
        login = f"{first.handle}{last.handle[:3]}{rng.randint(0, 99)}"
        out.append({"kind": "github", "url": f"https://github.com/{login}"})
    if rng.random() < 0.85:
        slug = f"{first.handle}-{last.handle}-{n:x}"
        out.append({"kind": "linkedin", "url": f"https://www.linkedin.com/in/{slug}"})
    if rng.random() < 0.25:
        out.append({"kind": "website", "url": f"https://{first.handle}{last.handle}.dev"})
    return out


def preferences(rng: random.Random, country: Country, seniority: str, years: int) -> dict[str, Any]:
    expectation = None
    if rng.random() < 0.75:
        mid = sum(country.mid_band) / 2 * SENIORITY_PAY[seniority] * rng.uniform(0.9, 1.25)
        amount = int(mid / country.pay_step) * country.pay_step
        expectation = {"amount": amount, "currency": country.currency}
    kinds = ["full_time"]
    if rng.random() < 0.2:
        kinds.append("contract")
    if rng.random() < 0.05:
        kinds.append("part_time")
    if years == 0:
        kinds.append("internship")
    return {
        "remote": rng.random() < 0.45,
        "locations": rng.sample(country.cities, min(len(country.cities), rng.randint(1, 2))),
        "salary_expectation": expectation,
        "employment_types": kinds,
    }


def attributes(rng: random.Random, country: Country, family: str) -> dict[str, Any]:
    """Each key is present only for some candidates, so no two profiles share a shape."""
    out: dict[str, Any] = {}
    if rng.random() < 0.7:
        out["notice_period_days"] = rng.choice(NOTICE_DAYS)
    if rng.random() < 0.5:
        out["visa_sponsorship_required"] = rng.random() < 0.3
    if rng.random() < 0.6:
        native = LANGUAGES.get(country.code, ())
        out["languages"] = ["English", *rng.sample(native, min(len(native), rng.randint(0, 2)))]
    if rng.random() < 0.3:
        out["certifications"] = rng.sample(CERTIFICATIONS, rng.randint(1, 2))
    if rng.random() < 0.35:
        out["open_source_projects"] = rng.randint(1, 25)
    if rng.random() < 0.4:
        out["willing_to_relocate"] = rng.random() < 0.5
    if family == "ml" and rng.random() < 0.5:
        out["publications"] = rng.randint(1, 12)
    if rng.random() < 0.15:
        out["hackathons_won"] = rng.randint(1, 4)
    return out

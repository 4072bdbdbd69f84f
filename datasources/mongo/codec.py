"""Candidate document <-> record conversion. Tolerant of missing optional parts.

Writing: `doc_from_new` builds a whole profile document, `part_doc` one part's stored
value. Dates are written as UTC and truncated to milliseconds (BSON's precision), so a
record built from a document we wrote equals the one read back later.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from domain.commands import NewCandidate
from domain.enums import EmploymentType
from domain.records import (
    Candidate,
    Education,
    Experience,
    Link,
    Location,
    Money,
    Preferences,
    Skill,
)


def _utc(value: datetime | None) -> datetime | None:
    # BSON dates come back naive unless the client is tz_aware; be explicit either way.
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _money(doc: Mapping[str, Any] | None) -> Money | None:
    if not doc:
        return None
    return Money(amount=int(doc["amount"]), currency=str(doc["currency"]))


def _preferences(doc: Mapping[str, Any]) -> Preferences:
    return Preferences(
        remote=bool(doc.get("remote", False)),
        locations=tuple(doc.get("locations", ())),
        salary_expectation=_money(doc.get("salary_expectation")),
        employment_types=tuple(EmploymentType(t) for t in doc.get("employment_types", ())),
    )


def candidate_from_doc(doc: Mapping[str, Any]) -> Candidate:
    loc = doc.get("location") or {}
    created = _utc(doc["created_at"])
    updated = _utc(doc["updated_at"])
    assert created is not None
    assert updated is not None
    return Candidate(
        id=str(doc["_id"]),
        name=doc["name"],
        email=doc["email"],
        phone=doc.get("phone"),
        headline=doc.get("headline"),
        summary=doc.get("summary"),
        location=Location(city=loc.get("city"), country=loc.get("country")),
        skills=tuple(
            Skill(name=s["name"], level=int(s["level"]), years=float(s.get("years", 0)))
            for s in doc.get("skills", ())
        ),
        experience=tuple(
            Experience(
                company=e["company"],
                title=e["title"],
                start=_utc(e["start"]) or created,
                end=_utc(e.get("end")),
                highlights=tuple(e.get("highlights", ())),
            )
            for e in doc.get("experience", ())
        ),
        education=tuple(
            Education(
                institution=e["institution"],
                degree=e["degree"],
                field=e.get("field"),
                start_year=e.get("start_year"),
                end_year=e.get("end_year"),
            )
            for e in doc.get("education", ())
        ),
        links=tuple(Link(kind=lk["kind"], url=lk["url"]) for lk in doc.get("links", ())),
        preferences=_preferences(doc.get("preferences") or {}),
        years_experience=int(doc.get("years_experience", 0)),
        version=int(doc.get("version", 1)),
        created_at=created,
        updated_at=updated,
        attributes=dict(doc.get("attributes") or {}),
    )


_WORD = re.compile(r"\w+")


def search_terms(*texts: str | None) -> list[str]:
    """Sorted unique lower-cased word tokens of name and headline (the prefix search's)."""
    return sorted({t for text in texts if text for t in _WORD.findall(text.lower())})


def bson_date(value: datetime) -> datetime:
    """UTC, millisecond precision: exactly what a BSON date holds (naive is taken as UTC)."""
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _skill_doc(s: Skill) -> dict[str, Any]:
    return {"name": s.name, "level": int(s.level), "years": float(s.years)}


def _experience_doc(e: Experience) -> dict[str, Any]:
    return {
        "company": e.company,
        "title": e.title,
        "start": bson_date(e.start),
        "end": bson_date(e.end) if e.end else None,
        "highlights": list(e.highlights),
    }


def _education_doc(e: Education) -> dict[str, Any]:
    return {
        "institution": e.institution,
        "degree": e.degree,
        "field": e.field,
        "start_year": e.start_year,
        "end_year": e.end_year,
    }


def _preferences_doc(p: Preferences) -> dict[str, Any]:
    money = p.salary_expectation
    return {
        "remote": p.remote,
        "locations": list(p.locations),
        "salary_expectation": {"amount": money.amount, "currency": money.currency}
        if money
        else None,
        "employment_types": [str(t) for t in p.employment_types],
    }


def part_doc(name: str, value: Any) -> Any:
    """The stored form of one profile part (`domain.profile_patch.PARTS`, `years_experience`)."""
    if name == "location":
        return {"city": value.city, "country": value.country}
    if name == "skills":
        return [_skill_doc(s) for s in value]
    if name == "experience":
        return [_experience_doc(e) for e in value]
    if name == "education":
        return [_education_doc(e) for e in value]
    if name == "links":
        return [{"kind": lk.kind, "url": lk.url} for lk in value]
    if name == "preferences":
        return _preferences_doc(value)
    if name == "attributes":
        return dict(value)
    if name == "years_experience":
        return int(value)
    return value  # name, email, phone, headline, summary


def doc_from_new(new: NewCandidate, *, years_experience: int, now: datetime) -> dict[str, Any]:
    """A profile document at version 1, without `_id` (the caller chooses it)."""
    doc = {
        name: part_doc(name, getattr(new, name))
        for name in (
            "name", "email", "phone", "headline", "summary", "location", "skills",
            "experience", "education", "links", "preferences", "attributes",
        )
    }  # fmt: skip
    at = bson_date(now)
    doc.update(
        years_experience=int(years_experience),
        search_terms=search_terms(new.name, new.headline),
        version=1,
        created_at=at,
        updated_at=at,
    )
    return doc

"""Candidate document <-> record conversion. Tolerant of missing optional parts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

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

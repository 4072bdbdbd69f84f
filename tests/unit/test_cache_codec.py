"""The entity codec's round trip is exact, or refused (hypothesis is not installed, so a
broad set of examples: every record type, None fields, nested tuples, offsets)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from bson.tz_util import utc as bson_utc

import tests.factories as f
from datasources.cache.codec import RecordCodec, Uncacheable
from domain.enums import CompanySize, EmploymentType, JobStatus
from domain.records import (
    Application,
    Candidate,
    Company,
    Education,
    Experience,
    Job,
    Link,
    Money,
    Preferences,
    Skill,
)

IST = timezone(timedelta(hours=5, minutes=30))
PROFILE = f.candidate(
    phone="+91 99999 00000",
    summary='Ships things. 日本語 and emoji 🚀, quotes " and \\ backslashes',
    skills=(Skill("python", 5, 6.5), Skill("go", 1, 0.0)),
    experience=(
        Experience("Acme", "SRE", datetime(2019, 1, 1, tzinfo=IST), None),
        Experience(
            "Initech",
            "Dev",
            datetime(2015, 3, 4, 5, 6, 7, 891011, tzinfo=bson_utc),
            datetime(2019, 1, 1, tzinfo=UTC),
            ("a", "b"),
        ),
    ),
    education=(Education("IIT", "BTech", None, 2011, None),),
    links=(Link("github", "https://github.com/x"),),
    preferences=Preferences(
        False,
        ("Pune", "Remote"),
        Money(2_000_000, "INR"),
        (EmploymentType.FULL_TIME, EmploymentType.CONTRACT),
    ),
    attributes={"notice": 30, "nested": {"list": [1, 2.5, None, True, "x"]}, "big": 2**62},
)
EXAMPLES: list[Any] = [
    f.company(1),
    f.company(2, size=None, headquarters=None, founded_year=None, website="https://x.io"),
    f.company(3, size=CompanySize.S51_200, created_at=datetime(2000, 1, 1)),  # naive
    f.job(1),
    f.job(2, status=JobStatus.DRAFT, posted_at=None, skills=(), city=None, salary_min=None),
    f.job(3, posted_at=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=IST), salary_currency=None),
    f.application(1, 2, f.cid(3)),
    f.candidate(),
    PROFILE,
    replace(PROFILE, attributes={}),
]


@pytest.mark.parametrize("record", EXAMPLES, ids=lambda r: f"{type(r).__name__}-{r.id}")
def test_round_trip_is_exact(record: Any) -> None:
    codec = RecordCodec(type(record))
    back = codec.decode(codec.encode(record))
    assert back == record
    assert type(back) is type(record)
    for name in ("created_at", "posted_at", "applied_at"):
        if getattr(record, name, None) is not None:
            assert getattr(back, name).utcoffset() == getattr(record, name).utcoffset()


def test_entries_are_compact_positional_arrays() -> None:
    data = RecordCodec(Job).encode(f.job(1))
    assert data.startswith(b"[1,1,")  # id, company_id: values only, no field names
    assert b'"hybrid"' in data  # enums as their values


@pytest.mark.parametrize(
    "attributes",
    [{"at": datetime(2020, 1, 1, tzinfo=UTC)}, {"t": (1, 2)}, {1: "x"}, {"f": float("nan")}],
)
def test_what_json_would_change_is_refused(attributes: dict[Any, Any]) -> None:
    with pytest.raises(Uncacheable):
        RecordCodec(Candidate).encode(f.candidate(attributes=attributes))


def test_bytes_of_another_shape_do_not_decode() -> None:
    with pytest.raises(ValueError, match="values for"):
        RecordCodec(Application).decode(RecordCodec(Company).encode(f.company(1)))
    assert RecordCodec(Job).decode(RecordCodec(Job).encode(f.job(4))) == f.job(4)

"""Candidate documents for the Mongo `candidates` collection.

Documents pass the collection's $jsonSchema validator (datasources/mongo/bootstrap.py):
`level`, `version` and `years_experience` are Python ints (BSON int32), skill `years` are
floats, dates are timezone-aware UTC datetimes. `_id` and `created_at` come from
`CandidateIds`, so applications can reference a candidate before it is written.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

from datasources.mongo.codec import search_terms
from datasources.seed.companies import company_name
from datasources.seed.geography import COUNTRIES, fill_digits
from datasources.seed.plan import CandidateIds
from datasources.seed.pools import Pools
from datasources.seed.profile import attributes, education, experience, links, preferences
from datasources.seed.scale import ANCHOR
from datasources.seed.text import summary
from datasources.seed.vocabulary import DISPLAY, FAMILIES, PRACTICES, Family, Role

_DOMAINS = ("example.com", "example.org", "example.net", "mail.example")
# (weight, lowest, highest) years of experience, and the seniority such a profile reads as
_YEARS = ((8, 0, 1, "junior"), (30, 2, 4, "mid"), (30, 5, 8, "senior"),
          (18, 9, 12, "lead"), (14, 13, 20, "principal"))  # fmt: skip
_YEARS_CUM = tuple(accumulate(y[0] for y in _YEARS))
_HEADLINE_PREFIX = {"junior": "Junior", "mid": "", "senior": "Senior", "lead": "Lead",
                    "principal": "Staff"}  # fmt: skip


def _skill(rng: random.Random, name: str, years: float) -> dict[str, Any]:
    years = max(0.5, round(years, 1))
    return {"name": name, "level": max(1, min(5, int(years // 2) + rng.randint(1, 2))),
            "years": years}  # fmt: skip


def _skills(rng: random.Random, family: Family, role: Role, years: int) -> list[Any]:
    """3-12 skills: a stack fitting the role (two for some seniors) first, then tools.
    Levels follow the years a skill has been used."""
    stack = list(rng.choice(family.stacks_for(role)))
    if years >= 6 and rng.random() < 0.4:
        stack.extend(rng.choice(family.stacks))
    stack = list(dict.fromkeys(stack))
    count = max(len(stack), rng.randint(3, 12))
    tools = [t for t in rng.sample(family.tools, len(family.tools)) if t not in stack]
    if rng.random() < 0.5:
        tools.insert(0, rng.choice([p for p in PRACTICES if p not in stack]))
    out = [_skill(rng, name, years * rng.uniform(0.5, 1.0)) for name in stack[:12]]
    out += [_skill(rng, name, years * rng.uniform(0.15, 0.8)) for name in tools]
    return out[: min(count, 12)]


class CandidateFactory:
    """Builds candidate `i`'s document; call `documents()` once, in index order."""

    def __init__(self, seed: int, ids: CandidateIds, pools: Pools) -> None:
        self._rng = random.Random(f"{seed}/candidates")
        self._ids = ids
        self._pools = pools
        rng = random.Random(f"{seed}/past-employers")
        self._employers = tuple(company_name(rng, pools) for _ in range(2_000))

    def documents(self) -> Iterator[dict[str, Any]]:
        for i in range(self._ids.count):
            yield self.document(i)

    def document(self, i: int) -> dict[str, Any]:
        rng = self._rng
        family = FAMILIES[self._ids.families[i]]
        country = COUNTRIES[self._ids.countries[i]]
        names = self._pools.names[country.name_locale]
        first, last = rng.choice(names.first), rng.choice(names.last)
        _, low, high, seniority = rng.choices(_YEARS, cum_weights=_YEARS_CUM)[0]
        years = rng.randint(low, high)
        role = rng.choice(family.roles)
        skills = _skills(rng, family, role, years)
        top = [s["name"] for s in skills]
        name = f"{first.display} {last.display}"
        headline = f"{_HEADLINE_PREFIX[seniority]} {role.title}".strip()
        headline += " · " + ", ".join(DISPLAY[s] for s in top[:2])
        created = datetime.fromtimestamp(self._ids.timestamp(i), UTC)
        history = experience(
            rng, years=years, role=role.title, created=created, employers=self._employers,
            skills=top[:3],
        )  # fmt: skip
        return {
            "_id": self._ids.object_id(i),
            "name": name,
            "email": f"{first.handle}.{last.handle}.{i + 1}@{rng.choice(_DOMAINS)}",
            "phone": fill_digits(country.phone, rng.getrandbits(48))
            if rng.random() < 0.85
            else None,
            "headline": headline,
            "summary": summary(rng, role.title, years, top),
            "location": {"city": rng.choice(country.cities), "country": country.code},
            "skills": skills,
            "experience": history,
            "education": education(rng, country, history[0]["start"].year),
            "links": links(rng, first, last, i + 1),
            "preferences": preferences(rng, country, seniority, years),
            "attributes": attributes(rng, country, family.name),
            "years_experience": years,
            "search_terms": search_terms(name, headline),
            "version": 1,
            "created_at": created,
            "updated_at": created
            + timedelta(seconds=int((ANCHOR - created).total_seconds() * rng.random() ** 2)),
        }

"""Company rows: unique names and slugs, industries, size bands, HQ, founding year.

The two employers of the real postings take ids 1 and 2 (see `postings`); generated
companies follow from id 3. `CompanyDirectory` also carries what job planning needs:
each company's HQ country and how many jobs it tends to post.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from datasources.seed.geography import COUNTRIES, COUNTRY_WEIGHTS
from datasources.seed.pools import Pools, slugify
from datasources.seed.rows import CompanyRow
from datasources.seed.scale import ANCHOR

# fmt: off
INDUSTRIES: dict[str, tuple[str, ...]] = {
    "Fintech": ("payment infrastructure for online merchants", "lending software for banks",
                "a business banking app for small companies"),
    "HealthTech": ("clinical scheduling software for hospitals", "a telemedicine platform",
                   "remote patient monitoring"),
    "E-commerce": ("a marketplace for independent brands", "checkout and fulfilment tooling",
                   "same-day grocery delivery"),
    "SaaS": ("workflow automation for operations teams", "a customer support platform",
             "billing and subscription management"),
    "EdTech": ("live online classes for engineering students", "adaptive test preparation"),
    "Logistics": ("route optimisation for delivery fleets", "freight visibility software"),
    "Cybersecurity": ("cloud security posture management", "identity and access tooling"),
    "Developer Tools": ("a hosted CI platform", "API monitoring and testing tools",
                        "feature-flag infrastructure"),
    "Gaming": ("multiplayer mobile games", "backend services for game studios"),
    "InsurTech": ("usage-based motor insurance", "claims automation for insurers"),
    "Travel": ("corporate travel booking", "hotel distribution software"),
    "Media & Streaming": ("a podcast streaming service", "video infrastructure for creators"),
    "Mobility": ("an EV charging network", "ride-hailing for tier-2 cities"),
    "Climate Tech": ("carbon accounting software", "energy analytics for buildings"),
    "HR Tech": ("payroll and benefits software", "an applicant tracking system"),
    "Artificial Intelligence": ("document understanding models", "LLM-powered support agents"),
    "AdTech": ("programmatic advertising", "retail media analytics"),
    "Telecommunications": ("cloud communications APIs", "network analytics for carriers"),
}
# fmt: on
SUFFIXES = (
    "Labs",
    "Technologies",
    "Systems",
    "AI",
    "Cloud",
    "Software",
    "Analytics",
    "Digital",
    "Networks",
    "Data",
    "Tech",
    "Works",
    "Platforms",
)
PREFIXES = (
    "Nimbus",
    "Quanta",
    "Vertex",
    "Helio",
    "Astra",
    "Lumen",
    "Cobalt",
    "Kite",
    "Orbit",
    "Pixel",
    "Flux",
    "Bright",
    "Clear",
    "Swift",
    "Blue",
    "Iron",
    "Open",
    "True",
    "Deep",
    "Sky",
    "Zephyr",
    "Juniper",
    "Granite",
    "Saffron",
    "Monsoon",
    "Tidal",
    "Ember",
    "Nova",
)
STEMS = (
    "stack",
    "wave",
    "grid",
    "byte",
    "loop",
    "forge",
    "path",
    "leaf",
    "mint",
    "pay",
    "scale",
    "hub",
    "bit",
    "sense",
    "ware",
    "line",
    "lane",
    "mind",
    "desk",
    "ly",
)
SIZE_BANDS: tuple[str, ...] = ("1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+")
_SIZE_WEIGHTS = (8, 25, 30, 20, 10, 7)
_HIRING = (1.0, 2.0, 4.0, 7.0, 12.0, 20.0)  # relative jobs posted, by size band
_FOUNDED = ((2018, 2025), (2012, 2024), (2008, 2022), (2000, 2018), (1990, 2012), (1970, 2005))
_TLDS = ("com", "io", "ai", "co", "dev", "tech")


@dataclass(frozen=True, slots=True)
class CompanyDirectory:
    rows: tuple[CompanyRow, ...]
    countries: tuple[str, ...]  # HQ country code per row
    hiring: tuple[float, ...]  # relative share of generated jobs per row (0: none)

    def by_id(self, company_id: int) -> CompanyRow:
        return self.rows[company_id - 1]


def company_name(rng: random.Random, pools: Pools) -> str:
    """ "Parker Labs", "Cobaltforge", "Nimbuspay Analytics"."""
    if rng.random() < 0.6:
        return f"{rng.choice(pools.company_bases)} {rng.choice(SUFFIXES)}"
    brand = rng.choice(PREFIXES) + rng.choice(STEMS)
    return brand if rng.random() < 0.4 else f"{brand} {rng.choice(SUFFIXES)}"


def _unique_name(rng: random.Random, pools: Pools, taken: set[str]) -> tuple[str, str]:
    for _ in range(50):
        name = company_name(rng, pools)
        slug = slugify(name)
        if slug and slug not in taken:
            taken.add(slug)
            return name, slug
    # Only reached when the pools are nearly exhausted: a counter makes it unique.
    name = f"{company_name(rng, pools)} {len(taken) + 1}"
    taken.add(slugify(name))
    return name, slugify(name)


def _description(rng: random.Random, name: str, industry: str, hq: str, year: int) -> str:
    product = rng.choice(INDUSTRIES[industry])
    return (
        f"{name} builds {product}. Founded in {year} and headquartered in {hq}, "
        f"the company works across {rng.randint(2, 40)} markets and ships weekly."
    )


def _company(rng: random.Random, pools: Pools, cid: int, taken: set[str]) -> tuple[CompanyRow, str]:
    name, slug = _unique_name(rng, pools, taken)
    industry = rng.choice(tuple(INDUSTRIES))
    band = rng.choices(range(len(SIZE_BANDS)), _SIZE_WEIGHTS)[0]
    country = rng.choices(COUNTRIES, COUNTRY_WEIGHTS)[0]
    hq = f"{rng.choice(country.cities)}, {country.name}"
    year = rng.randint(*_FOUNDED[band])
    created = ANCHOR - timedelta(days=rng.randint(200, 2000), seconds=rng.randrange(86_400))
    row = CompanyRow(
        id=cid,
        slug=slug,
        name=name,
        industry=industry,
        size_band=SIZE_BANDS[band],
        headquarters=hq,
        website=f"https://www.{slug.replace('-', '')}.{rng.choice(_TLDS)}",
        founded_year=year,
        description=_description(rng, name, industry, hq, year),
        created_at=created,
        updated_at=ANCHOR - timedelta(days=rng.randint(1, 190), seconds=rng.randrange(86_400)),
    )
    return row, country.code


def build_companies(
    seed: int, count: int, pools: Pools, fixed: tuple[CompanyRow, ...]
) -> CompanyDirectory:
    """`fixed` rows first (ids 1..len(fixed)), then generated ones up to `count` in all."""
    rng = random.Random(f"{seed}/companies")
    taken = {row.slug for row in fixed}
    rows = list(fixed)
    countries = ["IN"] * len(fixed)  # both real postings' employers hire in India
    hiring = [0.0] * len(fixed)  # and post nothing beyond their real postings
    for cid in range(len(fixed) + 1, count + 1):
        row, country = _company(rng, pools, cid, taken)
        rows.append(row)
        countries.append(country)
        band = SIZE_BANDS.index(row.size_band or "1-10")
        hiring.append(_HIRING[band] * rng.lognormvariate(0.0, 0.6))
    return CompanyDirectory(tuple(rows), tuple(countries), tuple(hiring))

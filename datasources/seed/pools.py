"""Name pools drawn once from Faker, so hot loops pick from tuples instead of calling Faker.

Every pool is built from Faker instances seeded from the run's seed, so a seed fixes the
pools as well as every pick from them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from faker import Faker

from datasources.seed.geography import SG_FIRST, SG_LAST

_FAKER_LOCALES: tuple[str, ...] = (
    "en_IN",
    "en_US",
    "en_GB",
    "de_DE",
    "nl_NL",
    "fr_FR",
    "es_ES",
)
_NAMES_PER_LOCALE = 400
_COMPANY_BASES_PER_LOCALE = 500
_LEGAL_FORMS = re.compile(
    r"\b(LLC|Ltd|PLC|Inc|Group|and Sons|GmbH|AG|KG|KGaA|GbR|OHG|Co|II|III|SA|SL|SARL|BV)\b\.?"
)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def ascii_fold(text: str) -> str:
    """'José Müller' -> 'jose muller': lower-case ASCII for slugs, e-mails and handles."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def slugify(text: str) -> str:
    """A slug matching `^[a-z0-9]+(-[a-z0-9]+)*$` (empty only if `text` has no letters)."""
    return _NOT_SLUG.sub("-", ascii_fold(text)).strip("-")


def handle(text: str) -> str:
    """Letters and digits only: the local part of an e-mail, a GitHub login."""
    return _NOT_SLUG.sub("", ascii_fold(text))


@dataclass(frozen=True, slots=True)
class PersonName:
    display: str
    handle: str  # ascii, lower-case, letters and digits only


@dataclass(frozen=True, slots=True)
class NamePool:
    first: tuple[PersonName, ...]
    last: tuple[PersonName, ...]


@dataclass(frozen=True, slots=True)
class Pools:
    names: dict[str, NamePool]  # by name locale (see Country.name_locale)
    company_bases: tuple[str, ...]  # surname-like stems: "Parker", "Chadwick-Jones"


def _person_names(values: list[str]) -> tuple[PersonName, ...]:
    # Faker's nl_NL yields "Bourgondië, van"; drop such inverted forms.
    unique = dict.fromkeys(v for v in values if "," not in v and handle(v))
    return tuple(PersonName(v, handle(v)) for v in unique)


def _company_base(company: str) -> str:
    head = company.split(",")[0].split(" and ")[0]
    return " ".join(_LEGAL_FORMS.sub("", head).replace("&", " ").split())


def build_pools(seed: int) -> Pools:
    """Draw the name and company pools for `seed` (about 0.3 s)."""
    names: dict[str, NamePool] = {}
    bases: dict[str, None] = {}
    for offset, locale in enumerate(_FAKER_LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed * 31 + offset)
        firsts = [fake.first_name() for _ in range(_NAMES_PER_LOCALE)]
        lasts = [fake.last_name() for _ in range(_NAMES_PER_LOCALE)]
        names[locale] = NamePool(_person_names(firsts), _person_names(lasts))
        if locale in ("en_IN", "en_US", "en_GB"):
            for _ in range(_COMPANY_BASES_PER_LOCALE):
                base = _company_base(fake.company())
                if base and slugify(base):
                    bases[base] = None
    names["sg"] = NamePool(_person_names(list(SG_FIRST)), _person_names(list(SG_LAST)))
    return Pools(names=names, company_bases=tuple(bases))

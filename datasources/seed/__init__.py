"""Deterministic, realistic bulk seeding of the relational and document stores.

`seed_stores(pg_dsn, mongo_db, SCALES["small"], seed=42)` fills companies, jobs and
applications (PostgreSQL, binary COPY) and candidates (Mongo, unordered insert_many).
The same seed always gives byte-identical data; dates are relative to `ANCHOR`.
"""

from datasources.seed.dataset import Dataset
from datasources.seed.report import EntityStats, SeedReport
from datasources.seed.run import SeedTargetNotEmpty, seed_stores
from datasources.seed.scale import ANCHOR, SCALES, Scale

__all__ = [
    "ANCHOR",
    "SCALES",
    "Dataset",
    "EntityStats",
    "Scale",
    "SeedReport",
    "SeedTargetNotEmpty",
    "seed_stores",
]

"""SQLAlchemy Core metadata for the relational side.

The Alembic migrations are the source of truth for DDL (indexes, generated columns,
constraints); these Table objects describe the columns that queries read and write.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR, UUID

from domain.enums import (
    ApplicationStatus,
    CompanySize,
    EmploymentType,
    JobStatus,
    RemotePolicy,
    Seniority,
)

metadata = MetaData()


def _pg_enum(enum_cls: type, name: str) -> Enum:
    # Stored spellings are the enum *values* (lower case), not the member names.
    return Enum(
        enum_cls,
        name=name,
        values_callable=lambda e: [m.value for m in e],
        create_type=False,
        validate_strings=True,
    )


remote_policy = _pg_enum(RemotePolicy, "remote_policy")
employment_type = _pg_enum(EmploymentType, "employment_type")
seniority = _pg_enum(Seniority, "seniority")
job_status = _pg_enum(JobStatus, "job_status")
application_status = _pg_enum(ApplicationStatus, "application_status")
company_size = _pg_enum(CompanySize, "company_size")

companies = Table(
    "companies",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("slug", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("industry", Text, nullable=False),
    Column("size_band", company_size),
    Column("headquarters", Text),
    Column("website", Text),
    Column("founded_year", SmallInteger),
    Column("description", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("company_id", BigInteger, ForeignKey("companies.id"), nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("location", Text, nullable=False),
    Column("city", Text),
    Column("country", String(2), nullable=False),
    Column("remote", remote_policy, nullable=False),
    Column("employment_type", employment_type, nullable=False),
    Column("seniority", seniority, nullable=False),
    Column("experience_min", SmallInteger),
    Column("experience_max", SmallInteger),
    Column("salary_min", Integer),
    Column("salary_max", Integer),
    Column("salary_currency", String(3)),
    Column("skills", ARRAY(Text), nullable=False),
    Column("status", job_status, nullable=False),
    Column("posted_at", DateTime(timezone=True)),
    Column("search", TSVECTOR),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# One row per (job, skill), kept by triggers (migration 0006) for the analytics that
# group or count by skill; a job without skills has one row with skill NULL. The
# copied columns have the jobs columns' names and types, so `job_conditions` applies.
job_skills = Table(
    "job_skills",
    metadata,
    Column("job_id", BigInteger, ForeignKey("jobs.id"), primary_key=True),
    Column("ord", Integer, primary_key=True),
    Column("skill", Text(collation="C")),
    Column("status", job_status, nullable=False),
    Column("company_id", BigInteger, nullable=False),
    Column("country", String(2), nullable=False),
    Column("city", Text),
    Column("remote", remote_policy, nullable=False),
    Column("employment_type", employment_type, nullable=False),
    Column("seniority", seniority, nullable=False),
    Column("posted_at", DateTime(timezone=True)),
    Column("salary_min", Integer),
    Column("salary_max", Integer),
    Column("salary_currency", String(3, collation="C")),
    Column("salary", Float),  # generated: the midpoint of the range, or its one bound
)

applications = Table(
    "applications",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("job_id", BigInteger, ForeignKey("jobs.id"), nullable=False),
    Column("candidate_id", String(24), nullable=False),
    Column("status", application_status, nullable=False),
    Column("source", Text, nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("scopes", ARRAY(Text), nullable=False),
    Column("company_id", BigInteger, ForeignKey("companies.id")),
    Column("candidate_id", Text),
    Column("rate_limit", Text),
    Column("cost_budget", Integer),
    Column("trusted_documents_only", Boolean, nullable=False),
    Column("key_hash", LargeBinary, nullable=False, unique=True),
    Column("prefix", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
)

trusted_documents = Table(
    "trusted_documents",
    metadata,
    Column("key_id", Text, ForeignKey("api_keys.id"), primary_key=True),
    Column("sha256", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

application_history = Table(
    "application_history",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("application_id", BigInteger, ForeignKey("applications.id"), nullable=False),
    Column("from_status", application_status),
    Column("to_status", application_status, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("by_subject", Text),
    Column("note", Text),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("event_id", UUID(as_uuid=False), nullable=False, unique=True),
    Column("event_type", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("aggregate_type", Text, nullable=False),
    Column("aggregate_id", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("published_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", Text, primary_key=True),
    Column("viewer", Text, primary_key=True),
    Column("request_hash", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("response_status", Integer),
    Column("response_body", LargeBinary),
    Column("response_content_type", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

processed_events = Table(
    "processed_events",
    metadata,
    Column("consumer", Text, primary_key=True),
    Column("event_id", UUID(as_uuid=False), primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False),
)

# Board-wide jobStats precomputed by the worker (migration 0007, datasources.postgres.rollup).
analytics_rollups = Table(
    "analytics_rollups",
    metadata,
    Column("name", Text, primary_key=True),
    Column("snapshot", BigInteger),
    Column("refreshed_at", DateTime(timezone=True)),
    Column("dirty_since", DateTime(timezone=True)),
    Column("pending_since", DateTime(timezone=True)),
)

job_stats_rollup = Table(
    "job_stats_rollup",
    metadata,
    Column("snapshot", BigInteger, nullable=False),
    Column("grouping", Integer, nullable=False),
    Column("g_company", BigInteger),
    Column("g_industry", Text(collation="C")),
    Column("g_country", Text(collation="C")),
    Column("g_city", Text(collation="C")),
    Column("g_remote", remote_policy),
    Column("g_employment_type", employment_type),
    Column("g_seniority", seniority),
    Column("g_skill", Text(collation="C")),
    Column("g_posted_week", DateTime),
    Column("g_posted_month", DateTime),
    Column("currency", Text(collation="C")),
    Column("n", BigInteger, nullable=False),
    Column("n_salary", BigInteger, nullable=False),
    Column("lo", Float),
    Column("hi", Float),
    Column("avg", Float),
    Column("p50", Float),
    Column("p90", Float),
)

"""Indexes for the read graph's filters and orders.

- SALARY_MAX order sorts jobs without a salary as -1, so the keyset runs on
  coalesce(salary_max, -1): ix_jobs_status_salary_id becomes an expression index.
- City filters are case-insensitive: ix_jobs_city_lower on lower(city).
- Company search by name prefix/substring: ix_companies_name_lower (lower(name)).
- Company order CREATED_AT: ix_companies_created_id.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_jobs_status_salary_id")
    op.execute(
        "CREATE INDEX ix_jobs_status_salary_id "
        "ON jobs (status, coalesce(salary_max, -1) DESC, id DESC)"
    )
    op.execute("CREATE INDEX ix_jobs_city_lower ON jobs (lower(city))")
    op.execute("CREATE INDEX ix_companies_name_lower ON companies (lower(name) text_pattern_ops)")
    op.execute("CREATE INDEX ix_companies_created_id ON companies (created_at, id)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_companies_created_id")
    op.execute("DROP INDEX IF EXISTS ix_companies_name_lower")
    op.execute("DROP INDEX IF EXISTS ix_jobs_city_lower")
    op.execute("DROP INDEX IF EXISTS ix_jobs_status_salary_id")
    op.execute("CREATE INDEX ix_jobs_status_salary_id ON jobs (status, salary_max DESC, id DESC)")

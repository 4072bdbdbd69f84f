"""job_stats_rollup: board-wide `jobStats` precomputed, refreshed after job changes.

At large scale (200k jobs, 1.4M job_skills rows) a `jobStats` grouping is a sort of
every open job (or every (job, skill) row) and a percentile per group: 0.2-1.8 s on two
shared cores, whatever the indexes. Exact percentiles do not merge, so the grouping
sets that board-wide dashboards ask for are computed whole, by the worker
(`datasources.postgres.rollup`), and read back as rows:

- `job_stats_rollup`: one row per (snapshot, grouping set, group keys, currency) with
  the same figures the live statement returns (count, salary count, min, max, avg, p50,
  p90). `grouping` is the set as a bit mask (`domain.analytics.rollup_mask`). Readers
  look up one snapshot's rows of one set, largest `n` first (`ix_job_stats_rollup`).
- `analytics_rollups`: one row per rollup: the snapshot readers use, the time its data
  is as of (`refreshed_at`), and since when it may be stale: `dirty_since`, set by the
  first change to its source after a refresh began, and `pending_since`, the changes
  a refresh in progress is taking in (kept if it fails).
- Triggers on `jobs` (insert, delete, truncate, and updates of the columns the
  aggregates read) and on `companies` (industry) set `dirty_since` in the writing
  transaction, whoever writes (the job writes, the seeder's COPY, a manual UPDATE):
  statement-level, so a COPY batch costs one. The first writer after a refresh takes
  the row's lock to set it; every writer then holds a share lock on the row until it
  commits, so a refresh that clears the marker first waits for the writes already in
  flight (they are in its snapshot) and sees every later one mark it again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The job columns an aggregate reads: an UPDATE setting none of them (application_count,
# updated_at, the description) leaves every figure as it was.
READ_COLUMNS = (
    "status",
    "company_id",
    "country",
    "city",
    "remote",
    "employment_type",
    "seniority",
    "skills",
    "posted_at",
    "salary_min",
    "salary_max",
    "salary_currency",
)


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE analytics_rollups (
            name           text PRIMARY KEY,
            snapshot       bigint,
            refreshed_at   timestamptz,
            dirty_since    timestamptz,
            pending_since  timestamptz
        )
        """
    )
    op.execute("INSERT INTO analytics_rollups (name, dirty_since) VALUES ('job_stats', now())")
    op.execute("CREATE SEQUENCE analytics_snapshot_seq")
    op.execute(
        """
        CREATE TABLE job_stats_rollup (
            snapshot           bigint NOT NULL,
            grouping           integer NOT NULL,
            g_company          bigint,
            g_industry         text COLLATE "C",
            g_country          text COLLATE "C",
            g_city             text COLLATE "C",
            g_remote           remote_policy,
            g_employment_type  employment_type,
            g_seniority        seniority,
            g_skill            text COLLATE "C",
            g_posted_week      timestamp,
            g_posted_month     timestamp,
            currency           text COLLATE "C",
            n                  bigint NOT NULL,
            n_salary           bigint NOT NULL,
            lo                 double precision,
            hi                 double precision,
            avg                double precision,
            p50                double precision,
            p90                double precision
        )
        """
    )
    op.execute("CREATE INDEX ix_job_stats_rollup ON job_stats_rollup (snapshot, grouping, n DESC)")
    op.execute(
        """
        CREATE FUNCTION job_stats_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE analytics_rollups SET dirty_since = now()
                WHERE name = 'job_stats' AND dirty_since IS NULL;
            PERFORM 1 FROM analytics_rollups WHERE name = 'job_stats' FOR SHARE;
            RETURN NULL;
        END $$
        """
    )
    for event in ("INSERT", "DELETE", "TRUNCATE", f"UPDATE OF {', '.join(READ_COLUMNS)}"):
        suffix = event.split()[0].lower()
        op.execute(
            f"CREATE TRIGGER job_stats_{suffix} AFTER {event} ON jobs"
            " FOR EACH STATEMENT EXECUTE FUNCTION job_stats_changed()"
        )
    op.execute(
        "CREATE TRIGGER job_stats_industry AFTER UPDATE OF industry ON companies"
        " FOR EACH STATEMENT EXECUTE FUNCTION job_stats_changed()"
    )


def downgrade() -> None:
    for suffix in ("insert", "delete", "truncate", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS job_stats_{suffix} ON jobs")
    op.execute("DROP TRIGGER IF EXISTS job_stats_industry ON companies")
    op.execute("DROP FUNCTION IF EXISTS job_stats_changed()")
    op.execute("DROP TABLE IF EXISTS job_stats_rollup")
    op.execute("DROP SEQUENCE IF EXISTS analytics_snapshot_seq")
    op.execute("DROP TABLE IF EXISTS analytics_rollups")

"""job_skills: one row per (job, skill), for the analytics that group or count by skill.

`jobStats` grouped by SKILL and the demand side of `skillsGap` used to unnest
`jobs.skills` for every matching job (a function scan per job) and sort the result by
a key computed on the fly. This side table holds that unnest, already flattened, with
a copy of the job columns the analytics filters and group keys read (and the salary
value, the midpoint of the range, as float8), so those statements read it through
`ix_job_skills_status_skill`: index-only, already in skill order within a status.

- A job without skills has one row with `skill` NULL (ord 0): the table is exactly
  `jobs LEFT JOIN unnest(skills) WITH ORDINALITY`, which is what the SKILL grouping
  counts (its "no skill" bucket). Duplicate skills in an array keep one row each, as
  unnest does.
- Maintained by triggers in the writing transaction, whoever writes `jobs` (the job
  writes, the seeder's COPY, a manual INSERT): a statement trigger with a transition
  table for inserts (one INSERT ... SELECT per statement, so a COPY batch costs one
  statement), a row trigger for updates that change a copied column (not
  `application_count` or `updated_at` alone), and ON DELETE CASCADE for deletes (and
  TRUNCATE ... CASCADE).
- Text group keys (`skill`, `salary_currency`) are stored `COLLATE "C"`: they sort
  bytewise, as the jobs statements' group keys do, and match the index order.
- Backfilled here from the existing jobs.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The job columns copied into job_skills (same names, same types).
COPIED = (
    "status",
    "company_id",
    "country",
    "city",
    "remote",
    "employment_type",
    "seniority",
    "posted_at",
    "salary_min",
    "salary_max",
    "salary_currency",
)
_COLUMNS = ", ".join(COPIED)
_FROM_J = ", ".join(f"j.{c}" for c in COPIED)


def _rows_of(source: str) -> str:
    """INSERT the job_skills rows of every job in `source` (aliased j)."""
    return f"""
        INSERT INTO job_skills (job_id, ord, skill, {_COLUMNS})
        SELECT j.id, coalesce(s.ord, 0), s.skill, {_FROM_J}
        FROM {source} j LEFT JOIN LATERAL unnest(j.skills) WITH ORDINALITY AS s (skill, ord)
            ON true
    """  # noqa: S608 (no input: our own column names)


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE job_skills (
            job_id           bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            ord              integer NOT NULL,
            skill            text COLLATE "C",
            status           job_status NOT NULL,
            company_id       bigint NOT NULL,
            country          character(2) NOT NULL,
            city             text,
            remote           remote_policy NOT NULL,
            employment_type  employment_type NOT NULL,
            seniority        seniority NOT NULL,
            posted_at        timestamptz,
            salary_min       integer,
            salary_max       integer,
            salary_currency  character(3) COLLATE "C",
            salary           double precision GENERATED ALWAYS AS (coalesce(
                (salary_min::float8 + salary_max::float8) * 0.5,
                salary_min::float8, salary_max::float8)) STORED,
            PRIMARY KEY (job_id, ord)
        )
        """
    )
    op.execute(_rows_of("jobs"))
    op.execute(
        "CREATE INDEX ix_job_skills_status_skill ON job_skills (status, skill, salary_currency)"
        " INCLUDE (salary, seniority, company_id, country, city, remote, employment_type,"
        " posted_at, salary_min, salary_max)"
    )
    op.execute(
        f"""
        CREATE FUNCTION job_skills_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {_rows_of("inserted_jobs")};
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION job_skills_updated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM job_skills WHERE job_id = OLD.id;
            {_rows_of("(SELECT NEW.*) ")};
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER job_skills_insert AFTER INSERT ON jobs"
        " REFERENCING NEW TABLE AS inserted_jobs"
        " FOR EACH STATEMENT EXECUTE FUNCTION job_skills_inserted()"
    )
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in ("skills", *COPIED))
    op.execute(
        "CREATE TRIGGER job_skills_update AFTER UPDATE ON jobs FOR EACH ROW"
        f" WHEN ({changed}) EXECUTE FUNCTION job_skills_updated()"
    )
    op.execute("ANALYZE job_skills")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS job_skills_update ON jobs")
    op.execute("DROP TRIGGER IF EXISTS job_skills_insert ON jobs")
    op.execute("DROP FUNCTION IF EXISTS job_skills_updated()")
    op.execute("DROP FUNCTION IF EXISTS job_skills_inserted()")
    op.execute("DROP TABLE IF EXISTS job_skills")

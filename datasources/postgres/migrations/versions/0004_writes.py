"""The write side: application history, the transactional outbox, idempotency keys,
processed events (consumer deduplication) and denormalized application counters.

- application_history: every status move of an application (the first row is the
  submission, `from_status` NULL); the analytics funnel reads it.
- outbox: domain events written in the same transaction as the change; `hiregraph
  worker` claims unpublished rows with `FOR UPDATE SKIP LOCKED`, publishes them in `id`
  order (so in order per aggregate) and sets `published_at`.
- idempotency_keys: the stored response of a mutation request sent with an
  `Idempotency-Key` header, per viewer, for 24 hours.
- processed_events: the event ids each consumer has applied, written in the same
  transaction as the consumer's own change, so a duplicate delivery changes nothing.
- jobs.application_count: maintained by the counters consumer (eventually consistent).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE application_history (
            id              bigserial PRIMARY KEY,
            application_id  bigint NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
            from_status     application_status,
            to_status       application_status NOT NULL,
            at              timestamptz NOT NULL DEFAULT now(),
            by_subject      text,
            note            text CHECK (length(note) <= 2000)
        )
        """
    )
    op.execute("CREATE INDEX ix_application_history_app ON application_history (application_id, id)")
    op.execute(
        """
        CREATE TABLE outbox (
            id              bigserial PRIMARY KEY,
            event_id        uuid NOT NULL UNIQUE,
            event_type      text NOT NULL,
            version         integer NOT NULL DEFAULT 1,
            aggregate_type  text NOT NULL,
            aggregate_id    text NOT NULL,
            occurred_at     timestamptz NOT NULL,
            payload         jsonb NOT NULL,
            published_at    timestamptz,
            attempts        integer NOT NULL DEFAULT 0,
            last_error      text
        )
        """
    )
    op.execute("CREATE INDEX ix_outbox_unpublished ON outbox (id) WHERE published_at IS NULL")
    op.execute(
        """
        CREATE TABLE idempotency_keys (
            key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
            viewer          text NOT NULL,
            request_hash    text NOT NULL,
            status          text NOT NULL CHECK (status IN ('in_progress', 'done')),
            response_status integer,
            response_body   bytea,
            response_content_type text,
            created_at      timestamptz NOT NULL DEFAULT now(),
            expires_at      timestamptz NOT NULL,
            PRIMARY KEY (viewer, key)
        )
        """
    )
    op.execute("CREATE INDEX ix_idempotency_expires ON idempotency_keys (expires_at)")
    op.execute(
        """
        CREATE TABLE processed_events (
            consumer        text NOT NULL,
            event_id        uuid NOT NULL,
            processed_at    timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer, event_id)
        )
        """
    )
    op.execute("ALTER TABLE jobs ADD COLUMN application_count integer NOT NULL DEFAULT 0")
    op.execute(
        """
        UPDATE jobs SET application_count = c.n
        FROM (SELECT job_id, count(*) AS n FROM applications GROUP BY job_id) AS c
        WHERE c.job_id = jobs.id
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE jobs DROP COLUMN application_count")
    op.execute("DROP TABLE processed_events")
    op.execute("DROP TABLE idempotency_keys")
    op.execute("DROP TABLE outbox")
    op.execute("DROP TABLE application_history")

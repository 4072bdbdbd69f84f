"""API keys for third parties, and the trusted documents an API key may be limited to.

- api_keys: only the SHA-256 of the key's secret is stored (`key_hash`); the key is
  shown once by `hiregraph apikey create`. Lookup is by primary key (the public id
  inside the key), then a constant-time hash comparison. A role's required ids are
  enforced here as well as in the CLI.
- trusted_documents: SHA-256 hex of the exact document text a key may run, per key.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE api_keys (
            id                      text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{16}$'),
            name                    text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
            role                    text NOT NULL CHECK (
                role IN ('PUBLIC', 'CANDIDATE', 'RECRUITER', 'ANALYST', 'ADMIN')
            ),
            scopes                  text[] NOT NULL DEFAULT '{}',
            company_id              bigint REFERENCES companies (id) ON DELETE CASCADE,
            candidate_id            text,
            rate_limit              text,
            cost_budget             integer CHECK (cost_budget > 0),
            trusted_documents_only  boolean NOT NULL DEFAULT false,
            key_hash                bytea NOT NULL CHECK (length(key_hash) = 32),
            prefix                  text NOT NULL,
            created_at              timestamptz NOT NULL DEFAULT now(),
            revoked_at              timestamptz,
            last_used_at            timestamptz,
            CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash),
            CONSTRAINT api_keys_recruiter_company CHECK (
                role <> 'RECRUITER' OR company_id IS NOT NULL
            ),
            CONSTRAINT api_keys_candidate_id CHECK (
                role <> 'CANDIDATE' OR candidate_id IS NOT NULL
            )
        )
        """
    )
    op.execute("CREATE INDEX ix_api_keys_created ON api_keys (created_at, id)")
    op.execute(
        """
        CREATE TABLE trusted_documents (
            key_id      text NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
            sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
            name        text NOT NULL,
            created_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (key_id, sha256)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS trusted_documents")
    op.execute("DROP TABLE IF EXISTS api_keys")

"""Domain events: what happened, in a shape every store, relay and consumer shares.

An event is written in the same transaction as the change it describes (the outbox:
Postgres table `outbox`, Mongo collection `outbox`), relayed to the broker at least once
by `hiregraph worker`, and consumed idempotently (by `event_id`).

Envelope fields:
- `event_id`: a UUID (text), unique per event; consumers remember the ids they processed.
- `type`: one of `EVENT_TYPES`; `version`: the payload's schema version for that type.
- `aggregate_type`, `aggregate_id`: the entity it is about ("Job", "17"); the relay keeps
  order per aggregate, and the broker routing key is `hiregraph.<type>`.
- `occurred_at`: when the change committed (UTC); `payload`: JSON-compatible values only.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

JOB_POSTED: Final = "JobPosted"
JOB_UPDATED: Final = "JobUpdated"
JOB_PUBLISHED: Final = "JobPublished"
JOB_CLOSED: Final = "JobClosed"
COMPANY_CREATED: Final = "CompanyCreated"
COMPANY_UPDATED: Final = "CompanyUpdated"
CANDIDATE_CREATED: Final = "CandidateCreated"
CANDIDATE_PROFILE_UPDATED: Final = "CandidateProfileUpdated"
APPLICATION_SUBMITTED: Final = "ApplicationSubmitted"
APPLICATION_STATUS_CHANGED: Final = "ApplicationStatusChanged"

EVENT_TYPES: Final[Mapping[str, str]] = {
    # type -> aggregate type
    COMPANY_CREATED: "Company",
    COMPANY_UPDATED: "Company",
    JOB_POSTED: "Job",
    JOB_UPDATED: "Job",
    JOB_PUBLISHED: "Job",
    JOB_CLOSED: "Job",
    CANDIDATE_CREATED: "Candidate",
    CANDIDATE_PROFILE_UPDATED: "Candidate",
    APPLICATION_SUBMITTED: "Application",
    APPLICATION_STATUS_CHANGED: "Application",
}


@dataclass(frozen=True, slots=True)
class DomainEvent:
    type: str
    aggregate_id: str
    payload: Mapping[str, Any]
    version: int = 1
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {self.type!r}")

    @property
    def aggregate_type(self) -> str:
        return EVENT_TYPES[self.type]

    @property
    def routing_key(self) -> str:
        return f"hiregraph.{self.type}"

    def to_message(self) -> dict[str, Any]:
        """The wire form (JSON): the envelope and the payload."""
        return {
            "event_id": self.event_id,
            "type": self.type,
            "version": self.version,
            "aggregate_type": self.aggregate_type,
            "aggregate_id": self.aggregate_id,
            "occurred_at": self.occurred_at.isoformat(),
            "payload": dict(self.payload),
        }

    @classmethod
    def from_outbox(cls, record: Mapping[str, Any]) -> DomainEvent:
        """From an outbox row (Postgres) or document (Mongo): the same field names; a
        naive `occurred_at` (a BSON date read without tz_aware) is UTC."""
        occurred: datetime = record["occurred_at"]
        return cls(
            type=record["event_type"],
            aggregate_id=str(record["aggregate_id"]),
            payload=record.get("payload") or {},
            version=int(record.get("version", 1)),
            event_id=str(record["event_id"]),
            occurred_at=occurred if occurred.tzinfo else occurred.replace(tzinfo=UTC),
        )

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> DomainEvent:
        return cls(
            type=message["type"],
            aggregate_id=str(message["aggregate_id"]),
            payload=message.get("payload") or {},
            version=int(message.get("version", 1)),
            event_id=str(message["event_id"]),
            occurred_at=datetime.fromisoformat(message["occurred_at"]),
        )

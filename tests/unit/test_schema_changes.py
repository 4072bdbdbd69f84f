"""The schema change check: the live schema against the last released SDL
(docs/schema/released.graphql). A breaking change fails the run unless it is declared,
with a reason, in docs/schema/breaking-changes.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from graphql import BreakingChangeType, build_schema, find_breaking_changes

from schema import sdl

ROOT = Path(__file__).resolve().parents[2]
RELEASED = ROOT / "docs/schema/released.graphql"
DECLARED = ROOT / "docs/schema/breaking-changes.yaml"

Change = tuple[str, str]  # (BreakingChangeType name, graphql-core's description)


def breaking_changes(released_sdl: str, current_sdl: str) -> set[Change]:
    found = find_breaking_changes(build_schema(released_sdl), build_schema(current_sdl))
    return {(change.type.name, change.description) for change in found}


def declared_changes(document: dict[str, Any]) -> set[Change]:
    entries = document["declared"]
    for entry in entries:
        assert set(entry) == {"type", "description", "reason"}, entry
        assert entry["type"] in BreakingChangeType.__members__, entry
        assert len(entry["reason"].strip()) >= 10, f"give a reason: {entry}"
    return {(entry["type"], entry["description"]) for entry in entries}


def undeclared(released_sdl: str, current_sdl: str, declared: set[Change]) -> list[Change]:
    return sorted(breaking_changes(released_sdl, current_sdl) - declared)


@pytest.fixture(scope="module")
def declared() -> set[Change]:
    return declared_changes(yaml.safe_load(DECLARED.read_text()))


def test_no_undeclared_breaking_change_since_the_release(declared: set[Change]) -> None:
    problems = undeclared(RELEASED.read_text(), sdl(), declared)
    assert problems == [], (
        "breaking schema changes since docs/schema/released.graphql: keep the old field "
        "(deprecate it) or declare each in docs/schema/breaking-changes.yaml"
    )


def test_every_declaration_is_still_a_breaking_change(declared: set[Change]) -> None:
    stale = sorted(declared - breaking_changes(RELEASED.read_text(), sdl()))
    assert stale == [], "declared but not (or no longer) a breaking change"


# ---------------------------------------------------------------- the check itself

OLD = """
type Query { job(id: ID!): Job, jobs(first: Int): [Job!]! }
type Job { id: ID!, title: String!, legacyId: Int }
enum Status { OPEN CLOSED DRAFT }
"""


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (OLD.replace(", legacyId: Int", ""), ("FIELD_REMOVED", "Job.legacyId was removed.")),
        (OLD.replace("title: String!", "title: Int!"), ("FIELD_CHANGED_KIND", "Job.title")),
        (OLD.replace("(first: Int)", "(first: Int!)"), ("ARG_CHANGED_KIND", "first")),
        (OLD.replace(" DRAFT", ""), ("VALUE_REMOVED_FROM_ENUM", "DRAFT was removed")),
    ],
)
def test_a_breaking_change_is_caught_unless_declared(new: str, expected: tuple[str, str]) -> None:
    (change,) = undeclared(OLD, new, set())
    assert change[0] == expected[0]
    assert expected[1] in change[1]
    assert undeclared(OLD, new, {change}) == []


def test_additions_and_deprecations_are_not_breaking() -> None:
    added = OLD.replace("legacyId: Int", 'legacyId: Int @deprecated(reason: "use id")')
    added += "type Company { id: ID! }\nextend type Job { company: Company }\n"
    added = added.replace("jobs(first: Int)", "jobs(first: Int, after: String)")
    assert undeclared(OLD, added, set()) == []


def test_a_declaration_needs_a_known_type_and_a_reason() -> None:
    entry = {"type": "FIELD_REMOVED", "description": "Field Job.x was removed.", "reason": "?"}
    with pytest.raises(AssertionError, match="give a reason"):
        declared_changes({"declared": [entry]})
    with pytest.raises(AssertionError):
        declared_changes({"declared": [{**entry, "type": "FIELD_GONE", "reason": "x" * 20}]})

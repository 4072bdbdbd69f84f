"""schema.graphql at the root is generated; this fails when it is stale."""

from __future__ import annotations

from pathlib import Path

from schema import sdl


def test_schema_graphql_is_current(repo_root: Path) -> None:
    committed = (repo_root / "schema.graphql").read_text()
    assert committed == sdl(), "schema.graphql is stale: run `hiregraph schema > schema.graphql`"

"""docs/ must match the code: links and paths exist, settings and error codes are real,
GraphQL examples validate against the schema, every ADR has its four parts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

from domain.viewer import Role
from schema import sdl
from tests.deploy import setting_env_vars

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").rglob("*.md"))
PAGES = [*DOCS, ROOT / "deploy/k8s/README.md", ROOT / "README.md"]
CODE_DIRS = ("gateway", "schema", "resolvers", "datasources", "domain")
RUNTIME_DIRS = {".tools", ".venv", ".hiregraph"}  # created by make / the app, not in git
ADR_SECTIONS = ["## Context", "## Decision", "## Consequences", "## Alternatives rejected"]


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _code_text() -> str:
    return "\n".join(
        p.read_text() for d in CODE_DIRS for p in (ROOT / d).rglob("*.py") if p.is_file()
    )


def test_the_docs_exist() -> None:
    names = {_id(p) for p in DOCS}
    assert {"docs/architecture.md", "docs/api.md", "docs/adr/README.md"} <= names
    assert len([n for n in names if re.match(r"docs/adr/\d{4}-", n)]) >= 9


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_relative_links_resolve(page: Path) -> None:
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
        if not re.match(r"[a-z]+:", target):
            assert (page.parent / target).exists(), f"{_id(page)}: broken link {target}"


# The README also names paths relative to the data directory (`logs/`), so it is left out.
@pytest.mark.parametrize("page", PAGES[:-1], ids=_id)
def test_named_files_exist(page: Path) -> None:
    """Every `path/like/this.py` (or .md, .yaml, .graphql, a dir/) named in backticks."""
    pattern = r"`((?:[\w.-]+/)+(?:[\w.-]+\.(?:py|md|ya?ml|graphql|json|conf))?)`"
    for path in re.findall(pattern, page.read_text()):
        if path.removeprefix("./").split("/", 1)[0] in RUNTIME_DIRS:
            continue
        found = (ROOT / path).exists() or (page.parent / path).exists()
        assert found, f"{_id(page)} names {path}, which does not exist"


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_named_settings_exist(page: Path) -> None:
    settings = setting_env_vars()
    for name, wildcard in re.findall(r"\b(HIREGRAPH_[A-Z0-9_]*[A-Z0-9])(__\*)?", page.read_text()):
        if name.startswith("HIREGRAPH_TEST"):
            continue
        if wildcard:  # a section, e.g. HIREGRAPH_BROKER__*
            assert any(s.startswith(name + "__") for s in settings), f"{_id(page)}: {name}__*"
        else:
            assert name in settings, f"{_id(page)} names {name}, which is not a setting"


def test_error_codes_in_the_api_guide_are_the_codes_the_code_sends() -> None:
    text = re.sub(r"```.*?```", "", (ROOT / "docs/api.md").read_text(), flags=re.DOTALL)
    spans = " ".join(re.findall(r"`([^`]+)`", text))
    codes = set(re.findall(r"\b[A-Z][A-Z_]{4,}\b", spans)) - {role.value for role in Role}
    assert {"RATE_LIMITED", "COST_LIMIT", "IDEMPOTENCY_KEY_REUSED", "FORBIDDEN"} <= codes
    code = _code_text()
    assert sorted(c for c in codes if f'"{c}"' not in code) == []


def test_graphql_examples_validate_against_the_schema() -> None:
    schema = build_schema(sdl())
    blocks = re.findall(r"```graphql\n(.*?)```", (ROOT / "docs/api.md").read_text(), re.DOTALL)
    assert blocks
    for block in blocks:
        assert validate(schema, parse(block)) == [], block


@pytest.mark.parametrize("adr", sorted((ROOT / "docs/adr").glob("0*.md")), ids=_id)
def test_each_adr_has_its_four_parts_and_is_indexed(adr: Path) -> None:
    text = adr.read_text()
    positions = [text.find(section) for section in ADR_SECTIONS]
    assert -1 not in positions, f"{adr.name}: needs {ADR_SECTIONS}"
    assert positions == sorted(positions)
    assert re.search(r"^Status: (accepted|superseded by \d{4}|proposed)$", text, re.MULTILINE)
    for index in ("docs/adr/README.md", "docs/architecture.md"):
        assert adr.name in (ROOT / index).read_text(), f"{adr.name} missing from {index}"


def test_architecture_diagrams_are_mermaid_that_github_renders() -> None:
    text = (ROOT / "docs/architecture.md").read_text()
    blocks = re.findall(r"```mermaid\n(.*?)```", text, re.DOTALL)
    kinds = [block.split(None, 1)[0] for block in blocks]
    assert kinds.count("flowchart") >= 3
    assert kinds.count("sequenceDiagram") >= 2
    for block in blocks:
        assert block.count("[") == block.count("]"), block[:60]
        assert block.count("(") == block.count(")"), block[:60]
        assert block.count('"') % 2 == 0, block[:60]

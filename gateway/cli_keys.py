"""`hiregraph apikey ...` and `hiregraph documents ...`: third-party keys and the
operations a key may be limited to.

Bad input (unknown role, missing company id, malformed rate, unknown key id, a file
that is not GraphQL) exits with code 2 and writes nothing; a store failure exits 1.
Postgres is the configured one, or the embedded one under DATA_DIR when unset, the
same resolution as `hiregraph migrate`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from domain.api_keys import ApiKeySpec, document_hash
from domain.errors import InvalidInput, NotFound
from domain.viewer import Role

T = TypeVar("T")
apikey_cli = typer.Typer(no_args_is_help=True, help="API keys for third parties.")
documents_cli = typer.Typer(no_args_is_help=True, help="Trusted documents of an API key.")
out = Console()
err = Console(stderr=True)


def bad_input(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@contextmanager
def _postgres_url() -> Iterator[str]:
    from gateway.cli import fail, load_settings
    from gateway.embedded import EmbeddedStartError, EmbeddedStores

    settings = load_settings()
    if settings.postgres_url is not None:
        yield settings.postgres_url
        return
    stores = EmbeddedStores(settings.data_dir, ["postgres"])
    try:
        urls = stores.start()
    except EmbeddedStartError as exc:
        fail(str(exc))
    try:
        yield urls["postgres"]
    finally:
        stores.stop()


def _with_repo(work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work(repo)` on one connection; domain errors -> exit 2, store errors -> exit 1."""
    import asyncpg

    from datasources.postgres.api_keys import PgApiKeyRepository
    from datasources.postgres.engine import asyncpg_dsn
    from gateway.cli import fail
    from gateway.provision import redact

    async def run(url: str) -> T:
        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            return await work(PgApiKeyRepository(conn))
        finally:
            await conn.close()

    with _postgres_url() as url:
        try:
            return asyncio.run(run(url))
        except (InvalidInput, NotFound) as exc:
            bad_input(exc.message)
        except asyncpg.UndefinedTableError:
            fail(f"postgres at {redact(url)}: no api_keys table; run `hiregraph migrate`")
        except (OSError, asyncpg.PostgresError) as exc:
            fail(f"postgres at {redact(url)}: {exc}")


def _check_rate(rate: str | None) -> None:
    from limits import parse

    if rate is None:
        return
    try:
        parse(rate)
    except ValueError:
        bad_input(f"--rate {rate!r} is not a rate limit like '5000/minute'")


@apikey_cli.command("create")
def create(
    name: Annotated[str, typer.Option(help="Who the key is for.")],
    role: Annotated[Role, typer.Option(case_sensitive=False, help="The key's role.")],
    scope: Annotated[list[str] | None, typer.Option(help="A scope (repeatable).")] = None,
    rate: Annotated[str | None, typer.Option(help="Rate limit, e.g. '5000/minute'.")] = None,
    cost_budget: Annotated[int | None, typer.Option(help="Per-operation cost budget.")] = None,
    company_id: Annotated[int | None, typer.Option(help="RECRUITER: the company.")] = None,
    candidate_id: Annotated[str | None, typer.Option(help="CANDIDATE: the profile.")] = None,
    trusted_only: Annotated[bool, typer.Option(help="Accept registered documents only.")] = False,
) -> None:
    """Create a key and print it once: only its hash is stored."""
    _check_rate(rate)
    spec = ApiKeySpec(
        name=name,
        role=role,
        scopes=frozenset(scope or ()),
        company_id=company_id,
        candidate_id=candidate_id,
        rate_limit=rate,
        cost_budget=cost_budget,
        trusted_documents_only=trusted_only,
    )
    try:
        spec.check()
    except InvalidInput as exc:
        bad_input(exc.message)
    key, plaintext = _with_repo(lambda repo: repo.create(spec))
    out.print(f"id:  {key.id}", highlight=False)
    out.print(f"key: {plaintext}", highlight=False, soft_wrap=True)
    err.print("Store the key now: it cannot be shown again.")


@apikey_cli.command("list")
def list_keys() -> None:
    """List keys (never the keys themselves)."""
    keys = _with_repo(lambda repo: repo.all())
    table = Table("id", "name", "role", "prefix", "created", "revoked")
    for k in keys:
        revoked = k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else ""
        created = k.created_at.isoformat(timespec="seconds")
        table.add_row(k.id, k.spec.name, k.spec.role.value, k.prefix, created, revoked)
    Console(width=200).print(table)


@apikey_cli.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Revoke a key. Gateways stop accepting it within `api_key_cache_seconds`."""
    key = _with_repo(lambda repo: repo.revoke(key_id))
    assert key.revoked_at is not None
    out.print(f"revoked {key.id} ({key.spec.name}) at {key.revoked_at.isoformat()}")


def _read_document(path: Path) -> tuple[str, str]:
    """(sha256 hex, name) of a file that parses as GraphQL with at least one operation."""
    from graphql import GraphQLSyntaxError, OperationDefinitionNode, parse

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        bad_input(f"{path}: cannot read: {exc}")
    try:
        document = parse(text)
    except GraphQLSyntaxError as exc:
        bad_input(f"{path}: not GraphQL: {exc.message} at {exc.locations}")
    if not any(isinstance(d, OperationDefinitionNode) for d in document.definitions):
        bad_input(f"{path}: no operation in the document")
    return document_hash(text), path.name


@documents_cli.command("add")
def add_documents(
    key: Annotated[str, typer.Option("--key", help="The API key id.")],
    files: Annotated[list[Path], typer.Argument(metavar="FILE.graphql...", dir_okay=False)],
) -> None:
    """Register documents a key may run: SHA-256 of each file's exact text.

    A file is one document (it may hold several operations); clients must send its text
    byte for byte as `query`. All files are checked before anything is stored.
    """
    documents = [_read_document(f) for f in files]

    async def work(repo: Any) -> int:
        found = await repo.get(key)
        if found is None:
            raise NotFound(f"no API key with id {key}")
        if found.revoked:
            raise InvalidInput(f"API key {key} is revoked")
        added: int = await repo.add_documents(key, documents)
        return added

    added = _with_repo(work)
    for sha, name in documents:
        out.print(f"{sha}  {name}", highlight=False)
    out.print(f"{added} new, {len(documents) - added} already registered for {key}")


@documents_cli.command("list")
def list_documents(key: Annotated[str, typer.Option("--key", help="The API key id.")]) -> None:
    """The document hashes registered for a key."""
    for sha, name in _with_repo(lambda repo: repo.documents(key)):
        out.print(f"{sha}  {name}", highlight=False)

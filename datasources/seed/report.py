"""What a seed run did (`SeedReport`) and how it shows progress while running."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from datasources.seed.scale import Scale

Advance = Callable[[int], None]
# Registers an entity with its expected row count; returns how to report written rows.
Track = Callable[[str, int], Advance]


@dataclass(frozen=True, slots=True)
class EntityStats:
    name: str
    store: str  # "postgres" | "mongo"
    rows: int
    seconds: float  # generating and writing, from the entity's first batch to its last

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class SeedReport:
    seed: int
    scale: Scale
    entities: tuple[EntityStats, ...]
    total_seconds: float  # wall clock for the whole run, including planning and reset
    plan_seconds: float  # building name pools, companies, job plans and candidate ids
    reset_seconds: float  # emptying the stores first (the slower store, if overlapped)
    overlapped: bool  # whether the Postgres and Mongo pipelines ran concurrently

    def rows(self, name: str) -> int:
        return next(e.rows for e in self.entities if e.name == name)

    def render(self, console: Console | None = None) -> None:
        """Print a summary table (rows, seconds, rows/s per entity, then the total)."""
        mode = "concurrently" if self.overlapped else "one store after the other"
        table = Table(title=f"Seed {self.seed}: stores written {mode}")
        table.add_column("entity")
        table.add_column("store")
        for heading in ("rows", "seconds", "rows/s"):
            table.add_column(heading, justify="right")
        for e in self.entities:
            table.add_row(
                e.name, e.store, f"{e.rows:,}", f"{e.seconds:.2f}", f"{e.rows_per_second:,.0f}"
            )
        total_rows = sum(e.rows for e in self.entities)
        table.add_section()
        table.add_row("(planning)", "", "", f"{self.plan_seconds:.2f}", "")
        if self.reset_seconds:
            table.add_row("(reset)", "both", "", f"{self.reset_seconds:.2f}", "")
        table.add_row(
            "total",
            "",
            f"{total_rows:,}",
            f"{self.total_seconds:.2f}",
            f"{total_rows / self.total_seconds:,.0f}" if self.total_seconds > 0 else "-",
        )
        (console or Console()).print(table)


def _silent(name: str, total: int) -> Advance:
    return lambda rows: None


@contextmanager
def progress_bars(enabled: bool) -> Iterator[Track]:
    """One rich progress bar per entity (on stderr) when enabled; a no-op otherwise."""
    if not enabled:
        yield _silent
        return
    bars = Progress(
        TextColumn("{task.description:<13}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )

    def track(name: str, total: int) -> Advance:
        task = bars.add_task(name, total=total)
        return lambda rows: bars.advance(task, rows)

    with bars:
        yield track

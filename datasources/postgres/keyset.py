"""Keyset (cursor) pagination over a list of sort expressions, one direction throughout.

The last expression is always a unique tie-breaker (the primary key), so the order is
total and a page boundary never skips or repeats a row, even under concurrent inserts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, tuple_

from domain.queries import Page, PageRequest


@dataclass(frozen=True)
class Keyset:
    exprs: Sequence[ColumnElement[Any]]
    descending: bool

    def apply(self, stmt: Select[Any], page: PageRequest) -> Select[Any]:
        # A backward page walks the order in reverse, then `finish` flips it back.
        desc = self.descending != page.backward
        if page.after is not None:
            if len(page.after) != len(self.exprs):
                raise ValueError("cursor arity does not match the order")
            row, key = tuple_(*self.exprs), tuple_(*page.after)
            stmt = stmt.where(row < key if desc else row > key)
        ordering = [e.desc() if desc else e.asc() for e in self.exprs]
        return stmt.order_by(*ordering).limit(page.size + 1)

    def finish(self, items: list[Any], keys: list[tuple[Any, ...]], page: PageRequest) -> Page[Any]:
        more = len(items) > page.size
        items, keys = items[: page.size], keys[: page.size]
        if page.backward:
            items.reverse()
            keys.reverse()
            return Page(items, keys, has_next_page=page.after is not None, has_previous_page=more)
        return Page(items, keys, has_next_page=more, has_previous_page=page.after is not None)

"""Parse and validation caching, and static validation rules built once.

Strawberry's limiter extensions build a fresh rule class per instance, and a fresh
instance runs per request, which would defeat the validation cache's key.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, ParserCache
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule

MAX_DEPTH = 12
MAX_ALIASES = 30

_RULES: list[Any] = [max_depth_rule(MAX_DEPTH, None), max_aliases_rule(MAX_ALIASES)]


class QueryLimits(AddValidationRules):
    def __init__(self) -> None:
        super().__init__(_RULES)


class DocumentCache(ParserCache):
    """ParserCache that leaves syntax errors to Strawberry's own parse.

    Raised from the cache, a syntax error would escape the operation hooks (and so
    lose its error code); left alone, Strawberry reports it as a normal parse error.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield

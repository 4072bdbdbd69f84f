"""Every GraphQL error leaves with `extensions.code`; unexpected ones are masked.

Domain errors carry their own code. Parse and validation errors get the codes that
GraphQL clients know. Anything else is an internal error: the client gets a generic
message and an error id, and the original is logged with the same id.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from graphql import GraphQLError
from strawberry.types import ExecutionContext

from domain.errors import HireGraphError, LimitExceeded
from schema.limits.static import parse_error_code

log = logging.getLogger("hiregraph.errors")


def _code_for(error: GraphQLError) -> str | None:
    original = error.original_error
    if isinstance(original, HireGraphError):
        return original.code
    if original is None:
        existing = (error.extensions or {}).get("code")
        if existing:
            return str(existing)
        if error.message.startswith("Syntax Error"):
            return parse_error_code(error) or "GRAPHQL_PARSE_FAILED"
        return "GRAPHQL_VALIDATION_FAILED"
    if isinstance(original, GraphQLError):
        return _code_for(original)
    return None


def _with_code(error: GraphQLError) -> GraphQLError:
    code = _code_for(error)
    if code is not None:
        extensions: dict[str, Any] = {**(error.extensions or {}), "code": code}
        if isinstance(error.original_error, LimitExceeded):
            extensions.update(error.original_error.extensions)
        store = getattr(error.original_error, "store", None)
        if store:
            extensions["store"] = store
        error.extensions = extensions
        return error
    error_id = uuid.uuid4().hex
    log.error("unexpected error %s at %s", error_id, error.path, exc_info=error.original_error)
    return GraphQLError(
        "Internal server error.",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR", "errorId": error_id},
    )


# graphql-core's validation messages end with suggestions drawn from the schema.
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?$")


def _without_suggestion(error: GraphQLError) -> GraphQLError:
    message = _SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=error.extensions,
    )


def apply_error_codes(context: ExecutionContext) -> None:
    """Give every error of a finished operation its code (masking unexpected ones), and
    drop field suggestions where the request's context says so (prod, non-admins)."""
    suggest = getattr(context.context, "field_suggestions", True)

    def finish(error: GraphQLError) -> GraphQLError:
        error = _with_code(error)
        return error if suggest else _without_suggestion(error)

    # Parse and validation errors may reach the response through either list.
    if context.pre_execution_errors:
        context.pre_execution_errors[:] = [finish(e) for e in context.pre_execution_errors]
    result = context.result
    if result is not None and result.errors:
        result.errors[:] = [finish(e) for e in result.errors]

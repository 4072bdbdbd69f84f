"""Compiled operations: hot queries executed straight from records to the response.

graphql-core's execution costs a resolve info, a resolver call and an awaitable check per
field, and Strawberry's objects cost an allocation per entity and value object. For
the operations it covers (see `build`), `CompiledOperations` replaces all of it with a
program compiled once per document: load every edge once per list, then render with
generated functions. Whatever it does not cover, or any request that needs an error,
returns None and the caller runs graphql-core, so the two paths always agree; the unit
tests hold them to byte-identical responses.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from graphql import GraphQLSchema

from datasources import roundtrips
from resolvers.context import Context
from schema.compiled.build import Unsupported, compile_operation
from schema.compiled.program import Bail, Program
from schema.limits.static import StaticLimits
from schema.operation import LIMITS, valid_document

log = logging.getLogger(__name__)


class CompiledOperations:
    """Programs per (document, operation name), LRU-bounded; None marks "not covered"."""

    def __init__(
        self,
        schema: GraphQLSchema,
        *,
        expose_round_trips: bool = False,
        size: int = 512,
        limits: StaticLimits = LIMITS,
    ) -> None:
        self.schema = schema
        self.limits = limits
        self.expose_round_trips = expose_round_trips
        self._size = size
        self._programs: OrderedDict[tuple[str, str | None], Program | None] = OrderedDict()

    def program(self, query: str, operation_name: str | None) -> Program | None:
        key = (query, operation_name)
        try:
            program = self._programs[key]
        except KeyError:
            program = self._programs[key] = self._compile(query, operation_name)
            if len(self._programs) > self._size:
                self._programs.popitem(last=False)
        else:
            self._programs.move_to_end(key)
        return program

    def _compile(self, query: str, operation_name: str | None) -> Program | None:
        document = valid_document(self.schema, query, self.limits)
        if document is None:
            return None  # graphql-core reports parse and validation errors
        try:
            return compile_operation(self.schema, document, operation_name)
        except Unsupported as reason:
            log.debug("operation %r not compiled: %s", operation_name, reason)
            return None

    async def execute(
        self,
        ctx: Context,
        query: str,
        operation_name: str | None = None,
        variables: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """The whole response for a covered, error-free request; None: use graphql-core."""
        program = self.program(query, operation_name)
        if program is None:
            return None
        try:
            coerced = program.coerce(self.schema, variables)
            counter = roundtrips.begin()
            data = await program.run(ctx, coerced)
        except Bail:
            return None
        except Exception:  # graphql-core runs it again and reports the error properly
            log.debug("compiled operation %r fell back", operation_name, exc_info=True)
            return None
        response: dict[str, Any] = {"data": data}
        if self.expose_round_trips:
            response["extensions"] = {"roundTrips": counter.as_dict()}
        return response


__all__ = ["CompiledOperations"]

"""The two WebSocket protocol handlers, each Strawberry's handler plus a `Session`
(`gateway.websocket`): guard, connection_init credentials, limits, keep-alive, idle
timeout, slow-consumer close and graceful shutdown.

Each operation runs with an `EventStamp` as its root value: the subscription resolvers
record there the id of the event behind each result, and the handlers send it as the
result's `extensions.eventId` (a `next` / `data` payload's `extensions`, which standard
clients hand to the application with the data)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import suppress
from datetime import timedelta
from typing import Any

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage as LegacyInit,
)
from strawberry.subscriptions.protocols.graphql_ws.types import (
    OperationMessage,
    StartMessage,
)
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.utils.aio import aclosing

from gateway.observability import metrics
from gateway.websocket import GOING_AWAY, SLOW_CONSUMER, Session, limit_error, overflowed
from resolvers.context import Context
from schema.subscription import EventStamp


def stamped(result: ExecutionResult, stamp: EventStamp) -> ExecutionResult:
    """`result` with the id of its event, if any, as `extensions.eventId`."""
    event_id = stamp.take()
    if event_id is not None and result.data is not None:
        result.extensions = {**(result.extensions or {}), "eventId": event_id}
    return result


class GuardedTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, with every operation checked by the request guard first:
    the same limits, cost budget, rate limit, trusted documents and introspection rule
    as over HTTP, for the viewer who opened the connection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session = Session(self.view, self.context, self.websocket)
        self.stamps: dict[str, EventStamp] = {}
        seconds = self.session.settings.connection_init_timeout_seconds
        self.connection_init_wait_timeout = timedelta(seconds=seconds)

    async def handle(self) -> None:
        await self.session.serve(
            self,
            super().handle,
            lambda: self.send_message({"type": "ping"}),
            lambda: self.connection_acknowledged,
            lambda: bool(self.operations),
            None,  # Strawberry's own connection_init timeout applies
        )

    async def go_away(self) -> None:
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
            with suppress(Exception):
                await self.send_message({"id": operation_id, "type": "complete"})
        await self.session.close(GOING_AWAY, "server shutting down")

    async def handle_message(self, message: Message) -> None:
        self.session.touch()
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload", {})
        if self.connection_init_received or not isinstance(payload, dict):
            await super().handle_connection_init(message)
            return
        refused = await self.session.init(payload)
        if refused is not None:
            self.connection_init_received = True
            if self.connection_init_timeout_task:
                self.connection_init_timeout_task.cancel()
            await self.session.close(*refused)
            return
        self.context = self.session.context
        await super().handle_connection_init(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        limit = self.session.settings.max_subscriptions_per_connection
        known = message.get("id") in self.operations
        if self.connection_acknowledged and not known and len(self.operations) >= limit:
            error = limit_error(limit).formatted
            await self.send_message({"id": message["id"], "type": "error", "payload": [error]})
            return
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        error = await self.session.refusal(
            operation.query, operation.operation_name, operation.variables
        )
        if error is not None:
            await operation.send_initial_errors([error])
            return
        stamp = self.stamps[operation.id] = EventStamp()
        # Strawberry's run_operation reads `root_value` before its first await.
        self.root_value = stamp  # type: ignore[assignment]
        try:
            await super().run_operation(operation)
        finally:
            if self.stamps.get(operation.id) is stamp:
                del self.stamps[operation.id]

    async def _send_result_stream(
        self, operation: Operation[Context, None], result_source: Any
    ) -> None:
        stamp = self.stamps.get(operation.id) or EventStamp()
        with metrics.SUBSCRIPTIONS.track_inprogress():
            stream = self._until_overflow(result_source, stamp)
            await super()._send_result_stream(operation, stream)

    async def _until_overflow(
        self, source: AsyncIterator[Any], stamp: EventStamp
    ) -> AsyncGenerator[Any, None]:
        async for result in source:
            if isinstance(result, ExecutionResult) and overflowed(result):
                await self.session.close(*SLOW_CONSUMER)
                raise _OperationStreamClosed
            yield stamped(result, stamp) if isinstance(result, ExecutionResult) else result


class GuardedGraphQLWS(BaseGraphQLWSHandler[Context, None]):
    """The legacy graphql-ws (subscriptions-transport-ws) protocol, guarded the same way;
    queries and mutations run too (`start` accepts any operation)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keep_alive = False  # the session's watch sends `ka`
        self.session = Session(self.view, self.context, self.websocket)

    async def handle(self) -> None:
        await self.session.serve(
            self,
            super().handle,
            lambda: self.send_message({"type": "ka"}),
            lambda: self.connection_acknowledged,
            lambda: bool(self.tasks),
            self.session.settings.connection_init_timeout_seconds,
        )

    async def go_away(self) -> None:
        await self.cleanup()  # each cancelled operation sends its `complete`
        await self.session.close(GOING_AWAY, "server shutting down")

    async def handle_message(self, message: OperationMessage) -> None:
        self.session.touch()
        await super().handle_message(message)

    async def handle_connection_init(self, message: LegacyInit) -> None:
        payload = message.get("payload")
        if not self.connection_acknowledged and isinstance(payload, dict | None):
            refused = await self.session.init(payload or {})
            if refused is not None:
                await self.send_message({"type": "connection_error", "payload": {
                    "message": refused[1]}})  # fmt: skip
                await self.session.close(*refused)
                return
            self.context = self.session.context
        await super().handle_connection_init(message)

    async def handle_start(self, message: StartMessage) -> None:
        limit = self.session.settings.max_subscriptions_per_connection
        known = message.get("id") in self.tasks
        if self.connection_acknowledged and not known and len(self.tasks) >= limit:
            error = limit_error(limit).formatted
            await self.send_message({"type": "error", "id": message["id"], "payload": error})
            return
        await super().handle_start(message)

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        try:
            error = await self.session.refusal(query, operation_name, variables)
            if error is not None:
                await self._error(operation_id, error)
                return
            stamp = EventStamp()
            result_source = await self.schema.stream(
                query=query,
                variable_values=variables,
                operation_name=operation_name,
                context_value=self.context,
                root_value=stamp,
            )
            self.subscriptions[operation_id] = result_source
            with metrics.SUBSCRIPTIONS.track_inprogress():
                async with aclosing(result_source):
                    if not await self._send_results(operation_id, result_source, stamp):
                        return
            await self.send_message({"type": "complete", "id": operation_id})
        except asyncio.CancelledError:
            with suppress(Exception):
                await self.send_message({"type": "complete", "id": operation_id})
        finally:
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)

    async def _send_results(
        self, operation_id: str, source: AsyncIterator[Any], stamp: EventStamp
    ) -> bool:
        """Send each result as `data`; False when the operation ended another way."""
        first = True
        async for result in source:
            if first and isinstance(result, PreExecutionError) and result.errors:
                await self._error(operation_id, result.errors[0])
                return False
            if not isinstance(result, ExecutionResult):
                message = "Incremental delivery is not supported over graphql-ws"
                await self._error(operation_id, GraphQLError(message))
                return False
            if overflowed(result):
                await self.session.close(*SLOW_CONSUMER)
                return False
            await self.send_data_message(stamped(result, stamp), operation_id)
            first = False
        return True

    async def _error(self, operation_id: str, error: GraphQLError) -> None:
        await self.send_message({"type": "error", "id": operation_id, "payload": error.formatted})

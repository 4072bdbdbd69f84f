"""Who is asking: the one hook that turns an HTTP request or WebSocket into a `Viewer`.

`create_app` stores `public_viewer` on `app.state.resolve_viewer`; both GraphQL paths
(Strawberry's `get_context` and the compiled operations) call `viewer_of`, so setting
that attribute is the single place authentication plugs in (the authenticator reads a
JWT or API key and returns the Viewer; tests install a stub). Until then every request
is PUBLIC, the least privileged viewer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import HTTPConnection

from domain.viewer import PUBLIC, Viewer

ResolveViewer = Callable[[HTTPConnection], Awaitable[Viewer]]


async def public_viewer(connection: HTTPConnection) -> Viewer:
    """The default: nobody is signed in."""
    return PUBLIC


async def viewer_of(connection: HTTPConnection) -> Viewer:
    """The viewer of a request or WebSocket, from the app's `resolve_viewer` hook."""
    resolve: ResolveViewer = connection.app.state.resolve_viewer
    return await resolve(connection)

"""The connection under a request, for an app that must fail the way networks fail:
reset it (RST), close it without an answer, or hold it until the server stops.

An ASGI app can only answer; an exception makes uvicorn answer 500. capmock's uvicorn
protocols (``mock_server.halfclose``) put a ``Connection`` in the state of every
request's scope, which ``connection_of`` finds. Under another server there is none,
and the faults that need one say so instead of acting.
"""

from __future__ import annotations

import asyncio
import socket
import struct

from starlette.types import Scope

_KEY = "capmock.connection"
_LINGER_NOW = struct.pack("ii", 1, 0)
"""SO_LINGER on, with a timeout of 0: closing the socket sends RST, not FIN."""


class Connection:
    """One client connection, as the protocol serving it lends it to the app."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self.stopping = asyncio.Event()
        """Set when the server begins to shut down: a held request must let go."""
        self.ended = asyncio.Event()
        """Set when the client has closed its side (it gave up, or sends nothing more)."""

    def reset(self) -> None:
        """Close abruptly: the client reads ECONNRESET, whatever it had sent."""
        sock = self._transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_NOW)
        self._transport.abort()

    def close(self) -> None:
        """Close without an answer: the client reads the end of the stream (FIN)."""
        self._transport.close()

    @property
    def closed(self) -> bool:
        return self._transport.is_closing()


def lend(state: dict[str, object], transport: asyncio.Transport) -> Connection:
    """Put a ``Connection`` for ``transport`` in ``state``, the dict every request's
    scope state is copied from; the protocol keeps it to signal a shutdown."""
    connection = Connection(transport)
    state[_KEY] = connection
    return connection


def connection_of(scope: Scope) -> Connection | None:
    found = scope.get("state", {}).get(_KEY)
    return found if isinstance(found, Connection) else None

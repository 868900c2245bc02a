"""uvicorn's HTTP/1.1 protocols, changed in two ways: a client that half-closes its
connection (``shutdown(SHUT_WR)``) after sending its requests still gets every answer;
and every request can reach its connection (``mock_server.transport``), so that a fault
can reset it, close it unanswered or hold it.

uvicorn takes the end of the client's stream for the client going away: it closes
the connection, so a request that arrived in full is applied and its answer lost, and
of requests pipelined before the half-close only the first is answered. HTTP/1.1 says
the end of the stream only means the client sends nothing more (uvicorn issue #1264).
Here it means that: every request that arrived in full is served and answered, in
order, then the connection is closed. A request that had not arrived in full can never
be completed: it is dropped unanswered (the body reader refuses it before any rule
runs), as uvicorn does.

The subclasses only track the end of the stream and lend the connection; parsing,
pipelining, flow control and keep-alive stay uvicorn's. A client that closes both ways
cannot read answers at all: requests that arrived in full are still applied, as by any
server.
"""

from __future__ import annotations

import asyncio
import importlib.util

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mock_server.transport import Connection, lend


class HalfCloseH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering what arrived before the client half-closed.

    h11 parses a pipelined request only when the one before it was answered, so the
    current cycle is the only one started; those still buffered are started in turn by
    ``on_response_complete``.
    """

    _client_done = False
    _connection: Connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.app_state = dict(self.app_state)  # each connection lends its own
        self._connection = lend(self.app_state, transport)
        super().connection_made(transport)

    def shutdown(self) -> None:
        self._connection.stopping.set()
        super().shutdown()

    def eof_received(self) -> bool:  # type: ignore[override]  # asyncio allows True
        self._connection.ended.set()
        if self._client_done:
            return True
        if self.cycle is None or self.cycle.response_complete or self.cycle.more_body:
            return False  # nothing to answer, or a body that can never complete: close
        self._client_done = True
        return True  # keep the connection open to write the answers

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._client_done and (self.cycle.response_complete or self.cycle.more_body):
            self.transport.close()  # nothing left that can be answered


class HalfCloseHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering what arrived before the client half-closed.

    httptools parses every request it receives at once: ``self.cycle`` is the newest,
    the ones waiting their turn are in ``self.pipeline`` (newest on the left).
    """

    _client_done = False
    _connection: Connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.app_state = dict(self.app_state)  # each connection lends its own
        self._connection = lend(self.app_state, transport)
        super().connection_made(transport)

    def shutdown(self) -> None:
        self._connection.stopping.set()
        super().shutdown()

    def eof_received(self) -> bool:  # type: ignore[override]  # asyncio allows True
        self._connection.ended.set()
        if self._client_done:
            return True
        newest = self.cycle
        if newest is None or newest.response_complete:
            return False  # nothing to answer: close
        if newest.more_body:
            if not self.pipeline:
                return False  # the request being served can never complete: close
            self.pipeline.popleft()  # never start it; answer the ones before it
        self._client_done = True
        return True  # keep the connection open to write the answers

    def on_response_complete(self) -> None:
        last = not self.pipeline
        super().on_response_complete()
        if self._client_done and last:
            self.transport.close()  # every complete request was answered


def http_protocol(name: str = "auto") -> type[asyncio.Protocol]:
    """The protocol class for uvicorn's ``http`` setting: ``h11``, ``httptools``, or
    ``auto`` (httptools when it is installed, as uvicorn chooses)."""
    if name == "auto":
        name = "httptools" if importlib.util.find_spec("httptools") else "h11"
    if name == "h11":
        return HalfCloseH11Protocol
    if name == "httptools":
        return HalfCloseHttpToolsProtocol
    raise ValueError(f"unknown HTTP protocol {name!r}: use auto, h11 or httptools")

"""The server's side of the limits: request heads, idle and slow connections, and how
many connections are served at once.

uvicorn bounds a request head only in its h11 protocol (``h11_max_incomplete_event_size``);
with httptools, which it prefers and which the benchmarks measure, a head of any size is
buffered (at a cost that grows with the square of its size), and a connection that never
completes a head is never closed. ``limit_concurrency`` answers past its limit with a
text/plain 503 and never frees a slot, so idle connections would still lock newcomers
out. This protocol is uvicorn's httptools protocol with those limits:

- a request line and headers larger than ``max_header_bytes``: 431 in the envelope (9131);
- a head not complete within ``request_timeout_seconds`` of the connection or of the
  previous answer (an idle or a slow client): the connection is closed;
- past ``max_connections``, the connection idle longest (no request in progress) is
  closed to make room; if none is idle, the newcomer gets 503 in the envelope (9133).

The process's open-files limit is raised to its hard limit, and ``max_connections``
is kept below it, so that connections never use up the descriptors.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import resource
from typing import Any, ClassVar

from mock_server.errors import ApiError, Code
from mock_server.halfclose import HalfCloseHttpToolsProtocol, http_protocol
from mock_server.limits import Limits

LINGER_SECONDS = 1.0
LINGER_BYTES = 1024 * 1024
RESERVED_FILES = 64
"""Descriptors kept for everything but connections: the store, logs, the listening socket."""


def raise_open_files_limit() -> int:
    """Raise this process's soft limit of open files to its hard limit; the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    return soft


def connection_limit(limits: Limits, open_files: int) -> int:
    """``max_connections``, lowered to fit the open-files limit."""
    return max(1, min(limits.max_connections, open_files - RESERVED_FILES))


def envelope(error: ApiError) -> bytes:
    """A whole HTTP/1.1 answer, written before any ASGI cycle exists; the connection closes."""
    body = json.dumps(error.envelope()).encode()
    status = error.status()
    reason = {431: b"Request Header Fields Too Large", 503: b"Service Unavailable"}[status]
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
        b"connection: close\r\n\r\n%s" % (status, reason, len(body), body)
    )


class LimitedHttpToolsProtocol(HalfCloseHttpToolsProtocol):
    """uvicorn's httptools protocol (answering half-closed clients) within ``limits``
    (from ``CAPMOCK_LIMITS`` unless a subclass made by ``bound`` carries them)."""

    limits: ClassVar[Limits | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = self.limits or Limits.from_environ()
        self._max_connections = connection_limit(
            self._limits, resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        )
        self._head_open = True  # bytes now arriving belong to a request line and headers
        self._head_size = 0
        self._tail = b""
        self._refused = False
        self._linger = LINGER_BYTES
        self._idle_since = 0.0
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()
        if len(self.connections) > self._max_connections and not self._evict_idlest():
            self._refuse(ApiError.of(Code.TOO_MANY_CONNECTIONS, limit=self._max_connections))

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:  # lingering after a refusal: what the client still sends is dropped
            self._linger -= len(data)
            if self._linger < 0:
                self._close_silently()
            return
        if self._head_open:
            before = self._head_size
            self._head_size += len(data)
            if self._head_size > self._limits.max_header_bytes and not self._head_ends(
                before, data
            ):
                limit = self._limits.max_header_bytes
                return self._refuse(ApiError.of(Code.HEADERS_TOO_LARGE, limit=limit))
            self._tail = (self._tail + data)[-3:]
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._head_open = False
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._head_open, self._head_size, self._tail = True, 0, b""  # the next request's

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._await_head()

    # --- helpers -------------------------------------------------------------------

    def _head_ends(self, before: int, data: bytes) -> bool:
        """Whether the head ends in ``data`` within the limit (the rest is a body)."""
        end = (self._tail + data).find(b"\r\n\r\n")
        return end >= 0 and before + end + 4 - len(self._tail) <= self._limits.max_header_bytes

    def _await_head(self) -> None:
        """From now on a request head must be complete within the request timeout."""
        self._idle_since = self.loop.time()
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(
            self._limits.request_timeout_seconds, self._close_silently
        )

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _close_silently(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()

    def _idle(self) -> bool:
        return not self.pipeline and (self.cycle is None or self.cycle.response_complete)

    def _evict_idlest(self) -> bool:
        """Close the connection idle longest, other than this one; whether there was one."""
        idle = [
            other
            for other in self.connections
            if other is not self
            and isinstance(other, LimitedHttpToolsProtocol)
            and other._idle()
            and not other.transport.is_closing()
        ]
        if not idle:
            return False
        min(idle, key=lambda other: other._idle_since)._close_silently()
        return True

    def _refuse(self, error: ApiError) -> None:
        """Answer and close, lingering: closing with unread bytes would reset the
        connection and lose the answer, so the client's bytes are read and dropped for
        LINGER_SECONDS or up to LINGER_BYTES after the answer is sent."""
        self._refused = True
        self._cancel_head_timer()
        if not self.transport.is_closing():
            self.transport.write(envelope(error))
            if self.transport.can_write_eof():
                self.transport.write_eof()
            self.loop.call_later(LINGER_SECONDS, self._close_silently)


def bound(limits: Limits) -> type[LimitedHttpToolsProtocol]:
    """The protocol with ``limits`` (one process; workers read ``CAPMOCK_LIMITS``)."""
    return type("BoundLimitedHttpToolsProtocol", (LimitedHttpToolsProtocol,), {"limits": limits})


def protocol(limits: Limits, workers: int) -> type[asyncio.Protocol]:
    """uvicorn's ``http`` for ``limits``: this protocol where httptools is installed (a
    class of its module with workers, which import it); else uvicorn's h11, whose heads
    ``h11_max_incomplete_event_size`` bounds (``server_options``)."""
    if importlib.util.find_spec("httptools") is None:
        return http_protocol("h11")
    return bound(limits) if workers == 1 else LimitedHttpToolsProtocol


def server_options(limits: Limits) -> dict[str, Any]:
    """uvicorn's options for ``limits`` (with ``http=bound(limits)`` or the import path)."""
    return {
        "timeout_keep_alive": limits.keep_alive_seconds,
        "h11_max_incomplete_event_size": limits.max_header_bytes,
    }

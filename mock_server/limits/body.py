"""Request bodies within limits, before anything reads them.

An ASGI middleware in front of both lanes: a body larger than the limit (announced by
Content-Length, or counted as it arrives, chunked or not) is answered 413 (9130) once
it crosses the limit, never buffered whole (what follows is dropped, for at most 1 s
and 1 MiB, so that the client reads the answer); a body that does not
arrive within the request timeout is answered 408 (9132). Only a body that arrived
complete and within the limit reaches the app, replayed as it came.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.errors import ApiError, Code
from mock_server.limits import Limits


class BodyLimits:
    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limits.body_limit(scope["method"], scope["path"])
        too_large = ApiError.of(Code.BODY_TOO_LARGE, limit=limit)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _discard(receive)
            return await _refuse(send, too_large)
        messages: list[Message] = []
        size = 0
        seconds = self.limits.request_timeout_seconds
        try:
            async with asyncio.timeout(seconds):
                while True:
                    message = await receive()
                    messages.append(message)
                    if message["type"] != "http.request":
                        break  # the client left: the app sees it as it came
                    size += len(message.get("body", b""))
                    if size > limit:
                        await _discard(receive)
                        return await _refuse(send, too_large)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            return await _refuse(send, ApiError.of(Code.REQUEST_TIMEOUT, seconds=f"{seconds:g}"))
        await self.app(scope, _replay(messages, receive), send)


DISCARD_BYTES = 1024 * 1024
DISCARD_SECONDS = 1.0


async def _discard(receive: Receive) -> None:
    """Read and drop what follows of a refused body, up to DISCARD_BYTES within
    DISCARD_SECONDS, so that a client still sending gets to read the refusal: closing
    on unread bytes resets the connection, and the answer with it. Beyond that budget
    the connection is cut."""
    dropped = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(DISCARD_SECONDS):
            while dropped <= DISCARD_BYTES:
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body", False):
                    return
                dropped += len(message.get("body", b""))


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """The messages already read, in order, then whatever else the client sends."""
    pending = iter(messages)

    async def replayed() -> Message:
        return next(pending, None) or await receive()

    return replayed


async def _refuse(send: Send, error: ApiError) -> None:
    """The refusal in the envelope; the connection is closed after it, since the rest of
    the body is never read."""
    body = json.dumps(error.envelope()).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(body)),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": error.status(), "headers": headers})
    await send({"type": "http.response.body", "body": body})

"""The one reader of request bodies, for every lane: it hands over a body only when the
whole of it arrived.

A client that closes its connection in the middle of a body leaves uvicorn's h11 and
httptools protocols with a part of it: they pass on what came (``http.request`` with
``more_body`` set), then ``http.disconnect``. That part can be valid JSON on its own,
so a reader that joins whatever came would apply a deduction nobody will hear the
answer to. Here a disconnect before the last part, or fewer bytes than
``Content-Length`` says, is refused (9192) before anything reads the body.
"""

from __future__ import annotations

from starlette.types import Message, Receive, Scope

from mock_server.errors import ApiError, Code


async def read_body(receive: Receive, scope: Scope) -> bytes:
    """The complete body of the request, or ``ApiError`` 9192 when it did not arrive."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            received = sum(len(chunk) for chunk in chunks)
            raise ApiError.of(
                Code.BODY_INCOMPLETE,
                detail=f"the client went away after {received} bytes of the body",
            )
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    declared = _content_length(scope)
    if declared is not None and declared != len(body):
        raise ApiError.of(
            Code.BODY_INCOMPLETE,
            detail=f"{len(body)} bytes arrived where Content-Length says {declared}",
        )
    return body


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive channel that gives ``body`` in one message, then what ``receive`` gives."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None

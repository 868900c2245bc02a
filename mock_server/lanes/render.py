"""One renderer for both lanes: the bytes of every JSON answer, whichever lane served
it, so that a client cannot tell them apart."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response
from starlette.types import Send


def render(answer: dict[str, Any]) -> bytes:
    """An answer's body."""
    return json.dumps(answer).encode()


def json_response(
    status: int, answer: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    """A JSON answer for Connexion's lane: handlers and error handlers return it."""
    return Response(render(answer), status, headers, media_type="application/json")


async def respond(
    send: Send, status: int, answer: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    """Send a JSON answer straight to the ASGI server (the fast lane's way)."""
    body = render(answer)
    sent = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    sent += [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": sent})
    await send({"type": "http.response.body", "body": body})

"""One renderer for both lanes: the bytes of every JSON answer, whichever lane served
it, so that a client cannot tell them apart.

Capillary writes some amounts as JSON numbers with three decimals (the balance lookup's
``8500.000``); Python's json module would write a float (``8500.0``) or refuse a
``Decimal``. Here a ``Decimal`` is written as its own literal, digit for digit.
"""

from __future__ import annotations

import json
import secrets
from decimal import Decimal
from typing import Any

from starlette.responses import Response
from starlette.types import Send


def render(answer: Any) -> bytes:
    """An answer's body: json's own, unless it holds a ``Decimal`` (which json refuses)."""
    try:
        return json.dumps(answer).encode()
    except TypeError:
        return _exact(answer)


def _exact(document: Any) -> bytes:
    """``document`` as JSON, each ``Decimal`` as the number literal it reads as."""
    literals: list[str] = []
    nonce = secrets.token_hex(8)  # no text in the document can name a placeholder

    def mark(value: Any) -> Any:
        if isinstance(value, Decimal):
            literals.append(f"{value:f}")
            return f"{nonce}:{len(literals) - 1}"
        if isinstance(value, dict):
            return {key: mark(item) for key, item in value.items()}
        if isinstance(value, list):
            return [mark(item) for item in value]
        return value

    text = json.dumps(mark(document))
    for index, literal in enumerate(literals):
        text = text.replace(f'"{nonce}:{index}"', literal, 1)
    return text.encode()


def json_response(status: int, answer: Any, headers: dict[str, str] | None = None) -> Response:
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

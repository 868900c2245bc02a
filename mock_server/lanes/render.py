"""JSON answers whose numbers are exact decimals, written as they must read.

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


def json_bytes(document: Any) -> bytes:
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


def json_response(document: Any, status: int) -> Response:
    """The answer, ending with a newline as Connexion's JSON answers do."""
    body = json_bytes(document) + b"\n"
    return Response(body, status_code=status, media_type="application/json")

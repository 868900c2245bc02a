"""Values as the JSON a client sent, for error messages: ``null``, ``true``, ``973.0``,
``"text"``; never Python's ``None``, ``True`` or ``Decimal('973.0')``."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

SHOWN = 100
"""Characters of a value shown in a message; the rest is cut with an ellipsis."""


def json_text(value: Any, limit: int = SHOWN) -> str:
    """``value`` (as parsed from a JSON body) written back as JSON, cut at ``limit``."""
    text = _write(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _write(value: Any) -> str:
    if isinstance(value, Decimal):
        # Exact, and JSON: 973.0, 1E+400. A Decimal of exponent 0 was sent in exponent
        # notation (a plain 973 is an int): 9.73e2 is written 9.73e+2, not 973.
        return f"{value:e}" if value.as_tuple().exponent == 0 else str(value)
    if isinstance(value, dict):
        items = (f"{_write(str(key))}: {_write(item)}" for key, item in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_write(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)

"""What the instruments learn about one request while it is served.

The outermost instrument puts an ``Exchange`` in the ASGI scope's state; the layers
inside it (faults, the lanes, the operations) fill in what they decided, and the
journal records it once the answer has gone. A layer that finds no exchange (a bare
app in a test) simply has nothing to fill in.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import Scope

SESSION_HEADER = "X-Capmock-Session"
"""Names the session whose world a request sees; without it, the default world."""

REQUEST_ID_HEADER = "X-Capmock-Request-Id"
"""Every answer carries the id its journal entry has."""

_KEY = "capmock.exchange"


@dataclass
class Exchange:
    """One request to the Capillary API and what was decided about it."""

    request_id: str
    session: str | None = None
    operation: str | None = None
    """The contract's operationId, once known."""
    user_id: int | None = None
    rule: int | None = None
    """The row of the rules table that answered, or None for a success."""
    code: int | None = None
    explanation: str | None = None
    """``RuleError.explain()`` or ``Deducted.explain()``: why this answer."""
    fault: str | None = None
    """The id of the fault that acted on this request, if one did."""


def attach(scope: Scope, exchange: Exchange) -> None:
    scope.setdefault("state", {})[_KEY] = exchange


def current(scope: Scope) -> Exchange | None:
    exchange = scope.get("state", {}).get(_KEY)
    return exchange if isinstance(exchange, Exchange) else None

"""What the instruments learn about one request while it is served.

The outermost instrument puts an ``Exchange`` in the ASGI scope's state; the layers
inside it (faults, the lanes, the operations) fill in what they decided, and the
journal records it once the answer has gone. A layer that finds no exchange (a bare
app in a test) simply has nothing to fill in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from starlette.types import Scope

SESSION_HEADER = "X-Capmock-Session"
"""Names the session whose world a request sees; without it, the default world."""

REQUEST_ID_HEADER = "X-Capmock-Request-Id"
"""Every answer carries the id its journal entry has."""

_KEY = "capmock.exchange"


class Decision(Protocol):
    """What answered: a ``RuleError`` or another ``ApiError``, a ``Change`` (a deduction
    or an allocation), or what a read or a call of several items found."""

    def explain(self) -> str: ...


@dataclass(slots=True)
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
    """Why this answer in words: a refusal's ``explain()`` (else ``decision`` says it)."""
    decision: Decision | None = None
    """What answered when it was no refusal (``Deducted``, an issued token): its
    ``explain()`` is asked only when the journal shows the entry, so a mock without a
    journal never formats one."""
    fault: str | None = None
    """The id of the fault that acted on this request, if one did."""
    fault_note: str | None = None
    """What that fault did, in words: the end of the journal's explanation."""


def note(scope: Scope, decision: Decision) -> None:
    """Record on the request's exchange, if it has one, which decision answered and why."""
    exchange = current(scope)
    if exchange is None:
        return
    exchange.rule = getattr(decision, "rule", None)
    code = getattr(decision, "code", None)
    exchange.code = int(code) if code is not None else None
    if isinstance(decision, BaseException):
        # in words now (a refusal's reason is ready): a journaled exception would keep
        # its traceback's frames alive as long as the entry
        exchange.explanation, exchange.decision = decision.explain(), None
    else:
        exchange.explanation, exchange.decision = None, decision


def note_customer(scope: Scope, user_id: int) -> None:
    """Record on the request's exchange, if it has one, the customer it turned out to
    name (an identifier, found by the lookup)."""
    exchange = current(scope)
    if exchange is not None:
        exchange.user_id = user_id


def session_of(scope: Scope) -> str | None:
    """The session the request names; None for the default world."""
    exchange = current(scope)
    return exchange.session if exchange else None


def attach(scope: Scope, exchange: Exchange) -> None:
    scope.setdefault("state", {})[_KEY] = exchange


def current(scope: Scope) -> Exchange | None:
    exchange = scope.get("state", {}).get(_KEY)
    return exchange if isinstance(exchange, Exchange) else None

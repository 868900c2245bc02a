"""A fault: which requests it matches, what it does to them, when, how often, for how
long, as ``POST /__admin/faults`` and ``capmock serve --fault`` describe it (the
``FaultRequest`` schema of ``openapi/admin.yaml``, which has already checked the
document when it gets here).

Whether a matching request is acted on is decided from its rank among the fault's
matches, counted by the store: the fault acts on the n-th match when n is within
``times`` and a draw keyed by the mock's seed, the fault's seed (else its id) and n is
below ``probability``. The same matches therefore fail in the same order on every run,
whichever worker or replica serves them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from mock_server.instrument.actions import Action, action_from
from mock_server.instrument.calls import Call

BEFORE = "before"
AFTER_COMMIT = "after_commit"
EXPIRES = "expiresAt"
"""Added to the stored document when the fault has a ``ttl``: when it ends (epoch s)."""


@dataclass(frozen=True, slots=True)
class Match:
    """What a request must be for the fault to act on it; an empty match takes every
    Capillary operation."""

    operation: str | None = None
    user_id: int | None = None
    source: str | None = None
    session: str | None = None
    body: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Match:
        return cls(
            operation=document.get("operation"),
            user_id=document.get("userId"),
            source=document.get("source"),
            session=document.get("session"),
            body=tuple(document.get("body", {}).items()),
        )

    def accepts(self, call: Call, session: str | None) -> bool:
        """Whether the request matches, but for its body."""
        return (
            (self.operation is None or self.operation == call.operation)
            and (self.user_id is None or self.user_id == call.user_id)
            and (self.source is None or self.source == call.source)
            and (self.session is None or self.session == session)
        )

    def accepts_body(self, body: Any) -> bool:
        """Whether each body field named is in the request's JSON body with that value."""
        if not self.body:
            return True
        return isinstance(body, dict) and all(
            field in body and same_json(body[field], value) for field, value in self.body
        )


@dataclass(frozen=True, slots=True)
class Fault:
    id: str
    match: Match
    action: Action
    phase: str
    probability: float
    times: int | None
    seed: int | None
    expires_at: float | None
    document: dict[str, Any]
    """As stored: the request's document, and ``expiresAt`` with a ``ttl``."""

    @classmethod
    def from_record(cls, fault_id: str, text: str) -> Fault:
        """A fault as the store keeps it; ValueError or KeyError if it is not one."""
        document = json.loads(text, parse_float=Decimal)
        expires = document.get(EXPIRES)
        return cls(
            id=fault_id,
            match=Match.from_document(document.get("match", {})),
            action=action_from(document["action"]),
            phase=document.get("phase", BEFORE),
            probability=float(document.get("probability", 1)),
            times=document.get("times"),
            seed=document.get("seed"),
            expires_at=None if expires is None else float(expires),
            document=document,
        )

    def live(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at

    def fires(self, seen: int, seed: int) -> bool:
        """Whether the fault acts on its ``seen``-th matching request."""
        if self.times is not None and seen > self.times:
            return False
        if self.probability >= 1:
            return True
        key = self.id if self.seed is None else self.seed
        digest = hashlib.blake2b(f"{seed}:{key}:{seen}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64 < self.probability

    def describe(self) -> str:
        return f"{self.id} ({self.action.describe()}, {self.phase})"

    def view(self, matched: int) -> dict[str, Any]:
        """The fault as the admin API shows it."""
        shown = {key: value for key, value in jsonable(self.document).items() if key != EXPIRES}
        view = {
            "id": self.id,
            "match": {},
            "phase": BEFORE,
            "probability": 1,
            **shown,
            "matched": matched,
        }
        if self.expires_at is not None:
            view[EXPIRES] = datetime.fromtimestamp(self.expires_at, UTC).isoformat()
        return view


def stored(document: dict[str, Any], now: float) -> str:
    """The text the store keeps for a new fault, from its (checked) request document."""
    kept = jsonable(document)
    if "ttl" in kept:
        kept[EXPIRES] = now + kept["ttl"]
    return json.dumps(kept)


def same_json(sent: Any, wanted: Any) -> bool:
    """JSON equality: numbers by value (``10.50`` is ``10.5``), true is not 1."""
    if isinstance(sent, bool) or isinstance(wanted, bool):
        return sent is wanted
    numbers = (int, float, Decimal)
    if isinstance(sent, numbers) and isinstance(wanted, numbers):
        return Decimal(str(sent)) == Decimal(str(wanted))
    return bool(sent == wanted)


def jsonable(value: Any) -> Any:
    """A parsed document with its Decimals as JSON numbers (ints when whole)."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value

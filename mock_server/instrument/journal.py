"""The request journal: every request to the Capillary API, as sent and as answered, in a
bounded ring (the oldest entries go first, and how many went is counted).

The memory journal keeps each entry as it was captured and renders it only when the
admin API shows it (then keeps the rendering); a listing filters on each entry's
``summary``, the few fields a filter names, so that a console polling the newest 100
does not render the 10,000 kept. The shared journals (``stores/journals.py``) store the
rendered entry, credentials already hidden, so that every worker and replica reads the
same.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs

import jwt

from mock_server.instrument.context import Exchange

JOURNAL_SIZE = 10_000
"""Entries the journal keeps unless ``--journal-size`` says otherwise; 0 turns it off."""

HIDDEN = "***"
SECRET_HEADERS = {"cookie", "proxy-authorization", "x-capmock-admin-token"}

View = dict[str, Any]
"""An entry as the admin API shows it (JSON-ready)."""


_PROCESS = os.urandom(4).hex()
_COUNT = itertools.count()


def new_request_id() -> str:
    """Unique across workers and replicas, and ordered by time: 12 hex digits of
    milliseconds since the epoch, 8 random ones drawn once per process, and 4 of a
    counter of the process's requests."""
    return f"{time.time_ns() // 1_000_000:012x}{_PROCESS}{next(_COUNT) & 0xFFFF:04x}"


@dataclass(slots=True)
class Recorded:
    """One request and its answer, as captured on the wire, with its exchange (its id,
    session, operation, and what decided)."""

    exchange: Exchange
    time: float
    method: str
    path: str
    query: bytes
    headers: Sequence[tuple[bytes, bytes]]
    body: bytes
    status: int
    """0 when no answer went out (a fault reset, closed or held the connection)."""
    response: bytes
    duration: float
    summarized: View | None = None
    rendered: View | None = None

    @property
    def session(self) -> str | None:
        return self.exchange.session


Entry = TypeVar("Entry")
Keep = Callable[[View], bool]
"""A listing's filter, given each entry's ``summary`` (or its whole view)."""


@dataclass(frozen=True, slots=True)
class Page:
    """The newest entries a filter keeps, newest first, and the counts a listing shows."""

    entries: list[View]
    matched: int
    kept: int
    dropped: int


class Journal(Protocol):
    size: int

    async def record(self, entry: Recorded) -> None:
        """Keep one entry, dropping the oldest beyond ``size``."""

    async def entries(self) -> tuple[list[View], int]:
        """Every entry kept, oldest first, and how many were dropped so far."""

    async def page(self, keep: Keep | None, limit: int) -> Page:
        """The newest ``limit`` entries ``keep`` accepts (every entry when None)."""

    async def clear(self, session: str | None = None) -> int:
        """Forget every entry (only the session's, when one is named); how many went."""


class MemoryJournal:
    """The journal of one process (the memory store's)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: deque[Recorded] = deque()
        self._dropped = 0

    async def record(self, entry: Recorded) -> None:
        self._kept.append(entry)
        if len(self._kept) > self.size:
            self._kept.popleft()
            self._dropped += 1

    async def entries(self) -> tuple[list[View], int]:
        return [_rendered(entry) for entry in self._kept], self._dropped

    async def page(self, keep: Keep | None, limit: int) -> Page:
        newest = reversed(self._kept)
        return paged(newest, _summary, _rendered, keep, limit, len(self._kept), self._dropped)

    async def clear(self, session: str | None = None) -> int:
        before = len(self._kept)
        if session is None:
            self._kept.clear()
        else:
            self._kept = deque(entry for entry in self._kept if entry.session != session)
        return before - len(self._kept)


def paged(
    newest_first: Iterable[Entry],
    summary_of: Callable[[Entry], View],
    view_of: Callable[[Entry], View],
    keep: Keep | None,
    limit: int,
    kept: int,
    dropped: int,
) -> Page:
    """The page of the first ``limit`` entries of ``newest_first`` that ``keep`` accepts
    (all of them when None: then only ``limit`` are read); only those shown are rendered."""
    if keep is None:
        return Page([view_of(e) for e in islice(newest_first, limit)], kept, kept, dropped)
    shown: list[View] = []
    matched = 0
    for entry in newest_first:
        if keep(summary_of(entry)):
            matched += 1
            if len(shown) < limit:
                shown.append(view_of(entry))
    return Page(shown, matched, kept, dropped)


def _summary(entry: Recorded) -> View:
    if entry.summarized is None:
        entry.summarized = summary(entry)
    return entry.summarized


def _rendered(entry: Recorded) -> View:
    if entry.rendered is None:
        entry.rendered = view(entry)
    return entry.rendered


def summary(entry: Recorded) -> View:
    """The fields of the entry a listing filters on, as ``view`` shows them."""
    exchange = entry.exchange
    return {
        "id": exchange.request_id,
        "time": datetime.fromtimestamp(entry.time, UTC).isoformat(timespec="milliseconds"),
        "path": entry.path,
        "status": entry.status or None,
        "session": exchange.session,
        "userId": exchange.user_id,
        "code": exchange.code,
        "fault": exchange.fault,
    }


def view(entry: Recorded) -> View:
    """The entry as the admin API shows it, with credentials hidden."""
    exchange = entry.exchange
    decision = exchange.decision
    explanation = exchange.explanation or (decision.explain() if decision else None)
    if exchange.fault_note:
        explanation = "; then ".join(filter(None, [explanation, exchange.fault_note]))
    if exchange.fault:
        outcome = "faulted"
    else:
        outcome = "success" if exchange.code is None and entry.status < 400 else "refused"
    query = entry.query.decode("latin-1")
    sources = parse_qs(query).get("source")
    try:
        text: str | None = entry.body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return {
        **_summary(entry),
        "method": entry.method,
        "query": query,
        "headers": _headers(entry.headers),
        "body": text,
        "bodyBase64": None if text is not None else base64.b64encode(entry.body).decode(),
        "response": entry.response.decode("utf-8", "replace"),
        "durationMs": round(entry.duration * 1000, 3),
        "operation": exchange.operation,
        "source": sources[-1] if sources else None,
        "rule": exchange.rule,
        "outcome": outcome,
        "explanation": explanation,
    }


def _headers(raw: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    shown: dict[str, str] = {}
    for name_bytes, value_bytes in raw:
        name, value = name_bytes.decode("latin-1").lower(), value_bytes.decode("latin-1")
        value = _hidden(name, value)
        shown[name] = f"{shown[name]}, {value}" if name in shown else value
    return shown


def _hidden(name: str, value: str) -> str:
    """A credential with its secret part hidden, keeping who it names."""
    if name == "authorization":
        scheme, _, credentials = value.partition(" ")
        if scheme.lower() == "basic":
            try:
                user = base64.b64decode(credentials, validate=True).decode().split(":", 1)[0]
            except (binascii.Error, ValueError):  # not base64, not ASCII, not UTF-8
                return f"{scheme} {HIDDEN}"
            return f"{scheme} {user}:{HIDDEN}"
        return f"{scheme} {HIDDEN}" if credentials else HIDDEN
    if name == "x-cap-api-oauth-token":
        try:
            subject = jwt.decode(value, options={"verify_signature": False}).get("sub")
        except (jwt.InvalidTokenError, ValueError, TypeError, AttributeError):
            return HIDDEN
        return f"{HIDDEN} (client {subject})" if isinstance(subject, str) else HIDDEN
    if name in SECRET_HEADERS:
        return HIDDEN
    return value

"""The memory store: one process, no persistence; the fastest store, and the default."""

from __future__ import annotations

import itertools
import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from mock_server.errors import ApiError
from mock_server.instrument.journal import Journal, MemoryJournal
from mock_server.model import Bucket, World
from mock_server.rules.change import Change, LedgerEntry
from mock_server.stores.base import (
    LEDGER_LIMIT,
    LEDGER_TOTAL,
    Decide,
    Session,
    TooManySessionsError,
    UnknownSessionError,
    new_session_id,
)
from mock_server.stores.failures.memory import MemoryFailures


@dataclass(eq=False)
class _State:
    """What changed in one namespace: the default world's, or one session's."""

    world: World | None = None
    """The session's own fixtures; None follows the store's world."""
    expires: float = float("inf")
    changed: dict[int, dict[Bucket, Decimal]] = field(default_factory=dict)
    ledgers: dict[int, deque[LedgerEntry]] = field(default_factory=dict)


class MemoryStore:
    """One process, no persistence: the fastest store, and the default.

    ``apply`` never awaits between reading and writing, so on one event loop it is
    atomic without a lock. The ledgers keep the entries of the newest ``ledger_total``
    deductions, and at most ``ledger_limit`` per customer: ``_order`` lists the kept
    deductions oldest first, by session, customer and ``eventLogId`` (plain values, so
    that it holds no entry a customer's own limit dropped, and the garbage collector
    has nothing in it to scan), and an entry that a customer's own limit already
    dropped (or whose session ended) is skipped when its turn to go comes.

    A session is one more ``_State``: empty change maps over the store's world (or its
    own), so that making one copies nothing.
    """

    name = "memory"
    resumed = False

    def __init__(
        self,
        world: World,
        ledger_limit: int = LEDGER_LIMIT,
        ledger_total: int = LEDGER_TOTAL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._world = world
        self._ledger_limit = ledger_limit
        self._ledger_total = ledger_total
        self._clock = clock
        self.token_secret = secrets.token_hex(32)
        self.failures = MemoryFailures()
        self._default = _State()
        self._sessions: dict[str, _State] = {}
        self._order: deque[tuple[str | None, int, int | None]] = deque()
        self._event_ids = itertools.count(1)

    @property
    def last_world(self) -> World:
        return self._world

    def _state(self, session: str | None) -> _State:
        if session is None:
            return self._default
        state = self._sessions.get(session)
        if state is None or state.expires <= self._clock():
            self._sessions.pop(session, None)
            raise UnknownSessionError(session)
        return state

    async def world(self, session: str | None = None) -> World:
        return self._state(session).world or self._world

    async def replace(self, world: World) -> None:
        self._world = world
        await self.reset()

    async def reset(self, session: str | None = None) -> None:
        state = self._state(session)
        state.changed = {}
        state.ledgers = {}
        if session is None and not self._sessions:
            self._order = deque()

    def _view(self, state: _State, world: World, user_id: int) -> Mapping[Bucket, Decimal]:
        customer = world.customers.get(user_id)
        opening = customer.opening if customer else {}
        changed = state.changed.get(user_id)
        return {**opening, **changed} if changed else opening

    async def apply(
        self, user_id: int, decide: Decide, session: str | None = None
    ) -> Change | ApiError:
        state = self._state(session)
        world = state.world or self._world
        outcome = decide(world, self._view(state, world, user_id))
        if isinstance(outcome, Change):
            outcome = outcome.numbered(next(self._event_ids))
            changed = state.changed.setdefault(user_id, {})
            changed[outcome.bucket] = outcome.balance
            if outcome.marker is not None:
                changed[outcome.marker] = Decimal(1)
            self._record(state, session, user_id, outcome.entry)
        return outcome

    def _record(self, state: _State, session: str | None, user_id: int, entry: LedgerEntry) -> None:
        ledger = state.ledgers.get(user_id)
        if ledger is None:
            ledger = state.ledgers[user_id] = deque(maxlen=self._ledger_limit)
        ledger.append(entry)
        self._order.append((session, user_id, entry.event_id))
        if len(self._order) > self._ledger_total:
            name, oldest_user, oldest = self._order.popleft()
            owner = self._default if name is None else self._sessions.get(name)
            if owner is None:  # its session ended
                return
            kept = owner.ledgers.get(oldest_user)  # None once reset
            if kept and kept[0].event_id == oldest:
                kept.popleft()
                if not kept:
                    del owner.ledgers[oldest_user]

    async def balances(self, user_id: int, session: str | None = None) -> dict[Bucket, Decimal]:
        state = self._state(session)
        return dict(self._view(state, state.world or self._world, user_id))

    async def ledger(self, user_id: int, session: str | None = None) -> list[LedgerEntry]:
        return list(self._state(session).ledgers.get(user_id, []))

    async def open_session(self, world: World | None, ttl: float, limit: int) -> Session:
        now = self._clock()
        for name in [name for name, state in self._sessions.items() if state.expires <= now]:
            del self._sessions[name]
        if len(self._sessions) >= limit:
            raise TooManySessionsError(len(self._sessions))
        session = Session(new_session_id(), now + ttl)
        self._sessions[session.id] = _State(world=world, expires=session.expires)
        return session

    async def close_session(self, session: str) -> None:
        self._state(session)
        del self._sessions[session]

    def journal(self, size: int) -> Journal:
        return MemoryJournal(size)

    async def check(self) -> None:
        return None

    async def close(self) -> None:
        return None

"""The memory store: one process, no persistence; the fastest store, and the default."""

from __future__ import annotations

import itertools
import secrets
from collections import ChainMap, deque
from collections.abc import Mapping
from decimal import Decimal

from mock_server.errors import ApiError
from mock_server.model import Bucket, World
from mock_server.rules.change import Change, LedgerEntry
from mock_server.stores.base import LEDGER_LIMIT, LEDGER_TOTAL, Decide


class MemoryStore:
    """One process, no persistence: the fastest store, and the default.

    ``apply`` never awaits between reading and writing, so on one event loop it is
    atomic without a lock. The ledgers keep the entries of the newest ``ledger_total``
    deductions, and at most ``ledger_limit`` per customer: ``_order`` lists the kept
    deductions oldest first, and an entry that a customer's own limit already dropped
    is skipped when its turn to go comes.
    """

    name = "memory"
    resumed = False

    def __init__(
        self, world: World, ledger_limit: int = LEDGER_LIMIT, ledger_total: int = LEDGER_TOTAL
    ) -> None:
        self._world = world
        self._ledger_limit = ledger_limit
        self._ledger_total = ledger_total
        self.token_secret = secrets.token_hex(32)
        self._changed: dict[int, dict[Bucket, Decimal]] = {}
        self._ledgers: dict[int, deque[LedgerEntry]] = {}
        self._order: deque[tuple[int, LedgerEntry]] = deque()
        self._event_ids = itertools.count(1)

    @property
    def last_world(self) -> World:
        return self._world

    async def world(self) -> World:
        return self._world

    async def replace(self, world: World) -> None:
        self._world = world
        await self.reset()

    async def reset(self) -> None:
        self._changed = {}
        self._ledgers = {}
        self._order = deque()

    def _view(self, user_id: int) -> Mapping[Bucket, Decimal]:
        customer = self._world.customers.get(user_id)
        opening = customer.opening if customer else {}
        return ChainMap(self._changed.get(user_id, {}), opening)

    async def apply(self, user_id: int, decide: Decide) -> Change | ApiError:
        outcome = decide(self._world, self._view(user_id))
        if isinstance(outcome, Change):
            outcome = outcome.numbered(next(self._event_ids))
            changed = self._changed.setdefault(user_id, {})
            changed[outcome.bucket] = outcome.balance
            if outcome.marker is not None:
                changed[outcome.marker] = Decimal(1)
            self._record(user_id, outcome.entry)
        return outcome

    def _record(self, user_id: int, entry: LedgerEntry) -> None:
        ledger = self._ledgers.get(user_id)
        if ledger is None:
            ledger = self._ledgers[user_id] = deque(maxlen=self._ledger_limit)
        ledger.append(entry)
        self._order.append((user_id, entry))
        if len(self._order) > self._ledger_total:
            oldest_user, oldest = self._order.popleft()
            kept = self._ledgers[oldest_user]  # never empty: an emptied ledger is deleted
            if kept[0] is oldest:
                kept.popleft()
                if not kept:
                    del self._ledgers[oldest_user]

    async def balances(self, user_id: int) -> dict[Bucket, Decimal]:
        return dict(self._view(user_id))

    async def ledger(self, user_id: int) -> list[LedgerEntry]:
        return list(self._ledgers.get(user_id, []))

    async def check(self) -> None:
        return None

    async def close(self) -> None:
        return None

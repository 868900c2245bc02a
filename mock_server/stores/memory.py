"""The memory store: one process, no persistence; the fastest store, and the default."""

from __future__ import annotations

from collections import ChainMap, deque
from collections.abc import Mapping
from decimal import Decimal

from mock_server.errors import ApiError
from mock_server.model import Bucket, World
from mock_server.rules.deduct import Deducted, LedgerEntry
from mock_server.stores.base import LEDGER_LIMIT, Decide


class MemoryStore:
    """One process, no persistence: the fastest store, and the default.

    ``apply`` never awaits between reading and writing, so on one event loop it is
    atomic without a lock.
    """

    name = "memory"
    resumed = False

    def __init__(self, world: World, ledger_limit: int = LEDGER_LIMIT) -> None:
        self._world = world
        self._ledger_limit = ledger_limit
        self._changed: dict[int, dict[Bucket, Decimal]] = {}
        self._ledgers: dict[int, deque[LedgerEntry]] = {}

    async def world(self) -> World:
        return self._world

    async def replace(self, world: World) -> None:
        self._world = world
        await self.reset()

    async def reset(self) -> None:
        self._changed = {}
        self._ledgers = {}

    def _view(self, user_id: int) -> Mapping[Bucket, Decimal]:
        customer = self._world.customers.get(user_id)
        opening = customer.opening if customer else {}
        return ChainMap(self._changed.get(user_id, {}), opening)

    async def apply(self, user_id: int, decide: Decide) -> Deducted | ApiError:
        outcome = decide(self._world, self._view(user_id))
        if isinstance(outcome, Deducted):
            self._changed.setdefault(user_id, {})[outcome.bucket] = outcome.balance
            ledger = self._ledgers.get(user_id)
            if ledger is None:
                ledger = self._ledgers[user_id] = deque(maxlen=self._ledger_limit)
            ledger.append(outcome.entry)
        return outcome

    async def balances(self, user_id: int) -> dict[Bucket, Decimal]:
        return dict(self._view(user_id))

    async def ledger(self, user_id: int) -> list[LedgerEntry]:
        return list(self._ledgers.get(user_id, []))

    async def close(self) -> None:
        return None

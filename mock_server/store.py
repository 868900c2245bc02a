"""Where balances and the ledger live while the mock runs.

The world (fixtures) is read-only; a store keeps what changed since it was loaded.
Every store offers the same small interface, and ``apply`` is the one place where a
customer's balances are read, decided on and written as one atomic step.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Protocol

from mock_server.errors import ApiError
from mock_server.model import Bucket, World
from mock_server.rules import Deducted, LedgerEntry

Decide = Callable[[Mapping[Bucket, Decimal]], Deducted | ApiError]


class Store(Protocol):
    """The state behind the mock; implementations must make ``apply`` atomic."""

    name: str

    async def world(self) -> World:
        """The fixtures in force."""

    async def replace(self, world: World) -> None:
        """Load new fixtures; balances and ledgers start again from them."""

    async def reset(self) -> None:
        """Back to the fixtures in force, as if just loaded."""

    async def apply(self, user_id: int, decide: Decide) -> Deducted | ApiError:
        """Run ``decide`` on the customer's balances and store what it deducted."""

    async def balances(self, user_id: int) -> dict[Bucket, Decimal]:
        """Every balance the customer has: opening balances with changes applied."""

    async def ledger(self, user_id: int) -> list[LedgerEntry]:
        """The customer's adjustments, oldest first."""


class MemoryStore:
    """One process, no persistence: the fastest store, and the default.

    ``apply`` never awaits between reading and writing, so on one event loop it is
    atomic without a lock.
    """

    name = "memory"

    def __init__(self, world: World) -> None:
        self._world = world
        self._changed: dict[int, dict[Bucket, Decimal]] = {}
        self._ledgers: dict[int, list[LedgerEntry]] = {}

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
        outcome = decide(self._view(user_id))
        if isinstance(outcome, Deducted):
            self._changed.setdefault(user_id, {})[outcome.bucket] = outcome.balance
            self._ledgers.setdefault(user_id, []).append(outcome.entry)
        return outcome

    async def balances(self, user_id: int) -> dict[Bucket, Decimal]:
        return dict(self._view(user_id))

    async def ledger(self, user_id: int) -> list[LedgerEntry]:
        return list(self._ledgers.get(user_id, []))

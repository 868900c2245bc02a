"""Where balances and the ledger live while the mock runs.

The world (fixtures) is read-only; a store keeps what changed since it was loaded.
Every store offers the same small interface, and ``apply`` is the one place where a
customer's balances are read, decided on and written as one atomic step. ``open_store``
turns a URL (``memory``, ``sqlite:///state.db``, ``redis://host:6379/0``) into a store.
"""

from __future__ import annotations

import re
from collections import ChainMap, deque
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Protocol

from mock_server.errors import ApiError
from mock_server.model import Bucket, World
from mock_server.rules import Deducted, LedgerEntry

Decide = Callable[[World, Mapping[Bucket, Decimal]], Deducted | ApiError]
"""The pure rule (``rules.deduct`` for one request): the store passes the world in
force and the customer's balances, so a decision never mixes two worlds."""

STORE_URLS = "memory, sqlite:///path/state.db or redis://host:port/db"
MEMORY_URLS = ("memory", "memory://")
LEDGER_LIMIT = 1000
"""Ledger entries kept per customer, the newest: a load test of millions of deductions
must not grow the mock without bound. Balances are never trimmed, only their history."""


class StoreError(Exception):
    """A store that cannot be used: unknown URL, unreachable server, unusable file."""


class Store(Protocol):
    """The state behind the mock; implementations must make ``apply`` atomic."""

    name: str
    resumed: bool
    """True when the store already held the same fixtures and kept their state (a
    restart, another replica); False when it started from the opening balances."""

    async def world(self) -> World:
        """The fixtures in force."""

    async def replace(self, world: World) -> None:
        """Load new fixtures; balances and ledgers start again from them."""

    async def reset(self) -> None:
        """Back to the fixtures in force, as if just loaded."""

    async def apply(self, user_id: int, decide: Decide) -> Deducted | ApiError:
        """Run ``decide`` on the world and the customer's balances, and store what it
        deducted, as one atomic step."""

    async def balances(self, user_id: int) -> dict[Bucket, Decimal]:
        """Every balance the customer has: opening balances with changes applied."""

    async def ledger(self, user_id: int) -> list[LedgerEntry]:
        """The customer's adjustments, oldest first."""

    async def close(self) -> None:
        """Let go of connections and files."""


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


def opening_view(
    world: World, user_id: int, changed: Mapping[Bucket, Decimal]
) -> dict[Bucket, Decimal]:
    """A customer's balances: the fixture's opening balances under what has changed."""
    customer = world.customers.get(user_id)
    return {**(customer.opening if customer else {}), **changed}


def exact_text(value: Decimal) -> str:
    """An amount as stored by shared stores: positional decimal text, exact, never a float."""
    return f"{value:f}"


def shared_text(world: World) -> str:
    """The fixture text a shared store keeps, so that every worker loads the same world."""
    if world.text is None:
        raise ValueError("a shared store needs the world's fixture text: load it from text")
    return world.text


def redacted(url: str) -> str:
    """The URL with any password hidden, for messages and logs (even a malformed URL)."""
    return re.sub(r"(//[^/@:]*:)[^/@]*@", r"\1***@", url)


def open_store(url: str, world: World | None = None, *, ledger_limit: int = LEDGER_LIMIT) -> Store:
    """The store ``url`` names, ready to serve.

    With ``world``, the store serves it: a shared store that already holds exactly the
    same fixture text keeps its balances and ledger (a restart, another replica), any
    other content is replaced. Without, a shared store serves the world it holds.
    Each customer's ledger keeps its newest ``ledger_limit`` entries.
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if url in MEMORY_URLS:
        if world is None:
            raise StoreError("memory: the memory store needs fixtures to start from")
        return MemoryStore(world, ledger_limit)
    if scheme == "sqlite":
        from mock_server.sqlite_store import SqliteStore

        return SqliteStore.open(url, world, ledger_limit)
    if scheme in ("redis", "rediss"):
        from mock_server.redis_store import RedisStore

        return RedisStore.open(url, world, ledger_limit)
    raise StoreError(f"{redacted(url)}: unknown store URL (use {STORE_URLS})")

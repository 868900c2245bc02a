"""What every store offers, and the helpers the stores share.

The world (fixtures) is read-only; a store keeps what changed since it was loaded.
Every store offers the same small interface, and ``apply`` is the one place where a
customer's balances are read, decided on and written as one atomic step.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Protocol

from mock_server.errors import ApiError
from mock_server.model import Bucket, World
from mock_server.rules.deduct import Deducted, LedgerEntry

Decide = Callable[[World, Mapping[Bucket, Decimal]], Deducted | ApiError]
"""The pure rule (``rules.deduct`` for one request): the store passes the world in
force and the customer's balances, so a decision never mixes two worlds."""

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

"""What every store offers, the errors every store raises, and the helpers they share.

The world (fixtures) is read-only; a store keeps what changed since it was loaded.
Every store offers the same small interface, and ``apply`` is the one place where a
customer's balances are read, decided on and written as one atomic step.

A store that cannot be reached or written while the mock runs raises
``StoreUnavailableError`` (nothing was changed) or ``OutcomeUnknownError`` (a write may or
may not have been made); each store turns its driver's errors into these at its own
edge, and the lanes answer both with a 503 in the API's envelope.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from mock_server.errors import ApiError, Code
from mock_server.model import Bucket, World
from mock_server.rules.change import Change, LedgerEntry
from mock_server.stores.failures.base import FailureStore

if TYPE_CHECKING:
    from mock_server.instrument.journal import Journal

Decide = Callable[[World, Mapping[Bucket, Decimal]], Change | ApiError]
"""The pure rule (``rules.deduct`` or ``rules.allocate`` for one request): the store
passes the world in force and the customer's balances, so a decision never mixes two
worlds."""

LEDGER_LIMIT = 1000
"""Ledger entries kept per customer, the newest: a load test of millions of deductions
must not grow the mock without bound. Balances are never trimmed, only their history."""

LEDGER_TOTAL = 100_000
"""Ledger entries kept for all customers together, in the stores that bound it (memory,
SQLite): those of the newest LEDGER_TOTAL deductions. A fixture of 100,000 customers
would otherwise keep up to 100 million entries."""


SESSION_TTL = 3600.0
"""Seconds a session lives when its maker names no ``ttl``: a test run that crashed
before deleting its sessions leaves nothing behind for long."""

MAX_SESSIONS = 1000
"""Sessions a mock keeps at once unless ``--max-sessions`` says otherwise."""


@dataclass(frozen=True)
class Session:
    """An isolated namespace of the state: its id, and when it expires (epoch seconds)."""

    id: str
    expires: float


def new_session_id() -> str:
    return secrets.token_hex(8)


class UnknownSessionError(ApiError):
    """A request names a session the store does not have (expired, deleted, never made):
    it is refused, never served from the default world."""

    def __init__(self, session: str) -> None:
        refusal = ApiError.of(Code.UNKNOWN_SESSION, session=session)
        super().__init__(refusal.code, refusal.message)
        self.session = session


class TooManySessionsError(ApiError):
    def __init__(self, count: int) -> None:
        refusal = ApiError.of(Code.TOO_MANY_SESSIONS, count=count)
        super().__init__(refusal.code, refusal.message)


class StoreError(Exception):
    """A store that cannot be used: unknown URL, unreachable server, unusable file."""


class StoreUnavailableError(StoreError):
    """The store cannot be reached, read or written right now. Nothing was changed,
    unless it is the subclass ``OutcomeUnknownError``."""

    code = Code.STORE_UNAVAILABLE

    def refusal(self) -> ApiError:
        """The answer to the request that met this error (a 503 in the envelope)."""
        return ApiError.of(self.code, detail=str(self))


class OutcomeUnknownError(StoreUnavailableError):
    """The store failed while a write was under way, and whether the write was made
    could not be found out: the change may or may not have been made."""

    code = Code.OUTCOME_UNKNOWN


class Store(Protocol):
    """The state behind the mock; implementations must make ``apply`` atomic.

    Every call on the state takes a ``session``: None is the default world's state, an
    id a session's, its own namespace (``UnknownSessionError`` when there is none).
    """

    name: str
    resumed: bool
    """True when the store already held the same fixtures and kept their state (a
    restart, another replica); False when it started from the opening balances."""
    token_secret: str
    """The secret OAuth tokens are signed with: kept in a shared store, so that every
    worker and replica that shares it accepts the tokens any of them issued."""

    @property
    def failures(self) -> FailureStore:
        """Faults, latency and rate-limit settings and counters, kept beside the balances
        so that every worker and replica sharing the store applies them."""

    @property
    def last_world(self) -> World:
        """The world this process served last, without asking the store: what credentials
        and error statuses are checked against while the store cannot be reached."""

    async def world(self, session: str | None = None) -> World:
        """The fixtures in force: the session's own, else the store's."""

    async def replace(self, world: World) -> None:
        """Load new fixtures; balances and ledgers start again from them. Sessions made
        without fixtures of their own see the new world, and keep their changes."""

    async def reset(self, session: str | None = None) -> None:
        """Back to the fixtures in force, as if just loaded."""

    async def apply(
        self, user_id: int, decide: Decide, session: str | None = None
    ) -> Change | ApiError:
        """Run ``decide`` on the world and the customer's balances, and store what it
        changed, as one atomic step: the change is returned as written (``numbered``)."""

    async def balances(self, user_id: int, session: str | None = None) -> dict[Bucket, Decimal]:
        """Every balance the customer has: opening balances with changes applied."""

    async def ledger(self, user_id: int, session: str | None = None) -> list[LedgerEntry]:
        """The customer's changes (deductions and allocations), oldest first."""

    async def open_session(self, world: World | None, ttl: float, limit: int) -> Session:
        """A new, empty namespace over ``world`` (None: the store's world, followed as it
        is replaced), expiring after ``ttl`` seconds; ``TooManySessionsError`` when
        ``limit`` sessions are open. Expired sessions are swept first."""

    async def close_session(self, session: str) -> None:
        """Forget a session and its state (``UnknownSessionError`` if there is none)."""

    def journal(self, size: int) -> Journal:
        """The request journal kept beside this store's state, bounded to ``size``."""

    async def check(self) -> None:
        """Raise ``StoreUnavailableError`` naming the problem unless the store can be read
        and written now."""

    async def close(self) -> None:
        """Let go of connections and files."""


async def world_or_last(store: Store, session: str | None = None) -> World:
    """The world in force (the session's) or, while the store cannot be reached, the last
    one served."""
    try:
        return await store.world(session)
    except StoreUnavailableError:
        return store.last_world


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

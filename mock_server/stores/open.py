"""Turn a store URL (``memory``, ``sqlite:///state.db``, ``redis://host:6379/0``,
``redis+cluster://host:6379``) into a store."""

from __future__ import annotations

from mock_server.model import World
from mock_server.stores.base import LEDGER_LIMIT, LEDGER_TOTAL, Store, StoreError, redacted
from mock_server.stores.memory import MemoryStore

STORE_URLS = "memory, sqlite:///path/state.db, redis://host:port/db or redis+cluster://host:port"
MEMORY_URLS = ("memory", "memory://")


def open_store(
    url: str,
    world: World | None = None,
    *,
    ledger_limit: int = LEDGER_LIMIT,
    ledger_total: int = LEDGER_TOTAL,
) -> Store:
    """The store ``url`` names, ready to serve.

    With ``world``, the store serves it: a shared store that already holds exactly the
    same fixture text keeps its balances and ledger (a restart, another replica), any
    other content is replaced. Without, a shared store serves the world it holds.
    Each customer's ledger keeps its newest ``ledger_limit`` entries; the memory and
    SQLite stores keep those of the newest ``ledger_total`` deductions in all (Redis
    does not: a bound over every customer would put one key in every deduction).
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if url in MEMORY_URLS:
        if world is None:
            raise StoreError("memory: the memory store needs fixtures to start from")
        return MemoryStore(world, ledger_limit, ledger_total)
    if scheme == "sqlite":
        from mock_server.stores.sqlite import SqliteStore

        return SqliteStore.open(url, world, ledger_limit, ledger_total)
    if scheme in ("redis", "rediss", "redis+cluster", "rediss+cluster"):
        from mock_server.stores.redis import RedisStore

        return RedisStore.open(url, world, ledger_limit)
    raise StoreError(f"{redacted(url)}: unknown store URL (use {STORE_URLS})")

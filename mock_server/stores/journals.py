"""The request journal kept in a shared store, so that every worker and replica sees
every request: a table in SQLite, a list in Redis. Entries are stored rendered (JSON,
credentials hidden); the ring's bound and its count of dropped entries are kept there too.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, WatchError

from mock_server.instrument.journal import Recorded, View, view
from mock_server.stores.base import StoreUnavailableError
from mock_server.stores.pipelined import Commands

DROPPED = "journal_dropped"
ATTEMPTS = 100
Connection = Callable[[], AbstractContextManager[sqlite3.Connection]]


class SqliteJournal:
    """The ``journal`` table of the SQLite store, trimmed to ``size`` on each record."""

    def __init__(self, write: Connection, read: Connection, size: int) -> None:
        self._write, self._read = write, read
        self.size = size

    async def record(self, entry: Recorded) -> None:
        text = json.dumps(view(entry))
        with self._write() as db:
            seq = db.execute(
                "INSERT INTO journal (session, entry) VALUES (?, ?)", (entry.session, text)
            ).lastrowid
            dropped = db.execute(
                "DELETE FROM journal WHERE seq <= ?", ((seq or 0) - self.size,)
            ).rowcount
            if dropped:
                db.execute(
                    "INSERT INTO setting VALUES (?, ?) ON CONFLICT (name) "
                    "DO UPDATE SET value = CAST(value AS INTEGER) + ?",
                    (DROPPED, str(dropped), dropped),
                )

    async def entries(self) -> tuple[list[View], int]:
        with self._read() as db:
            rows = db.execute("SELECT entry FROM journal ORDER BY seq").fetchall()
            dropped = db.execute("SELECT value FROM setting WHERE name = ?", (DROPPED,)).fetchone()
        return [json.loads(text) for (text,) in rows], int(dropped[0]) if dropped else 0

    async def clear(self, session: str | None = None) -> int:
        with self._write() as db:
            if session is None:
                return db.execute("DELETE FROM journal").rowcount
            return db.execute("DELETE FROM journal WHERE session = ?", (session,)).rowcount


RECORD_SCRIPT = """
local n = redis.call('RPUSH', KEYS[1], ARGV[1])
local over = n - tonumber(ARGV[2])
if over > 0 then
  redis.call('LTRIM', KEYS[1], over, -1)
  redis.call('INCRBY', KEYS[2], over)
end
return n
"""
"""KEYS: the journal list, the dropped counter; ARGV: the entry, the size."""


class RedisJournal:
    """A Redis list of rendered entries, oldest first, trimmed by one script per record."""

    def __init__(
        self, client: aioredis.Redis, hot: Commands, prefix: str, shown: str, size: int
    ) -> None:
        self._client = client
        self._keys = [f"{prefix}journal", f"{prefix}journal:dropped"]
        self._record = hot.register_script(RECORD_SCRIPT)
        self._shown = shown
        self.size = size

    async def record(self, entry: Recorded) -> None:
        try:
            await self._record(keys=self._keys, args=[json.dumps(view(entry)), self.size])
        except RedisError as error:
            raise StoreUnavailableError(f"{self._shown}: {error}") from None

    async def entries(self) -> tuple[list[View], int]:
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.lrange(self._keys[0], 0, -1)
                pipe.get(self._keys[1])
                texts, dropped = await pipe.execute()
        except RedisError as error:
            raise StoreUnavailableError(f"{self._shown}: {error}") from None
        return [json.loads(text) for text in texts], int(dropped or 0)

    async def clear(self, session: str | None = None) -> int:
        try:
            return await self._clear(session)
        except RedisError as error:
            raise StoreUnavailableError(f"{self._shown}: {error}") from None

    async def _clear(self, session: str | None) -> int:
        key = self._keys[0]
        async with self._client.pipeline() as pipe:
            for _ in range(ATTEMPTS):
                try:
                    await pipe.watch(key)
                    texts = await pipe.lrange(key, 0, -1)
                    kept = [t for t in texts if session is not None and _session(t) != session]
                    pipe.multi()
                    pipe.delete(key)
                    if kept:
                        pipe.rpush(key, *kept)
                    await pipe.execute()
                    return len(texts) - len(kept)
                except WatchError:
                    continue
        raise StoreUnavailableError(f"{self._shown}: the journal kept changing; nothing cleared")


def _session(text: bytes | str) -> Any:
    return json.loads(text).get("session")

"""The request journal kept in a shared store, so that every worker and replica sees
every request: a table in SQLite, a list in Redis. Entries are stored rendered (JSON,
credentials hidden); the ring's bound and its count of dropped entries are kept there too.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager

from mock_server.instrument.journal import Keep, Page, Recorded, View, paged, view
from mock_server.stores.pipelined import Commands

DROPPED = "journal_dropped"
Connection = Callable[[], AbstractContextManager[sqlite3.Connection]]
Guard = Callable[[], AbstractContextManager[None]]


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
            dropped = self._dropped(db)
        return [json.loads(text) for (text,) in rows], dropped

    async def page(self, keep: Keep | None, limit: int) -> Page:
        with self._read() as db:
            rows = db.execute(
                "SELECT entry, (SELECT count(*) FROM journal) FROM journal ORDER BY seq DESC"
                + (" LIMIT ?" if keep is None else ""),
                (limit,) if keep is None else (),
            ).fetchall()
            dropped = self._dropped(db)
        kept = rows[0][1] if rows else 0
        views = (json.loads(text) for text, _ in rows)
        return paged(views, _itself, _itself, keep, limit, kept, dropped)

    async def clear(self, session: str | None = None) -> int:
        with self._write() as db:
            if session is None:
                return db.execute("DELETE FROM journal").rowcount
            return db.execute("DELETE FROM journal WHERE session = ?", (session,)).rowcount

    @staticmethod
    def _dropped(db: sqlite3.Connection) -> int:
        row = db.execute("SELECT value FROM setting WHERE name = ?", (DROPPED,)).fetchone()
        return int(row[0]) if row else 0


def _itself(entry: View) -> View:
    return entry


JOURNAL = "capmock:{journal}"
DROPPED_KEY = JOURNAL + ":dropped"

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

NEWEST_SCRIPT = """
local n = tonumber(ARGV[1])
local first = 0
if n > 0 then first = -n end
return {redis.call('LLEN', KEYS[1]), redis.call('LRANGE', KEYS[1], first, -1),
        redis.call('GET', KEYS[2])}
"""
"""KEYS: the journal list, the dropped counter. ARGV: how many of the newest entries to
return (0: all). Returns how many are kept, those entries oldest first, and how many
were dropped, as one snapshot."""

CLEAR_SCRIPT = """
local entries = redis.call('LRANGE', KEYS[1], 0, -1)
local kept = {}
if ARGV[1] ~= '' then
  for _, text in ipairs(entries) do
    if cjson.decode(text).session ~= ARGV[1] then kept[#kept + 1] = text end
  end
end
redis.call('DEL', KEYS[1])
for i = 1, #kept, 1000 do
  redis.call('RPUSH', KEYS[1], unpack(kept, i, math.min(i + 999, #kept)))
end
return #entries - #kept
"""
"""KEYS: the journal list. ARGV: the session whose entries to delete ('': all of them).
Returns how many were deleted."""


class RedisJournal:
    """A Redis list of rendered entries, oldest first, trimmed by one script per record.
    Its keys share one hash slot (``{journal}``), so that it runs on Redis Cluster too."""

    def __init__(self, client: Commands, available: Guard, size: int) -> None:
        """``available``: the store's guard, which turns a Redis error into
        ``StoreUnavailableError``."""
        self._keys = [JOURNAL, DROPPED_KEY]
        self._record = client.register_script(RECORD_SCRIPT)
        self._newest = client.register_script(NEWEST_SCRIPT)
        self._clear = client.register_script(CLEAR_SCRIPT)
        self._available = available
        self.size = size

    async def record(self, entry: Recorded) -> None:
        with self._available():
            await self._record(keys=self._keys, args=[json.dumps(view(entry)), self.size])

    async def entries(self) -> tuple[list[View], int]:
        with self._available():
            _, texts, dropped = await self._newest(keys=self._keys, args=[0])
        return [json.loads(text) for text in texts], int(dropped or 0)

    async def page(self, keep: Keep | None, limit: int) -> Page:
        with self._available():
            kept, texts, dropped = await self._newest(
                keys=self._keys, args=[limit if keep is None else 0]
            )
        views = (json.loads(text) for text in reversed(texts))
        return paged(views, _itself, _itself, keep, limit, kept, int(dropped or 0))

    async def clear(self, session: str | None = None) -> int:
        with self._available():
            cleared: int = await self._clear(keys=self._keys[:1], args=[session or ""])
        return cleared

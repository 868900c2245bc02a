"""Failure state in the SQLite file, beside the balances: shared by the workers of a host.

Counting steps run in ``BEGIN IMMEDIATE`` like deductions, so two processes never count
the same match or request twice. Any SQLite error rolls back and becomes
``StoreUnavailableError``, as in the store itself.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence

from mock_server.stores.failures.base import FAULT_ID, FailureState, Window
from mock_server.stores.journals import Connection

SCHEMA = """
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS failure_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS failure_setting (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS fault (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    document TEXT NOT NULL,
    matched INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE IF NOT EXISTS rate_window (
    key TEXT PRIMARY KEY,
    start INTEGER NOT NULL,
    count INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
COMMIT;
"""
"""Added to a file that lacks them when it is first opened, whatever its schema version
(older mocks ignore these tables)."""
_ID = re.compile(r"f([0-9]{1,18})")


def create_tables(db: sqlite3.Connection) -> None:
    """Add the tables unless the file has them (so a read-only file is not written)."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'rate_window'").fetchone() is None:
        db.executescript(SCHEMA)


class SqliteFailures:
    """The failure tables of the SQLite store, through its own guarded connection:
    ``write`` a transaction holding the write lock, ``read`` a step whose SQLite errors
    become ``StoreUnavailableError``."""

    def __init__(self, db: sqlite3.Connection, write: Connection, read: Connection) -> None:
        self._db = db
        self._write, self._available = write, read

    async def version(self) -> str | None:
        with self._available() as db:
            row = db.execute("SELECT version FROM failure_version").fetchone()
        return None if row is None else str(row[0])

    async def load(self) -> FailureState:
        with self._available() as db:
            if db.in_transaction:
                db.execute("ROLLBACK")
            db.execute("BEGIN")  # one snapshot for the three reads
            row = db.execute("SELECT version FROM failure_version").fetchone()
            faults = db.execute("SELECT seq, document FROM fault ORDER BY seq").fetchall()
            settings = db.execute("SELECT name, value FROM failure_setting").fetchall()
            db.execute("COMMIT")
        return FailureState(
            None if row is None else str(row[0]),
            tuple((FAULT_ID.format(seq), document) for seq, document in faults),
            dict(settings),
        )

    async def add(self, document: str) -> str:
        with self._write() as db:
            seq = db.execute("INSERT INTO fault (document) VALUES (?)", (document,)).lastrowid
            _changed(db)
        return FAULT_ID.format(seq)

    async def remove(self, fault_ids: Sequence[str] | None = None) -> list[str]:
        with self._write() as db:
            if fault_ids is None:
                seqs = [seq for (seq,) in db.execute("SELECT seq FROM fault").fetchall()]
            else:
                seqs = [seq for seq in map(_seq, fault_ids) if seq is not None]
            removed = [
                seq
                for seq in seqs
                if db.execute("DELETE FROM fault WHERE seq = ?", (seq,)).rowcount
            ]
            if removed:
                _changed(db)
        return [FAULT_ID.format(seq) for seq in removed]

    async def count(self, fault_id: str, times: int | None) -> int | None:
        seq = _seq(fault_id)
        if seq is None:
            return None
        with self._write() as db:
            rows = db.execute(
                "UPDATE fault SET matched = matched + 1 WHERE seq = ? RETURNING matched", (seq,)
            ).fetchall()
            if not rows:
                return None
            seen: int = rows[0][0]
            if times is not None and seen >= times:
                db.execute("DELETE FROM fault WHERE seq = ?", (seq,))
                _changed(db)
        return seen

    async def matched(self) -> dict[str, int]:
        with self._available() as db:
            rows = db.execute("SELECT seq, matched FROM fault").fetchall()
        return {FAULT_ID.format(seq): matched for seq, matched in rows}

    async def configure(self, name: str, value: str | None) -> None:
        with self._write() as db:
            _set(db, name, value)
            _changed(db)

    async def take(self, key: str, now_ms: int, period_ms: int) -> Window:
        with self._write() as db:
            start, count = db.execute(
                "INSERT INTO rate_window VALUES (:key, :now, 1) ON CONFLICT (key) DO UPDATE SET "
                "start = CASE WHEN :now >= start + :period THEN :now ELSE start END, "
                "count = CASE WHEN :now >= start + :period THEN 1 ELSE count + 1 END "
                "RETURNING start, count",
                {"key": key, "now": now_ms, "period": period_ms},
            ).fetchall()[0]
        return Window(start, count)

    async def forget_windows(self) -> None:
        with self._write() as db:
            db.execute("DELETE FROM rate_window")

    def install(self, faults: Sequence[str], settings: Mapping[str, str | None]) -> None:
        db = self._db
        held = [document for (document,) in db.execute("SELECT document FROM fault ORDER BY seq")]
        stored = dict(db.execute("SELECT name, value FROM failure_setting").fetchall())
        wanted = {name: value for name, value in settings.items() if value is not None}
        windows = db.execute("SELECT 1 FROM rate_window LIMIT 1").fetchone()
        if not held and not faults and stored == wanted and windows is None:
            return  # nothing to write: a read-only file can still be served
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM fault")
            db.execute("DELETE FROM sqlite_sequence WHERE name = 'fault'")
            db.executemany("INSERT INTO fault (document) VALUES (?)", [(d,) for d in faults])
            db.execute("DELETE FROM failure_setting")
            db.execute("DELETE FROM rate_window")
            for name, value in wanted.items():
                _set(db, name, value)
            _changed(db)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


def _seq(fault_id: str) -> int | None:
    found = _ID.fullmatch(fault_id)
    return int(found[1]) if found else None


def _set(db: sqlite3.Connection, name: str, value: str | None) -> None:
    if value is None:
        db.execute("DELETE FROM failure_setting WHERE name = ?", (name,))
    else:
        db.execute(
            "INSERT INTO failure_setting VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )


def _changed(db: sqlite3.Connection) -> None:
    db.execute(
        "INSERT INTO failure_version VALUES (1, 1) "
        "ON CONFLICT (id) DO UPDATE SET version = version + 1"
    )

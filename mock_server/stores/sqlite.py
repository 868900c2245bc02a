"""The SQLite store: one file, shared by the worker processes of one host, kept across
restarts.

WAL mode lets readers go on while one process writes. Every read-decide-write runs in
``BEGIN IMMEDIATE``, which takes the database's write lock *before* reading, so two
processes can never decide on the same balance: no lost update, no double deduction.
The calls are short and run on the event loop without awaiting in between, so they are
atomic inside a process too; a worker waiting for another's lock waits at most
``BUSY_TIMEOUT_MS``. Amounts are exact decimal TEXT in STRICT tables, never REAL.
With ``synchronous=NORMAL`` a committed deduction survives the process being killed;
only a crash of the machine itself may lose the last ones.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

from mock_server.errors import ApiError
from mock_server.fixtures import load_document
from mock_server.model import Bucket, World
from mock_server.rules.deduct import Deducted, LedgerEntry
from mock_server.stores.base import Decide, StoreError, exact_text, opening_view, shared_text

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 10_000
TRIM_EVERY = 64
"""Old ledger rows are deleted every TRIM_EVERY insertions: trimming on every one walks
LEDGER_LIMIT index entries per deduction."""
MAX_ATTEMPTS = 100
_ABSOLUTE_HINT = " (three slashes make a relative path: write sqlite://// for an absolute one)"

_SCHEMA = f"""
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS fixture (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    text TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS balance (
    user_id INTEGER NOT NULL,
    program_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    amount TEXT NOT NULL,
    PRIMARY KEY (user_id, program_id, kind, name)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    time TEXT NOT NULL,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    program_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    amount TEXT NOT NULL,
    balance_after TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS ledger_by_user ON ledger (user_id, seq);
PRAGMA user_version = {SCHEMA_VERSION};
COMMIT;
"""


def database_path(url: str) -> Path:
    """The file a ``sqlite:///`` URL names. As in SQLAlchemy, ``sqlite:///state.db`` is
    relative to the working directory and ``sqlite:////var/lib/state.db`` absolute."""
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise StoreError(f"{url}: not a URL: {error}") from None
    if not url.lower().startswith("sqlite://") or parts.netloc or parts.query:
        raise StoreError(
            f"{url}: a SQLite URL is sqlite:///relative/state.db or sqlite:////absolute/state.db"
        )
    path = unquote(parts.path[1:])
    if not path or path.endswith("/"):
        raise StoreError(f"{url}: names no file (e.g. sqlite:///state.db)")
    return Path(path).absolute()


class SqliteStore:
    """Balances and ledger in a SQLite file; see the module's docstring."""

    name = "sqlite"

    def __init__(self, db: sqlite3.Connection, url: str, ledger_limit: int) -> None:
        self._db = db
        self._url = url
        self._ledger_limit = ledger_limit
        self._world: World | None = None
        self._version = 0
        self.resumed = False

    @classmethod
    def open(cls, url: str, world: World | None, ledger_limit: int) -> SqliteStore:
        """Open (creating if needed) the file; serve ``world``, or the one it holds."""
        path = database_path(url)
        try:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as error:
            hint = "" if url.lower().startswith("sqlite:////") else _ABSOLUTE_HINT
            raise StoreError(f"{url}: cannot open {path}: {error}{hint}") from None
        store = cls(db, url, ledger_limit)
        try:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            store._create_schema(path)
            if world is not None:
                store._adopt(world)
            else:
                store._attach()
        except sqlite3.Error as error:
            db.close()
            raise StoreError(f"{url}: cannot use {path} as capmock's state: {error}") from None
        except (StoreError, ValueError):
            db.close()
            raise
        return store

    def _create_schema(self, path: Path) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        tables = self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if version != 0 or tables:
            raise StoreError(
                f"{self._url}: {path} is not a capmock state file (or one of another "
                "version); give a new file name"
            )
        self._db.executescript(_SCHEMA)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A transaction holding the write lock from its first read."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _stored(self) -> tuple[int, str] | None:
        row: tuple[int, str] | None = self._db.execute(
            "SELECT version, text FROM fixture"
        ).fetchone()
        return row

    def _adopt(self, world: World) -> None:
        """Serve ``world``: keep the state when the file holds the same fixture text."""
        text = shared_text(world)
        with self._write() as db:
            stored = self._stored()
            self.resumed = stored is not None and stored[1] == text
            if stored is not None and self.resumed:
                version = stored[0]
            else:
                version = stored[0] + 1 if stored else 1
                db.execute("INSERT OR REPLACE INTO fixture VALUES (1, ?, ?)", (version, text))
                self._clear(db)
        self._world, self._version = world, version

    def _attach(self) -> None:
        if self._stored() is None:
            raise StoreError(
                f"{self._url}: holds no fixtures yet; start the mock on it with --fixtures once"
            )
        self._current()
        self.resumed = True

    def _current(self) -> tuple[World, int]:
        """The world in force and its version, loaded again when another process
        replaced it (one indexed read when it did not)."""
        version = self._db.execute("SELECT version FROM fixture").fetchone()[0]
        if version == self._version and self._world is not None:
            return self._world, version
        stored = self._stored()
        if stored is None:
            raise StoreError(f"{self._url}: holds no fixtures any more")
        self._version, text = stored
        self._world = load_document(text, f"the fixtures stored in {self._url}")
        return self._world, self._version

    @staticmethod
    def _clear(db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM balance")
        db.execute("DELETE FROM ledger")

    async def world(self) -> World:
        return self._current()[0]

    async def replace(self, world: World) -> None:
        text = shared_text(world)
        with self._write() as db:
            db.execute("UPDATE fixture SET version = version + 1, text = ?", (text,))
            self._clear(db)
            version = db.execute("SELECT version FROM fixture").fetchone()[0]
        self._world, self._version = world, version

    async def reset(self) -> None:
        with self._write() as db:
            self._clear(db)

    def _changed(self, user_id: int) -> dict[Bucket, Decimal]:
        rows = self._db.execute(
            "SELECT program_id, kind, name, amount FROM balance WHERE user_id = ?", (user_id,)
        )
        return {Bucket(program, kind, name): Decimal(text) for program, kind, name, text in rows}

    async def apply(self, user_id: int, decide: Decide) -> Deducted | ApiError:
        for _ in range(MAX_ATTEMPTS):
            world, version = self._current()  # a new world is loaded outside the lock
            with self._write() as db:
                if db.execute("SELECT version FROM fixture").fetchone()[0] != version:
                    continue  # replaced meanwhile: decide again, on the new world
                outcome = decide(world, opening_view(world, user_id, self._changed(user_id)))
                if isinstance(outcome, Deducted):
                    self._record(db, user_id, outcome)
                return outcome
        raise StoreError(f"{self._url}: the fixtures kept changing; the deduction was not made")

    def _record(self, db: sqlite3.Connection, user_id: int, outcome: Deducted) -> None:
        bucket, entry = outcome.bucket, outcome.entry
        db.execute(
            "INSERT INTO balance VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT DO UPDATE SET amount = excluded.amount",
            (user_id, bucket.program_id, bucket.kind, bucket.name, exact_text(outcome.balance)),
        )
        inserted = db.execute(
            "INSERT INTO ledger (user_id, time, source, reason, program_id, kind, name, amount, "
            "balance_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                user_id,
                entry.time.isoformat(),
                entry.source,
                entry.reason,
                bucket.program_id,
                bucket.kind,
                bucket.name,
                exact_text(entry.amount),
                exact_text(entry.balance_after),
            ),
        )
        if (inserted.lastrowid or 0) % TRIM_EVERY == 0:  # reads show the newest only in between
            db.execute(
                "DELETE FROM ledger WHERE user_id = ? AND seq <= (SELECT seq FROM ledger "
                "WHERE user_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                (user_id, user_id, self._ledger_limit),
            )

    async def balances(self, user_id: int) -> dict[Bucket, Decimal]:
        world, _ = self._current()
        return opening_view(world, user_id, self._changed(user_id))

    async def ledger(self, user_id: int) -> list[LedgerEntry]:
        newest_first = self._db.execute(
            "SELECT time, source, reason, program_id, kind, name, amount, balance_after "
            "FROM ledger WHERE user_id = ? ORDER BY seq DESC LIMIT ?",
            (user_id, self._ledger_limit),
        ).fetchall()
        return [
            LedgerEntry(
                datetime.fromisoformat(time),
                source,
                reason,
                Bucket(program, kind, name),
                Decimal(amount),
                Decimal(after),
            )
            for time, source, reason, program, kind, name, amount, after in reversed(newest_first)
        ]

    async def close(self) -> None:
        self._db.close()

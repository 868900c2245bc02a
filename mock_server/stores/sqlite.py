"""The SQLite store: one file, shared by the worker processes of one host, kept across
restarts.

WAL mode lets readers go on while one process writes. Every read-decide-write runs in
``BEGIN IMMEDIATE``, which takes the database's write lock *before* reading, so two
processes can never decide on the same balance: no lost update, no double deduction.
The calls are short and run on the event loop without awaiting in between, so they are
atomic inside a process too. Before ``BEGIN IMMEDIATE`` the processes on the file queue
on a ``WriteLock`` (an ``flock`` on ``state.db-lock``), so a waiting worker wakes the
moment the other lets go instead of sleeping out SQLite's growing back-off while the
other writes again and again; it waits at most ``BUSY_TIMEOUT_MS`` there, and again at
most that long for SQLite's lock (held by something else than a capmock process).
Amounts are exact decimal TEXT in STRICT tables, never REAL.
With ``synchronous=NORMAL`` a committed deduction survives the process being killed;
only a crash of the machine itself may lose the last ones.

Every SQLite error met while serving (a full disk, a read-only file, a lock held past
the busy timeout, SQLite's or the queue's) rolls the transaction back and is raised as
``StoreUnavailableError``: a transaction that did not commit changed nothing, so the
outcome is never in doubt.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

from mock_server.errors import ApiError
from mock_server.fixtures import load_document
from mock_server.instrument.journal import Journal
from mock_server.model import Bucket, World
from mock_server.rules.change import DEBIT, Change, LedgerEntry
from mock_server.stores.base import (
    Decide,
    Session,
    StoreError,
    StoreUnavailableError,
    TooManySessionsError,
    UnknownSessionError,
    exact_text,
    new_session_id,
    opening_view,
    shared_text,
)
from mock_server.stores.failures.sqlite import SqliteFailures, create_tables
from mock_server.stores.journals import SqliteJournal
from mock_server.stores.writelock import LockTimeoutError, WriteLock

SCHEMA_VERSION = 2
BUSY_TIMEOUT_MS = 10_000
TRIM_EVERY = 64
"""Old ledger rows are deleted every TRIM_EVERY insertions: trimming on every one walks
LEDGER_LIMIT index entries per deduction. Reads show only the kept ones in between."""
MAX_ATTEMPTS = 100
_ABSOLUTE_HINT = " (three slashes make a relative path: write sqlite://// for an absolute one)"

_SETTINGS = """
CREATE TABLE IF NOT EXISTS setting (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
"""
"""Added after version 1 shipped: files made before it get the table when first opened."""
_DIRECTION = f"direction TEXT NOT NULL DEFAULT '{DEBIT}'"
"""The ledger's column for credits and debits, added after version 1 shipped: files made
before it get the column (their entries are all deductions) when first opened."""
TOKEN_SECRET = "token_secret"
HEALTH_PROBE = "health_probe"
HEALTH_PROBE_BYTES = 8192
"""Random bytes health commits (16 KiB as hex: four or five pages), more than the
pages one deduction changes (a balance, a ledger row, the ledger's index)."""

_SESSIONS = """
CREATE TABLE IF NOT EXISTS session (
    id TEXT PRIMARY KEY,
    fixture TEXT,
    expires REAL NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    session TEXT,
    entry TEXT NOT NULL
) STRICT;
"""
"""Sessions (``fixture`` NULL: the store's world) and the request journal."""

_BALANCE_COLUMNS = """(
    session TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    program_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    amount TEXT NOT NULL,
    PRIMARY KEY (session, user_id, program_id, kind, name)
) STRICT, WITHOUT ROWID;"""

_MIGRATE_1_TO_2 = f"""
BEGIN IMMEDIATE;
CREATE TABLE balance_2 {_BALANCE_COLUMNS}
INSERT INTO balance_2 SELECT '', user_id, program_id, kind, name, amount FROM balance;
DROP TABLE balance;
ALTER TABLE balance_2 RENAME TO balance;
ALTER TABLE ledger ADD COLUMN session TEXT NOT NULL DEFAULT '';
DROP INDEX ledger_by_user;
CREATE INDEX ledger_by_user ON ledger (session, user_id, seq);
{_SESSIONS}
PRAGMA user_version = 2;
COMMIT;
"""
"""A file of version 1 (before sessions): its state becomes the default world's."""

DEFAULT = ""
"""The ``session`` column of the default world's state."""

_SCHEMA = f"""
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS fixture (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    text TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS balance {_BALANCE_COLUMNS}
CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY,
    session TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    time TEXT NOT NULL,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    program_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    amount TEXT NOT NULL,
    balance_after TEXT NOT NULL,
    {_DIRECTION}
) STRICT;
CREATE INDEX IF NOT EXISTS ledger_by_user ON ledger (session, user_id, seq);
{_SETTINGS}
{_SESSIONS}
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

    def __init__(
        self,
        db: sqlite3.Connection,
        lock: WriteLock,
        url: str,
        world: World,
        version: int,
        *,
        resumed: bool,
        token_secret: str,
        ledger_limit: int,
        ledger_total: int,
    ) -> None:
        self._db = db
        self._lock = lock
        self._url = url
        self._world, self._version = world, version
        self.resumed = resumed
        self.token_secret = token_secret
        self._ledger_limit = ledger_limit
        self._ledger_total = ledger_total
        self.failures = SqliteFailures(db, self._write, self._available)
        self._session_worlds: dict[str, World] = {}
        """Sessions' own fixtures, loaded once per process: a session's never change."""

    @classmethod
    def open(
        cls, url: str, world: World | None, ledger_limit: int, ledger_total: int
    ) -> SqliteStore:
        """Open (creating if needed) the file; serve ``world``, or the one it holds."""
        path = database_path(url)
        hint = "" if url.lower().startswith("sqlite:////") else _ABSOLUTE_HINT
        if not path.parent.is_dir():
            missing = f"the folder {path.parent} does not exist: create it first"
            raise StoreError(f"{url}: {missing}{hint}")
        try:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as error:
            raise StoreError(f"{url}: cannot open {path}: {error}{hint}") from None
        try:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            _create_schema(db, url, path)
            create_tables(db)
            if world is not None:
                version, resumed = _adopt(db, world)
            else:
                world, version = _attach(db, url)
                resumed = True
            secret = _token_secret(db)
        except sqlite3.Error as error:
            db.close()
            raise StoreError(f"{url}: cannot use {path} as capmock's state: {error}") from None
        except (StoreError, ValueError):
            db.close()
            raise
        return cls(
            db,
            WriteLock(path.with_name(f"{path.name}-lock")),
            url,
            world,
            version,
            resumed=resumed,
            token_secret=secret,
            ledger_limit=ledger_limit,
            ledger_total=ledger_total,
        )

    @contextmanager
    def _available(self) -> Iterator[sqlite3.Connection]:
        """Run a step; any SQLite error rolls back and becomes ``StoreUnavailableError``."""
        try:
            yield self._db
        except sqlite3.Error as error:
            with suppress(sqlite3.Error):
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
            raise StoreUnavailableError(f"sqlite ({self._url}): {error}") from None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A transaction holding the write lock from its first read; rolled back unless
        it commits, so a failed COMMIT (a full disk) leaves no transaction open. The
        processes on the file queue for it on their ``WriteLock`` first."""
        try:
            queued = self._lock.held(BUSY_TIMEOUT_MS / 1000)
            with queued, self._available() as db:
                if db.in_transaction:  # a ROLLBACK that failed earlier: start clean
                    db.execute("ROLLBACK")
                db.execute("BEGIN IMMEDIATE")
                yield db
                db.execute("COMMIT")
        except LockTimeoutError:
            raise StoreUnavailableError(
                f"sqlite ({self._url}): database is locked: another process kept "
                f"the write lock for {BUSY_TIMEOUT_MS} ms"
            ) from None

    @property
    def last_world(self) -> World:
        return self._world

    def _current(self) -> tuple[World, int]:
        """The world in force and its version, loaded again when another process
        replaced it (one indexed read when it did not)."""
        with self._available() as db:
            row = db.execute("SELECT version FROM fixture").fetchone()
            if row is not None and row[0] == self._version:
                return self._world, self._version
            stored = _stored(db)
        if stored is None:
            raise StoreUnavailableError(f"sqlite ({self._url}): holds no fixtures any more")
        version, text = stored
        self._world = load_document(text, f"the fixtures stored in {self._url}")
        self._version = version
        return self._world, version

    def _in(self, session: str | None) -> tuple[World, int | None]:
        """The world a session sees and the store's fixture version it depends on (None
        for a session with fixtures of its own); ``UnknownSessionError`` if there is none."""
        if session is None:
            return self._current()
        with self._available() as db:
            row = db.execute(
                "SELECT fixture IS NULL, expires FROM session WHERE id = ?", (session,)
            ).fetchone()
            if row is None or row[1] <= time.time():
                raise UnknownSessionError(session)
            if row[0]:
                return self._current()
            world = self._session_worlds.get(session)
            if world is None:
                query = "SELECT fixture FROM session WHERE id = ?"
                (text,) = db.execute(query, (session,)).fetchone()
                world = load_document(text, f"the fixtures of session {session}")
                self._session_worlds[session] = world
            return world, None

    async def world(self, session: str | None = None) -> World:
        return self._in(session)[0]

    async def replace(self, world: World) -> None:
        text = shared_text(world)
        with self._write() as db:
            db.execute("UPDATE fixture SET version = version + 1, text = ?", (text,))
            _clear(db, DEFAULT)
            version = db.execute("SELECT version FROM fixture").fetchone()[0]
        self._world, self._version = world, version

    async def reset(self, session: str | None = None) -> None:
        self._in(session)
        with self._write() as db:
            _clear(db, session or DEFAULT)

    def _changed(self, user_id: int, space: str) -> dict[Bucket, Decimal]:
        rows = self._db.execute(
            "SELECT program_id, kind, name, amount FROM balance WHERE session = ? AND user_id = ?",
            (space, user_id),
        )
        return {Bucket(program, kind, name): Decimal(text) for program, kind, name, text in rows}

    async def apply(
        self, user_id: int, decide: Decide, session: str | None = None
    ) -> Change | ApiError:
        space = session or DEFAULT
        for _ in range(MAX_ATTEMPTS):
            world, version = self._in(session)  # a new world is loaded outside the lock
            with self._write() as db:
                if (
                    version is not None
                    and db.execute("SELECT version FROM fixture").fetchone()[0] != version
                ):
                    continue  # replaced meanwhile: decide again, on the new world
                changed = self._changed(user_id, space)
                outcome = decide(world, opening_view(world, user_id, changed))
                if isinstance(outcome, Change):
                    return outcome.numbered(self._record(db, user_id, outcome, space))
                return outcome
        raise StoreUnavailableError(
            f"sqlite ({self._url}): the fixtures kept changing; the deduction was not made"
        )

    def _record(self, db: sqlite3.Connection, user_id: int, outcome: Change, space: str) -> int:
        """Write the change; its ledger entry's seq, which is its ``eventLogId``."""
        bucket, entry = outcome.bucket, outcome.entry
        written = [(bucket, outcome.balance)]
        if outcome.marker is not None:
            written.append((outcome.marker, Decimal(1)))
        db.executemany(
            "INSERT INTO balance VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO UPDATE SET amount = excluded.amount",
            [
                (space, user_id, where.program_id, where.kind, where.name, exact_text(amount))
                for where, amount in written
            ],
        )
        inserted = db.execute(
            "INSERT INTO ledger (session, user_id, time, source, reason, program_id, kind, name, "
            "amount, balance_after, direction) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                space,
                user_id,
                entry.time.isoformat(),
                entry.source,
                entry.reason,
                bucket.program_id,
                bucket.kind,
                bucket.name,
                exact_text(entry.amount),
                exact_text(entry.balance_after),
                entry.direction,
            ),
        )
        seq = inserted.lastrowid or 0
        if seq % TRIM_EVERY == 0:
            db.execute(
                "DELETE FROM ledger WHERE session = ? AND user_id = ? AND seq <= (SELECT seq "
                "FROM ledger WHERE session = ? AND user_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                (space, user_id, space, user_id, self._ledger_limit),
            )
            # seq grows by one per deduction, so this keeps those of the newest ones
            db.execute("DELETE FROM ledger WHERE seq <= ?", (seq - self._ledger_total,))
        return seq

    async def balances(self, user_id: int, session: str | None = None) -> dict[Bucket, Decimal]:
        world, _ = self._in(session)
        with self._available():
            return opening_view(world, user_id, self._changed(user_id, session or DEFAULT))

    async def ledger(self, user_id: int, session: str | None = None) -> list[LedgerEntry]:
        self._in(session)
        with self._available() as db:
            newest_first = db.execute(
                "SELECT time, source, reason, program_id, kind, name, amount, balance_after, "
                "direction, seq FROM ledger WHERE session = ? AND user_id = ? "
                "AND seq > (SELECT max(seq) FROM ledger) - ? ORDER BY seq DESC LIMIT ?",
                (session or DEFAULT, user_id, self._ledger_total, self._ledger_limit),
            ).fetchall()
        return [_entry(*row) for row in reversed(newest_first)]

    async def open_session(self, world: World | None, ttl: float, limit: int) -> Session:
        text = shared_text(world) if world is not None else None
        now = time.time()
        with self._write() as db:
            expired = [
                row[0] for row in db.execute("SELECT id FROM session WHERE expires <= ?", (now,))
            ]
            for gone in expired:
                _end(db, gone)
            (count,) = db.execute("SELECT count(*) FROM session").fetchone()
            session = Session(new_session_id(), now + ttl)
            if count < limit:
                db.execute(
                    "INSERT INTO session VALUES (?, ?, ?)", (session.id, text, session.expires)
                )
        if count >= limit:  # raised once the sweep is committed and the lock let go
            raise TooManySessionsError(count)
        if world is not None:
            self._session_worlds[session.id] = world
        return session

    async def close_session(self, session: str) -> None:
        with self._write() as db:
            if not _end(db, session):
                raise UnknownSessionError(session)
        self._session_worlds.pop(session, None)

    def journal(self, size: int) -> Journal:
        return SqliteJournal(self._write, self._available, size)

    async def check(self) -> None:
        """Read the world and commit new random bytes, as many as a deduction writes at
        most, so that health says ok only when a deduction could be written now: a full
        disk, a read-only file or a lock held too long refuse this commit too. (A write
        of unchanged bytes would prove nothing: SQLite skips it.)"""
        self._current()
        with self._write() as db:
            db.execute(
                "INSERT INTO setting VALUES (?, hex(randomblob(?))) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (HEALTH_PROBE, HEALTH_PROBE_BYTES),
            )

    async def close(self) -> None:
        self._db.close()
        self._lock.close()


def _create_schema(db: sqlite3.Connection, url: str, path: Path) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == 1:
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'setting'").fetchone() is None:
            db.executescript(_SETTINGS)
        db.executescript(_MIGRATE_1_TO_2)
        _add_direction(db)
        return
    if version == SCHEMA_VERSION:
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'setting'").fetchone() is None:
            db.executescript(_SETTINGS)
        _add_direction(db)
        return
    tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if version != 0 or tables:
        raise StoreError(
            f"{url}: {path} is not a capmock state file (or one of another "
            "version); give a new file name"
        )
    db.executescript(_SCHEMA)


def _entry(
    time: str,
    source: str,
    reason: str,
    program_id: int,
    kind: str,
    name: str,
    amount: str,
    balance_after: str,
    direction: str,
    seq: int,
) -> LedgerEntry:
    """A ledger row as the entry it records; its seq is its ``eventLogId``."""
    return LedgerEntry(
        datetime.fromisoformat(time),
        source,
        reason,
        Bucket(program_id, kind, name),
        Decimal(amount),
        Decimal(balance_after),
        direction,
        seq,
    )


def _add_direction(db: sqlite3.Connection) -> None:
    """Give a ledger made before credits existed its direction column (in one write
    transaction, so that two processes opening the file at once add it once)."""
    if "direction" in _ledger_columns(db):
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if "direction" not in _ledger_columns(db):
            db.execute(f"ALTER TABLE ledger ADD COLUMN {_DIRECTION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _ledger_columns(db: sqlite3.Connection) -> set[str]:
    return {row[1] for row in db.execute("PRAGMA table_info(ledger)")}


def _stored(db: sqlite3.Connection) -> tuple[int, str] | None:
    row: tuple[int, str] | None = db.execute("SELECT version, text FROM fixture").fetchone()
    return row


def _clear(db: sqlite3.Connection, space: str | None = None) -> None:
    """Forget the changes of one namespace (the default world's: ``DEFAULT``), or all."""
    if space is None:
        db.execute("DELETE FROM balance")
        db.execute("DELETE FROM ledger")
    else:
        db.execute("DELETE FROM balance WHERE session = ?", (space,))
        db.execute("DELETE FROM ledger WHERE session = ?", (space,))


def _end(db: sqlite3.Connection, session: str) -> bool:
    """Forget a session and its state; whether there was one."""
    _clear(db, session)
    return db.execute("DELETE FROM session WHERE id = ?", (session,)).rowcount > 0


def _adopt(db: sqlite3.Connection, world: World) -> tuple[int, bool]:
    """Serve ``world``: keep the state when the file holds the same fixture text (no
    write then, so that a read-only file can still be served, with 503 for writes)."""
    text = shared_text(world)
    stored = _stored(db)
    if stored is not None and stored[1] == text:
        return stored[0], True
    db.execute("BEGIN IMMEDIATE")
    try:
        stored = _stored(db)
        if stored is not None and stored[1] == text:
            version, resumed = stored[0], True
        else:
            version, resumed = (stored[0] + 1 if stored else 1), False
            db.execute("INSERT OR REPLACE INTO fixture VALUES (1, ?, ?)", (version, text))
            _clear(db, DEFAULT)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return version, resumed


def _attach(db: sqlite3.Connection, url: str) -> tuple[World, int]:
    stored = _stored(db)
    if stored is None:
        raise StoreError(f"{url}: holds no fixtures yet; start the mock on it with --fixtures once")
    version, text = stored
    return load_document(text, f"the fixtures stored in {url}"), version


def _token_secret(db: sqlite3.Connection) -> str:
    """The secret every process on this file signs OAuth tokens with, made by the first."""
    query = "SELECT value FROM setting WHERE name = ?"
    row = db.execute(query, (TOKEN_SECRET,)).fetchone()
    if row is None:
        made = secrets.token_hex(32)
        db.execute("INSERT OR IGNORE INTO setting VALUES (?, ?)", (TOKEN_SECRET, made))
        row = db.execute(query, (TOKEN_SECRET,)).fetchone()
    return str(row[0])

"""The Redis store: balances and ledger shared by many mock replicas on many hosts.

The rule stays in Python (``rules.deduct``); Redis only makes the step atomic, with
optimistic locking in two round trips. A read script returns the fixture epoch and
the customer's balances as one consistent snapshot (and the fixture text, when it is
not the epoch this process has loaded); Python decides on it; a compare-and-set
script then writes the new balance, appends to the ledger (trimmed to the newest
``ledger_limit`` entries) and marks the customer touched, all only if the fixture
epoch and every balance are still exactly those that were read. If another client
changed either in between, nothing is written and the step starts again on fresh data,
so no update is lost and nothing is deducted twice. A refusal needs no write: it was
decided on one consistent snapshot. Inside one process, deductions for the same
customer queue on a lock first, so that retries only happen between processes.

Faults. Any Redis error raises ``StoreUnavailableError``, except a lost reply to the
compare-and-set: Redis may have written before the connection dropped. Each ledger
entry carries a marker of its request, so the step then reads again, checking for
that marker in the same snapshot: written, it answers what was written; not written,
it decides again (the compare-and-set of the lost write can no longer succeed once
anything changed). When Redis does not answer within ``OUTCOME_SECONDS``, or the
ledger is full so that the entry could have been trimmed, it raises
``OutcomeUnknownError``. redis-py never retries a command by itself here.

An epoch, new each time fixtures are stored, names the world, so that a world stored
again after Redis lost its data is never taken for one a process has cached. When the
fixtures are gone (Redis flushed, or restarted without its data), the first process
to notice stores again the world it serves; the others load it like any new world.

Keys (all under ``capmock:``): ``fixture`` (hash: epoch, text), ``secret`` (the OAuth
signing secret), ``balance:{userId}`` (hash: bucket key to exact decimal text, and an
allocation's ``uniqueId`` to 1), ``ledger:{userId}`` (list of JSON entries, oldest
first), ``touched`` (set of userIds with state, for reset), ``events`` (the last
``eventLogId`` given).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, WatchError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.maint_notifications import MaintNotificationsConfig
from redis.retry import Retry

from mock_server.errors import ApiError
from mock_server.fixtures import load_document
from mock_server.instrument.journal import Journal
from mock_server.model import Bucket, World
from mock_server.rules.change import DEBIT, Change, LedgerEntry
from mock_server.stores.base import (
    Decide,
    OutcomeUnknownError,
    Session,
    StoreError,
    StoreUnavailableError,
    TooManySessionsError,
    UnknownSessionError,
    exact_text,
    new_session_id,
    opening_view,
    redacted,
    shared_text,
)
from mock_server.stores.failures.redis import RedisFailures
from mock_server.stores.journals import RedisJournal
from mock_server.stores.pipelined import Client

logger = logging.getLogger("capmock")

PREFIX = "capmock:"
FIXTURE = PREFIX + "fixture"
SECRET = PREFIX + "secret"
TOUCHED = PREFIX + "touched"
EVENTS = PREFIX + "events"
CONNECT_TIMEOUT_SECONDS = 3
COMMAND_TIMEOUT_SECONDS = 10
OUTCOME_SECONDS = 5
"""How long a deduction whose write lost its reply keeps asking Redis what happened."""
OUTCOME_PAUSE_SECONDS = 0.1
MAX_ATTEMPTS = 1000
MAX_CONNECTIONS = 64
CUT_OFF = (RedisConnectionError, RedisTimeoutError)
"""Errors after which a command sent may or may not have run."""

READ_SCRIPT = """
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local text = false
if epoch ~= ARGV[1] then text = redis.call('HGET', KEYS[1], 'text') end
local written = false
local kept = 0
if ARGV[2] ~= '' then
  local entries = redis.call('LRANGE', KEYS[3], 0, -1)
  kept = #entries
  for i = #entries, 1, -1 do
    if string.find(entries[i], ARGV[2], 1, true) then written = entries[i] break end
  end
end
return {epoch, text, redis.call('HGETALL', KEYS[2]), written, kept}
"""
"""KEYS: fixture, balance, ledger; ARGV: the epoch this process has loaded, and the
marker of a write whose reply was lost (or ''). Returns the epoch, the fixture text
unless it is that epoch, the balances (flat), the ledger entry carrying the marker (or
false), and how many entries the ledger keeps (when a marker is given)."""

COMMIT_SCRIPT = """
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return 0 end
if redis.call('HLEN', KEYS[2]) ~= (#ARGV - 7) / 2 then return 0 end
for i = 8, #ARGV, 2 do
  if redis.call('HGET', KEYS[2], ARGV[i]) ~= ARGV[i + 1] then return 0 end
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
if ARGV[7] ~= '' then redis.call('HSET', KEYS[2], ARGV[7], '1') end
local id = redis.call('INCR', KEYS[5])
redis.call('RPUSH', KEYS[3], '{"eventLogId": ' .. id .. ', ' .. string.sub(ARGV[4], 2))
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[5]), -1)
redis.call('SADD', KEYS[4], ARGV[6])
return id
"""
"""KEYS: fixture, balance, ledger, touched, events. ARGV: the epoch read, the bucket
key, its new balance, the ledger entry, the ledger limit, the userId, the key of a
marker to set to 1 (or ''), then the balances read as field, value pairs. Writes and
returns the entry's new ``eventLogId`` only if the epoch and the balance hash are
exactly as read; else writes nothing and returns 0."""


SESSIONS = PREFIX + "sessions"
"""Sorted set: each session's id, scored by when it expires (ms since the epoch)."""

OPEN_SESSION_SCRIPT = """
local live = redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[1], '+inf')
if live >= tonumber(ARGV[2]) then return live end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[2], 'epoch', ARGV[5], 'own', ARGV[6])
if ARGV[6] == '1' then redis.call('HSET', KEYS[2], 'text', ARGV[7]) end
redis.call('PEXPIREAT', KEYS[2], ARGV[3])
return -1
"""
"""KEYS: the sessions set, the session's hash; ARGV: now (ms), the limit, the expiry (ms),
the id, its epoch, '1' when it has fixtures of its own, their text. Counts the live
sessions and adds this one only below the limit, as one step on every replica."""


@dataclass(frozen=True)
class _Space:
    """Where one namespace's state lives: the default world's, or a session's (its keys
    under ``capmock:s:<id>:``, each customer's balance and ledger keyed by the userId)."""

    session: str | None = None
    own: bool = False
    """The session has fixtures of its own, kept in its hash (else the store's)."""

    @property
    def prefix(self) -> str:
        return PREFIX if self.session is None else f"{PREFIX}s:{self.session}:"

    @property
    def fixture(self) -> str:
        return _session_key(self.session) if self.own and self.session else FIXTURE

    @property
    def touched(self) -> str:
        return self.prefix + "touched"

    def balance(self, user_id: int | str) -> str:
        return f"{self.prefix}balance:{user_id}"

    def ledger(self, user_id: int | str) -> str:
        return f"{self.prefix}ledger:{user_id}"

    def state_keys(self, users: Iterable[bytes | str]) -> list[str]:
        names = [_text(user) for user in users]
        return [key for name in names for key in (self.balance(name), self.ledger(name))]


DEFAULT = _Space()


def _session_key(session: str) -> str:
    return f"{PREFIX}session:{session}"


def _session_epoch(session: str) -> str:
    return f"s:{session}"


def _text(value: bytes | str) -> str:
    """A reply as text: the client decodes replies, but redis-py types them as either."""
    return value if isinstance(value, str) else value.decode()


def _new_epoch() -> str:
    return secrets.token_hex(8)


def _marker() -> str:
    """Names one deduction's ledger entry: ``"id": "<16 hex digits>"`` in its JSON."""
    return json.dumps({"id": secrets.token_hex(8)})[1:-1]


def _entry_json(entry: LedgerEntry, marker: str) -> str:
    """The entry as JSON, its marker first; the commit script puts its eventLogId before."""
    fields = {
        "direction": entry.direction,
        "time": entry.time.isoformat(),
        "source": entry.source,
        "reason": entry.reason,
        "bucket": entry.bucket.key(),
        "amount": exact_text(entry.amount),
        "balanceAfter": exact_text(entry.balance_after),
    }
    return "{" + marker + ", " + json.dumps(fields)[1:]


def _entry(text: str) -> LedgerEntry:
    raw = json.loads(text)
    return LedgerEntry(
        datetime.fromisoformat(raw["time"]),
        raw["source"],
        raw["reason"],
        Bucket.from_key(raw["bucket"]),
        Decimal(raw["amount"]),
        Decimal(raw["balanceAfter"]),
        # entries written before allocations existed: deductions, and without an id
        raw.get("direction", DEBIT),
        raw.get("eventLogId", 0),
    )


def _written(text: str) -> Change:
    """The change a ledger entry records, as its request is answered."""
    entry = _entry(text)
    return Change(entry.bucket, entry.balance_after, entry)


def _client_options() -> dict[str, Any]:
    return {
        "decode_responses": True,
        "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "socket_timeout": COMMAND_TIMEOUT_SECONDS,
    }


class RedisStore:
    """Balances and ledger in Redis; see the module's docstring."""

    name = "redis"

    def __init__(
        self,
        url: str,
        world: World,
        epoch: str,
        *,
        resumed: bool,
        token_secret: str,
        ledger_limit: int,
    ) -> None:
        self._shown = f"redis ({redacted(url)})"
        self._ledger_limit = ledger_limit
        # A blocking pool: under a burst, requests wait for a free connection instead of
        # failing with "too many connections".
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            timeout=COMMAND_TIMEOUT_SECONDS,
            # never sent twice by redis-py: a write whose reply was lost is resolved here
            retry=AsyncRetry(NoBackoff(), 0),
            # With maintenance notifications on ("auto" by default), the pool hands out
            # connections that Redis closed (a restart) without checking them first.
            maint_notifications_config=MaintNotificationsConfig(enabled=False),
            **_client_options(),
        )
        self._client = aioredis.Redis(connection_pool=pool)
        # what every request asks goes through one pipelined connection (pipelined.py)
        self._hot = Client(
            url, connect_timeout=CONNECT_TIMEOUT_SECONDS, timeout=COMMAND_TIMEOUT_SECONDS
        )
        self._read = self._hot.register_script(READ_SCRIPT)
        self._commit = self._hot.register_script(COMMIT_SCRIPT)
        self._open = self._client.register_script(OPEN_SESSION_SCRIPT)
        self._session_worlds: dict[str, World] = {}
        self._world, self._epoch = world, epoch
        self.resumed = resumed
        self.token_secret = token_secret
        self.failures = RedisFailures(
            self._client,
            self._hot,
            self._shown,
            lambda: redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), **_client_options()),
        )
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    @classmethod
    def open(cls, url: str, world: World | None, ledger_limit: int) -> RedisStore:
        """Connect (failing fast and clearly), then serve ``world`` or the one Redis holds.

        This runs before any event loop serves, so it uses a blocking client; the
        store's asyncio client connects later, lazily, in the loop that serves.
        """
        shown = redacted(url)
        try:
            client = redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), **_client_options())
        except ValueError as error:
            raise StoreError(f"{shown}: not a usable Redis URL: {error}") from None
        try:
            client.ping()
            if world is None:
                world, epoch = cls._attach(client, shown)
                resumed = True
            else:
                epoch, resumed = cls._adopt(client, world)
            made = secrets.token_hex(32)
            secret = made if client.set(SECRET, made, nx=True) else client.get(SECRET) or made
        except RedisError as error:
            raise StoreError(f"{shown}: cannot use Redis: {error}") from None
        finally:
            client.close()
        return cls(
            url,
            world,
            epoch,
            resumed=resumed,
            token_secret=_text(secret),
            ledger_limit=ledger_limit,
        )

    @staticmethod
    def _adopt(client: redis.Redis, world: World) -> tuple[str, bool]:
        """Serve ``world``: keep the state when Redis holds the same fixture text (a
        restart, or another replica started on the same file); else replace it."""
        text = shared_text(world)
        with client.pipeline() as pipe:
            for _ in range(MAX_ATTEMPTS):
                try:
                    pipe.watch(FIXTURE, TOUCHED)
                    epoch, stored = pipe.hmget(FIXTURE, "epoch", "text")
                    if stored == text and epoch is not None:
                        return _text(epoch), True
                    touched = pipe.smembers(TOUCHED)
                    epoch = _new_epoch()
                    pipe.multi()
                    pipe.hset(FIXTURE, mapping={"epoch": epoch, "text": text})
                    pipe.delete(TOUCHED, *DEFAULT.state_keys(touched))
                    pipe.execute()
                    return epoch, False
                except WatchError:
                    continue
        raise StoreError("the fixtures in Redis kept changing while starting")

    @staticmethod
    def _attach(client: redis.Redis, shown: str) -> tuple[World, str]:
        epoch, text = client.hmget(FIXTURE, "epoch", "text")
        if text is None or epoch is None:
            raise StoreError(f"{shown}: holds no fixtures yet; start the mock with --fixtures")
        return load_document(_text(text), f"the fixtures stored in {shown}"), _text(epoch)

    @contextmanager
    def _available(self) -> Iterator[None]:
        """Run a step; any Redis error becomes ``StoreUnavailableError``."""
        try:
            yield
        except RedisError as error:
            raise StoreUnavailableError(f"{self._shown}: {error}") from None

    @property
    def last_world(self) -> World:
        return self._world

    def _serve(self, epoch: str, text: str | None) -> World:
        """The world of this epoch: the cached one, or loaded from its text (given when
        the epoch is not the cached one) when another replica stored it."""
        if epoch != self._epoch and text is not None:
            same = text == self._world.text
            world = self._world if same else load_document(text, f"the fixtures in {self._shown}")
            self._world, self._epoch = world, epoch
        return self._world

    async def _space(self, session: str | None) -> _Space:
        """Where a session's state lives (``UnknownSessionError`` when there is none)."""
        if session is None:
            return DEFAULT
        with self._available():  # asked each time: another replica may have ended it
            kind = await self._hot.execute_command("HGET", _session_key(session), "own")
        if kind is None:
            raise UnknownSessionError(session)
        return _Space(session, kind == "1")

    def _cached_epoch(self, space: _Space) -> str:
        if not space.own:
            return self._epoch
        return _session_epoch(str(space.session)) if space.session in self._session_worlds else ""

    def _world_of(self, space: _Space, epoch: str, text: str | None) -> World:
        if not space.own or space.session is None:
            return self._serve(epoch, text)
        world = self._session_worlds.get(space.session)
        if world is None:
            if text is None:
                raise UnknownSessionError(space.session)
            world = load_document(text, f"the fixtures of session {space.session}")
            self._session_worlds[space.session] = world
        return world

    async def world(self, session: str | None = None) -> World:
        space = await self._space(session)
        if space.own and space.session is not None:
            if space.session not in self._session_worlds:
                with self._available():
                    text = await self._client.hget(space.fixture, "text")
                return self._world_of(space, "", _text(text) if text is not None else None)
            return self._session_worlds[space.session]
        with self._available():
            for _ in range(MAX_ATTEMPTS):
                if await self._hot.execute_command("HGET", FIXTURE, "epoch") == self._epoch:
                    return self._world
                epoch, text = await self._client.hmget(FIXTURE, "epoch", "text")
                if epoch is not None and text is not None:
                    return self._serve(_text(epoch), _text(text))
                await self._reseed()  # then serve what it, or another replica, stored
        raise StoreUnavailableError(f"{self._shown}: the fixtures kept changing")

    async def _store(self, world: World, *, only_if_missing: bool) -> bool:
        """Store ``world`` with a new epoch and clear every balance and ledger, in one
        MULTI/EXEC watching the set of customers with state, so that a concurrent
        first deduction is not lost. With ``only_if_missing``, only when Redis holds no
        fixtures. Returns whether it stored them."""
        text = shared_text(world)
        async with self._client.pipeline() as pipe:
            for _ in range(MAX_ATTEMPTS):
                try:
                    await pipe.watch(FIXTURE, TOUCHED)
                    if only_if_missing and await pipe.exists(FIXTURE):
                        return False
                    touched = await pipe.smembers(TOUCHED)
                    epoch = _new_epoch()
                    pipe.multi()
                    pipe.hset(FIXTURE, mapping={"epoch": epoch, "text": text})
                    pipe.delete(TOUCHED, *DEFAULT.state_keys(touched))
                    pipe.set(SECRET, self.token_secret, nx=True)
                    await self._execute(pipe, "storing the fixtures")
                except WatchError:
                    continue
                self._world, self._epoch = world, epoch
                return True
        raise StoreUnavailableError(f"{self._shown}: the state kept changing; nothing was stored")

    async def _execute(self, pipe: Pipeline, what: str) -> None:
        try:
            await pipe.execute()
        except CUT_OFF as error:
            raise OutcomeUnknownError(f"{self._shown}: {what}: {error}") from None

    async def _reseed(self) -> None:
        """Redis lost the fixtures: store again the world this process serves, unless
        another replica did first. Balances and ledgers were lost with them."""
        try:
            stored = await self._store(self._world, only_if_missing=True)
        except OutcomeUnknownError as error:  # no deduction was under way
            raise StoreUnavailableError(str(error)) from None
        if stored:
            logger.warning(
                "%s held no fixtures (flushed, or restarted without its data): stored "
                "again the fixtures this mock serves; every balance starts again from them",
                self._shown,
            )

    async def replace(self, world: World) -> None:
        with self._available():
            await self._store(world, only_if_missing=False)

    async def reset(self, session: str | None = None) -> None:
        space = await self._space(session)
        with self._available():
            await self._forget(space, "the reset")

    async def _forget(self, space: _Space, what: str, *also: str) -> None:
        """Delete a namespace's state (and the keys ``also`` names) in one transaction,
        watching its set of customers with state."""
        async with self._client.pipeline() as pipe:
            for _ in range(MAX_ATTEMPTS):
                try:
                    await pipe.watch(space.touched)
                    touched = await pipe.smembers(space.touched)
                    pipe.multi()
                    pipe.delete(space.touched, *space.state_keys(touched), *also)
                    await self._execute(pipe, what)
                    return
                except WatchError:
                    continue
        raise StoreUnavailableError(f"{self._shown}: the state kept changing; {what} failed")

    def _lock(self, user_id: int) -> asyncio.Lock:
        lock = self._locks.get(user_id)
        if lock is None:
            lock = self._locks[user_id] = asyncio.Lock()
        return lock

    async def apply(
        self, user_id: int, decide: Decide, session: str | None = None
    ) -> Change | ApiError:
        space = await self._space(session)
        async with self._lock(user_id):
            with self._available():
                return await self._apply(user_id, decide, space)

    async def _apply(self, user_id: int, decide: Decide, space: _Space) -> Change | ApiError:
        balance_key, ledger_key = space.balance(user_id), space.ledger(user_id)
        read_keys = [space.fixture, balance_key, ledger_key]
        write_keys = [space.fixture, balance_key, ledger_key, space.touched, EVENTS]
        marker, lost = _marker(), None
        for _ in range(MAX_ATTEMPTS):
            cached = self._cached_epoch(space)
            if lost is None:
                epoch, text, flat, _, _ = await self._read(keys=read_keys, args=[cached, ""])
            else:
                epoch, text, flat, written, kept = await self._ask_again(
                    read_keys, cached, marker, lost
                )
                if written:
                    return _written(written)
                if kept >= self._ledger_limit:
                    raise OutcomeUnknownError(
                        f"{self._shown}: {lost}; the ledger is full, so its entry could "
                        "have been trimmed"
                    )
            if epoch is None and space.own:
                raise UnknownSessionError(str(space.session))
            if epoch is None or (text is None and epoch != cached):
                await self._reseed()
                continue
            world = self._world_of(space, epoch, text)
            changed = {
                Bucket.from_key(flat[i]): Decimal(flat[i + 1]) for i in range(0, len(flat), 2)
            }
            outcome = decide(world, opening_view(world, user_id, changed))
            if not isinstance(outcome, Change):
                return outcome  # decided on one consistent snapshot; nothing to write
            args = [
                epoch,
                outcome.bucket.key(),
                exact_text(outcome.balance),
                _entry_json(outcome.entry, marker),
                self._ledger_limit,
                user_id,
                outcome.marker.key() if outcome.marker is not None else "",
                *flat,
            ]
            try:
                event_id = await self._commit(keys=write_keys, args=args)
                if event_id:
                    return outcome.numbered(event_id)
            except CUT_OFF as error:
                lost = lost or error
            # the fixture or the balances changed since the read, or the reply was lost:
            # read again (checking for the marker) and decide again
        raise StoreUnavailableError(f"{self._shown}: the balances kept changing; nothing deducted")

    async def _ask_again(self, keys: list[str], cached: str, marker: str, lost: Exception) -> Any:
        """The read script, checking for ``marker``, asked again until Redis answers,
        for at most ``OUTCOME_SECONDS``."""
        deadline = time.monotonic() + OUTCOME_SECONDS
        while True:
            try:
                async with asyncio.timeout(max(deadline - time.monotonic(), 0)):
                    return await self._read(keys=keys, args=[cached, marker])
            except (*CUT_OFF, TimeoutError) as error:
                if time.monotonic() >= deadline:
                    raise OutcomeUnknownError(
                        f"{self._shown}: {lost}; then, asking what was written: "
                        f"{error or 'no answer'}"
                    ) from None
            await asyncio.sleep(OUTCOME_PAUSE_SECONDS)

    async def balances(self, user_id: int, session: str | None = None) -> dict[Bucket, Decimal]:
        world = await self.world(session)
        space = await self._space(session)
        with self._available():
            raw = await self._client.hgetall(space.balance(user_id))
        changed = {Bucket.from_key(_text(key)): Decimal(_text(text)) for key, text in raw.items()}
        return opening_view(world, user_id, changed)

    async def ledger(self, user_id: int, session: str | None = None) -> list[LedgerEntry]:
        space = await self._space(session)
        with self._available():
            entries = await self._client.lrange(space.ledger(user_id), 0, -1)
        return [_entry(_text(text)) for text in entries]

    async def open_session(self, world: World | None, ttl: float, limit: int) -> Session:
        now = time.time()
        session = Session(new_session_id(), now + ttl)
        with self._available():
            await self._sweep(now)
            live = await self._open(
                keys=[SESSIONS, _session_key(session.id)],
                args=[
                    int(now * 1000),
                    limit,
                    int(session.expires * 1000),
                    session.id,
                    _session_epoch(session.id),
                    "1" if world is not None else "0",
                    shared_text(world) if world is not None else "",
                ],
            )
        if live >= 0:
            raise TooManySessionsError(live)
        if world is not None:
            self._session_worlds[session.id] = world
        return session

    async def _sweep(self, now: float) -> None:
        """Forget the state of sessions that expired (Redis already dropped their hash)."""
        expired = await self._client.zrangebyscore(SESSIONS, "-inf", int(now * 1000))
        for session in map(str, expired):  # decoded replies
            await self._forget(_Space(session), "sweeping an expired session")
            await self._client.zrem(SESSIONS, session)

    async def close_session(self, session: str) -> None:
        with self._available():
            if not await self._client.exists(_session_key(session)):
                raise UnknownSessionError(session)
            await self._forget(_Space(session), "ending the session", _session_key(session))
            await self._client.zrem(SESSIONS, session)
        self._session_worlds.pop(session, None)

    def journal(self, size: int) -> Journal:
        return RedisJournal(self._client, self._hot, PREFIX, self._shown, size)

    async def check(self) -> None:
        """Read the fixtures (storing them again if Redis lost them), then write: a Redis
        out of memory or read-only refuses even this write of a value already there."""
        await self.world()
        with self._available():
            await self._client.set(SECRET, self.token_secret, nx=True)

    async def close(self) -> None:
        await self._hot.aclose()
        await self._client.aclose()

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
from mock_server.model import Bucket, World
from mock_server.rules.change import DEBIT, Change, LedgerEntry
from mock_server.stores.base import (
    Decide,
    OutcomeUnknownError,
    StoreError,
    StoreUnavailableError,
    exact_text,
    opening_view,
    redacted,
    shared_text,
)

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


def _balance_key(user_id: int | str) -> str:
    return f"{PREFIX}balance:{user_id}"


def _ledger_key(user_id: int | str) -> str:
    return f"{PREFIX}ledger:{user_id}"


def _text(value: bytes | str) -> str:
    """A reply as text: the client decodes replies, but redis-py types them as either."""
    return value if isinstance(value, str) else value.decode()


def _state_keys(users: Iterable[bytes | str]) -> list[str]:
    return [key for user in users for key in (_balance_key(_text(user)), _ledger_key(_text(user)))]


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
        self._read = self._client.register_script(READ_SCRIPT)
        self._commit = self._client.register_script(COMMIT_SCRIPT)
        self._world, self._epoch = world, epoch
        self.resumed = resumed
        self.token_secret = token_secret
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
                    pipe.delete(TOUCHED, *_state_keys(touched))
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

    async def world(self) -> World:
        with self._available():
            for _ in range(MAX_ATTEMPTS):
                if await self._client.hget(FIXTURE, "epoch") == self._epoch:
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
                    pipe.delete(TOUCHED, *_state_keys(touched))
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

    async def reset(self) -> None:
        with self._available():
            async with self._client.pipeline() as pipe:
                for _ in range(MAX_ATTEMPTS):
                    try:
                        await pipe.watch(TOUCHED)
                        touched = await pipe.smembers(TOUCHED)
                        pipe.multi()
                        pipe.delete(TOUCHED, *_state_keys(touched))
                        await self._execute(pipe, "the reset")
                        return
                    except WatchError:
                        continue
        raise StoreUnavailableError(f"{self._shown}: the state kept changing; it was not reset")

    def _lock(self, user_id: int) -> asyncio.Lock:
        lock = self._locks.get(user_id)
        if lock is None:
            lock = self._locks[user_id] = asyncio.Lock()
        return lock

    async def apply(self, user_id: int, decide: Decide) -> Change | ApiError:
        async with self._lock(user_id):
            with self._available():
                return await self._apply(user_id, decide)

    async def _apply(self, user_id: int, decide: Decide) -> Change | ApiError:
        balance_key, ledger_key = _balance_key(user_id), _ledger_key(user_id)
        read_keys = [FIXTURE, balance_key, ledger_key]
        write_keys = [FIXTURE, balance_key, ledger_key, TOUCHED, EVENTS]
        marker, lost = _marker(), None
        for _ in range(MAX_ATTEMPTS):
            if lost is None:
                epoch, text, flat, _, _ = await self._read(keys=read_keys, args=[self._epoch, ""])
            else:
                epoch, text, flat, written, kept = await self._ask_again(read_keys, marker, lost)
                if written:
                    return _written(written)
                if kept >= self._ledger_limit:
                    raise OutcomeUnknownError(
                        f"{self._shown}: {lost}; the ledger is full, so its entry could "
                        "have been trimmed"
                    )
            if epoch is None or (text is None and epoch != self._epoch):
                await self._reseed()
                continue
            world = self._serve(epoch, text)
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

    async def _ask_again(self, keys: list[str], marker: str, lost: Exception) -> Any:
        """The read script, checking for ``marker``, asked again until Redis answers,
        for at most ``OUTCOME_SECONDS``."""
        deadline = time.monotonic() + OUTCOME_SECONDS
        while True:
            try:
                async with asyncio.timeout(max(deadline - time.monotonic(), 0)):
                    return await self._read(keys=keys, args=[self._epoch, marker])
            except (*CUT_OFF, TimeoutError) as error:
                if time.monotonic() >= deadline:
                    raise OutcomeUnknownError(
                        f"{self._shown}: {lost}; then, asking what was written: "
                        f"{error or 'no answer'}"
                    ) from None
            await asyncio.sleep(OUTCOME_PAUSE_SECONDS)

    async def balances(self, user_id: int) -> dict[Bucket, Decimal]:
        world = await self.world()
        with self._available():
            raw = await self._client.hgetall(_balance_key(user_id))
        changed = {Bucket.from_key(_text(key)): Decimal(_text(text)) for key, text in raw.items()}
        return opening_view(world, user_id, changed)

    async def ledger(self, user_id: int) -> list[LedgerEntry]:
        with self._available():
            entries = await self._client.lrange(_ledger_key(user_id), 0, -1)
        return [_entry(_text(text)) for text in entries]

    async def check(self) -> None:
        """Read the fixtures (storing them again if Redis lost them), then write: a Redis
        out of memory or read-only refuses even this write of a value already there."""
        await self.world()
        with self._available():
            await self._client.set(SECRET, self.token_secret, nx=True)

    async def close(self) -> None:
        await self._client.aclose()

"""The Redis store: balances and ledger shared by many mock replicas on many hosts.

The rule stays in Python (``rules.deduct``); Redis only makes the step atomic, with
optimistic locking in two round trips. A read script returns the fixture version and
the customer's balances as one consistent snapshot (and the fixture text, when it is
not the version this process has loaded); Python decides on it; a compare-and-set
script then writes the new balance, appends to the ledger (trimmed to the newest
``ledger_limit`` entries) and marks the customer touched, all only if the fixture
version and every balance are still exactly those that were read. If another client
changed either in between, nothing is written and the step starts again on fresh data,
so no update is lost and nothing is deducted twice. A refusal needs no write: it was
decided on one consistent snapshot. Inside one process, deductions for the same
customer queue on a lock first, so that retries only happen between processes.

Keys (all under ``capmock:``): ``fixture`` (hash: version, text), ``balance:{userId}``
(hash: bucket key to exact decimal text), ``ledger:{userId}`` (list of JSON entries,
oldest first), ``touched`` (set of userIds with state, for reset).
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.exceptions import RedisError, WatchError

from mock_server.errors import ApiError
from mock_server.fixtures import load_document
from mock_server.model import Bucket, World
from mock_server.rules.deduct import Deducted, LedgerEntry
from mock_server.stores.base import (
    Decide,
    StoreError,
    exact_text,
    opening_view,
    redacted,
    shared_text,
)

PREFIX = "capmock:"
FIXTURE = PREFIX + "fixture"
TOUCHED = PREFIX + "touched"
CONNECT_TIMEOUT_SECONDS = 3
COMMAND_TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 1000
MAX_CONNECTIONS = 64

READ_SCRIPT = """
local version = redis.call('HGET', KEYS[1], 'version')
local text = false
if version ~= ARGV[1] then text = redis.call('HGET', KEYS[1], 'text') end
return {version, text, redis.call('HGETALL', KEYS[2])}
"""
"""KEYS: fixture, balance; ARGV: the version this process has loaded. Returns the
version, the fixture text unless it is that version, and the balances (flat)."""

COMMIT_SCRIPT = """
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return 0 end
if redis.call('HLEN', KEYS[2]) ~= (#ARGV - 6) / 2 then return 0 end
for i = 7, #ARGV, 2 do
  if redis.call('HGET', KEYS[2], ARGV[i]) ~= ARGV[i + 1] then return 0 end
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('RPUSH', KEYS[3], ARGV[4])
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[5]), -1)
redis.call('SADD', KEYS[4], ARGV[6])
return 1
"""
"""KEYS: fixture, balance, ledger, touched. ARGV: the version read, the bucket key, its
new balance, the ledger entry, the ledger limit, the userId, then the balances read as
field, value pairs. Writes and returns 1 only if the version and the balance hash are
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


def _entry_json(entry: LedgerEntry) -> str:
    return json.dumps(
        {
            "time": entry.time.isoformat(),
            "source": entry.source,
            "reason": entry.reason,
            "bucket": entry.bucket.key(),
            "amount": exact_text(entry.amount),
            "balanceAfter": exact_text(entry.balance_after),
        }
    )


def _entry(text: str) -> LedgerEntry:
    raw = json.loads(text)
    return LedgerEntry(
        datetime.fromisoformat(raw["time"]),
        raw["source"],
        raw["reason"],
        Bucket.from_key(raw["bucket"]),
        Decimal(raw["amount"]),
        Decimal(raw["balanceAfter"]),
    )


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
        self, url: str, world: World, version: int, resumed: bool, ledger_limit: int
    ) -> None:
        self._url = url
        self._ledger_limit = ledger_limit
        # A blocking pool: under a burst, requests wait for a free connection instead of
        # failing with "too many connections".
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            timeout=COMMAND_TIMEOUT_SECONDS,
            **_client_options(),
        )
        self._client = aioredis.Redis(connection_pool=pool)
        self._read = self._client.register_script(READ_SCRIPT)
        self._commit = self._client.register_script(COMMIT_SCRIPT)
        self._world, self._version = world, version
        self.resumed = resumed
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    @classmethod
    def open(cls, url: str, world: World | None, ledger_limit: int) -> RedisStore:
        """Connect (failing fast and clearly), then serve ``world`` or the one Redis holds.

        This runs before any event loop serves, so it uses a blocking client; the
        store's asyncio client connects later, lazily, in the loop that serves.
        """
        shown = redacted(url)
        try:
            client = redis.Redis.from_url(url, **_client_options())
        except ValueError as error:
            raise StoreError(f"{shown}: not a usable Redis URL: {error}") from None
        try:
            client.ping()
            if world is None:
                world, version = cls._attach(client, shown)
                resumed = True
            else:
                version, resumed = cls._adopt(client, world)
        except RedisError as error:
            raise StoreError(f"{shown}: cannot use Redis: {error}") from None
        finally:
            client.close()
        return cls(url, world, version, resumed, ledger_limit)

    @staticmethod
    def _adopt(client: redis.Redis, world: World) -> tuple[int, bool]:
        """Serve ``world``: keep the state when Redis holds the same fixture text (a
        restart, or another replica started on the same file); else replace it."""
        text = shared_text(world)
        with client.pipeline() as pipe:
            for _ in range(MAX_ATTEMPTS):
                try:
                    pipe.watch(FIXTURE, TOUCHED)
                    version, stored = pipe.hmget(FIXTURE, "version", "text")
                    if stored == text and version is not None:
                        return int(version), True
                    touched = pipe.smembers(TOUCHED)
                    pipe.multi()
                    pipe.hincrby(FIXTURE, "version", 1)
                    pipe.hset(FIXTURE, "text", text)
                    pipe.delete(TOUCHED, *_state_keys(touched))
                    return pipe.execute()[0], False
                except WatchError:
                    continue
        raise StoreError("the fixtures in Redis kept changing while starting")

    @staticmethod
    def _attach(client: redis.Redis, shown: str) -> tuple[World, int]:
        version, text = client.hmget(FIXTURE, "version", "text")
        if text is None or version is None:
            raise StoreError(f"{shown}: holds no fixtures yet; start the mock with --fixtures")
        return load_document(_text(text), f"the fixtures stored in {shown}"), int(version)

    def _load(self, version: bytes | str | None, text: bytes | str | None) -> World:
        """The world of this version: the cached one, or loaded again from its text when
        another replica replaced it."""
        if version is None or text is None:
            raise StoreError(
                f"{redacted(self._url)}: the fixtures are gone from Redis (was it flushed?); "
                "start the mock again with --fixtures"
            )
        if int(version) == self._version:
            return self._world
        world = load_document(_text(text), f"the fixtures stored in {redacted(self._url)}")
        self._world, self._version = world, int(version)
        return world

    async def world(self) -> World:
        version = await self._client.hget(FIXTURE, "version")
        if version is not None and int(version) == self._version:
            return self._world
        return self._load(*await self._client.hmget(FIXTURE, "version", "text"))

    async def replace(self, world: World) -> None:
        text = shared_text(world)
        async with self._client.pipeline() as pipe:
            for _ in range(MAX_ATTEMPTS):
                try:
                    await pipe.watch(FIXTURE, TOUCHED)
                    touched = await pipe.smembers(TOUCHED)
                    pipe.multi()
                    pipe.hincrby(FIXTURE, "version", 1)
                    pipe.hset(FIXTURE, "text", text)
                    pipe.delete(TOUCHED, *_state_keys(touched))
                    version = (await pipe.execute())[0]
                except WatchError:
                    continue
                self._world, self._version = world, version
                return
        raise StoreError("the state in Redis kept changing; the fixtures were not replaced")

    async def reset(self) -> None:
        async with self._client.pipeline() as pipe:
            for _ in range(MAX_ATTEMPTS):
                try:
                    await pipe.watch(TOUCHED)
                    touched = await pipe.smembers(TOUCHED)
                    pipe.multi()
                    pipe.delete(TOUCHED, *_state_keys(touched))
                    await pipe.execute()
                    return
                except WatchError:
                    continue
        raise StoreError("the state in Redis kept changing; it was not reset")

    def _lock(self, user_id: int) -> asyncio.Lock:
        lock = self._locks.get(user_id)
        if lock is None:
            lock = self._locks[user_id] = asyncio.Lock()
        return lock

    async def apply(self, user_id: int, decide: Decide) -> Deducted | ApiError:
        balance_key = _balance_key(user_id)
        read_keys = [FIXTURE, balance_key]
        write_keys = [FIXTURE, balance_key, _ledger_key(user_id), TOUCHED]
        async with self._lock(user_id):
            for _ in range(MAX_ATTEMPTS):
                version, text, flat = await self._read(keys=read_keys, args=[self._version])
                if text is None and version is not None and int(version) == self._version:
                    world = self._world  # the script sends the text only when it changed
                else:
                    world = self._load(version, text)
                changed = {
                    Bucket.from_key(flat[i]): Decimal(flat[i + 1]) for i in range(0, len(flat), 2)
                }
                outcome = decide(world, opening_view(world, user_id, changed))
                if not isinstance(outcome, Deducted):
                    return outcome  # decided on one consistent snapshot; nothing to write
                args = [
                    version,
                    outcome.bucket.key(),
                    exact_text(outcome.balance),
                    _entry_json(outcome.entry),
                    self._ledger_limit,
                    user_id,
                    *flat,
                ]
                if await self._commit(keys=write_keys, args=args):
                    return outcome
                # the fixture or the balances changed since the read: decide again
        raise StoreError("the balances in Redis kept changing; the deduction was not made")

    async def balances(self, user_id: int) -> dict[Bucket, Decimal]:
        world = await self.world()
        raw = await self._client.hgetall(_balance_key(user_id))
        changed = {Bucket.from_key(_text(key)): Decimal(_text(text)) for key, text in raw.items()}
        return opening_view(world, user_id, changed)

    async def ledger(self, user_id: int) -> list[LedgerEntry]:
        entries = await self._client.lrange(_ledger_key(user_id), 0, -1)
        return [_entry(_text(text)) for text in entries]

    async def close(self) -> None:
        await self._client.aclose()

"""Failure state in Redis, beside the balances: shared by every replica.

Each step that must be exact across replicas (adding a fault, counting a match and
ending the fault after ``times``, counting a request in its rate-limit window) is one
Lua script. Keys, under ``capmock:failures:``: ``version``, ``next`` (the last fault
number), ``faults`` (hash: id to document), ``matched`` (hash: id to count),
``settings`` (hash); rate-limit windows are ``capmock:rate:<key>`` (hash: start, count),
expiring after their period.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from mock_server.stores.base import OutcomeUnknownError, StoreError, StoreUnavailableError
from mock_server.stores.failures.base import FAULT_ID, FailureState, Window
from mock_server.stores.pipelined import Commands

PREFIX = "capmock:failures:"
VERSION = PREFIX + "version"
NEXT = PREFIX + "next"
FAULTS = PREFIX + "faults"
MATCHED = PREFIX + "matched"
SETTINGS = PREFIX + "settings"
RATE = "capmock:rate:"
VERSION_SECONDS = 2.0
WINDOW_MARGIN_MS = 60_000
"""A window's key outlives its period by this much (clocks of replicas differ a little)."""

ADD_SCRIPT = """
local id = 'f' .. redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[2], id, ARGV[1])
redis.call('INCR', KEYS[3])
return id
"""
"""KEYS: next, faults, version. ARGV: the document. Returns the new fault's id."""

REMOVE_SCRIPT = """
local ids = {}
if ARGV[1] == 'all' then
  ids = redis.call('HKEYS', KEYS[1])
else
  for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
end
local removed = {}
for _, id in ipairs(ids) do
  if redis.call('HDEL', KEYS[1], id) == 1 then removed[#removed + 1] = id end
  redis.call('HDEL', KEYS[2], id)
end
if #removed > 0 then redis.call('INCR', KEYS[3]) end
return removed
"""
"""KEYS: faults, matched, version. ARGV: 'all', or 'some' then the ids."""

COUNT_SCRIPT = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return false end
local seen = redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
if ARGV[2] ~= '' and seen >= tonumber(ARGV[2]) then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('INCR', KEYS[3])
end
return seen
"""
"""KEYS: faults, matched, version. ARGV: the fault's id, its times (or '')."""

TAKE_SCRIPT = """
local now = tonumber(ARGV[1])
local start = tonumber(redis.call('HGET', KEYS[1], 'start'))
if start == nil or now >= start + tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'start', ARGV[1], 'count', 1)
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]))
  return {ARGV[1], 1}
end
return {start, redis.call('HINCRBY', KEYS[1], 'count', 1)}
"""
"""KEYS: the key's window. ARGV: now and the period (ms), the key's extra lifetime.
Returns the window's start and its count with this request."""

CUT_OFF = (RedisConnectionError, RedisTimeoutError)


class RedisFailures:
    def __init__(
        self,
        client: aioredis.Redis,
        hot: Commands,
        shown: str,
        blocking: Callable[[], redis.Redis],
    ) -> None:
        self._client = client
        self._hot = hot
        self._shown = shown
        self._blocking = blocking
        self._add = client.register_script(ADD_SCRIPT)
        self._remove = client.register_script(REMOVE_SCRIPT)
        self._count = client.register_script(COUNT_SCRIPT)
        self._take = hot.register_script(TAKE_SCRIPT)

    @contextmanager
    def _available(self, writing: str | None = None) -> Iterator[None]:
        """Redis errors as the store's: a lost reply to a write leaves it unknown."""
        try:
            yield
        except CUT_OFF as error:
            if writing is None:
                raise StoreUnavailableError(f"{self._shown}: {error}") from None
            raise OutcomeUnknownError(f"{self._shown}: {writing}: {error}") from None
        except RedisError as error:
            raise StoreUnavailableError(f"{self._shown}: {error}") from None

    async def version(self) -> str | None:
        """Asked before every call: a Redis that does not answer within ``VERSION_SECONDS``
        is unavailable for this (the mock goes on with the settings it read last, rather
        than make every call wait for Redis twice)."""
        try:
            with self._available():
                async with asyncio.timeout(VERSION_SECONDS):
                    version = await self._hot.execute_command("GET", VERSION)
        except TimeoutError:
            raise StoreUnavailableError(
                f"{self._shown}: no answer in {VERSION_SECONDS} s"
            ) from None
        return None if version is None else _text(version)

    async def load(self) -> FailureState:
        with self._available():
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.get(VERSION)
                pipe.hgetall(FAULTS)
                pipe.hgetall(SETTINGS)
                version, faults, settings = await pipe.execute()
        return FailureState(version, tuple(sorted(faults.items(), key=_number)), settings)

    async def add(self, document: str) -> str:
        with self._available("adding the fault"):
            fault_id: str = await self._add(keys=[NEXT, FAULTS, VERSION], args=[document])
        return fault_id

    async def remove(self, fault_ids: Sequence[str] | None = None) -> list[str]:
        args = ["all"] if fault_ids is None else ["some", *fault_ids]
        with self._available("removing faults"):
            removed: list[str] = await self._remove(keys=[FAULTS, MATCHED, VERSION], args=args)
        return removed

    async def count(self, fault_id: str, times: int | None) -> int | None:
        args = [fault_id, "" if times is None else times]
        with self._available("counting a match"):
            seen: int | None = await self._count(keys=[FAULTS, MATCHED, VERSION], args=args)
        return seen

    async def matched(self) -> dict[str, int]:
        with self._available():
            counts = await self._client.hgetall(MATCHED)
        return {_text(fault_id): int(count) for fault_id, count in counts.items()}

    async def configure(self, name: str, value: str | None) -> None:
        with self._available("changing a setting"):
            async with self._client.pipeline(transaction=True) as pipe:
                if value is None:
                    pipe.hdel(SETTINGS, name)
                else:
                    pipe.hset(SETTINGS, name, value)
                pipe.incr(VERSION)
                await pipe.execute()

    async def take(self, key: str, now_ms: int, period_ms: int) -> Window:
        args = [now_ms, period_ms, WINDOW_MARGIN_MS]
        with self._available("counting a request"):
            start, count = await self._take(keys=[RATE + key], args=args)
        return Window(int(start), int(count))

    async def forget_windows(self) -> None:
        with self._available("forgetting the rate-limit windows"):
            async for batch in _batches(self._client.scan_iter(match=RATE + "*", count=500)):
                await self._client.unlink(*batch)

    def install(self, faults: Sequence[str], settings: Mapping[str, str | None]) -> None:
        wanted = {name: value for name, value in settings.items() if value is not None}
        try:
            with self._blocking() as client:
                with client.pipeline(transaction=True) as pipe:
                    pipe.delete(FAULTS, MATCHED, SETTINGS)
                    if faults:
                        numbered = {FAULT_ID.format(n): doc for n, doc in enumerate(faults, 1)}
                        pipe.hset(FAULTS, mapping=numbered)
                    if wanted:
                        pipe.hset(SETTINGS, mapping=wanted)
                    pipe.set(NEXT, len(faults))
                    pipe.incr(VERSION)
                    pipe.execute()
                windows = list(client.scan_iter(match=RATE + "*", count=500))
                for start in range(0, len(windows), 500):
                    client.unlink(*windows[start : start + 500])
        except RedisError as error:
            raise StoreError(
                f"{self._shown}: cannot store the faults and settings: {error}"
            ) from None


async def _batches(keys: AsyncIterator[Any], size: int = 500) -> AsyncIterator[list[Any]]:
    batch: list[Any] = []
    async for key in keys:
        batch.append(key)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _text(value: bytes | str) -> str:
    """A reply as text: the client decodes replies, but redis-py types them as either."""
    return value if isinstance(value, str) else value.decode()


def _number(item: tuple[str, Any]) -> int:
    return int(item[0][1:])

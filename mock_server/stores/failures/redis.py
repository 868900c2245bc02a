"""Failure state in Redis, beside the balances: shared by every replica.

Each step that must be exact across replicas (adding a fault, counting a match and
ending the fault after ``times``, counting a request in its rate-limit window) is one
Lua script. Keys, under ``capmock:{failures}:``: ``version``, ``next`` (the last fault
number), ``faults`` (hash: id to document), ``matched`` (hash: id to count),
``settings`` (hash), ``rate:<key>`` (a rate-limit window, hash: start, count, expiring
after its period) and ``windows`` (the set of window keys). They share one hash slot,
so that every script runs on Redis Cluster too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import redis
from redis.cluster import RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from mock_server.stores.base import OutcomeUnknownError, StoreError, StoreUnavailableError
from mock_server.stores.failures.base import FailureState, Window
from mock_server.stores.pipelined import Commands, NotSentError, pairs

PREFIX = "capmock:{failures}:"
VERSION = PREFIX + "version"
NEXT = PREFIX + "next"
FAULTS = PREFIX + "faults"
MATCHED = PREFIX + "matched"
SETTINGS = PREFIX + "settings"
RATE = PREFIX + "rate:"
WINDOWS = PREFIX + "windows"
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
  redis.call('SADD', KEYS[2], KEYS[1])
  return {ARGV[1], 1}
end
return {start, redis.call('HINCRBY', KEYS[1], 'count', 1)}
"""
"""KEYS: the key's window, windows. ARGV: now and the period (ms), the key's extra
lifetime. Returns the window's start and its count with this request."""

FORGET_WINDOWS = """
local function forget_windows(windows)
  for _, key in ipairs(redis.call('SMEMBERS', windows)) do redis.call('DEL', key) end
  redis.call('DEL', windows)
end
"""

FORGET_SCRIPT = FORGET_WINDOWS + "forget_windows(KEYS[1])"
"""KEYS: windows. Deletes every rate-limit window."""

LOAD_SCRIPT = """
return {redis.call('GET', KEYS[1]), redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[3])}
"""
"""KEYS: version, faults, settings: the three as one snapshot."""

CONFIGURE_SCRIPT = """
if ARGV[2] == '1' then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
else redis.call('HDEL', KEYS[1], ARGV[1]) end
redis.call('INCR', KEYS[2])
"""
"""KEYS: settings, version. ARGV: the name, '1' to set (else delete), the value."""

INSTALL_SCRIPT = (
    FORGET_WINDOWS
    + """
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
local faults = tonumber(ARGV[1])
for i = 1, faults do redis.call('HSET', KEYS[1], 'f' .. i, ARGV[1 + i]) end
for i = faults + 2, #ARGV, 2 do redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1]) end
redis.call('SET', KEYS[4], faults)
redis.call('INCR', KEYS[5])
forget_windows(KEYS[6])
"""
)
"""KEYS: faults, matched, settings, next, version, windows. ARGV: the number of
faults, their documents, then the settings as name, value pairs."""

CUT_OFF = (RedisConnectionError, RedisTimeoutError)
Blocking = redis.Redis | RedisCluster


class RedisFailures:
    def __init__(self, client: Commands, shown: str, blocking: Callable[[], Blocking]) -> None:
        self._client = client
        self._shown = shown
        self._blocking = blocking
        self._add = client.register_script(ADD_SCRIPT)
        self._remove = client.register_script(REMOVE_SCRIPT)
        self._count = client.register_script(COUNT_SCRIPT)
        self._take = client.register_script(TAKE_SCRIPT)
        self._forget = client.register_script(FORGET_SCRIPT)
        self._load = client.register_script(LOAD_SCRIPT)
        self._configure = client.register_script(CONFIGURE_SCRIPT)

    @contextmanager
    def _available(self, writing: str | None = None) -> Iterator[None]:
        """Redis errors as the store's: a lost reply to a write leaves it unknown."""
        try:
            yield
        except CUT_OFF as error:
            if writing is None or isinstance(error, NotSentError):
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
                    version = await self._client.execute_command("GET", VERSION)
        except TimeoutError:
            raise StoreUnavailableError(
                f"{self._shown}: no answer in {VERSION_SECONDS} s"
            ) from None
        return None if version is None else str(version)

    async def load(self) -> FailureState:
        with self._available():
            version, faults, settings = await self._load(keys=[VERSION, FAULTS, SETTINGS])
        return FailureState(
            version, tuple(sorted(pairs(faults).items(), key=_number)), pairs(settings)
        )

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
            counts = await self._client.execute_command("HGETALL", MATCHED)
        return {fault_id: int(count) for fault_id, count in pairs(counts).items()}

    async def configure(self, name: str, value: str | None) -> None:
        args = [name, "0", ""] if value is None else [name, "1", value]
        with self._available("changing a setting"):
            await self._configure(keys=[SETTINGS, VERSION], args=args)

    async def take(self, key: str, now_ms: int, period_ms: int) -> Window:
        args = [now_ms, period_ms, WINDOW_MARGIN_MS]
        with self._available("counting a request"):
            start, count = await self._take(keys=[RATE + key, WINDOWS], args=args)
        return Window(int(start), int(count))

    async def forget_windows(self) -> None:
        with self._available("forgetting the rate-limit windows"):
            await self._forget(keys=[WINDOWS])

    def install(self, faults: Sequence[str], settings: Mapping[str, str | None]) -> None:
        wanted = [
            str(item)
            for name, value in settings.items()
            if value is not None
            for item in (name, value)
        ]
        try:
            client = self._blocking()
            try:
                client.eval(
                    INSTALL_SCRIPT,
                    6,
                    *(FAULTS, MATCHED, SETTINGS, NEXT, VERSION, WINDOWS),
                    str(len(faults)),
                    *faults,
                    *wanted,
                )
            finally:
                client.close()
        except (RedisError, RedisClusterException) as error:
            raise StoreError(
                f"{self._shown}: cannot store the faults and settings: {error}"
            ) from None


def _number(item: tuple[str, Any]) -> int:
    return int(item[0][1:])

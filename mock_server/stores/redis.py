"""The Redis store: balances and ledger shared by many mock replicas on many hosts.

The rule stays in Python (``rules.deduct``); Redis only makes the step atomic, by
optimistic locking in one round trip in the common case. Each process keeps the last
balances it saw of each customer; it decides on them, then a compare-and-set script
writes the new balance, appends to the ledger (trimmed to the newest ``ledger_limit``
entries) and marks the customer touched, only if the customer's shard is still at the
epoch decided on and every balance is still exactly as seen. Otherwise nothing is
written and the script returns the balances as they are (or the shard's epoch), and
the rule runs again on them, so no update is lost and nothing is deducted twice. A
refusal writes nothing, but one decided on remembered balances is decided again on a
fresh read first. Inside one process, deductions for the same customer are sent one
behind the other without waiting (pipelined), each decided on the balances the one
before leaves; a customer another process wrote lately takes turns on a lock instead,
so that one stale guess does not fail a whole pipeline. ``rediskeys`` lays out the keys so that
every script touches one hash slot: the store runs on one Redis or on Redis Cluster
(``redis+cluster://``).

Faults. Any Redis error raises ``StoreUnavailableError``, except a lost reply to the
compare-and-set: Redis may have written before the connection dropped. Each ledger
entry carries a marker of its request, so the step then reads again, checking for that
marker in the same snapshot: written, it answers what was written; not written, it
decides again (the compare-and-set of the lost write can no longer succeed once
anything changed). When Redis does not answer within ``OUTCOME_SECONDS``, or the ledger
is full so that the entry could have been trimmed, it raises ``OutcomeUnknownError``.
Nothing is ever sent twice by the client.

Each store, reset or replacement of the fixtures makes a new epoch; the state of a
world lives under its epoch, and every shard is moved forward to the new one (deleting
the old state) before the change is answered. When the fixtures are gone (Redis
flushed, or restarted without its data), the first process to notice stores again the
world it serves; the others load it like any new world.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from mock_server.errors import ApiError
from mock_server.fixtures import load_document
from mock_server.instrument.journal import Journal
from mock_server.model import Bucket, World
from mock_server.rules.change import DEBIT, Change, LedgerEntry
from mock_server.stores import rediskeys as keys
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
from mock_server.stores.clustered import ClusterClient
from mock_server.stores.failures.redis import RedisFailures
from mock_server.stores.journals import RedisJournal
from mock_server.stores.pipelined import Arg, Client, Commands, NotSentError, pairs
from mock_server.stores.rediskeys import SHARDS, CustomerKeys

logger = logging.getLogger("capmock")

CONNECT_TIMEOUT_SECONDS = 3
COMMAND_TIMEOUT_SECONDS = 10
OUTCOME_SECONDS = 5
"""How long a deduction whose write lost its reply keeps asking Redis what happened."""
OUTCOME_PAUSE_SECONDS = 0.1
MAX_ATTEMPTS = 1000
REMEMBERED = 100_000
"""Customers whose last seen balances a process keeps, to decide in one round trip."""
CONTENDED_SECONDS = 2.0
"""How long after another process changed a customer's balances under this one's
deductions they read before they write, one at a time."""
CUT_OFF = (RedisConnectionError, RedisTimeoutError)
"""Errors after which a command sent may or may not have run."""
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}

Blocking = redis.Redis | RedisCluster


@dataclass(frozen=True)
class _Space:
    """Where one namespace's state lives: the default world's (under its epoch), or a
    session's (under its own namespace, new at each reset)."""

    session: str | None = None
    ns: str = ""
    own: bool = False
    """The session has fixtures of its own, kept in its hash (else the store's)."""


DEFAULT = _Space()
_Where = tuple[str, int]
"""A customer in a namespace: the namespace, the userId."""


@dataclass
class _Attempt:
    """One deduction's state across its attempts."""

    marker: str
    lost: Exception | None = None
    """The first error that lost a compare-and-set's reply: its outcome is asked for."""
    confirm: bool = False
    """Decide on a fresh read (a refusal decided on remembered balances)."""


def _text(value: bytes | str) -> str:
    """A reply as text: the clients decode replies, but redis-py types them as either."""
    return value if isinstance(value, str) else value.decode()


def _now_us() -> int:
    return time.time_ns() // 1000


def _session_ns(session: str) -> str:
    return f"s.{session}.{secrets.token_hex(4)}"


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
        raw.get("direction", DEBIT),
        raw.get("eventLogId", 0),
    )


def _written(text: str) -> Change:
    """The change a ledger entry records, as its request is answered."""
    entry = _entry(text)
    return Change(entry.bucket, entry.balance_after, entry)


def _balances(seen: dict[str, str]) -> dict[Bucket, Decimal]:
    return {Bucket.from_key(key): Decimal(text) for key, text in seen.items()}


def _address(url: str) -> tuple[str, bool]:
    """The ``redis://`` URL of a store URL, and whether it names a cluster."""
    scheme, sep, rest = url.partition("://")
    plain = CLUSTER_SCHEMES.get(scheme.lower())
    return (f"{plain}{sep}{rest}", True) if plain else (url, False)


def _blocking(url: str) -> Blocking:
    """A blocking redis-py client, for start-up (before any event loop serves)."""
    address, cluster = _address(url)
    options: dict[str, Any] = {
        "decode_responses": True,
        "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "socket_timeout": COMMAND_TIMEOUT_SECONDS,
    }
    if cluster:
        return RedisCluster.from_url(address, **options)
    return redis.Redis.from_url(address, retry=Retry(NoBackoff(), 0), **options)


def _hot_client(url: str) -> Commands:
    address, cluster = _address(url)
    kind = ClusterClient if cluster else Client
    return kind(address, connect_timeout=CONNECT_TIMEOUT_SECONDS, timeout=COMMAND_TIMEOUT_SECONDS)


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
        self._redis = _hot_client(url)
        script = self._redis.register_script
        self._store_world = script(keys.STORE_WORLD)
        self._sweep_shard = script(keys.SWEEP)
        self._clear = script(keys.CLEAR)
        self._read = script(keys.READ)
        self._commit = script(keys.COMMIT)
        self._open = script(keys.OPEN_SESSION)
        self._renew = script(keys.RENEW_SESSION)
        self._end = script(keys.END_SESSION)
        self._session_worlds: dict[str, World] = {}
        self._seen: dict[_Where, dict[str, str]] = {}
        self._reading: dict[_Where, asyncio.Future[dict[str, str] | None]] = {}
        self._contended: dict[_Where, float] = {}
        self._locks: weakref.WeakValueDictionary[_Where, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._world, self._epoch = world, epoch
        self.resumed = resumed
        self.token_secret = token_secret
        self.failures = RedisFailures(self._redis, self._shown, lambda: _blocking(url))

    @classmethod
    def open(cls, url: str, world: World | None, ledger_limit: int) -> RedisStore:
        """Connect (failing fast and clearly), then serve ``world`` or the one Redis holds.

        This runs before any event loop serves, so it uses a blocking client; the
        store's asyncio client connects later, lazily, in the loop that serves.
        """
        shown = redacted(url)
        try:
            client = _blocking(url)
        except ValueError as error:
            raise StoreError(f"{shown}: not a usable Redis URL: {error}") from None
        except (RedisError, RedisClusterException) as error:
            raise StoreError(f"{shown}: cannot use Redis: {error}") from None
        try:
            client.ping()
            if client.exists(keys.LEGACY):
                raise StoreError(
                    f"{shown}: holds the state of an older capmock (the key {keys.LEGACY}); "
                    "give this one a database of its own, or empty that one (FLUSHDB)"
                )
            made = secrets.token_hex(32)
            if world is None:
                world, epoch = cls._attach(client, shown)
                resumed = True
            else:
                epoch, resumed = cls._adopt(client, world, made)
            client.set(keys.SECRET, made, nx=True)
            secret = client.get(keys.SECRET) or made
        except (RedisError, RedisClusterException) as error:
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
    def _adopt(client: Blocking, world: World, secret: str) -> tuple[str, bool]:
        """Serve ``world``: keep the state when Redis holds the same fixture text (a
        restart, or another replica started on the same file); else store it with a new
        epoch (each shard leaves the old state when it is next used)."""
        text = shared_text(world)
        epoch, stored = client.hmget(keys.WORLD, ["epoch", "text"])
        if stored == text and epoch is not None:
            return _text(epoch), True
        epoch = client.eval(
            keys.STORE_WORLD, 2, keys.WORLD, keys.SECRET, text, _now_us(), secret, "0"
        )
        return _text(epoch), False

    @staticmethod
    def _attach(client: Blocking, shown: str) -> tuple[World, str]:
        epoch, text = client.hmget(keys.WORLD, ["epoch", "text"])
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

    def _serve(self, epoch: str, text: str) -> World:
        """The world of this epoch: the cached one, or loaded from its text when another
        replica stored it."""
        if epoch != self._epoch:
            same = text == self._world.text
            world = self._world if same else load_document(text, f"the fixtures in {self._shown}")
            self._world, self._epoch = world, epoch
        return self._world

    async def _space(self, session: str | None) -> _Space:
        """Where a session's state lives (``UnknownSessionError`` when there is none)."""
        if session is None:
            return DEFAULT
        with self._available():  # asked each time: another replica may have ended it
            own, ns = await self._redis.execute_command(
                "HMGET", keys.session_key(session), "own", "ns"
            )
        if ns is None:
            raise UnknownSessionError(session)
        return _Space(session, ns, own == "1")

    async def _session_world(self, space: _Space) -> World:
        session = str(space.session)
        world = self._session_worlds.get(session)
        if world is None:
            with self._available():
                text = await self._redis.execute_command("HGET", keys.session_key(session), "text")
            if text is None:
                raise UnknownSessionError(session)
            world = load_document(text, f"the fixtures of session {session}")
            self._session_worlds[session] = world
        return world

    async def world(self, session: str | None = None) -> World:
        space = await self._space(session)
        if space.own:
            return await self._session_world(space)
        return await self._current()

    async def _current(self) -> World:
        """The store's world, checked against Redis (stored again if Redis lost it)."""
        with self._available():
            for _ in range(MAX_ATTEMPTS):
                epoch = await self._redis.execute_command("HGET", keys.WORLD, "epoch")
                if epoch == self._epoch:
                    return self._world
                epoch, text = await self._redis.execute_command(
                    "HMGET", keys.WORLD, "epoch", "text"
                )
                if epoch is not None and text is not None:
                    return self._serve(epoch, text)
                await self._reseed()  # then serve what it, or another replica, stored
        raise StoreUnavailableError(f"{self._shown}: the fixtures kept changing")

    async def _store(self, world: World | None, *, only_if_missing: bool = False) -> bool:
        """Store ``world`` (None: the one stored, a reset) with a new epoch, then move
        every shard to it (deleting the state of the world before). With
        ``only_if_missing``, only when Redis holds no fixtures. Returns whether it
        stored them."""
        text = "" if world is None else shared_text(world)
        args: list[Arg] = [text, _now_us(), self.token_secret, "1" if only_if_missing else "0"]
        try:
            epoch = await self._store_world(keys=[keys.WORLD, keys.SECRET], args=args)
        except NotSentError:
            raise
        except CUT_OFF as error:
            raise OutcomeUnknownError(f"{self._shown}: storing the fixtures: {error}") from None
        if epoch is None:
            return False
        if world is None:
            self._epoch = ""  # the text stored may not be this process's: read it again
        else:
            self._world, self._epoch = world, epoch
        await asyncio.gather(*(self._sweep(shard, epoch) for shard in range(SHARDS)))
        return True

    async def _sweep(self, shard: int, epoch: str) -> str:
        shard_epoch: str = await self._sweep_shard(
            keys=[keys.guard_key(shard)], args=[epoch, keys.shard_prefix(shard)]
        )
        return shard_epoch

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
        with self._available():
            if session is None:
                if not await self._store(None):
                    await self._reseed()
                return
            old = await self._renew(
                keys=[keys.session_key(session), keys.SPACES], args=[session, _session_ns(session)]
            )
            if old is None:
                raise UnknownSessionError(session)
            await self._forget(old)

    async def _forget(self, ns: str) -> None:
        """Delete a namespace's state, shard by shard."""
        await asyncio.gather(
            *(
                self._clear(
                    keys=[keys.space_prefix(shard, ns) + "touched"],
                    args=[keys.space_prefix(shard, ns)],
                )
                for shard in range(SHARDS)
            )
        )

    async def apply(
        self, user_id: int, decide: Decide, session: str | None = None
    ) -> Change | ApiError:
        space = await self._space(session)
        world = await self._session_world(space) if space.own else None
        with self._available():
            return await self._apply(user_id, decide, space, world)

    def _remember(self, where: _Where, balances: dict[str, str]) -> None:
        seen = self._seen
        seen.pop(where, None)
        if len(seen) >= REMEMBERED:
            del seen[next(iter(seen))]
        seen[where] = balances

    async def _apply(
        self, user_id: int, decide: Decide, space: _Space, own: World | None
    ) -> Change | ApiError:
        """Decide on the balances this process expects (those it saw, with the changes it
        has sent since), send the compare-and-set at once, and expect its result: the
        next deduction of the customer is decided and sent before this one's reply, so
        that one process's deductions of one customer pipeline. A compare-and-set that
        finds other balances writes nothing, and the rule runs again on those.

        A customer that another process wrote lately is contended: there, what this
        process saw is likely stale and a pipeline would fail as a whole, so its
        deductions take turns on a lock, each sent on the balances the reply before
        carried (a compare-and-set that fails returns them: no read is needed)."""
        attempt = _Attempt(_marker())
        for _ in range(MAX_ATTEMPTS):
            if own is None and not self._epoch:  # reset by this process: read the world
                await self._current()
            world, epoch = (own, "") if own is not None else (self._world, self._epoch)
            where = (space.ns or epoch, user_id)
            if self._contended.get(where, 0.0) > time.monotonic():
                async with self._lock(where):
                    outcome = await self._attempt(decide, world, epoch, where, attempt)
            else:
                outcome = await self._attempt(decide, world, epoch, where, attempt)
            if outcome is not None:
                return outcome
        raise StoreUnavailableError(f"{self._shown}: the balances kept changing; nothing deducted")

    async def _attempt(
        self, decide: Decide, world: World, epoch: str, where: _Where, attempt: _Attempt
    ) -> Change | ApiError | None:
        """One decision and its compare-and-set; None when it must be made again."""
        customer = CustomerKeys.of(*where)
        expected = None if attempt.lost is not None or attempt.confirm else self._seen.get(where)
        fresh = False
        if expected is None and attempt.lost is None and not attempt.confirm:
            snapshot = await self._first_read(where, customer, epoch)
            if snapshot is None:  # the world changed meanwhile
                return None
            # decide on what others of this process sent meanwhile
            expected = self._seen.setdefault(where, snapshot)
            fresh = expected is snapshot
        elif expected is None:
            guard, flat, written, _ = await self._snapshot(
                customer.read, attempt.marker, attempt.lost
            )
            if written:
                return _written(written)
            if epoch and guard != epoch:
                await self._follow(customer, epoch)
                return None
            expected, fresh = pairs(flat), True
        outcome = decide(world, opening_view(world, where[1], _balances(expected)))
        if not isinstance(outcome, Change):
            if fresh:
                return outcome  # decided on one consistent snapshot; nothing to write
            attempt.confirm = True  # decide again on what Redis holds now
            return None
        key, balance = outcome.bucket.key(), exact_text(outcome.balance)
        unique = outcome.marker.key() if outcome.marker is not None else ""
        sent = self._commit.send(
            keys=customer.write,
            args=[
                epoch,
                key,
                balance,
                _entry_json(outcome.entry, attempt.marker),
                self._ledger_limit,
                where[1],
                unique,
                customer.shard,
                SHARDS,
                *(item for pair in expected.items() for item in pair),
            ],
        )
        after = {**expected, key: balance}
        if unique:
            after[unique] = "1"
        self._remember(where, after)
        attempt.confirm = False
        try:
            reply = await sent
        except NotSentError:
            self._seen.pop(where, None)
            raise
        except CUT_OFF as error:
            attempt.lost = attempt.lost or error
            self._seen.pop(where, None)
            return None
        if reply[0] > 0:
            return outcome.numbered(reply[0])
        if reply[0] == 0:  # other balances than expected: decide again on them
            self._remember(where, pairs(reply[1]))
            self._contend(where)
        else:  # the shard is at another epoch than this process's world
            self._seen.pop(where, None)
            await self._follow(customer, epoch)
        return None

    def _contend(self, where: _Where) -> None:
        contended = self._contended
        contended.pop(where, None)
        if len(contended) >= REMEMBERED:
            del contended[next(iter(contended))]
        contended[where] = time.monotonic() + CONTENDED_SECONDS

    def _lock(self, where: _Where) -> asyncio.Lock:
        lock = self._locks.get(where)
        if lock is None:
            lock = self._locks[where] = asyncio.Lock()
        return lock

    async def _first_read(
        self, where: _Where, customer: CustomerKeys, epoch: str
    ) -> dict[str, str] | None:
        """The balances of a customer this process has not seen: one read at a time per
        customer, shared by the deductions that need it meanwhile. None when the world
        changed while reading."""
        reading = self._reading.get(where)
        if reading is None:
            reading = self._reading[where] = asyncio.ensure_future(self._read_at(customer, epoch))
            reading.add_done_callback(lambda _: self._reading.pop(where, None))
        return await asyncio.shield(reading)

    async def _read_at(self, customer: CustomerKeys, epoch: str) -> dict[str, str] | None:
        for _ in range(MAX_ATTEMPTS):
            guard, flat, _, _ = await self._read(keys=customer.read, args=[""])
            if not epoch or guard == epoch:
                return pairs(flat)
            await self._follow(customer, epoch)
            if self._epoch != epoch:
                return None
        raise StoreUnavailableError(f"{self._shown}: the fixtures kept changing")

    async def _snapshot(self, read: list[str], marker: str, lost: Exception | None) -> Any:
        """The customer's shard epoch and balances as one snapshot; after a lost reply,
        with the entry carrying ``marker`` if it was written."""
        if lost is None:
            return await self._read(keys=read, args=[""])
        guard, flat, written, kept = await self._ask_again(read, marker, lost)
        if not written and kept >= self._ledger_limit:
            raise OutcomeUnknownError(
                f"{self._shown}: {lost}; the ledger is full, so its entry could have been trimmed"
            )
        return guard, flat, written, kept

    async def _follow(self, customer: CustomerKeys, epoch: str) -> None:
        """The customer's shard is not at the epoch decided on: load the world in force;
        when that is the one decided on, the shard has not left the world before yet, so
        move it forward (whoever moved the world will too)."""
        await self._current()
        if self._epoch == epoch:
            await self._sweep(customer.shard, epoch)

    async def _ask_again(self, read: list[str], marker: str, lost: Exception) -> Any:
        """The read script, checking for ``marker``, asked again until Redis answers,
        for at most ``OUTCOME_SECONDS``."""
        deadline = time.monotonic() + OUTCOME_SECONDS
        while True:
            try:
                async with asyncio.timeout(max(deadline - time.monotonic(), 0)):
                    return await self._read(keys=read, args=[marker])
            except (*CUT_OFF, TimeoutError) as error:
                if time.monotonic() >= deadline:
                    raise OutcomeUnknownError(
                        f"{self._shown}: {lost}; then, asking what was written: "
                        f"{error or 'no answer'}"
                    ) from None
            await asyncio.sleep(OUTCOME_PAUSE_SECONDS)

    async def _namespace(self, session: str | None) -> tuple[World, str]:
        space = await self._space(session)
        if space.own:
            return await self._session_world(space), space.ns
        world = await self._current()
        return world, space.ns or self._epoch

    async def balances(self, user_id: int, session: str | None = None) -> dict[Bucket, Decimal]:
        world, ns = await self._namespace(session)
        with self._available():
            balance = CustomerKeys.of(ns, user_id).balance
            flat = await self._redis.execute_command("HGETALL", balance)
        return opening_view(world, user_id, _balances(pairs(flat)))

    async def ledger(self, user_id: int, session: str | None = None) -> list[LedgerEntry]:
        _, ns = await self._namespace(session)
        with self._available():
            entries = await self._redis.execute_command(
                "LRANGE", CustomerKeys.of(ns, user_id).ledger, 0, -1
            )
        return [_entry(text) for text in entries]

    async def open_session(self, world: World | None, ttl: float, limit: int) -> Session:
        now = time.time()
        session = Session(new_session_id(), now + ttl)
        with self._available():
            await self._sweep_sessions(now)
            live = await self._open(
                keys=[keys.SESSIONS, keys.session_key(session.id), keys.SPACES],
                args=[
                    int(now * 1000),
                    limit,
                    int(session.expires * 1000),
                    session.id,
                    "1" if world is not None else "0",
                    shared_text(world) if world is not None else "",
                    _session_ns(session.id),
                ],
            )
        if live >= 0:
            raise TooManySessionsError(live)
        if world is not None:
            self._session_worlds[session.id] = world
        return session

    async def _sweep_sessions(self, now: float) -> None:
        """Forget the state of sessions that expired (Redis already dropped their hash)."""
        expired = await self._redis.execute_command(
            "ZRANGEBYSCORE", keys.SESSIONS, "-inf", int(now * 1000)
        )
        for session in expired:
            await self._end_session(session, "expired")

    async def _end_session(self, session: str, why: str) -> bool:
        ns = await self._end(
            keys=[keys.session_key(session), keys.SPACES, keys.SESSIONS], args=[session, why]
        )
        if ns:
            await self._forget(ns)
        self._session_worlds.pop(session, None)
        return ns is not None

    async def close_session(self, session: str) -> None:
        with self._available():
            if not await self._end_session(session, "close"):
                raise UnknownSessionError(session)

    def journal(self, size: int) -> Journal:
        return RedisJournal(self._redis, self._available, size)

    async def check(self) -> None:
        """Read the fixtures (storing them again if Redis lost them), then write: a Redis
        out of memory or read-only refuses even this write of a value already there."""
        await self.world()
        with self._available():
            await self._redis.execute_command("SET", keys.SECRET, self.token_secret, "NX")

    async def close(self) -> None:
        await self._redis.aclose()

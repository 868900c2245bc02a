"""A Redis client for the hot path: every request of a process shares one connection.

redis-py's asyncio client checks a connection out of a pool for each command and
returns it after the reply, with a condition, a timeout task and its hooks around
every call: about half the CPU of a deduction over Redis. Here commands are written to
one socket as they come, so that concurrent requests pipeline by themselves, and
replies are matched to them in order; hiredis parses them. The store keeps redis-py
for everything else (start-up, transactions, admin calls).

Errors are redis-py's, so that the store treats both clients alike: a reply error is
``ResponseError`` (``NoScriptError`` for NOSCRIPT), a connection that fails or closes
is ``ConnectionError`` and a Redis that does not answer within ``timeout`` is
``TimeoutError``, for every command still waiting on that connection, which is closed.
Nothing is sent twice: after a cut-off, whether a command ran is unknown.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import time
from collections import deque
from collections.abc import Sequence
from typing import Any, cast

import hiredis
from redis.connection import parse_url
from redis.exceptions import AuthenticationError, NoScriptError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

Arg = str | bytes | int | float


class _Link(asyncio.Protocol):
    """One connection: commands written in order, each reply given to the oldest waiter."""

    def __init__(self, timeout: float) -> None:
        self._reader = hiredis.Reader(encoding="utf-8", replyError=ResponseError)
        self._waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self._transport: asyncio.Transport | None = None
        self._timeout = timeout
        self._watchdog: asyncio.TimerHandle | None = None
        self._failure: Exception | None = None
        self._out: list[bytes] = []

    @property
    def usable(self) -> bool:
        return self._transport is not None and self._failure is None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        try:
            while self._waiting:
                reply = self._reader.gets()
                if reply is False:
                    return
                future, _ = self._waiting.popleft()
                if not future.done():
                    future.set_result(reply)
        except hiredis.ProtocolError as error:
            self._fail(RedisConnectionError(f"Redis sent what is not RESP: {error}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(RedisConnectionError(f"connection to Redis lost: {exc or 'closed by Redis'}"))

    def send(self, packed: bytes) -> asyncio.Future[Any]:
        if self._failure is not None or self._transport is None:
            raise self._failure or RedisConnectionError("not connected to Redis")
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((future, time.monotonic()))
        if not self._out:
            asyncio.get_running_loop().call_soon(self._flush)
        self._out.append(packed)
        if self._watchdog is None:
            self._watch()
        return future

    def _flush(self) -> None:
        """Write what this turn of the event loop sent, in one write."""
        if self._transport is not None and self._failure is None:
            self._transport.write(b"".join(self._out))
        self._out.clear()

    def _watch(self) -> None:
        """Close the connection when its oldest command has waited ``timeout`` seconds."""
        self._watchdog = None
        if not self._waiting or self._failure is not None:
            return
        waited = time.monotonic() - self._waiting[0][1]
        if waited >= self._timeout:
            self._fail(RedisTimeoutError(f"Redis did not answer within {self._timeout:g} s"))
            return
        loop = asyncio.get_running_loop()
        self._watchdog = loop.call_later(self._timeout - waited, self._watch)

    def _fail(self, error: Exception) -> None:
        if self._failure is None:
            self._failure = error
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        while self._waiting:
            future, _ = self._waiting.popleft()
            if not future.done():
                future.set_exception(self._failure)
        if self._transport is not None:
            self._transport.abort()

    def close(self) -> None:
        self._fail(RedisConnectionError("the client was closed"))


class Script:
    """A Lua script, sent by its SHA1 and loaded when Redis does not know it yet."""

    def __init__(self, client: Client, text: str) -> None:
        self._client = client
        self._text = text
        self.sha = hashlib.sha1(text.encode()).hexdigest()

    async def __call__(self, keys: Sequence[Arg] = (), args: Sequence[Arg] = ()) -> Any:
        try:
            return await self._client.execute("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            await self._client.execute("SCRIPT", "LOAD", self._text)
            return await self._client.execute("EVALSHA", self.sha, len(keys), *keys, *args)


class Client:
    """Commands over one pipelined connection to the Redis of a ``redis://``,
    ``rediss://`` or ``unix://`` URL, connected lazily and again after a failure."""

    def __init__(self, url: str, *, connect_timeout: float, timeout: float) -> None:
        self._options = parse_url(url)  # type: ignore[no-untyped-call]
        self._connect_timeout = connect_timeout
        self._timeout = timeout
        self._link: _Link | None = None
        self._connecting: asyncio.Lock | None = None

    def register_script(self, text: str) -> Script:
        return Script(self, text)

    async def execute(self, *args: Arg) -> Any:
        link = self._link if self._link is not None and self._link.usable else await self._relink()
        reply = await link.send(_pack(args))
        if isinstance(reply, ResponseError):
            raise NoScriptError(str(reply)) if str(reply).startswith("NOSCRIPT") else reply
        return reply

    async def _relink(self) -> _Link:
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._link is None or not self._link.usable:
                self._link = await self._connect()
            return self._link

    async def _connect(self) -> _Link:
        loop = asyncio.get_running_loop()
        options = self._options
        link = _Link(self._timeout)
        try:
            async with asyncio.timeout(self._connect_timeout):
                if "path" in options:
                    await loop.create_unix_connection(lambda: link, options["path"])
                else:
                    secure = _ssl() if options.get("connection_class") else None
                    await loop.create_connection(
                        lambda: link, options["host"], options["port"], ssl=secure
                    )
                for command in self._greeting():
                    reply = await link.send(_pack(command))
                    if isinstance(reply, ResponseError):
                        link.close()
                        raise AuthenticationError(f"Redis refused {command[0]}: {reply}")
        except (OSError, TimeoutError) as error:
            raise RedisConnectionError(f"cannot connect to Redis: {error or 'timed out'}") from None
        return link

    def _greeting(self) -> list[tuple[str, ...]]:
        options, commands = self._options, list[tuple[str, ...]]()
        if options.get("password") is not None:
            user = options.get("username")
            commands.append(("AUTH", *([user] if user else []), options["password"]))
        if options.get("db"):
            commands.append(("SELECT", str(options["db"])))
        return commands

    async def aclose(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None


def _pack(command: Sequence[Arg]) -> bytes:
    # hiredis's stub types the command as a tuple of one item
    packed: bytes = hiredis.pack_command(cast(Any, tuple(command)))
    return packed


def _ssl() -> ssl.SSLContext:
    """TLS as redis-py does it by default: the server's certificate is verified."""
    return ssl.create_default_context()

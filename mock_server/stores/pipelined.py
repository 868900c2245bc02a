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
Nothing is sent twice: after a cut-off, whether a command ran is unknown, unless the
error is ``NotSentError`` (no connection could be made: it never left).
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Sequence
from typing import Any, Protocol, cast

import hiredis
from redis.connection import parse_url
from redis.exceptions import AuthenticationError, NoScriptError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

Arg = str | bytes | int | float


class NotSentError(RedisConnectionError):
    """The command was never sent (no connection to Redis): it did not run."""


class Commands(Protocol):
    """What the store asks of a client: this module's, or ``clustered.ClusterClient``."""

    async def execute_command(self, *args: Arg, **options: Any) -> Any: ...

    def send(self, *args: Arg) -> Awaitable[Any]: ...

    def register_script(self, script: str) -> Script: ...

    async def aclose(self) -> None: ...


class _Link(asyncio.Protocol):
    """One connection: commands written in order, each reply given to the oldest waiter."""

    def __init__(self, timeout: float) -> None:
        self.loop = asyncio.get_running_loop()
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
            raise NotSentError(f"not sent: {self._failure or 'not connected to Redis'}")
        future = self.loop.create_future()
        self._waiting.append((future, time.monotonic()))
        if not self._out:
            self.loop.call_soon(self._flush)
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
        self._watchdog = self.loop.call_later(self._timeout - waited, self._watch)

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

    def __init__(self, client: Commands, text: str) -> None:
        self._client = client
        self._text = text
        self.sha = hashlib.sha1(text.encode()).hexdigest()

    async def __call__(self, keys: Sequence[Arg] = (), args: Sequence[Arg] = ()) -> Any:
        return await self.send(keys, args)

    def send(self, keys: Sequence[Arg] = (), args: Sequence[Arg] = ()) -> Awaitable[Any]:
        """Run the script: sent at once when the client is connected (``Client.send``)."""
        command = ("EVALSHA", self.sha, len(keys), *keys, *args)
        return self._loaded(self._client.send(*command), command)

    async def _loaded(self, reply: Awaitable[Any], command: tuple[Arg, ...]) -> Any:
        try:
            return await reply
        except NoScriptError:
            await self._client.execute_command("SCRIPT", "LOAD", self._text)
            return await self._client.execute_command(*command)


class Client:
    """Commands over one pipelined connection to the Redis of a ``redis://``,
    ``rediss://`` or ``unix://`` URL, connected lazily and again after a failure."""

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float,
        timeout: float,
        scripts: list[str] | None = None,
    ) -> None:
        self._options = parse_url(url)  # type: ignore[no-untyped-call]
        self._connect_timeout = connect_timeout
        self._timeout = timeout
        self._link: _Link | None = None
        self._scripts = [] if scripts is None else scripts
        """Loaded on every connection (a cluster's nodes share the list)."""
        self._connecting: asyncio.Lock | None = None
        self._connecting_loop: asyncio.AbstractEventLoop | None = None

    def register_script(self, script: str) -> Script:
        self._scripts.append(script)
        return Script(self, script)

    async def execute_command(self, *args: Arg, **options: Any) -> Any:
        link = self._link
        if link is None or not link.usable or link.loop is not asyncio.get_running_loop():
            link = await self._relink()
        return await _reply(link.send(_pack(args)))

    def send(self, *args: Arg) -> Awaitable[Any]:
        """The command, written at once when this event loop is connected, so that
        commands sent one after the other without awaiting run in that order (else
        after connecting); its reply when awaited."""
        link = self._link
        if link is None or not link.usable or link.loop is not asyncio.get_running_loop():
            return self.execute_command(*args)
        return _reply(link.send(_pack(args)))

    async def _relink(self) -> _Link:
        """A connection in this event loop: a store opened before the server's loop, or
        used by one test's loop after another's, connects again in the new one."""
        loop = asyncio.get_running_loop()
        if self._connecting is None or self._connecting_loop is not loop:
            self._connecting, self._connecting_loop = asyncio.Lock(), loop
        async with self._connecting:
            link = self._link
            if link is None or not link.usable or link.loop is not loop:
                self._link = link = await self._connect()
            return link

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
                # every script known before the first command runs: concurrent first
                # calls would each meet NOSCRIPT and be sent again out of their order
                loading = [link.send(_pack(("SCRIPT", "LOAD", text))) for text in self._scripts]
                for reply in await asyncio.gather(*loading):
                    if isinstance(reply, ResponseError):
                        link.close()
                        raise reply
        except (OSError, TimeoutError) as error:
            link.close()
            raise NotSentError(f"cannot connect to Redis: {error or 'timed out'}") from None
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


def pairs(flat: Sequence[str]) -> dict[str, str]:
    """A flat reply of field, value, field, value (HGETALL's) as a dict."""
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}


async def _reply(sent: asyncio.Future[Any]) -> Any:
    reply = await sent
    if isinstance(reply, ResponseError):
        raise NoScriptError(str(reply)) if str(reply).startswith("NOSCRIPT") else reply
    return reply


def _pack(command: Sequence[Arg]) -> bytes:
    # hiredis's stub types the command as a tuple of one item
    packed: bytes = hiredis.pack_command(cast(Any, tuple(command)))
    return packed


def _ssl() -> ssl.SSLContext:
    """TLS as redis-py does it by default: the server's certificate is verified."""
    return ssl.create_default_context()

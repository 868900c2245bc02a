"""The hot-path client for Redis Cluster: one pipelined connection per node.

Each command goes to the node that holds its key's hash slot (the first key of a
script), as ``CLUSTER SLOTS`` last said. A node that answers ``MOVED`` did not run the
command: the table is asked for again and the command sent where it now belongs. A node
that answers ``ASK`` (a slot being moved) gets ``ASKING`` and the command once. Any
other error is the node's, as from one Redis (``pipelined.Client``); nothing is ever
sent twice after a cut-off, but the table is asked for again before the next command
(a replica may have taken the failed node's place).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.crc import key_slot
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError

from mock_server.stores.pipelined import Arg, Client, NotSentError, Script

SLOTS = 16384
REDIRECTIONS = 5
Node = tuple[str, int]


class ClusterClient:
    """Commands to the nodes of the Redis Cluster that the node of a ``redis://`` or
    ``rediss://`` URL (or ``redis+cluster://``, ``rediss+cluster://``) belongs to."""

    def __init__(self, url: str, *, connect_timeout: float, timeout: float) -> None:
        seed = urlsplit(url)
        scheme = seed.scheme.lower().removesuffix("+cluster")
        if scheme not in ("redis", "rediss"):
            raise ValueError("a Redis Cluster is reached over TCP: not a unix socket")
        if seed.path.strip("/") not in ("", "0"):
            raise ValueError("a Redis Cluster has only database 0: leave the path out")
        self._url = seed._replace(scheme=scheme)
        self._options = {"connect_timeout": connect_timeout, "timeout": timeout}
        self._scripts: list[str] = []
        self._nodes: dict[Node, Client] = {}
        self._seed = self._node((seed.hostname or "localhost", seed.port or 6379))
        self._slots: list[Node] = []
        self._refreshing: asyncio.Task[None] | None = None

    def register_script(self, script: str) -> Script:
        self._scripts.append(script)
        return Script(self, script)

    def _node(self, node: Node) -> Client:
        client = self._nodes.get(node)
        if client is None:
            host = f"[{node[0]}]" if ":" in node[0] else node[0]
            netloc = self._url.netloc.rpartition("@")
            at = f"{netloc[0]}@" if netloc[1] else ""
            url = urlunsplit((self._url.scheme, f"{at}{host}:{node[1]}", "/0", "", ""))
            client = self._nodes[node] = Client(url, scripts=self._scripts, **self._options)
        return client

    def send(self, *args: Arg) -> Awaitable[Any]:
        """As ``Client.send``: written at once when the node's connection is up."""
        key = _key(args)
        if key is None or not self._slots:
            return self.execute_command(*args)
        return self._redirected(self._node(self._slots[_slot(key)]).send(*args), args)

    async def execute_command(self, *args: Arg, **options: Any) -> Any:
        key = _key(args)
        if key is None:  # SCRIPT LOAD, PING: every node
            replies = await asyncio.gather(
                *(self._node(n).execute_command(*args) for n in self._all())
            )
            return replies[0]
        if not self._slots:
            await self._refresh()
        return await self._redirected(self._node(self._slots[_slot(key)]).send(*args), args)

    async def _redirected(self, reply: Awaitable[Any], args: tuple[Arg, ...]) -> Any:
        for _ in range(REDIRECTIONS):
            try:
                return await reply
            except RedisConnectionError:
                self._slots = []  # a node failed: a replica may serve its slots now
                raise
            except ResponseError as error:
                kind, _, where = str(error).partition(" ")
                if kind not in ("MOVED", "ASK"):
                    raise
                host, _, port = where.split(" ")[-1].rpartition(":")
                node = self._node((host or self._url.hostname or "localhost", int(port)))
                if kind == "MOVED":
                    await self._refresh()
                    reply = node.send(*args)
                else:  # ASKING holds for the next command on the connection: send both at once
                    asking = node.send("ASKING")
                    reply = node.send(*args)
                    await asking
        raise ResponseError(f"the cluster redirected {args[0]!s} more than {REDIRECTIONS} times")

    def _all(self) -> list[Node]:
        return sorted(set(self._slots)) or [next(iter(self._nodes))]

    async def _refresh(self) -> None:
        """Ask the cluster which node holds which slot, once for those who need it."""
        loop = asyncio.get_running_loop()
        pending = self._refreshing
        if pending is None or pending.done() or pending.get_loop() is not loop:
            pending = self._refreshing = loop.create_task(self._ask_slots())
        await asyncio.shield(pending)

    async def _ask_slots(self) -> None:
        failure: Exception | None = None
        for node in [*dict.fromkeys([*self._all(), *self._nodes])]:
            try:
                ranges = await self._node(node).execute_command("CLUSTER", "SLOTS")
            except RedisError as error:
                failure = error
                continue
            table: list[Node] = [node] * SLOTS
            for start, end, owner, *_ in ranges:
                at = (owner[0] or node[0], int(owner[1]))
                table[int(start) : int(end) + 1] = [at] * (int(end) - int(start) + 1)
            self._slots = table
            return
        raise NotSentError(f"no node of the Redis Cluster answered: {failure}")

    async def aclose(self) -> None:
        for client in self._nodes.values():
            await client.aclose()


def _key(args: tuple[Arg, ...]) -> Arg | None:
    """The key a command is routed by: a script's first key, else its first argument."""
    name = str(args[0]).upper()
    if name in ("EVALSHA", "EVAL"):
        return args[3] if int(args[2]) > 0 else None
    if name in ("SCRIPT", "PING", "CLUSTER", "ASKING") or len(args) < 2:
        return None
    return args[1]


def _slot(key: Arg) -> int:
    return key_slot(key if isinstance(key, bytes) else str(key).encode())

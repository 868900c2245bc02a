"""What a fault does to a request it acts on, one small class per ``action.type``.

An action works on a ``Turn``: the request, and either nothing yet (phase ``before``:
nothing was applied, and the turn can still hand the request to the app) or the
answer the app gave (phase ``after_commit``: the deduction is in the ledger, and the
answer is replaced, delayed or dropped).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.errors import ApiError, Code
from mock_server.instrument.delays import Delay, delay_from
from mock_server.lanes.render import render
from mock_server.transport import Connection, connection_of

TIMEOUT_MS = 60_000
"""How long ``timeout`` holds a request unless it says (``ms``): then it closes it."""
TRUNCATED_BEFORE = b'{"status": "success", "warnings": []}'
"""What a ``malformed`` answer in phase ``before`` is the first half of."""
HTML_PAGE = b"<html><body><h1>502 Bad Gateway</h1></body></html>\n"
"""What a proxy in front of an API sends when it fails: here, as application/json."""
NO_BODY = (204, 304)


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole HTTP answer: what the app said, or what a fault says instead."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    @classmethod
    def of(
        cls, status: int, body: bytes, content_type: bytes | None = b"application/json"
    ) -> Answer:
        headers = [] if content_type is None else [(b"content-type", content_type)]
        if status in NO_BODY:
            return cls(status, headers, b"")
        return cls(status, [*headers, (b"content-length", b"%d" % len(body))], body)

    @classmethod
    def refusal(cls, error: ApiError, error_status: dict[int, int]) -> Answer:
        """A refusal in the API's envelope, as the lanes render it."""
        answer = cls.of(error.status(error_status), render(error.envelope()))
        extra = [(name.lower().encode(), value.encode()) for name, value in error.headers().items()]
        return cls(answer.status, [*answer.headers, *extra], answer.body)

    def with_headers(self, headers: Mapping[str, str]) -> Answer:
        extra = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
        return Answer(self.status, [*self.headers, *extra], self.body) if extra else self

    @property
    def committed(self) -> bool:
        """The app answered with success: what it did is done."""
        return 200 <= self.status < 300

    async def send_to(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


async def captured(app: ASGIApp, scope: Scope, receive: Receive) -> Answer:
    """Run ``app`` and keep its answer instead of sending it."""
    start: Message = {}
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    return Answer(start.get("status", 500), list(start.get("headers", [])), b"".join(chunks))


async def pause(scope: Scope, seconds: float) -> None:
    """Wait ``seconds``, or less if the server begins to stop."""
    connection = connection_of(scope)
    if connection is None:
        await asyncio.sleep(seconds)
    else:
        await _first([connection.stopping.wait()], seconds)


class Turn:
    """One request a fault acts on."""

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        app: ASGIApp,
        forced: Callable[[int], Awaitable[Answer]],
        answer: Answer | None = None,
    ) -> None:
        self.scope, self.receive, self.send = scope, receive, send
        self.app = app
        self.forced = forced
        """The answer the mock gives for a code, with the request's values."""
        self.answer = answer
        """What the app answered, in phase ``after_commit``."""

    async def respond(self, answer: Answer) -> None:
        await self._drain()
        await answer.send_to(self.send)

    async def proceed(self) -> None:
        """Go on as if nothing happened: to the app, or the app's answer sent as it was."""
        if self.answer is None:
            await self.app(self.scope, self.receive, self.send)
        else:
            await self.answer.send_to(self.send)

    async def hold(self, seconds: float) -> None:
        """Answer nothing until the client closes its side or goes away, the server
        stops, or ``seconds`` pass; then close the connection."""
        connection = await self._connection("timeout")
        if connection is not None:
            waits = [self._until_gone(), connection.ended.wait(), connection.stopping.wait()]
            await _first(waits, seconds)
            connection.close()
            await self._until_gone()

    async def reset(self) -> None:
        connection = await self._connection("reset")
        if connection is not None:
            connection.reset()
            await self._until_gone()

    async def close(self) -> None:
        connection = await self._connection("empty")
        if connection is not None:
            connection.close()
            await self._until_gone()

    async def _connection(self, action: str) -> Connection | None:
        """The connection, or None after answering that the server cannot lend it."""
        connection = connection_of(self.scope)
        if connection is None:
            detail = (
                f"the {action} fault needs capmock serve's HTTP protocols (mock_server.halfclose) "
                "to act on the connection"
            )
            await self.respond(Answer.refusal(ApiError.of(Code.INTERNAL_ERROR, detail=detail), {}))
        return connection

    async def _drain(self) -> None:
        """In phase ``before``, read what is left of the body, so that the connection can
        serve the client's next request."""
        if self.answer is None:
            message: Message = {"more_body": True}
            while message.get("more_body", False):
                message = await self.receive()
                if message["type"] != "http.request":
                    return

    async def _until_gone(self) -> None:
        """Until the server says the client has gone (so it answers nothing itself)."""
        while (await self.receive())["type"] != "http.disconnect":
            pass


class Action(Protocol):
    def document(self) -> dict[str, Any]: ...

    def describe(self) -> str: ...

    async def perform(self, turn: Turn) -> None: ...


@dataclass(frozen=True, slots=True)
class CodeAction:
    """The mock's answer for a documented code, with the request's values, and its status."""

    code: int

    def document(self) -> dict[str, Any]:
        return {"type": "code", "code": self.code}

    def describe(self) -> str:
        return f"code {self.code}"

    async def perform(self, turn: Turn) -> None:
        await turn.respond(await turn.forced(self.code))


@dataclass(frozen=True, slots=True)
class StatusAction:
    """Any HTTP status, with a JSON body when one is given (none for 204 and 304)."""

    status: int
    body: Any = None
    has_body: bool = False

    def document(self) -> dict[str, Any]:
        return {
            "type": "status",
            "status": self.status,
            **({"body": self.body} if self.has_body else {}),
        }

    def describe(self) -> str:
        return f"status {self.status}"

    async def perform(self, turn: Turn) -> None:
        if self.has_body:
            answer = Answer.of(self.status, json.dumps(self.body).encode())
        else:
            answer = Answer.of(self.status, b"", content_type=None)
        await turn.respond(answer)


@dataclass(frozen=True, slots=True)
class DelayAction:
    """Wait, then answer as if nothing happened."""

    delay: Delay
    rng: random.Random

    def document(self) -> dict[str, Any]:
        return {"type": "delay", **self.delay.document()}

    def describe(self) -> str:
        return f"delay {self.delay.describe()}"

    async def perform(self, turn: Turn) -> None:
        await pause(turn.scope, self.delay.seconds(self.rng))
        await turn.proceed()


@dataclass(frozen=True, slots=True)
class TimeoutAction:
    """Never answer: hold the connection until the client gives up (or ``ms`` pass)."""

    ms: float = TIMEOUT_MS

    def document(self) -> dict[str, Any]:
        return {"type": "timeout", "ms": self.ms}

    def describe(self) -> str:
        return "timeout"

    async def perform(self, turn: Turn) -> None:
        await turn.hold(self.ms / 1000)


@dataclass(frozen=True, slots=True)
class ResetAction:
    """Close the connection abruptly: the client reads a connection reset (RST)."""

    def document(self) -> dict[str, Any]:
        return {"type": "reset"}

    def describe(self) -> str:
        return "reset"

    async def perform(self, turn: Turn) -> None:
        await turn.reset()


@dataclass(frozen=True, slots=True)
class EmptyAction:
    """Close the connection without answering: the client reads the end of the stream."""

    def document(self) -> dict[str, Any]:
        return {"type": "empty"}

    def describe(self) -> str:
        return "empty"

    async def perform(self, turn: Turn) -> None:
        await turn.close()


@dataclass(frozen=True, slots=True)
class MalformedAction:
    """An answer labelled application/json that is not JSON: the first half of the
    answer (``truncated``), or an HTML error page (``html``)."""

    kind: str = "truncated"
    status: int | None = None

    def document(self) -> dict[str, Any]:
        status = {} if self.status is None else {"status": self.status}
        return {"type": "malformed", "kind": self.kind, **status}

    def describe(self) -> str:
        return f"malformed ({self.kind})"

    async def perform(self, turn: Turn) -> None:
        whole = TRUNCATED_BEFORE if turn.answer is None else turn.answer.body
        body = HTML_PAGE if self.kind == "html" else whole[: len(whole) // 2]
        status = self.status or (turn.answer.status if turn.answer is not None else 200)
        await turn.respond(Answer.of(status, body))


def action_from(document: dict[str, Any], rng: random.Random | None = None) -> Action:
    """The action an ``action`` document (already checked against its schema) describes."""
    kind = document["type"]
    if kind == "code":
        return CodeAction(int(document["code"]))
    if kind == "status":
        return StatusAction(int(document["status"]), document.get("body"), "body" in document)
    if kind == "delay":
        return DelayAction(delay_from(document), rng or random.Random())
    if kind == "timeout":
        return TimeoutAction(float(document.get("ms", TIMEOUT_MS)))
    if kind == "reset":
        return ResetAction()
    if kind == "empty":
        return EmptyAction()
    if kind == "malformed":
        status = document.get("status")
        return MalformedAction(
            document.get("kind", "truncated"), None if status is None else int(status)
        )
    raise ValueError(f"unknown action type {kind!r}")


def replaying(messages: Iterable[Message], receive: Receive) -> Receive:
    """A receive channel that gives ``messages`` again, then what ``receive`` gives."""
    pending = deque(messages)

    async def replayed() -> Message:
        return pending.popleft() if pending else await receive()

    return replayed


async def peeked(receive: Receive) -> tuple[list[Message], bytes | None]:
    """Every message of the request's body, and the body, or None if it did not arrive
    in full (the client went away)."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return messages, b"".join(chunks)


async def _first(waits: Sequence[Awaitable[Any]], seconds: float) -> None:
    """Until the first of ``waits`` is done, or ``seconds`` pass."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

"""A rate limit per API key, as Capillary documents for its demo and testing clusters
(100 requests per minute per API key).

The key is the caller the credentials name: the Basic user, or the OAuth client of the
token. Only callers the fixtures know are counted (the others get 401 anyway, and the
windows kept stay as many as the callers). A key's window opens with its first request
and lasts the period; the requests past the limit in it are refused with 429, code
9193, until it closes. Every counted answer carries ``X-RateLimit-Limit``,
``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (when the window closes, in epoch
seconds); a 429 also ``Retry-After`` (seconds). The store counts, atomically, so the
limit holds exactly across workers and replicas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from starlette.types import Message, Scope, Send

from mock_server.auth import claimed
from mock_server.errors import ApiError, Code
from mock_server.instrument.actions import Answer
from mock_server.model import World
from mock_server.stores.failures.base import FailureStore

PERIOD_NAMES = {1: "second", 60: "minute", 3600: "hour"}


@dataclass(frozen=True, slots=True)
class RateLimit:
    requests: int
    seconds: float

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> RateLimit:
        return cls(int(document["requests"]), float(document["seconds"]))

    def document(self) -> dict[str, Any]:
        seconds = int(self.seconds) if self.seconds.is_integer() else self.seconds
        return {"requests": self.requests, "seconds": seconds}

    def describe(self) -> str:
        name = PERIOD_NAMES.get(int(self.seconds)) if self.seconds.is_integer() else None
        per = name or f"{self.seconds:g} seconds"
        return f"{self.requests} per {per} per API key"


@dataclass(frozen=True, slots=True)
class Verdict:
    """One counted request: whether it may go on, and the headers its answer carries."""

    allowed: bool
    headers: list[tuple[bytes, bytes]]

    def stamp(self, send: Send) -> Send:
        """``send``, with the rate-limit headers added to the answer."""

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.headers]}
            await send(message)

        return stamped

    def refusal(self, world: World) -> Answer:
        answer = Answer.refusal(ApiError.of(Code.RATE_LIMITED), world.error_status)
        headers = [header for header in answer.headers if header[0] != b"retry-after"]
        return Answer(answer.status, [*headers, *self.headers], answer.body)


def api_key(scope: Scope, world: World) -> str | None:
    """The key a request is counted under, or None when it names no caller the fixtures
    know."""
    authorization = token = None
    for name, value in scope["headers"]:
        if name == b"authorization" and authorization is None:
            authorization = value
        elif name == b"x-cap-api-oauth-token" and token is None:
            token = value
    caller = claimed(authorization, token)
    if caller is None:
        return None
    kind, name = caller
    known = world.users if kind == "user" else world.oauth_clients
    return f"{kind}:{name}" if name in known else None


async def admit(limit: RateLimit, failures: FailureStore, key: str, now: float) -> Verdict:
    """Count one request of ``key``; the verdict and its headers."""
    period_ms = math.ceil(limit.seconds * 1000)
    now_ms = math.floor(now * 1000)
    window = await failures.take(key, now_ms, period_ms)
    closes_ms = window.start_ms + period_ms
    allowed = window.count <= limit.requests
    headers = [
        (b"x-ratelimit-limit", b"%d" % limit.requests),
        (b"x-ratelimit-remaining", b"%d" % max(0, limit.requests - window.count)),
        (b"x-ratelimit-reset", b"%d" % math.ceil(closes_ms / 1000)),
    ]
    if not allowed:
        headers.append((b"retry-after", b"%d" % max(1, math.ceil((closes_ms - now_ms) / 1000))))
    return Verdict(allowed, headers)

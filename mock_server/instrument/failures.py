"""The failure instruments as one ASGI middleware: latency, then the rate limit, then
faults, on every call of a Capillary operation (never on the admin API, the Swagger UI
or an unknown path, so that an admin call can always undo them).

Faults of phase ``before`` act before the app sees the request, so nothing is applied;
faults of phase ``after_commit`` let the app answer, and act only on a success (the
deduction is applied and in the ledger) by replacing its answer. One fault acts on a
request at most: the oldest of those that match and fire. The request's journal
exchange, when there is one, is marked with the fault's id.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.errors import ApiError, Code
from mock_server.instrument import ratelimit
from mock_server.instrument.actions import Answer, Turn, captured, pause, peeked, replaying
from mock_server.instrument.calls import Call, Operations
from mock_server.instrument.context import current
from mock_server.instrument.faults import AFTER_COMMIT, BEFORE, Fault
from mock_server.instrument.forced import forced_answer
from mock_server.instrument.settings import SettingsCache
from mock_server.lanes.validation import parse_json
from mock_server.limits import Limits
from mock_server.stores.base import (
    Store,
    StoreUnavailableError,
    UnknownSessionError,
    world_or_last,
)

logger = logging.getLogger("capmock")


class Failures:
    """Latency, the rate limit and faults in front of ``app``, as the store sets them."""

    def __init__(
        self, app: ASGIApp, store: Store, clock: Callable[[], float], limits: Limits
    ) -> None:
        self.app = app
        self.store = store
        self.clock = clock
        self.limits = limits
        self.operations = Operations()
        self.settings = SettingsCache(store.failures)
        self.rng = random.Random()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.operations.find(scope) if scope["type"] == "http" else None
        if found is None:
            return await self.app(scope, receive, send)
        settings = await self.settings.current()
        if settings.idle:
            return await self.app(scope, receive, send)
        if settings.latency is not None:
            await pause(scope, settings.latency.seconds(self.rng))
        exchange = current(scope)
        session = exchange.session if exchange is not None else None
        if settings.rate_limit is not None:
            key = await self._api_key(scope, session)
            if key is not None:
                try:
                    verdict = await ratelimit.admit(
                        settings.rate_limit, self.store.failures, key, self.clock()
                    )
                except StoreUnavailableError:
                    pass  # the store cannot count: the request goes on, and meets the store
                else:
                    if not verdict.allowed:
                        if exchange is not None:
                            exchange.code = int(Code.RATE_LIMITED)
                            exchange.explanation = (
                                f"rate limit {settings.rate_limit.describe()}: used up by {key}"
                            )
                        return await verdict.refusal(self.store.last_world).send_to(send)
                    send = verdict.stamp(send)
        if settings.faults:
            call = self.operations.call(scope, found)
            faults = settings.faults
            return await self._faults(scope, receive, send, call, session, faults, settings.seed)
        await self.app(scope, receive, send)

    async def _faults(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        call: Call,
        session: str | None,
        faults: tuple[Fault, ...],
        seed: int,
    ) -> None:
        now = self.clock()
        exchange = current(scope)
        matching = [f for f in faults if f.live(now) and f.match.accepts(call, session)]
        if not matching:
            return await self.app(scope, receive, send)
        messages, raw = await peeked(receive)
        receive = replaying(messages, receive)
        if raw is None:  # the client went away: nothing will be applied, no one listens
            return await self.app(scope, receive, send)
        body = _parsed(raw)
        matching = [fault for fault in matching if fault.match.accepts_body(body)]

        def turn(fault: Fault, answer: Answer | None) -> Turn:
            async def forced(code: int) -> Answer:
                try:
                    world = await world_or_last(self.store, session)
                except UnknownSessionError as error:  # what the app would answer too
                    return Answer.refusal(error, self.store.last_world.error_status)
                if exchange is not None:
                    exchange.code = code
                return forced_answer(code, scope, call, body, world, self.limits, fault.id)

            return Turn(scope, receive, send, self.app, forced, answer)

        for fault in matching:
            if fault.phase == BEFORE and await self._fires(fault, seed):
                _mark(scope, fault)
                return await fault.action.perform(turn(fault, None))
        after = [fault for fault in matching if fault.phase == AFTER_COMMIT]
        if not after:
            return await self.app(scope, receive, send)
        answer = await captured(self.app, scope, receive)
        if answer.committed:
            for fault in after:
                if await self._fires(fault, seed):
                    _mark(scope, fault)
                    return await fault.action.perform(turn(fault, answer))
        await answer.send_to(send)

    async def _api_key(self, scope: Scope, session: str | None) -> str | None:
        """The key the request is counted under: its caller, in its session's world; each
        session counts apart, so that tests sharing a mock do not spend each other's
        limit. None for a caller the world does not know, or an unknown session."""
        if session is None:
            return ratelimit.api_key(scope, self.store.last_world)
        try:
            world = await world_or_last(self.store, session)
        except UnknownSessionError:
            return None
        key = ratelimit.api_key(scope, world)
        return None if key is None else f"{key} in session {session}"

    async def _fires(self, fault: Fault, seed: int) -> bool:
        """Count the match in the store, and say whether the fault acts on it; a store
        that cannot count lets the request go on untouched."""
        try:
            seen = await self.store.failures.count(fault.id, fault.times)
        except StoreUnavailableError:
            return False
        return seen is not None and fault.fires(seen, seed)


def _mark(scope: Scope, fault: Fault) -> None:
    exchange = current(scope)
    if exchange is not None:
        exchange.fault = fault.id
        exchange.fault_note = f"fault {fault.describe()} " + (
            "acted before the rules: nothing was applied"
            if fault.phase == BEFORE
            else "replaced the answer: what was applied stays applied"
        )
    logger.info("fault %s acted on %s %s", fault.describe(), scope["method"], scope["path"])


def _parsed(raw: bytes) -> object:
    try:
        return parse_json(raw)
    except ApiError:
        return None

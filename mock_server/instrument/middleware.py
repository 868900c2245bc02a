"""The outermost middleware: gives each request its exchange and id, puts the session
``X-Capmock-Session`` names on it, and journals requests to the Capillary API as they
are answered: before the answer's last bytes go out, so that a client that has its
answer finds it in the journal.

Every answer carries ``X-Capmock-Request-Id``. The session is checked where it is used:
every store call that serves a session's state refuses one it does not have
(``UnknownSessionError``, 400 with code 9140), so a request naming an unknown session is
never served from the default world, and one that routing refuses keeps its 404 or 405.
Admin calls and the Swagger UI pages are not journaled.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.instrument.context import (
    REQUEST_ID_HEADER,
    SESSION_HEADER,
    Exchange,
    attach,
)
from mock_server.instrument.journal import Journal, Recorded, new_request_id
from mock_server.stores.base import StoreUnavailableError

UNJOURNALED = re.compile(r"/(__admin|ui)(/.*)?|/openapi\.(json|yaml)")
"""The mock's own pages and API: never in the journal."""
OPERATIONS = re.compile(
    r"/v2/customers/(?P<deductPoints>[0-9]{1,19})/negativePointsAdjustment"
    r"|/v2/customers/lookup/(?P<deductPointsByLookup>)negativePointsAdjustment"
    r"|/v2/customers/lookup/points/(?P<getPointsBalance>)balance"
    r"|/v2/pointsLedger/(?P<getCustomerLedgerInfo>)getCustomerLedgerInfo"
    r"|/v2/customers/bulk/(?P<bulkManualCurrencyAllocation>)manualCurrencyAllocate"
    r"|/v3/oauth/token/(?P<generateToken>)generate"
)
"""The Capillary operations by path: the group that matched names the operation (and
holds the userId when there is one; the operations that look a customer up note whom
they found)."""
logger = logging.getLogger("capmock")
_SESSION = SESSION_HEADER.lower().encode()
_REQUEST_ID = REQUEST_ID_HEADER.lower().encode()


class Instrument:
    """See the module's docstring; ``journal`` None turns journaling off."""

    def __init__(self, app: ASGIApp, journal: Journal | None) -> None:
        self.app = app
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.time()
        exchange = Exchange(request_id=new_request_id())
        attach(scope, exchange)
        path: str = scope["path"]
        found = OPERATIONS.fullmatch(path)
        if found:
            exchange.operation = found.lastgroup
            user_id = found["deductPoints"]
            exchange.user_id = int(user_id) if user_id else None
        for name, value in scope["headers"]:
            if name == _SESSION:  # checked by the store on first use: unknown is 9140
                exchange.session = value.decode("latin-1")
                break
        journaled = self.journal is not None and not UNJOURNALED.fullmatch(path)
        wire = _Wire(receive, send, exchange.request_id.encode(), journaled)
        if not journaled:
            return await self.app(scope, receive, wire.send)

        async def record() -> None:
            await self._record(scope, exchange, wire, started)

        wire.before_last = record
        await self.app(scope, wire.receive, wire.send)
        if wire.before_last is not None and (wire.status or exchange.fault):
            await record()  # no answer was finished: a fault held or cut it

    async def _record(self, scope: Scope, exchange: Exchange, wire: _Wire, started: float) -> None:
        assert self.journal is not None
        entry = Recorded(
            exchange,
            started,
            scope["method"],
            scope["path"],
            scope["query_string"],
            tuple(scope["headers"]),
            b"".join(wire.body),
            wire.status,
            b"".join(wire.response),
            time.time() - started,
        )
        try:
            await self.journal.record(entry)
        except StoreUnavailableError as error:
            logger.warning("request %s not journaled: %s", exchange.request_id, error)


class _Wire:
    """One request's channels: every answer gets its ``X-Capmock-Request-Id``; with
    ``keep``, the body as it arrives and the answer as it leaves are kept, and
    ``before_last`` runs before the answer's last bytes go out, so that a client that
    has its answer finds it in the journal."""

    __slots__ = ("_id", "_keep", "_receive", "_send", "before_last", "body", "response", "status")

    def __init__(self, receive: Receive, send: Send, request_id: bytes, keep: bool) -> None:
        self._receive, self._send, self._id, self._keep = receive, send, request_id, keep
        self.body: list[bytes] = []
        self.response: list[bytes] = []
        self.status = 0
        self.before_last: Callable[[], Awaitable[None]] | None = None

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.body.append(message.get("body", b""))
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            message["headers"] = [*message.get("headers", ()), (_REQUEST_ID, self._id)]
        elif self._keep and message["type"] == "http.response.body":
            self.response.append(message.get("body", b""))
            if not message.get("more_body", False) and self.before_last is not None:
                last, self.before_last = self.before_last, None
                await last()
        await self._send(message)

"""The outermost middleware: gives each request its exchange and id, resolves its
session, and journals requests to the Capillary API once they are answered.

Every answer carries ``X-Capmock-Request-Id``. A request naming a session the store
does not have is refused here (400, code 9130), before anything inside can serve it
from the default world. Admin calls and the Swagger UI pages are not journaled.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.errors import ApiError
from mock_server.instrument.context import (
    REQUEST_ID_HEADER,
    SESSION_HEADER,
    Exchange,
    attach,
)
from mock_server.instrument.journal import Journal, Recorded, new_request_id
from mock_server.lanes.body import read_body
from mock_server.stores.base import Store, StoreUnavailableError, UnknownSessionError

UNJOURNALED = re.compile(r"/(__admin|ui)(/.*)?|/openapi\.(json|yaml)")
"""The mock's own pages and API: never in the journal."""
OPERATIONS = (
    (re.compile(r"/v2/customers/([0-9]{1,19})/negativePointsAdjustment"), "deductPoints"),
    (re.compile(r"/v3/oauth/token/generate()"), "generateToken"),
)
logger = logging.getLogger("capmock")
_SESSION = SESSION_HEADER.lower().encode()
_REQUEST_ID = REQUEST_ID_HEADER.lower().encode()


class Instrument:
    """See the module's docstring; ``journal`` None turns journaling off."""

    def __init__(self, app: ASGIApp, store: Store, journal: Journal | None) -> None:
        self.app = app
        self.store = store
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.time()
        exchange = Exchange(request_id=new_request_id())
        attach(scope, exchange)
        path: str = scope["path"]
        for pattern, operation in OPERATIONS:
            found = pattern.fullmatch(path)
            if found:
                exchange.operation = operation
                exchange.user_id = int(found[1]) if found[1] else None
                break
        request_id = exchange.request_id.encode()

        async def identified(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), (_REQUEST_ID, request_id)]
            await send(message)

        if self.journal is None or UNJOURNALED.fullmatch(path):
            refusal = await self._session(scope, exchange)
            if refusal is not None:
                return await _refuse(identified, refusal)
            return await self.app(scope, receive, identified)

        body: list[bytes] = []
        response: list[bytes] = []
        status = 0

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.append(message.get("body", b""))
            return message

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                response.append(message.get("body", b""))
            await identified(message)

        refusal = await self._session(scope, exchange)
        if refusal is not None:
            with contextlib.suppress(ApiError):  # journaled as sent, even when cut short
                await read_body(receiving, scope)
            await _refuse(sending, refusal)
        else:
            await self.app(scope, receiving, sending)
        if not status:
            return  # no answer went out (the client left): nothing to show for it
        entry = Recorded(
            id=exchange.request_id,
            time=started,
            method=scope["method"],
            path=path,
            query=scope["query_string"],
            headers=list(scope["headers"]),
            body=b"".join(body),
            status=status,
            response=b"".join(response),
            duration=time.time() - started,
            session=exchange.session,
            operation=exchange.operation,
            user_id=exchange.user_id,
            rule=exchange.rule,
            code=exchange.code,
            explanation=exchange.explanation,
            fault=exchange.fault,
        )
        try:
            await self.journal.record(entry)
        except StoreUnavailableError as error:  # the answer has gone: say so in the log
            logger.warning("request %s not journaled: %s", entry.id, error)

    async def _session(self, scope: Scope, exchange: Exchange) -> ApiError | None:
        """Put the session the request names on its exchange, or the refusal to answer."""
        for name, value in scope["headers"]:
            if name == _SESSION:
                session = value.decode("latin-1")
                exchange.session = session
                try:
                    known = await self.store.has_session(session)
                except StoreUnavailableError as error:
                    return _noted(exchange, error.refusal())
                return None if known else _noted(exchange, UnknownSessionError(session))
        return None


def _noted(exchange: Exchange, refusal: ApiError) -> ApiError:
    exchange.code = int(refusal.code)
    exchange.explanation = refusal.explain()
    return refusal


async def _refuse(send: Send, refusal: ApiError) -> None:
    body = json.dumps(refusal.envelope()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    headers += [
        (name.lower().encode(), value.encode()) for name, value in refusal.headers().items()
    ]
    await send({"type": "http.response.start", "status": refusal.status(), "headers": headers})
    await send({"type": "http.response.body", "body": body})

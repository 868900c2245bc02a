"""The outermost middleware: gives each request its exchange and id, puts the session
``X-Capmock-Session`` names on it, and journals requests to the Capillary API once they
are answered.

Every answer carries ``X-Capmock-Request-Id``. The session is checked where it is used:
every store call that serves a session's state refuses one it does not have
(``UnknownSessionError``, 400 with code 9130), so a request naming an unknown session is
never served from the default world, and one that routing refuses keeps its 404 or 405.
Admin calls and the Swagger UI pages are not journaled.
"""

from __future__ import annotations

import logging
import re
import time

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
OPERATIONS = (
    (re.compile(r"/v2/customers/([0-9]{1,19})/negativePointsAdjustment"), "deductPoints"),
    (re.compile(r"/v3/oauth/token/generate()"), "generateToken"),
)
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

        for name, value in scope["headers"]:
            if name == _SESSION:  # checked by the store on first use: unknown is 9130
                exchange.session = value.decode("latin-1")
                break
        if self.journal is None or UNJOURNALED.fullmatch(path):
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

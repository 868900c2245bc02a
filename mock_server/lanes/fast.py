"""A fast lane for the one hot request: a well-formed, authorised deduction.

Connexion's per-request machinery (routing, security, validation and response
middlewares) costs many times the work of a deduction. This ASGI wrapper answers a
request itself only when it can show, with the contract's own schemas and the same
authenticator, that Connexion would have handed it to the same handler. Anything else
(another route, an odd header or query, bad credentials, a body the contract refuses)
goes to Connexion untouched, the body replayed, so every shape and auth error still
comes from one place. Refusals by the rules are rendered like the app renders them.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from typing import Any

import jsonschema_rs
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server import contract
from mock_server.auth import require_points
from mock_server.errors import ApiError, Code
from mock_server.instrument.context import current, note
from mock_server.lanes.body import read_body, replay
from mock_server.lanes.render import respond
from mock_server.lanes.validation import body_schema, parse_json, schema_view, validators
from mock_server.model import Principal
from mock_server.operations.api import CapillaryApi
from mock_server.stores.base import StoreUnavailableError

logger = logging.getLogger("capmock")

OPERATION = "/v2/customers/{userId}/negativePointsAdjustment"
JSON_TYPES = {b"application/json", b"application/json; charset=utf-8"}


class FastLane:
    """Serves valid ``deductPoints`` calls directly; passes everything else to ``app``."""

    def __init__(self, app: ASGIApp, api: CapillaryApi) -> None:
        self.app = app
        self.api = api
        document = contract.document()
        self._path = re.compile(re.escape(OPERATION).replace(r"\{userId\}", "([0-9]{1,19})"))
        self._query = re.compile(rb"source=([A-Z_]{1,32})")
        self._sources = {source.encode(): source for source in contract.sources()}
        operation = document["paths"][OPERATION]["post"]
        (user_id,) = (p for p in operation["parameters"] if p["name"] == "userId")
        components = {"components": document["components"]}
        self._user_id = jsonschema_rs.Draft4Validator({**user_id["schema"], **components})
        self._body, _ = validators(body_schema(OPERATION, "post"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        match = self._path.fullmatch(scope["path"])
        query = self._query.fullmatch(scope["query_string"])
        if match is None or query is None or query[1] not in self._sources:
            return await self.app(scope, receive, send)
        user_id = int(match[1])
        principal = await self._principal(scope)
        if principal is None or not self._user_id.is_valid(user_id):
            return await self.app(scope, receive, send)

        try:
            raw = await read_body(receive, scope)
        except ApiError as incomplete:  # the client went away: uvicorn drops the answer
            return await self._refuse(scope, send, incomplete)
        body = self._valid_body(raw)
        if body is None:
            return await self.app(scope, replay(raw, receive), send)

        try:
            status, answer = await self.api.deduct(user_id, self._sources[query[1]], body, scope)
        except StoreUnavailableError as error:
            return await self._refuse(scope, send, error.refusal())
        except ApiError as refusal:
            return await self._refuse(scope, send, refusal)
        except Exception as error:  # after the store was touched: never replay
            logger.exception("unexpected error in the fast lane")
            return await self._refuse(
                scope, send, ApiError.of(Code.INTERNAL_ERROR, detail=type(error).__name__)
            )
        await respond(send, status, answer)

    async def _refuse(self, scope: Scope, send: Send, refusal: ApiError) -> None:
        """A refusal as the app renders it, with the status the fixtures give its code."""
        note(scope, refusal)
        status = refusal.status(self.api.runtime.store.last_world.error_status)
        await respond(send, status, refusal.envelope(), refusal.headers())

    async def _principal(self, scope: Scope) -> Principal | None:
        """The caller, when its credentials pass as Connexion would check them."""
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name, value)  # the first of repeated headers, as Connexion reads
        if headers.get(b"content-type", b"application/json") not in JSON_TYPES:
            return None
        authorization = headers.get(b"authorization", b"")
        token = headers.get(b"x-cap-api-oauth-token")
        auth = self.api.runtime.auth
        exchange = current(scope)
        session = exchange.session if exchange else None
        try:
            if authorization[:6].lower() == b"basic ":
                # decoded as Connexion decodes it, so both lanes see the same name
                username, password = (
                    base64.b64decode(authorization[6:]).decode("latin1").split(":", 1)
                )
                return require_points(await auth.basic(username, password, session))
            if token is not None and not authorization:
                return require_points(await auth.token(token.decode(), session))
        except (ApiError, binascii.Error, UnicodeDecodeError, ValueError):
            return None
        return None

    def _valid_body(self, raw: bytes) -> dict[str, Any] | None:
        try:
            body = parse_json(raw)
        except ApiError:
            return None
        return body if isinstance(body, dict) and self._body.is_valid(schema_view(body)) else None

"""generateToken: an OAuth client's key and secret for a signed, expiring token."""

from __future__ import annotations

from typing import Any

from starlette.types import Scope

from mock_server.errors import ApiError
from mock_server.instrument.context import current, note
from mock_server.runtime import Runtime
from mock_server.stores.base import UnknownSessionError


class Issued:
    """A token was issued: what the journal says of it."""

    def __init__(self, key: str, ttl: int) -> None:
        self.key, self.ttl = key, ttl

    def explain(self) -> str:
        return f"success: a token for OAuth client {self.key!r}, valid {self.ttl} s"


async def generate(
    runtime: Runtime, body: dict[str, Any], scope: Scope
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The token answer, or the 401 in the token endpoint's own envelope."""
    exchange = current(scope)
    session = exchange.session if exchange else None
    try:
        token, ttl = await runtime.auth.issue_token(body["key"], body["secret"], session)
    except UnknownSessionError:
        raise  # 9140 in the API's envelope, not a refused client
    except ApiError as error:
        note(scope, error)
        return {"data": None, "errors": error.envelope()["errors"]}, 401, error.challenge(401)
    note(scope, Issued(body["key"], ttl))
    return {"data": {"accessToken": token, "ttlSeconds": ttl}, "errors": None}, 200, {}

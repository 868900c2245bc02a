"""generateToken: an OAuth client's key and secret for a signed, expiring token."""

from __future__ import annotations

from typing import Any

from mock_server.errors import ApiError
from mock_server.runtime import Runtime


async def generate(
    runtime: Runtime, body: dict[str, Any]
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The token answer, or the 401 in the token endpoint's own envelope."""
    try:
        token, ttl = await runtime.auth.issue_token(body["key"], body["secret"])
    except ApiError as error:
        return {"data": None, "errors": error.envelope()["errors"]}, 401, error.challenge(401)
    return {"data": {"accessToken": token, "ttlSeconds": ttl}, "errors": None}, 200, {}

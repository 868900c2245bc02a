"""The admin token: demanded in ``X-CAPMOCK-ADMIN-TOKEN`` when the mock has one."""

from __future__ import annotations

import hmac

from mock_server.errors import ApiError, Code

ADMIN_HEADER = "X-CAPMOCK-ADMIN-TOKEN"


def authorize(expected: str | None, given: str | None) -> None:
    """Raise 9117 unless no token is set or ``given`` is it (compared in constant time)."""
    if expected is None:
        return
    if not hmac.compare_digest(expected.encode(), (given or "").encode("utf-8", "replace")):
        raise ApiError.of(Code.ADMIN_TOKEN_REQUIRED)

"""The admin token: demanded in ``X-CAPMOCK-ADMIN-TOKEN`` when the mock has one."""

from __future__ import annotations

import hmac

from mock_server.errors import ApiError, Code

ADMIN_HEADER = "X-CAPMOCK-ADMIN-TOKEN"


def authorize(expected: str | None, given: str | None, *, always: bool = False) -> None:
    """Raise 9117 unless ``given`` is the token (compared in constant time) or no token
    is set; with ``always`` (secrets), a mock without a token refuses too."""
    if expected is None:
        if always:
            raise ApiError.of(Code.ADMIN_TOKEN_REQUIRED)
        return
    if not hmac.compare_digest(expected.encode(), (given or "").encode("utf-8", "replace")):
        raise ApiError.of(Code.ADMIN_TOKEN_REQUIRED)

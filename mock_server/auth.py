"""Who may call the API: Capillary-style Basic auth and short-lived OAuth tokens.

Basic auth carries ``username:md5hex(password)``, as Capillary's clients send it.
OAuth tokens are signed JWTs, so that every worker sharing a secret accepts the
tokens any of them issued. A token is signed with a key derived from that secret and
from its client's own secret, so that new fixtures that change a client's secret (or
remove the client) make its earlier tokens invalid.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import lru_cache

import jwt

from mock_server.errors import ApiError, Code, RuleError
from mock_server.model import Principal, World

POINTS_GROUP = "points"
HINT_HEADER = "X-Capmock-Hint"
CLEAR_PASSWORD_HINT = "the password must be sent as md5hex(password)"
CREDENTIALS_ROW = 1
"""The rows of the rules table (docs/rules.md) that authentication answers with."""
ACCESS_ROW = 2


@lru_cache(maxsize=4096)
def md5hex(password: str) -> str:
    """What a Capillary client sends in place of its password (cached: it is asked for
    on every Basic-auth request)."""
    return hashlib.md5(password.encode("utf-8")).hexdigest()


def refused(reason: str, code: Code = Code.AUTHENTICATION_FAILED) -> RuleError:
    """A refusal of the credentials (row 1 of the rules table), and why."""
    return RuleError(CREDENTIALS_ROW, code, reason)


class ClearPasswordError(RuleError):
    """Capillary's 9113 for a Basic password that is a user's clear password rather than
    its MD5: the most common mistake, so the mock names it (``HINT_HEADER``, a log line)."""

    def __init__(self, username: str) -> None:
        super().__init__(
            CREDENTIALS_ROW,
            Code.AUTHENTICATION_FAILED,
            f"the password sent for user {username!r} is its clear password; Basic auth "
            "sends md5hex(password)",
        )
        self.username = username

    def headers(self) -> dict[str, str]:
        return {**super().headers(), HINT_HEADER: CLEAR_PASSWORD_HINT}


class Authenticator:
    """Checks credentials against the current world's users and OAuth clients."""

    def __init__(
        self,
        world: Callable[[str | None], Awaitable[World]],
        secret: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._world = world
        self._secret = secret
        self._clock = clock

    async def basic(
        self, username: str, password_md5: str, session: str | None = None
    ) -> Principal:
        """The user, when the password sent is the MD5 of theirs (in the session's world)."""
        user = (await self._world(session)).users.get(username)
        expected = md5hex(user.secret) if user else ""
        if user is None or not _same(expected, password_md5.lower()):
            if user is not None and _same(user.secret, password_md5):
                raise ClearPasswordError(username)
            if user is None:
                raise refused(f"no user {username!r} in the fixtures")
            raise refused(f"the password sent for user {username!r} is not md5hex of theirs")
        return user

    async def issue_token(
        self, key: str, secret: str, session: str | None = None
    ) -> tuple[str, int]:
        """A token for an OAuth client, and its lifetime in seconds."""
        world = await self._world(session)
        client = world.oauth_clients.get(key)
        if client is None or not _same(client.secret, secret):
            raise ApiError.of(Code.INVALID_CLIENT)
        ttl = world.token_ttl_seconds
        now = int(self._clock())
        claims = {"sub": key, "iat": now, "exp": now + ttl}
        return jwt.encode(claims, self._signing_key(client), algorithm="HS256"), ttl

    async def token(self, token: str, session: str | None = None) -> Principal:
        """The OAuth client whose unexpired token this is (in the session's world)."""
        try:
            subject = jwt.decode(token, options={"verify_signature": False})["sub"]
            client = (await self._world(session)).oauth_clients.get(subject)
            if client is None:
                raise refused(f"no OAuth client {subject!r} in the fixtures", Code.TOKEN_INVALID)
            claims = jwt.decode(
                token,
                self._signing_key(client),
                algorithms=["HS256"],
                # time is checked below against the mock's clock, not PyJWT's
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["sub", "exp"],
                },
            )
        except (jwt.InvalidTokenError, KeyError, TypeError):
            raise refused(
                "the OAuth token is not one this mock signed for a client of its fixtures",
                Code.TOKEN_INVALID,
            ) from None
        expires = claims["exp"]
        if not isinstance(expires, int | float):
            raise refused("the OAuth token has no expiry time", Code.TOKEN_INVALID)
        now = self._clock()
        if now >= expires:
            raise refused(
                f"the OAuth token of {client.name!r} expired at {_when(expires)}; the mock's "
                f"clock says {_when(now)}",
                Code.TOKEN_INVALID,
            )
        return client

    def _signing_key(self, client: Principal) -> bytes:
        """The key of one client's tokens: the mock's secret bound to the client's own."""
        binding = f"{client.name}\0{client.secret}".encode()
        return hmac.new(self._secret.encode(), binding, hashlib.sha256).digest()


def claimed(authorization: bytes | None, token: bytes | None) -> tuple[str, str] | None:
    """Who the credentials of a request say the caller is, unchecked: ``("user", name)``
    for Basic auth, ``("client", key)`` for an OAuth token (its subject), else None. Read
    as the lanes read them, so that both name the same caller."""
    try:
        if authorization is not None and authorization[:6].lower() == b"basic ":
            decoded = base64.b64decode(authorization[6:]).decode("latin1")
            return ("user", decoded.split(":", 1)[0]) if ":" in decoded else None
        if token is not None and not authorization:
            subject = jwt.decode(token, options={"verify_signature": False}).get("sub")
            return ("client", subject) if isinstance(subject, str) else None
    except (binascii.Error, jwt.InvalidTokenError, UnicodeDecodeError, ValueError):
        return None
    return None


def require_points(principal: Principal) -> Principal:
    """The endpoint needs the Points access group (seed, Prerequisites)."""
    if POINTS_GROUP not in principal.access_groups:
        groups = ", ".join(sorted(principal.access_groups))
        raise RuleError(
            ACCESS_ROW,
            Code.ACCESS_DENIED,
            f"{principal.name!r} is in the access groups [{groups}], not {POINTS_GROUP}",
            principal=principal.name,
        )
    return principal


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def _same(expected: str, given: str) -> bool:
    """Constant-time comparison that also takes non-ASCII input without raising."""
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", "replace"))

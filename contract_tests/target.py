"""The server under test, and the one client every contract test sends through.

The client authenticates as the profile says (Capillary Basic with the md5 of the
password, or an OAuth token it fetches), obeys the run's limits, refuses to send a
write that the run does not allow, and records each exchange so that a finding can
show it as a curl command.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from capmock.net import is_loopback_host
from contract_tests.limits import Limits
from contract_tests.profile import Credentials, Profile

ADMIN = "/__admin"
ADMIN_HEADER = "X-CAPMOCK-ADMIN-TOKEN"
TOKEN_MARGIN_SECONDS = 30.0
"""OAuth tokens are renewed this long before they expire."""


class UnsafeRequestError(Exception):
    """A request that could change the target's data, in a run that may not write."""


def md5hex(password: str) -> str:
    return hashlib.md5(password.encode("utf-8")).hexdigest()


def basic_header(username: str, password: str) -> str:
    """Capillary Basic auth: ``base64(username:md5hex(password))``."""
    token = base64.b64encode(f"{username}:{md5hex(password)}".encode()).decode()
    return f"Basic {token}"


def is_loopback(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname or "")


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and what came back."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    status: int
    response_headers: dict[str, str]
    response_body: bytes

    def curl(self) -> str:
        parts = ["curl", "-i", "-X", self.method]
        for name, value in self.headers.items():
            parts += ["-H", f"{name}: {value}"]
        if self.body is not None:
            parts += ["--data-binary", self.body.decode("utf-8", "backslashreplace")]
        parts.append(self.url)
        return " ".join(shlex.quote(part) for part in parts)

    def json(self) -> Any:
        try:
            return json.loads(self.response_body)
        except ValueError:
            return None

    def describe_response(self) -> str:
        kind = self.response_headers.get("content-type", "no content type")
        text = self.response_body.decode("utf-8", "backslashreplace")
        return f"HTTP {self.status} ({kind})\n{text[:2000]}"


@dataclass
class Target:
    """Where the tests go, with what, and what they may do there."""

    base_url: str
    profile: Profile
    limits: Limits = field(default_factory=Limits)
    writes_allowed: bool = False
    admin: bool = False
    """Whether this is our own mock on loopback, whose /__admin the run may use."""
    admin_token: str | None = field(default=None, repr=False)
    """The admin token of our own mock, when it has one."""
    timeout: float = 10.0
    _client: httpx.Client | None = field(default=None, repr=False)
    _tokens: dict[Credentials, tuple[str, float]] = field(default_factory=dict, repr=False)
    """OAuth tokens, each with the monotonic time at which to fetch a new one."""

    @property
    def loopback(self) -> bool:
        return is_loopback(self.base_url)

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(base_url=self.base_url, timeout=self.timeout)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def auth_headers(self, credentials: Credentials | None = None) -> dict[str, str]:
        """The headers that authenticate as ``credentials`` (the profile's by default)."""
        credentials = credentials or self.profile.credentials
        if credentials.kind == "basic":
            return {"Authorization": basic_header(credentials.name, credentials.secret)}
        token, renew_at = self._tokens.get(credentials, ("", 0.0))
        if time.monotonic() >= renew_at:
            token, ttl = self._fetch_token(credentials)
            renew_at = time.monotonic() + max(ttl * 0.8, ttl - TOKEN_MARGIN_SECONDS)
            self._tokens[credentials] = (token, renew_at)
        return {"X-CAP-API-OAUTH-TOKEN": token}

    def _fetch_token(self, credentials: Credentials) -> tuple[str, float]:
        """A new token and its lifetime in seconds."""
        exchange = self.send(
            "POST",
            "/v3/oauth/token/generate",
            body={"key": credentials.name, "secret": credentials.secret},
            auth=False,
            writes=False,
        )
        data = (exchange.json() or {}).get("data") or {}
        token, ttl = data.get("accessToken"), data.get("ttlSeconds")
        if exchange.status != 200 or not isinstance(token, str) or not isinstance(ttl, int):
            raise RuntimeError(
                f"the target refused the OAuth key {credentials.name}:\n{exchange.curl()}\n"
                + exchange.describe_response()
            )
        return token, float(ttl)

    def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool | Credentials = True,
        writes: bool,
    ) -> Exchange:
        """Send one request; ``writes`` says whether the contract lets it change data.

        ``body`` is sent as JSON; ``raw`` as given (with the Content-Type in ``headers``).
        """
        if writes and not self.writes_allowed:
            raise UnsafeRequestError(f"{method} {path} may change data and this run may not write")
        sent_headers: dict[str, str] = {}
        if auth:
            sent_headers.update(self.auth_headers(auth if isinstance(auth, Credentials) else None))
        content = raw
        if body is not None:
            content = encode_json(body)
            sent_headers["Content-Type"] = "application/json"
        sent_headers.update(headers or {})
        url = self.base_url.rstrip("/") + path + (f"?{urlencode(params)}" if params else "")
        self.limits.acquire()
        response = self.client.request(method, url, content=content, headers=sent_headers)
        return Exchange(
            method=method,
            url=url,
            headers=sent_headers,
            body=content,
            status=response.status_code,
            response_headers={k.lower(): v for k, v in response.headers.items()},
            response_body=response.content,
        )

    # --- our own mock only ---------------------------------------------------------

    def admin_call(self, method: str, path: str) -> Any:
        """Call the mock's admin API; never on anything but our own mock on loopback."""
        if not (self.admin and self.loopback):
            raise UnsafeRequestError(f"{ADMIN}{path} is only used on our own mock on loopback")
        headers = {ADMIN_HEADER: self.admin_token} if self.admin_token else {}
        response = self.client.request(method, ADMIN + path, headers=headers)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        if self.admin:
            self.admin_call("POST", "/reset")


def encode_json(body: Any) -> bytes:
    """JSON with Decimal amounts written as number literals exactly as given (``10.50``
    keeps its two decimal places, which a float would lose)."""
    literals: list[str] = []

    def mark(value: Any) -> Any:
        if isinstance(value, Decimal):
            literals.append(f"{value:f}")
            return f"\0decimal{len(literals) - 1}\0"
        if isinstance(value, dict):
            return {key: mark(item) for key, item in value.items()}
        if isinstance(value, list):
            return [mark(item) for item in value]
        return value

    text = json.dumps(mark(body))
    for index, literal in enumerate(literals):
        text = text.replace(f'"\\u0000decimal{index}\\u0000"', literal)
    return text.encode("utf-8")

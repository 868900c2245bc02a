"""The server under test, and the one client every contract test sends through.

The client authenticates as the profile says (Capillary Basic with the md5 of the
password, or an OAuth token it fetches), obeys the run's limits, and records each
exchange so that a finding can show it as a curl command.

It also holds the rule that keeps live runs safe, in one place (``reach``): a request
that names a customer (by its path's userId, a lookup's identifier or an allocation's
lookupParams) goes only to the profile's unknown customer or identifier, or to ids
beyond 32 bits that no customer has; to the test customer only when the run may write,
or to read it. Any other request is refused before it is sent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from capmock.net import is_loopback_host
from contract_tests.limits import Limits
from contract_tests.profile import Credentials, Profile
from contract_tests.reach import CUSTOMER_PATH, Reach, UnsafeRequestError

ADMIN = "/__admin"
ADMIN_HEADER = "X-CAPMOCK-ADMIN-TOKEN"
TOKEN_MARGIN_SECONDS = 30.0
"""OAuth tokens are renewed this long before they expire."""


class CredentialsRefusedError(Exception):
    """The target refused the profile's OAuth key at the token endpoint."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


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
        return curl_command(self.method, self.url, self.headers, self.body)

    def json(self) -> Any:
        try:
            return json.loads(self.response_body)
        except ValueError:
            return None

    def describe_response(self) -> str:
        kind = self.response_headers.get("content-type", "no content type")
        text = self.response_body.decode("utf-8", "backslashreplace")
        return f"HTTP {self.status} ({kind})\n{text[:2000]}"


def curl_command(method: str, url: str, headers: dict[str, str], body: bytes | None) -> str:
    """A command that sends exactly these bytes: a body that is not printable UTF-8 text
    goes through ``printf`` with octal escapes, so the shell never re-encodes it."""
    parts = ["curl", "-i", "-X", method]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    prefix = ""
    if body is not None:
        if _printable(body):
            parts += ["--data-binary", body.decode("utf-8")]
        else:
            prefix = f"printf '{printf_escaped(body)}' | "
            parts += ["--data-binary", "@-"]
    parts.append(url)
    return prefix + " ".join(shlex.quote(part) for part in parts)


def _printable(body: bytes) -> bool:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not text.startswith("@") and all(c.isprintable() or c in "\t\n\r" for c in text)


def printf_escaped(body: bytes) -> str:
    """``body`` as a printf format inside single quotes: printable ASCII as itself,
    every other byte (and a leading ``-``, which printf would read as an option) as an
    octal escape."""
    out = []
    for byte in body:
        if byte == ord("'"):
            out.append("'\\''")
        elif byte == ord("\\"):
            out.append("\\\\")
        elif byte == ord("%"):
            out.append("%%")
        elif 0x20 <= byte < 0x7F and not (byte == ord("-") and not out):
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03o}")
    return "".join(out)


@dataclass
class Traffic:
    """What the target answered over the whole run, for the warnings that would make a
    pass meaningless (every answer 401/403, every deduction 8015)."""

    answers: int = 0
    refused_credentials: int = 0
    deductions: int = 0
    customer_not_found: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def record(self, path: str, status: int, document: Any) -> None:
        codes = _codes(document)
        deduction = CUSTOMER_PATH.match(path) and path.endswith("/negativePointsAdjustment")
        with self._lock:
            self.answers += 1
            self.refused_credentials += status in (401, 403)
            if deduction and status not in (401, 403, 405):
                self.deductions += 1
                self.customer_not_found += codes[:1] == [8015]

    def add(self, other: Traffic) -> None:
        with self._lock:
            self.answers += other.answers
            self.refused_credentials += other.refused_credentials
            self.deductions += other.deductions
            self.customer_not_found += other.customer_not_found

    def __getstate__(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in _TRAFFIC_FIELDS}

    def __setstate__(self, state: dict[str, int]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


_TRAFFIC_FIELDS = ("answers", "refused_credentials", "deductions", "customer_not_found")


def _codes(document: Any) -> list[Any]:
    if isinstance(document, dict) and isinstance(document.get("errors"), list):
        return [e.get("code") for e in document["errors"] if isinstance(e, dict)]
    return []


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
    traffic: Traffic = field(default_factory=Traffic)
    _client: httpx.Client | None = field(default=None, repr=False)
    _tokens: dict[Credentials, tuple[str, float]] = field(default_factory=dict, repr=False)
    """OAuth tokens, each with the monotonic time at which to fetch a new one."""

    @property
    def mode(self) -> str:
        """What the run may do to the target, in words."""
        if self.writes_allowed:
            return "writes allowed to the test customer"
        return "read-only: nothing is sent that could take a point"

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
        )
        document = exchange.json()
        data = (document.get("data") if isinstance(document, dict) else None) or {}
        token, ttl = data.get("accessToken"), data.get("ttlSeconds")
        if exchange.status != 200 or not isinstance(token, str) or not isinstance(ttl, int):
            errors = document.get("errors") if isinstance(document, dict) else None
            first = errors[0] if isinstance(errors, list) and errors else None
            answer = (
                f"{first.get('code')} {first.get('message')}"
                if isinstance(first, dict)
                else f"HTTP {exchange.status} from the token endpoint"
            )
            raise CredentialsRefusedError(answer)
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
    ) -> Exchange:
        """Send one request; refuse it, unsent, if it names a customer the run may not
        touch. ``body`` is sent as JSON; ``raw`` as given (the Content-Type in ``headers``).
        """
        self.check_safe(method, path, params, body if body is not None else raw)
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
        exchange = Exchange(
            method=method,
            url=url,
            headers=sent_headers,
            body=content,
            status=response.status_code,
            response_headers={k.lower(): v for k, v in response.headers.items()},
            response_body=response.content,
        )
        self.traffic.record(path, exchange.status, exchange.json())
        return exchange

    @property
    def reach(self) -> Reach:
        """Which customers this run's requests may name."""
        return Reach(self.profile, self.writes_allowed)

    def check_safe(
        self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None
    ) -> None:
        """Raise UnsafeRequestError for a request to a customer the run may not touch.

        A path segment that is not a positive 64-bit integer names no customer (the
        contract refuses it with 8013), so it is safe anywhere."""
        self.reach.check(method, path, params, body)

    # --- our own mock only ---------------------------------------------------------

    def admin_call(self, method: str, path: str, body: Any = None) -> Any:
        """Call the mock's admin API; never on anything but our own mock on loopback."""
        if not (self.admin and self.loopback):
            raise UnsafeRequestError(f"{ADMIN}{path} is only used on our own mock on loopback")
        headers = {ADMIN_HEADER: self.admin_token} if self.admin_token else {}
        response = self.client.request(method, ADMIN + path, json=body, headers=headers)
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

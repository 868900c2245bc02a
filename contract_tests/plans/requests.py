"""A request as data, and a case: one named test, the request it sends, how it judges."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contract_tests.findings import Verdict
from contract_tests.profile import Credentials
from contract_tests.target import Exchange, Target, encode_json, printf_escaped

REASON = "capmock contract test"


@dataclass(frozen=True)
class Request:
    """A request a case sends, as data, so a dry run can list it without sending it."""

    method: str
    path: str
    params: dict[str, Any] | None = None
    body: Any = None
    """Sent as JSON (``Decimal`` amounts as number literals)."""
    raw: bytes | None = None
    """Sent as given, with the Content-Type in ``headers``."""
    headers: dict[str, str] = field(default_factory=dict)
    auth: bool | Credentials = True

    def describe(self, base_url: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in (self.params or {}).items())
        auth = "no credentials" if self.auth is False else "credentials"
        if isinstance(self.auth, Credentials):
            auth = f"credentials of {self.auth.describe()}"
        extra = "".join(f", {name}: {value}" for name, value in self.headers.items())
        url = base_url.rstrip("/") + self.path + (f"?{query}" if query else "")
        return f"{self.method} {url} ({auth}{extra}) body: {self.shown_body()}"

    def shown_body(self) -> str:
        """The body as it goes on the wire: JSON text, or printf-escaped bytes when it
        is not printable UTF-8."""
        if self.body is not None:
            return encode_json(self.body).decode("utf-8")
        if self.raw is None:
            return "(none)"
        try:
            text = self.raw.decode("utf-8")
        except UnicodeDecodeError:
            return f"bytes '{printf_escaped(self.raw)}'"
        return text if len(text) <= 200 else f"{text[:60]}... ({len(self.raw)} bytes)"

    def send(self, target: Target) -> Exchange:
        return target.send(
            self.method,
            self.path,
            params=self.params,
            body=self.body,
            raw=self.raw,
            headers=self.headers,
            auth=self.auth,
        )


@dataclass(frozen=True)
class Case:
    """One named test: the request it sends and how it judges what comes back."""

    name: str
    summary: str
    request: Request
    execute: Callable[[Target, Request], Verdict]
    needs_writes: bool = False
    """Only runs where the run may write (it must name the test customer)."""
    code: int | None = None
    """The documented error code the case is for."""
    guarded: bool = False
    """Sent between two balance probes, which show whether a refusal moved the balance."""

    def run(self, target: Target) -> Verdict:
        return self.execute(target, self.request)

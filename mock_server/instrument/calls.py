"""Which Capillary operation a request calls, read from its method, path and query as
the contract names them, before any lane has looked at it: what faults, latency and
rate limits act on. Admin calls, the Swagger UI and unknown paths are no operation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_plus

from starlette.types import Scope

from mock_server import contract

_SOURCE = re.compile(rb"(?:^|&)source=([^&]*)")
_USER_ID = re.compile(r"[0-9]{1,19}")

Found = tuple[str, "re.Match[str]"]
"""An operationId, and the match of its path."""


@dataclass(frozen=True, slots=True)
class Call:
    """One request to a Capillary operation, as far as its path and query say."""

    operation: str
    """The contract's operationId, e.g. ``deductPoints``."""
    user_id: int | None
    """The ``userId`` of the path, when it has one and it is a number."""
    source: str | None
    """The ``source`` query parameter as sent, if any."""


class Operations:
    """The contract's operations, matched by method and path."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], str]] = []
        for template, item in contract.document()["paths"].items():
            pattern = re.compile(re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template)))
            for method, operation in item.items():
                if isinstance(operation, dict) and "operationId" in operation:
                    self._routes.append((method.upper(), pattern, operation["operationId"]))

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(operation for _, _, operation in self._routes)

    def find(self, scope: Scope) -> Found | None:
        """The operation an HTTP request calls, or None when it calls none."""
        method, path = scope["method"], scope["path"]
        for wanted, pattern, operation in self._routes:
            if method == wanted:
                found = pattern.fullmatch(path)
                if found is not None:
                    return operation, found
        return None

    @staticmethod
    def call(scope: Scope, found: Found) -> Call:
        """The call, read from the request ``find`` found an operation for."""
        operation, match = found
        user = match.groupdict().get("userId")
        source = _SOURCE.search(scope["query_string"])
        shown = source[1].decode("latin-1") if source else None
        if shown is not None and ("%" in shown or "+" in shown):
            shown = unquote_plus(shown)
        return Call(
            operation, int(user) if user is not None and _USER_ID.fullmatch(user) else None, shown
        )

"""How much one client may ask of the mock: the sizes of a request's head and body, how
long its parts may take, and how many connections are served at once.

One definition, shared by ``capmock serve`` (its options and their defaults), the app
(bodies, ``body.py``) and the server's protocol (heads and connections,
``connections.py``). Workers read them from ``CAPMOCK_LIMITS``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

LIMITS_ENV = "CAPMOCK_LIMITS"
FIXTURES_PATH = "/__admin/fixtures"
"""The one request whose body may be bigger: a fixture document (``max_fixture_bytes``)."""

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 64 * KIB
    """The largest request body (the contract's largest valid body is well under 1 KiB)."""
    max_fixture_bytes: int = 16 * MIB
    """The largest fixture document sent to ``PUT /__admin/fixtures`` (about 90,000
    customers written as the benchmarks write them)."""
    max_header_bytes: int = 16 * KIB
    """The largest request line plus headers."""
    keep_alive_seconds: float = 5.0
    """How long a connection may sit idle after an answer before it is closed."""
    request_timeout_seconds: float = 10.0
    """How long a request's line and headers, and then its body, may take to arrive
    (counted from the connection or the previous answer)."""
    max_connections: int = 1000
    """Connections served at once, per worker. Past it the idlest connection (no request
    in progress) is closed to make room; if none is idle, the new one is answered 503."""

    def to_environ(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_environ(cls) -> Limits:
        text = os.environ.get(LIMITS_ENV)
        return cls(**json.loads(text)) if text else cls()

    def body_limit(self, method: str, path: str) -> int:
        if (method, path) == ("PUT", FIXTURES_PATH):
            return self.max_fixture_bytes
        return self.max_body_bytes


def parse_size(text: str) -> int:
    """Bytes from ``65536``, ``64KiB``, ``16MiB`` (also ``k``/``KB``/``M``/``MB``, all
    powers of 1024)."""
    units = {"": 1, "K": KIB, "KB": KIB, "KIB": KIB, "M": MIB, "MB": MIB, "MIB": MIB}
    number = text.strip().upper()
    digits = number.rstrip("KMIB")
    unit = number[len(digits) :]
    if not digits.strip().isdigit() or unit not in units or int(digits) == 0:
        raise ValueError(f"{text!r} is not a size (examples: 65536, 64KiB, 16MiB)")
    return int(digits) * units[unit]

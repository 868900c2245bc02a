"""Bounds on the load a run puts on the target: a request rate and a request budget.

One ``Limits`` object is shared by everything that sends: the contract tests' own
client and Schemathesis (through its global ``before_call`` hook), so that
``--rate-limit`` and ``--max-requests`` hold for the run as a whole.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from mock_server.instrument import grammar


class BudgetExhaustedError(Exception):
    """The run has sent ``--max-requests`` requests; nothing more is sent."""


@dataclass
class Limits:
    rate: float | None = None
    """Requests per second at most; None for no bound."""
    max_requests: int | None = None
    sent: int = 0
    _next_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def acquire(self) -> None:
        """Wait for the rate limit and count one request; raise when the budget is spent."""
        with self._lock:
            if self.max_requests is not None and self.sent >= self.max_requests:
                raise BudgetExhaustedError(f"--max-requests {self.max_requests} reached")
            self.sent += 1
            wait = 0.0
            if self.rate:
                now = time.monotonic()
                wait = max(0.0, self._next_at - now)
                self._next_at = max(now, self._next_at) + 1.0 / self.rate
        if wait:
            time.sleep(wait)

    @property
    def exhausted(self) -> bool:
        return self.max_requests is not None and self.sent >= self.max_requests


def parse_rate(text: str) -> float:
    """``"10/s"``, ``"600/m"``, ``"100/min"`` or a bare number of requests per second: the
    grammar of ``capmock serve --rate-limit`` (ValueError naming the problem)."""
    document = grammar.parse_rate(text)
    return float(document["requests"] / document["seconds"])

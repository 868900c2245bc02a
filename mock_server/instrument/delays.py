"""How long to wait before answering: a fixed time, a uniform range, or a log-normal
distribution given by its median, as ``capmock serve --latency`` and the ``delay``
action of a fault describe it (the ``Delay`` schema of ``openapi/admin.yaml``)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Protocol

MAX_MS = 60_000
"""The longest wait, in milliseconds; log-normal draws beyond it are cut to it."""


class Delay(Protocol):
    def seconds(self, rng: random.Random) -> float:
        """One wait, drawn from ``rng``."""

    def document(self) -> dict[str, Any]:
        """The ``Delay`` document this was read from."""

    def describe(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Fixed:
    ms: float

    def seconds(self, rng: random.Random) -> float:
        return self.ms / 1000

    def document(self) -> dict[str, Any]:
        return {"ms": self.ms}

    def describe(self) -> str:
        return f"{_ms(self.ms)}ms"


@dataclass(frozen=True, slots=True)
class Uniform:
    low: float
    high: float

    def seconds(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high) / 1000

    def document(self) -> dict[str, Any]:
        return {"ms": [self.low, self.high]}

    def describe(self) -> str:
        return f"{_ms(self.low)}-{_ms(self.high)}ms, uniform"


@dataclass(frozen=True, slots=True)
class LogNormal:
    median: float
    sigma: float

    def seconds(self, rng: random.Random) -> float:
        if self.median <= 0:
            return 0.0
        drawn = rng.lognormvariate(math.log(self.median), self.sigma)
        return min(drawn, MAX_MS) / 1000

    def document(self) -> dict[str, Any]:
        return {"median": self.median, "sigma": self.sigma}

    def describe(self) -> str:
        return f"log-normal, median {_ms(self.median)}ms, sigma {self.sigma:g}"


def delay_from(document: dict[str, Any]) -> Delay:
    """The delay a ``Delay`` document (already checked against its schema) describes.
    A range may be given in either order."""
    if "median" in document:
        return LogNormal(document["median"], document["sigma"])
    ms = document["ms"]
    if isinstance(ms, list):
        low, high = sorted(ms)
        return Fixed(low) if low == high else Uniform(low, high)
    return Fixed(ms)


def _ms(value: float) -> str:
    return f"{value:g}"

"""What ``capmock serve``'s command line says about failures (``--fault``,
``--latency``, ``--rate-limit``, ``--seed``), put in the store once, before any worker
serves: it replaces what the store held, so that a restart without an option drops it."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from mock_server.instrument.delays import delay_from
from mock_server.instrument.faults import stored
from mock_server.instrument.ratelimit import RateLimit
from mock_server.instrument.settings import LATENCY, RATE_LIMIT, SEED
from mock_server.stores.base import Store

SEED_BOUND = 2**31


@dataclass(frozen=True)
class FailureOptions:
    """Checked documents, as the admin API takes them."""

    latency: dict[str, Any] | None = None
    rate_limit: dict[str, Any] | None = None
    faults: list[dict[str, Any]] = field(default_factory=list)
    seed: int | None = None
    drawn: int = field(default_factory=lambda: secrets.randbelow(SEED_BOUND))
    """The seed used when none is given."""

    @property
    def effective_seed(self) -> int:
        return self.drawn if self.seed is None else self.seed

    def install(self, store: Store) -> None:
        """Replace the store's faults and settings with these (StoreError if it cannot)."""
        now = time.time()
        store.failures.install(
            [stored(fault, now) for fault in self.faults],
            {
                SEED: str(self.effective_seed),
                LATENCY: None if self.latency is None else json.dumps(self.latency),
                RATE_LIMIT: None if self.rate_limit is None else json.dumps(self.rate_limit),
            },
        )

    def lines(self) -> list[str]:
        """What ``capmock serve`` prints about them at start."""
        lines = []
        if self.latency is not None:
            lines.append(f"Latency    {delay_from(self.latency).describe()}, every Capillary call")
        if self.rate_limit is not None:
            lines.append(f"Rate limit {RateLimit.from_document(self.rate_limit).describe()}")
        if self.faults or self.seed is not None:
            seed = self.effective_seed
            lines.append(
                f"Faults     {len(self.faults)} (GET /__admin/faults lists them); seed {seed}"
                + ("" if self.seed is not None else f": --seed {seed} draws the same failures")
            )
        return lines

"""The failure settings in force: faults, latency, rate limit and seed, as the store
holds them, kept by each process until their version changes (one cheap read of the
store per request; the whole state only when it changed).

While the store cannot be read, the last settings read stay in force, so that a
request is never refused because of the failure instruments themselves.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from mock_server.instrument.delays import Delay, delay_from
from mock_server.instrument.faults import Fault
from mock_server.instrument.ratelimit import RateLimit
from mock_server.stores.base import StoreUnavailableError
from mock_server.stores.failures.base import FailureState, FailureStore

logger = logging.getLogger("capmock")

SEED = "seed"
LATENCY = "latency"
RATE_LIMIT = "rateLimit"


@dataclass(frozen=True, slots=True)
class Settings:
    version: str | None = None
    faults: tuple[Fault, ...] = ()
    latency: Delay | None = None
    rate_limit: RateLimit | None = None
    seed: int = 0

    @property
    def idle(self) -> bool:
        return not self.faults and self.latency is None and self.rate_limit is None


def settings_from(state: FailureState) -> Settings:
    """The settings a store's state describes; a fault it cannot read is left out (and
    logged), so that one bad record does not stop the others."""
    faults = []
    for fault_id, text in state.faults:
        try:
            faults.append(Fault.from_record(fault_id, text))
        except (KeyError, TypeError, ValueError) as error:
            logger.warning("fault %s in the store cannot be read, ignored: %r", fault_id, error)
    latency = state.settings.get(LATENCY)
    limit = state.settings.get(RATE_LIMIT)
    return Settings(
        version=state.version,
        faults=tuple(faults),
        latency=None if latency is None else delay_from(json.loads(latency)),
        rate_limit=None if limit is None else RateLimit.from_document(json.loads(limit)),
        seed=int(state.settings.get(SEED, 0)),
    )


class SettingsCache:
    def __init__(self, failures: FailureStore) -> None:
        self._failures = failures
        self._settings = Settings()
        self._loaded = False
        self._failing = False

    async def current(self) -> Settings:
        try:
            version = await self._failures.version()
            if not self._loaded or version != self._settings.version:
                self._settings = settings_from(await self._failures.load())
                self._loaded = True
        except StoreUnavailableError as error:
            if not self._failing:
                logger.warning("the failure settings cannot be read; the last ones stay: %s", error)
            self._failing = True
        else:
            self._failing = False
        return self._settings

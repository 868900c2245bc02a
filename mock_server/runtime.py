"""What the handlers of one running mock share: its store, its authenticator, its clock,
its journal."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import anyio

from mock_server.auth import Authenticator
from mock_server.instrument.journal import Journal
from mock_server.stores.base import MAX_SESSIONS, Store


@dataclass
class Runtime:
    store: Store
    auth: Authenticator
    admin_token: str | None = None
    clock: Callable[[], float] = field(default=time.time)
    journal: Journal | None = None
    """None when the journal is off (``--journal-size 0``)."""
    max_sessions: int = MAX_SESSIONS
    _fixture_reader: anyio.CapacityLimiter | None = field(default=None, repr=False)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def fixture_reader(self) -> anyio.CapacityLimiter:
        """The worker threads that read fixture documents: one at a time (made on first
        use, in the server's event loop)."""
        if self._fixture_reader is None:
            self._fixture_reader = anyio.CapacityLimiter(1)
        return self._fixture_reader

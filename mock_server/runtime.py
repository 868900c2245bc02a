"""What the handlers of one running mock share: its store, its authenticator, its clock,
its journal."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

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

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

"""What the handlers of one running mock share: its store, its authenticator, its clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mock_server.auth import Authenticator
from mock_server.stores.base import Store


@dataclass
class Runtime:
    store: Store
    auth: Authenticator
    admin_token: str | None = None
    clock: Callable[[], float] = field(default=time.time)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

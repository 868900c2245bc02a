"""The interface of the failure state every store keeps (memory, SQLite, Redis).

The store knows no fault semantics: a fault is an id and a JSON document, a setting a
name and a text. It only makes the steps that must be exact atomic across workers and
replicas: counting a fault's matches (and ending it after ``times``), and counting a
key's requests in its rate-limit window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

FAULT_ID = "f{}"
"""Faults are numbered from 1 by the store that keeps them: ``f1``, ``f2``..."""


@dataclass(frozen=True, slots=True)
class FailureState:
    """Everything but the counters, as one consistent read."""

    version: str | None
    """Changes whenever a fault or a setting does (None: nothing was ever stored)."""
    faults: tuple[tuple[str, str], ...] = ()
    """(id, document), oldest first."""
    settings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Window:
    """A key's rate-limit window: opened by its first request, ``count`` requests so far."""

    start_ms: int
    count: int


class FailureStore(Protocol):
    async def version(self) -> str | None:
        """The version of the faults and settings: one cheap read, asked per request."""

    async def load(self) -> FailureState: ...

    async def add(self, document: str) -> str:
        """Keep a new fault; its id."""

    async def remove(self, fault_ids: Sequence[str] | None = None) -> list[str]:
        """Remove these faults (None: every one); the ids that were there."""

    async def count(self, fault_id: str, times: int | None) -> int | None:
        """Count one more request matching the fault, atomically: the how-manieth it is,
        or None when the fault is gone. The fault is removed with its ``times``-th."""

    async def matched(self) -> dict[str, int]:
        """Requests each fault has matched so far."""

    async def configure(self, name: str, value: str | None) -> None:
        """Set a setting (None removes it)."""

    async def take(self, key: str, now_ms: int, period_ms: int) -> Window:
        """Count one request of ``key`` in its window, atomically: a window opens with a
        request that comes ``period_ms`` or more after the current one opened."""

    async def forget_windows(self) -> None:
        """Close every key's window: the next request of each opens a new one."""

    def install(self, faults: Sequence[str], settings: Mapping[str, str | None]) -> None:
        """At start, before serving: replace every fault (numbered from 1 again), set the
        settings and forget the rate-limit windows. Blocking; writes nothing when the store
        already holds exactly that."""

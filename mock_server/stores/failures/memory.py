"""Failure state in the process: for the memory store, which has one process."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mock_server.stores.failures.base import FAULT_ID, FailureState, Window


class MemoryFailures:
    """Nothing awaits between a read and its write, so every step is atomic."""

    def __init__(self) -> None:
        self._version = 0
        self._shown = "0"
        self._next = 0
        self._faults: dict[str, str] = {}
        self._matched: dict[str, int] = {}
        self._settings: dict[str, str] = {}
        self._windows: dict[str, Window] = {}

    def _changed(self) -> None:
        self._version += 1
        self._shown = str(self._version)

    async def version(self) -> str | None:
        return self._shown

    async def load(self) -> FailureState:
        return FailureState(self._shown, tuple(self._faults.items()), dict(self._settings))

    async def add(self, document: str) -> str:
        self._next += 1
        fault_id = FAULT_ID.format(self._next)
        self._faults[fault_id] = document
        self._changed()
        return fault_id

    async def remove(self, fault_ids: Sequence[str] | None = None) -> list[str]:
        wanted = list(self._faults) if fault_ids is None else fault_ids
        removed = [fault_id for fault_id in wanted if self._faults.pop(fault_id, None)]
        for fault_id in removed:
            self._matched.pop(fault_id, None)
        if removed:
            self._changed()
        return removed

    async def count(self, fault_id: str, times: int | None) -> int | None:
        if fault_id not in self._faults:
            return None
        seen = self._matched[fault_id] = self._matched.get(fault_id, 0) + 1
        if times is not None and seen >= times:
            await self.remove([fault_id])
        return seen

    async def matched(self) -> dict[str, int]:
        return dict(self._matched)

    async def configure(self, name: str, value: str | None) -> None:
        if value is None:
            self._settings.pop(name, None)
        else:
            self._settings[name] = value
        self._changed()

    async def take(self, key: str, now_ms: int, period_ms: int) -> Window:
        window = self._windows.get(key)
        if window is None or now_ms >= window.start_ms + period_ms:
            window = Window(now_ms, 1)
        else:
            window = Window(window.start_ms, window.count + 1)
        self._windows[key] = window
        return window

    async def forget_windows(self) -> None:
        self._windows = {}

    def install(self, faults: Sequence[str], settings: Mapping[str, str | None]) -> None:
        self._windows = {}
        self._next = 0
        self._faults, self._matched = {}, {}
        for document in faults:
            self._next += 1
            self._faults[FAULT_ID.format(self._next)] = document
        self._settings = {name: value for name, value in settings.items() if value is not None}
        self._changed()

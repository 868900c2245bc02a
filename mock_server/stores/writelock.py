"""The queue in front of a SQLite file's write lock, shared by the processes writing it.

SQLite makes a writer that finds the write lock taken sleep and try again, longer each
time (1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms): while one worker sleeps, another
takes the lock again and again, and the sleeper's requests wait tens of milliseconds
behind. So each write transaction first takes an ``flock`` on a file beside the database
(``state.db-lock``, like SQLite's own ``-wal`` and ``-shm``): a process waiting for it
sleeps in the kernel and wakes the moment the holder lets go. The kernel drops the lock
of a process that dies. SQLite's own lock, taken next, still decides who writes: this
one only decides who tries first.

A wait is bounded: when the lock stays taken past its timeout (another process stopped
while holding it), ``LockTimeoutError``. ``flock`` itself cannot time out, so a process
that must wait hands the wait to a thread of its own and waits for that thread at most
the timeout; a wait given up releases the lock as soon as it gets it.
"""

from __future__ import annotations

import fcntl
import os
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class LockTimeoutError(Exception):
    """The lock stayed taken by another process for the whole timeout."""


class _Wait:
    """One wait handed to the waiting thread: ``done`` is released when it holds the lock."""

    def __init__(self) -> None:
        self.done = threading.Lock()
        self.done.acquire()
        self.held = False
        self.given_up = False


class WriteLock:
    """An ``flock`` on ``path``, created if missing. Without a file (a read-only folder
    that has none) it does nothing: SQLite's own lock and busy timeout remain."""

    def __init__(self, path: Path) -> None:
        try:
            self._fd: int | None = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
        except OSError:
            self._fd = None
        self._guard = threading.Lock()
        self._given_up = 0
        """Waits given up that the thread has not finished: until it has, a new wait
        queues behind them rather than trying the lock, which they may hold by then."""
        self._waits: queue.SimpleQueue[_Wait | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    @contextmanager
    def held(self, timeout: float) -> Iterator[None]:
        """Hold the lock for the block; ``LockTimeoutError`` after ``timeout`` seconds."""
        if self._fd is None:
            yield
            return
        self._acquire(self._fd, timeout)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _acquire(self, fd: int, timeout: float) -> None:
        with self._guard:
            queued = self._given_up > 0
        if not queued:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
        wait = _Wait()
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._wait_each, args=(fd,), name="capmock-sqlite-lock", daemon=True
            )
            self._thread.start()
        self._waits.put(wait)
        if wait.done.acquire(timeout=timeout):
            return
        with self._guard:
            if wait.held:  # got it as the time ran out
                return
            wait.given_up = True
            self._given_up += 1
        raise LockTimeoutError

    def _wait_each(self, fd: int) -> None:
        """The waiting thread: take the lock for each wait in turn."""
        while (wait := self._waits.get()) is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with self._guard:
                if wait.given_up:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    self._given_up -= 1
                    continue
                wait.held = True
            wait.done.release()
        os.close(fd)

    def close(self) -> None:
        """Close the file; the waiting thread closes it once its current wait ends."""
        fd, self._fd = self._fd, None
        if self._thread is not None:
            self._waits.put(None)
        elif fd is not None:
            os.close(fd)

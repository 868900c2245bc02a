"""Starting and stopping what the harness measures.

Each process runs in its own process group with its output in a log file, and every one
is stopped in the end, workers and children included.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.workload import HOST


class TargetError(Exception):
    """A target could not be installed, started or measured; its row says why."""


@dataclass(frozen=True)
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def exited(self) -> bool:
        return self.popen.poll() is not None

    def tail(self, lines: int = 8) -> str:
        """The end of its log, for an error message."""
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


class Processes:
    """Every process the harness starts, each in its own process group, all stopped at exit."""

    def __init__(self, logs: Path, cwd: Path) -> None:
        self.logs = logs
        self.cwd = cwd
        self.running: list[Process] = []

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Process:
        log = self.logs / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.cwd,  # python -m puts the working directory first on the path
                start_new_session=True,  # Ctrl+C reaches the harness only; it stops them
            )
        process = Process(name, popen, log)
        self.running.append(process)
        return process

    def stop(self, process: Process | None) -> None:
        if process is None:
            return
        if not process.exited():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.popen.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):  # workers left behind
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.popen.wait(timeout=5)
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.running)):
            self.stop(process)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(
    process: Process, probe: Callable[[], bool], timeout: float, interval: float
) -> float:
    """Seconds until ``probe()`` is true; TargetError if the process dies or time runs out."""
    start = time.perf_counter()
    while True:
        if process.exited():
            raise TargetError(f"exited with {process.popen.returncode}: {process.tail()}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if probe():
                return time.perf_counter() - start
        if time.perf_counter() - start > timeout:
            raise TargetError(f"not ready after {timeout:.0f} s: {process.tail()}")
        time.sleep(interval)


def tool_version(argv: list[str]) -> str | None:
    """The first line ``argv`` prints (java -version writes to stderr), or None."""
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    text = (result.stdout or result.stderr).strip()
    return text.splitlines()[0] if text else None

"""Start our own mocks for a run that names no target: ``capmock serve`` in subprocesses."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LocalMock:
    url: str
    admin_token: str
    """The mock's admin token: it shows the fixtures' credentials only to it."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def local_mocks(count: int, timeout: float = 30.0) -> Iterator[list[LocalMock]]:
    """``count`` fresh mocks on loopback (the default fixtures, one admin token), started
    side by side and stopped when the block ends.

    Each one's stderr goes to a temporary file (a pipe nobody reads would fill up and
    block the mock after a few tracebacks), shown if it fails to start.
    """
    token = secrets.token_urlsafe(16)
    env = {
        **os.environ,
        "CAPMOCK_ADMIN_TOKEN": token,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    with contextlib.ExitStack() as stack:
        started = []
        for _ in range(count):
            port = _free_port()
            command = [sys.executable, "-m", "capmock", "serve", "--port", str(port)]
            log = stack.enter_context(tempfile.TemporaryFile())
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
            stack.callback(_stop, process)
            started.append((process, log, f"http://127.0.0.1:{port}"))
        deadline = time.monotonic() + timeout
        for process, log, url in started:
            _wait_until_healthy(process, log, url, deadline)
        yield [LocalMock(url, token) for _, _, url in started]


@contextmanager
def local_mock(timeout: float = 30.0) -> Iterator[LocalMock]:
    """A fresh mock on loopback, stopped when the block ends."""
    with local_mocks(1, timeout) as mocks:
        yield mocks[0]


def _wait_until_healthy(
    process: subprocess.Popen[bytes], log: IO[bytes], url: str, deadline: float
) -> None:
    while True:
        if process.poll() is not None:
            log.seek(0)
            error = log.read().decode(errors="replace")
            raise RuntimeError(f"capmock serve exited with {process.returncode}: {error}")
        try:
            httpx.get(f"{url}/__admin/health", timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"capmock serve did not answer on {url}") from None
            time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)

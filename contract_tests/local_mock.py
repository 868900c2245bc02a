"""Start our own mock for a run that names no target: ``capmock serve`` in a subprocess."""

from __future__ import annotations

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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class LocalMock:
    url: str
    admin_token: str
    """The mock's admin token: it shows the fixtures' credentials only to it."""


@contextmanager
def local_mock(fixtures: Path | None = None, timeout: float = 30.0) -> Iterator[LocalMock]:
    """A fresh mock on loopback, stopped when the block ends.

    Its stderr goes to a temporary file (a pipe nobody reads would fill up and block
    the mock after a few tracebacks), shown if it fails to start.
    """
    port = _free_port()
    command = [sys.executable, "-m", "capmock", "serve", "--port", str(port)]
    if fixtures is not None:
        command += ["--fixtures", str(fixtures)]
    token = secrets.token_urlsafe(16)
    env = {
        **os.environ,
        "CAPMOCK_ADMIN_TOKEN": token,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            yield LocalMock(_wait_until_up(process, port, log, timeout), token)
        finally:
            process.terminate()
            process.wait(10)


def _wait_until_up(
    process: subprocess.Popen[bytes], port: int, log: IO[bytes], timeout: float
) -> str:
    """The mock's URL once it answers; its stderr in the error if it exits first."""
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            log.seek(0)
            error = log.read().decode(errors="replace")
            raise RuntimeError(f"capmock serve exited with {process.returncode}: {error}")
        try:
            httpx.get(f"{url}/__admin/health", timeout=1).raise_for_status()
            return url
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"capmock serve did not answer on {url}") from None
            time.sleep(0.1)

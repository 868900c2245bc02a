"""Start our own mocks for a run that names no target: ``capmock serve`` in subprocesses."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def local_mocks(count: int, timeout: float = 30.0) -> Iterator[list[str]]:
    """The base URLs of ``count`` fresh mocks on loopback (the default fixtures), started
    side by side and stopped when the block ends."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    with contextlib.ExitStack() as stack:
        started = []
        for _ in range(count):
            port = _free_port()
            command = [sys.executable, "-m", "capmock", "serve", "--port", str(port)]
            process = subprocess.Popen(
                command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            stack.callback(_stop, process)
            started.append((process, f"http://127.0.0.1:{port}"))
        deadline = time.monotonic() + timeout
        for process, url in started:
            _wait_until_healthy(process, url, deadline)
        yield [url for _, url in started]


@contextmanager
def local_mock(timeout: float = 30.0) -> Iterator[str]:
    """The base URL of a fresh mock on loopback, stopped when the block ends."""
    with local_mocks(1, timeout) as urls:
        yield urls[0]


def _wait_until_healthy(process: subprocess.Popen[bytes], url: str, deadline: float) -> None:
    while True:
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
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

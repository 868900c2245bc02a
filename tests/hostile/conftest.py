"""Hostile clients against real servers on real sockets.

Every scenario starts its own mock (``capmock serve`` in a subprocess, or the app in a
thread for the Connexion-only lane), keeps deducting one point from one customer while
it attacks, and checks at the end that the mock still answers and that its ledger
holds exactly the deductions it answered 200 (``witness.py``).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from support import ROOT, free_port, stop_process, wait_until
from witness import Served


def _open_files(soft: int) -> Callable[[], None]:
    def limit() -> None:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, hard), hard))

    return limit


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """Start ``capmock serve ARGS`` (its open-files soft limit set to ``open_files``
    first, as a shell's ``ulimit -n`` would); every one is stopped at the end."""
    started: list[Served] = []

    def start(*args: str, open_files: int | None = None) -> Served:
        port = free_port()
        log = tmp_path / f"serve-{port}.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("CAPMOCK_ADMIN_TOKEN", None)
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "capmock", "serve", "--port", str(port), *args],
                cwd=ROOT,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_open_files(open_files) if open_files else None,
            )
        served = Served(f"http://127.0.0.1:{port}", process, log)
        started.append(served)

        def healthy() -> bool:
            try:
                return httpx.get(f"{served.url}/__admin/health", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(healthy, "capmock serve", process)
        return served

    yield start
    for served in started:
        stop_process(served.process)

"""Hostile clients against real servers on real sockets.

Every scenario starts its own mock (``capmock serve`` in a subprocess, or the app in a
thread for the Connexion-only lane), keeps deducting one point from one customer while
it attacks, and checks at the end that the mock still answers and that its ledger
holds exactly the deductions it answered 200 (``witness.py``).
"""

from __future__ import annotations

import resource
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support import ServedMock, serve_in_subprocess, stop_process


def _open_files(soft: int) -> Callable[[], None]:
    def limit() -> None:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, hard), hard))

    return limit


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServedMock]]:
    """Start ``capmock serve ARGS`` (its open-files soft limit set to ``open_files``
    first, as a shell's ``ulimit -n`` would); every one is stopped at the end."""
    started: list[ServedMock] = []

    def start(*args: str, open_files: int | None = None) -> ServedMock:
        limit = _open_files(open_files) if open_files else None
        started.append(serve_in_subprocess(tmp_path, *args, preexec_fn=limit))
        return started[-1]

    yield start
    for served in started:
        stop_process(served.process)

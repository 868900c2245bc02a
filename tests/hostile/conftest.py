"""Hostile clients against real servers on real sockets.

Every scenario starts its own mock (``capmock serve`` in a subprocess, or the app in a
thread for the Connexion-only lane), keeps deducting one point from one customer while
it attacks, and checks at the end that the mock still answers and that its ledger
holds exactly the deductions it answered 200.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from support import ROOT, SEED_USER, basic_header, free_port, stop_process, wait_until

DEDUCT = f"/v2/customers/{SEED_USER}/negativePointsAdjustment?source=INSTORE"
AUTH = {"Authorization": basic_header("store.server", "server123")}
ONE_POINT = b'{"pointsToBeAdjusted": "1", "reasonOfReturn": "hostile test"}'


class Ledger:
    """Deductions of one point from the seed's customer, counted, then checked against
    the mock's own ledger and balance."""

    def __init__(self, url: str, admin_headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.admin_headers = admin_headers or {}
        self.answered = 0
        self.opening = self.balance()

    def view(self) -> dict:
        response = httpx.get(
            f"{self.url}/__admin/customers/{SEED_USER}", headers=self.admin_headers, timeout=30
        )
        assert response.status_code == 200, response.text
        return response.json()

    def balance(self) -> Decimal:
        (regular,) = (
            b
            for b in self.view()["balances"]
            if b["programId"] == 973 and b["kind"] == "points" and b["name"] == "REGULAR"
        )
        return Decimal(regular["balance"])

    def deduct(self, timeout: float = 30) -> httpx.Response:
        """One deduction; the mock must answer it (in the envelope when it refuses)."""
        response = httpx.post(
            self.url + DEDUCT,
            content=ONE_POINT,
            headers={**AUTH, "Content-Type": "application/json"},
            timeout=timeout,
        )
        if response.status_code == 200:
            self.answered += 1
        else:
            assert response.json()["errors"][0]["code"], response.text
        return response

    def check(self) -> None:
        """The mock still answers, and its ledger is exactly the 200s it gave."""
        assert self.deduct().status_code == 200
        assert len(self.view()["ledger"]) == self.answered
        assert self.balance() == self.opening - self.answered


class Served:
    def __init__(self, url: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.url = url
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


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


def envelope(response: httpx.Response) -> tuple[int, int, str]:
    """(status, code, message) of a refusal, which must be in the API's envelope."""
    assert response.headers["content-type"] == "application/json", response.text
    body = response.json()
    (error,) = body["errors"]
    assert error["status"] is False
    return response.status_code, error["code"], error["message"]

"""Stores that fail under a running mock: Redis killed, paused, restarted empty, out of
memory, or losing the reply to a write it made; SQLite on a full disk, on a read-only
file system, or locked by another process (SQLite's lock, or the write lock the
processes on one file queue on).

What the mock promises (docs/reliability.md): every answer is in the envelope; while
the store cannot be used a deduction gets 503 (9190, nothing deducted), and bad
credentials still get 401; when a write's outcome cannot be found out it gets 503
(9191), never 500; it recovers by itself when the store is back. Each test counts the
200 answers against the ledger and the balance.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from mounts import fill, read_only, tmpfs
from redisproc import CuttingProxy, RedisProcess
from support import (
    DEDUCT,
    SEED_USER,
    ServedMock,
    basic_header,
    start_server,
    stop_server,
    wait_until,
)

from mock_server.app import create_app
from mock_server.data import DEFAULT_FIXTURES
from mock_server.fixtures import load_fixtures
from mock_server.stores import redis as redis_store
from mock_server.stores import sqlite as sqlite_store
from mock_server.stores.open import open_store

Serve = Callable[..., ServedMock]
OPENING = Decimal(680)
RECOVERY_SECONDS = 30
"""How long a test waits for the mock to come back (it takes well under a second)."""


# --- talking to the mock --------------------------------------------------------------


def deduct(
    client: httpx.Client, *, password: str = "server123", token: str | None = None
) -> httpx.Response:
    headers = (
        {"X-CAP-API-OAUTH-TOKEN": token}
        if token is not None
        else {"Authorization": basic_header("store.server", password)}
    )
    return client.post(
        DEDUCT.format(user_id=SEED_USER),
        params={"source": "INSTORE"},
        json={"pointsToBeAdjusted": 1, "reasonOfReturn": "fault"},
        headers=headers,
    )


def token_for(client: httpx.Client) -> httpx.Response:
    return client.post(
        "/v3/oauth/token/generate", json={"key": "doc-client", "secret": "doc-secret"}
    )


def refusal(response: httpx.Response) -> tuple[int, int]:
    """The status and code of an answer that must be the API's error envelope."""
    assert response.headers["content-type"] == "application/json", response.text
    body = response.json()
    assert set(body) == {"errors", "warnings"}, body
    (error,) = body["errors"]
    assert error["status"] is False and isinstance(error["message"], str)
    return response.status_code, error["code"]


def ledger(client: httpx.Client) -> tuple[Decimal, list[dict[str, Any]]]:
    """The seed customer's REGULAR balance and ledger (admin view)."""
    customer = client.get(f"/__admin/customers/{SEED_USER}").json()
    balance = next(
        Decimal(row["balance"])
        for row in customer["balances"]
        if (row["programId"], row["name"]) == (973, "REGULAR")
    )
    return balance, customer["ledger"]


def assert_every_200_is_in_the_ledger(client: httpx.Client, answered: int) -> None:
    balance, entries = ledger(client)
    assert len(entries) == answered
    assert balance == OPENING - answered


def wait_for(what: str, ready: Callable[[], bool]) -> float:
    """Seconds until ``ready()``; fails after RECOVERY_SECONDS."""
    started = time.monotonic()
    while not ready():
        if time.monotonic() - started > RECOVERY_SECONDS:
            pytest.fail(f"{what}: not after {RECOVERY_SECONDS} s")
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    process = RedisProcess(tmp_path / "redis")
    process.workdir.mkdir()
    process.start()
    yield process
    process.stop()


@pytest.fixture
def in_thread() -> Iterator[Callable[..., httpx.Client]]:
    """Mocks served in this process on a store URL; stopped when the test ends."""
    started: list[tuple[Any, threading.Thread, httpx.Client]] = []

    def serve(url: str, *, fast_lane: bool = True) -> httpx.Client:
        store = open_store(url, load_fixtures(DEFAULT_FIXTURES))
        server, thread, base = start_server(create_app(store=store, fast_lane=fast_lane))
        client = httpx.Client(base_url=base, timeout=60)
        started.append((server, thread, client))
        return client

    yield serve
    for server, thread, client in started:
        client.close()
        stop_server(server, thread)


# --- Redis ------------------------------------------------------------------------------


def test_while_redis_is_down_every_answer_is_an_envelope_and_it_recovers_empty(
    redis_process: RedisProcess, serve: Serve
) -> None:
    served = serve("--store", redis_process.url)
    with httpx.Client(base_url=served.url, timeout=30) as client:
        assert deduct(client).status_code == 200
        token = token_for(client).json()["data"]["accessToken"]
        redis_process.kill()

        down = deduct(client)
        assert refusal(down) == (503, 9190)
        assert down.headers["retry-after"] == "1"
        assert "redis (redis://127.0.0.1:" in down.json()["errors"][0]["message"]
        assert refusal(deduct(client, password="wrong")) == (401, 9113)
        assert refusal(deduct(client, token=token)) == (503, 9190)
        assert refusal(deduct(client, token="not-a-token")) == (401, 9115)
        assert token_for(client).status_code == 200  # checked against the last fixtures
        assert refusal(client.get("/nowhere")) == (404, 9111)
        bad_body = client.post(
            DEDUCT.format(user_id=SEED_USER),
            params={"source": "INSTORE"},
            json={"reasonOfReturn": "no amount"},
            headers={"Authorization": basic_header("store.server", "server123")},
        )
        assert refusal(bad_body) == (400, 9103)
        assert refusal(client.get(f"/__admin/customers/{SEED_USER}")) == (503, 9190)
        assert refusal(client.get("/__admin/fixtures")) == (503, 9190)
        assert refusal(client.post("/__admin/reset")) == (503, 9190)
        put = client.put(
            "/__admin/fixtures",
            content=DEFAULT_FIXTURES.read_bytes(),
            headers={"Content-Type": "application/yaml"},
        )
        assert refusal(put) == (503, 9190)
        health = client.get("/__admin/health")
        assert refusal(health) == (503, 9190)
        message = health.json()["errors"][0]["message"]
        assert f"redis (redis://127.0.0.1:{redis_process.port}/0)" in message
        assert "refused" in message.lower()

        redis_process.start()  # without persistence: it comes back empty
        wait_for("a deduction after Redis came back", lambda: deduct(client).status_code == 200)
        # Redis lost the deduction made before; the fixtures were stored again.
        assert_every_200_is_in_the_ledger(client, 1)
        assert client.get("/__admin/health").json()["status"] == "ok"
    assert "stored again the fixtures" in served.output()


def test_redis_flushed_under_a_running_mock_is_seeded_again(
    redis_process: RedisProcess, in_thread: Callable[..., httpx.Client]
) -> None:
    client = in_thread(redis_process.url)
    assert [deduct(client).status_code for _ in range(3)] == [200] * 3
    with redis_process.client() as redis_client:
        redis_client.flushall()
    assert client.get("/__admin/health").json()["status"] == "ok"
    assert deduct(client).status_code == 200
    assert_every_200_is_in_the_ledger(client, 1)


def test_a_paused_redis_delays_answers_and_loses_none(
    redis_process: RedisProcess, in_thread: Callable[..., httpx.Client]
) -> None:
    client = in_thread(redis_process.url)
    results: list[int] = []
    redis_process.pause()
    try:
        sender = threading.Thread(
            target=lambda: results.extend(deduct(client).status_code for _ in range(3))
        )
        sender.start()
        time.sleep(1.5)
    finally:
        redis_process.resume()
    sender.join(60)
    assert results == [200, 200, 200]
    assert_every_200_is_in_the_ledger(client, 3)


def test_redis_out_of_memory_is_503_and_recovers(
    redis_process: RedisProcess, in_thread: Callable[..., httpx.Client]
) -> None:
    client = in_thread(redis_process.url)
    assert deduct(client).status_code == 200
    with redis_process.client() as redis_client:
        redis_client.config_set("maxmemory-policy", "noeviction")
        redis_client.config_set("maxmemory", 1)
        full = deduct(client)
        assert refusal(full) == (503, 9190)
        assert "maxmemory" in full.json()["errors"][0]["message"]
        assert refusal(client.get("/__admin/health")) == (503, 9190)
        assert_every_200_is_in_the_ledger(client, 1)  # reads still work
        redis_client.config_set("maxmemory", 0)
    assert deduct(client).status_code == 200
    assert client.get("/__admin/health").status_code == 200
    assert_every_200_is_in_the_ledger(client, 2)


@pytest.mark.parametrize("fast_lane", [True, False], ids=["fast-lane", "connexion-only"])
def test_a_lost_reply_after_redis_wrote_is_found_in_the_ledger(
    redis_process: RedisProcess, in_thread: Callable[..., httpx.Client], fast_lane: bool
) -> None:
    proxy = CuttingProxy(redis_process.port)
    try:
        client = in_thread(proxy.url, fast_lane=fast_lane)
        proxy.cut_replies(3)
        answers = [deduct(client) for _ in range(3)]
        assert proxy.replies_cut == 3
        assert [r.status_code for r in answers] == [200] * 3
        assert [r.json()["pointsAvailable"] for r in answers] == ["679.000", "678.000", "677.000"]
        assert_every_200_is_in_the_ledger(client, 3)
    finally:
        proxy.close()


def test_a_write_lost_before_redis_saw_it_is_made_once(
    redis_process: RedisProcess, in_thread: Callable[..., httpx.Client]
) -> None:
    proxy = CuttingProxy(redis_process.port)
    try:
        client = in_thread(proxy.url)
        proxy.cut_requests(2)
        answers = [deduct(client).status_code for _ in range(2)]
        assert proxy.requests_cut == 2
        assert answers == [200, 200]
        assert_every_200_is_in_the_ledger(client, 2)
    finally:
        proxy.close()


def test_an_outcome_that_cannot_be_found_out_is_9191_never_9199(
    redis_process: RedisProcess,
    in_thread: Callable[..., httpx.Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(redis_store, "OUTCOME_SECONDS", 1)
    proxy = CuttingProxy(redis_process.port)
    try:
        client = in_thread(proxy.url)
        first = deduct(client)
        assert first.status_code == 200  # the mock now holds a connection
        # The journal writes its entry after the answer has gone: wait for it, so that
        # the deduction below does not need a second connection while it is written.
        wait_until(
            lambda: (
                client.get(f"/__admin/requests/{first.headers['X-Capmock-Request-Id']}").status_code
                == 200
            ),
            "the first request's journal entry",
        )
        proxy.cut_replies(1)
        proxy.refuse(True)  # Redis unreachable while the mock asks what happened
        unknown = deduct(client)
        assert refusal(unknown) == (503, 9191)
        assert "retry-after" not in unknown.headers
        assert "may or may not have been made" in unknown.json()["errors"][0]["message"]
        proxy.refuse(False)
        # It had been made: 9191 was the truth, and nothing else was deducted.
        assert_every_200_is_in_the_ledger(client, 2)
    finally:
        proxy.close()


RICH = "REGULAR: 1000000,"


async def _deduct_until(url: str, stop: threading.Event) -> list[tuple[int, int | None]]:
    """Deductions of 1 point from 20 clients at once, each sending the next as soon as
    it has an answer, until ``stop``; every answer's status and error code."""
    outcomes: list[tuple[int, int | None]] = []

    async def one_client(client: httpx.AsyncClient, number: int) -> None:
        while not stop.is_set():
            response = await client.post(
                DEDUCT.format(user_id=SEED_USER),
                params={"source": "INSTORE"},
                json={"pointsToBeAdjusted": 1, "reasonOfReturn": f"load {number}"},
                headers={"Authorization": basic_header("store.server", "server123")},
            )
            error = response.json().get("errors") or [{}]
            outcomes.append((response.status_code, error[0].get("code")))
            if response.status_code != 200:
                await asyncio.sleep(0.01)

    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        await asyncio.gather(*(one_client(client, number) for number in range(20)))
    return outcomes


def test_redis_killed_under_load_loses_nothing_and_never_says_9199(
    tmp_path: Path, serve: Serve
) -> None:
    fixtures = tmp_path / "rich.yaml"
    fixtures.write_text(DEFAULT_FIXTURES.read_text(encoding="utf-8").replace("REGULAR: 680,", RICH))
    redis_process = RedisProcess(tmp_path / "redis", persistent=True)
    redis_process.workdir.mkdir()
    redis_process.start()
    try:
        served = serve("--store", redis_process.url, "--fixtures", str(fixtures))
        stop = threading.Event()
        outcomes: list[tuple[int, int | None]] = []
        sender = threading.Thread(
            target=lambda: outcomes.extend(asyncio.run(_deduct_until(served.url, stop)))
        )
        sender.start()
        time.sleep(0.5)
        redis_process.kill()
        time.sleep(0.5)
        redis_process.start()  # the append-only file brings back every acknowledged write
        time.sleep(0.5)
        stop.set()
        sender.join(120)
        answered = outcomes.count((200, None))
        unknown = outcomes.count((503, 9191))
        assert answered and outcomes.count((503, 9190)), "the load did not span the outage"
        assert set(outcomes) <= {(200, None), (503, 9190), (503, 9191)}
        with httpx.Client(base_url=served.url, timeout=30) as client:
            balance, entries = ledger(client)
        deducted = Decimal(1000000) - balance
        assert answered <= deducted <= answered + unknown
        assert len(entries) == min(deducted, 1000)  # the ledger keeps a customer's newest 1,000
    finally:
        redis_process.stop()


# --- SQLite -----------------------------------------------------------------------------


def test_sqlite_on_a_full_disk_is_503_and_recovers(
    tmp_path: Path, in_thread: Callable[..., httpx.Client]
) -> None:
    with tmpfs(tmp_path / "disk", 1024) as disk:
        client = in_thread(f"sqlite:///{disk / 'state.db'}")
        assert deduct(client).status_code == 200
        filler = fill(disk)
        answers = [deduct(client) for _ in range(5)]
        full = [r for r in answers if r.status_code != 200]
        assert full, "the disk never filled up"
        assert {refusal(r) for r in full} == {(503, 9190)}
        assert "full" in full[0].json()["errors"][0]["message"]
        health = client.get("/__admin/health")
        assert refusal(health) == (503, 9190)
        assert "sqlite (sqlite:///" in health.json()["errors"][0]["message"]
        assert_every_200_is_in_the_ledger(client, 1 + len(answers) - len(full))

        filler.unlink()
        assert deduct(client).status_code == 200
        assert client.get("/__admin/health").json()["status"] == "ok"
        assert_every_200_is_in_the_ledger(client, 2 + len(answers) - len(full))


def test_sqlite_on_a_read_only_file_system_is_503_and_health_says_so(
    tmp_path: Path, serve: Serve, in_thread: Callable[..., httpx.Client]
) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    url = f"sqlite:///{folder / 'state.db'}"
    first = serve("--store", url)
    with httpx.Client(base_url=first.url, timeout=30) as client:
        assert deduct(client).status_code == 200
    # Killed, it leaves its -wal and -shm files, which a reader of a read-only
    # database needs; then the folder goes read-only, and a mock starts on it.
    first.process.kill()
    first.process.wait(10)
    with read_only(folder):
        client = in_thread(url)
        assert_every_200_is_in_the_ledger(client, 1)
        refused = deduct(client)
        assert refusal(refused) == (503, 9190)
        assert "readonly" in refused.json()["errors"][0]["message"]
        health = client.get("/__admin/health")
        assert refusal(health) == (503, 9190)
        assert "readonly" in health.json()["errors"][0]["message"]
        assert refusal(client.post("/__admin/reset")) == (503, 9190)
        assert_every_200_is_in_the_ledger(client, 1)


def test_sqlite_locked_past_its_busy_timeout_is_503(
    tmp_path: Path, in_thread: Callable[..., httpx.Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "state.db"
    client = in_thread(f"sqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        locked = deduct(client)
        assert refusal(locked) == (503, 9190)
        assert "locked" in locked.json()["errors"][0]["message"]
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert deduct(client).status_code == 200
    assert_every_200_is_in_the_ledger(client, 1)


HOLD_THE_WRITE_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(600)
"""


def test_sqlite_write_lock_held_past_the_timeout_is_503_and_let_go_when_free(
    tmp_path: Path, in_thread: Callable[..., httpx.Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds the lock capmock's processes queue on before each write (as
    one stopped in the middle of a write would): 503, never a hang, and once it is gone
    the lock is free again, for the waits given up too."""
    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_MS", 300)
    path = tmp_path / "state.db"
    client = in_thread(f"sqlite:///{path}")
    assert deduct(client).status_code == 200
    lock = tmp_path / "state.db-lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_WRITE_LOCK, str(lock)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        for _ in range(3):
            locked = deduct(client)
            assert refusal(locked) == (503, 9190)
            assert "locked" in locked.json()["errors"][0]["message"]
        assert refusal(client.get("/__admin/health")) == (503, 9190)
    finally:
        holder.kill()
        holder.wait(10)
    fd = os.open(lock, os.O_RDONLY)
    try:
        wait_for("the given-up waits let the lock go", lambda: _free(fd))
    finally:
        os.close(fd)
    assert deduct(client).status_code == 200
    assert client.get("/__admin/health").json()["status"] == "ok"
    assert_every_200_is_in_the_ledger(client, 2)


def _free(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    fcntl.flock(fd, fcntl.LOCK_UN)
    return True

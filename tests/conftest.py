"""Shared test set-up: a real mock on a real socket, served by uvicorn in a thread, on
each kind of store; a throwaway redis-server for the Redis store; mocks served by
``capmock serve`` in subprocesses for the multi-process tests."""

from __future__ import annotations

import base64
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from capmock.paths import DEFAULT_FIXTURES
from mock_server.app import create_app
from mock_server.auth import md5hex
from mock_server.fixtures import load_fixtures
from mock_server.store import open_store

DEDUCT = "/v2/customers/{user_id}/negativePointsAdjustment"
SEED_USER = 388034468
WORKTREE = Path(__file__).resolve().parents[1]
BACKENDS = ["memory", "sqlite", "redis"]
REDIS_DATABASES = 256
STARTUP_SECONDS = 30


class Clock:
    """A clock the tests move by hand, so token expiry needs no sleeping."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class LiveMock:
    url: str
    clock: Clock
    client: httpx.Client

    def reset(self) -> None:
        self.client.post("/__admin/reset").raise_for_status()

    def deduct(
        self,
        body: object,
        user_id: object = SEED_USER,
        source: str | None = "INSTORE",
        auth: tuple[str, str] | None = ("store.server", "server123"),
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST a deduction; ``auth`` is the clear password, sent as Capillary clients do."""
        params = {"source": source} if source is not None else {}
        sent_headers = dict(headers or {})
        if auth is not None:
            sent_headers["Authorization"] = basic_header(*auth)
        return self.client.post(
            DEDUCT.format(user_id=user_id), params=params, json=body, headers=sent_headers
        )


def basic_header(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{md5hex(password)}".encode()).decode()
    return f"Basic {token}"


def stop_server(server: uvicorn.Server, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(5)


def start_server(app: object) -> tuple[uvicorn.Server, threading.Thread, str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        thread.join(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session", params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A URL of each kind of store: every test that serves through it runs on each."""
    return backend_url(request.param, request, tmp_path_factory.mktemp(request.param))


@pytest.fixture(scope="session")
def live_mock(store_url: str) -> Iterator[LiveMock]:
    """One mock per kind of store for the session, on the default fixtures, with
    response validation on."""
    clock = Clock()
    store = open_store(store_url, load_fixtures(DEFAULT_FIXTURES))
    app = create_app(store=store, clock=clock, validate_responses=True)
    server, thread, url = start_server(app)
    with httpx.Client(base_url=url, timeout=10) as client:
        yield LiveMock(url=url, clock=clock, client=client)
    stop_server(server, thread)


@pytest.fixture
def mock(live_mock: LiveMock) -> LiveMock:
    """The session's mock, back at its default fixtures and balances."""
    live_mock.client.put(
        "/__admin/fixtures",
        content=DEFAULT_FIXTURES.read_bytes(),
        headers={"Content-Type": "application/yaml"},
    ).raise_for_status()
    return live_mock


# --- stores --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(
    ready: Callable[[], bool], what: str, process: subprocess.Popen | None = None
) -> None:
    """Poll ``ready()`` for at most STARTUP_SECONDS; fail early if ``process`` died."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before it was ready")
        if ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} was not ready after {STARTUP_SECONDS} s")


def stop_process(process: subprocess.Popen) -> None:
    """Stop a process started in its own session, with all its children (workers)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@dataclass
class RedisServer:
    port: int
    databases: Iterator[int]

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def fresh_url(self) -> str:
        """The URL of a database no other test of this session uses, emptied."""
        import redis

        db = next(self.databases)
        if db >= REDIS_DATABASES:
            raise RuntimeError(f"the tests used all {REDIS_DATABASES} Redis databases")
        with redis.Redis(port=self.port, db=db) as client:
            client.flushdb()
        return self.url(db)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A throwaway redis-server on a free loopback port, without persistence."""
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed, and the Redis store is tested against a real "
            "one: install it with `apt-get install -y redis-server` (Debian/Ubuntu; .ci/run "
            "does this) or put a redis-server on PATH."
        )
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    command = [
        *(binary, "--port", str(port), "--bind", "127.0.0.1"),
        *("--save", "", "--appendonly", "no"),
        *("--databases", str(REDIS_DATABASES), "--dir", str(workdir)),
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )

    def answers() -> bool:
        try:
            with redis.Redis(port=port, socket_connect_timeout=1) as client:
                return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        wait_until(answers, "redis-server", process)
        yield RedisServer(port, itertools.count(1))
    finally:
        stop_process(process)


def backend_url(backend: str, request: pytest.FixtureRequest, tmp: Path) -> str:
    """A fresh store URL of one kind: a new SQLite file, an emptied Redis database."""
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'state.db'}"
    if backend == "redis":
        return request.getfixturevalue("redis_server").fresh_url()
    return "memory"


@pytest.fixture(params=BACKENDS)
def fresh_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty store of each kind, for one test."""
    return backend_url(request.param, request, tmp_path)


@pytest.fixture(params=["sqlite", "redis"])
def shared_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty store of each kind that several processes can share."""
    return backend_url(request.param, request, tmp_path)


# --- mocks in subprocesses -------------------------------------------------------------


@dataclass
class ServedMock:
    """``capmock serve`` running in a subprocess (its own session, so that the workers
    it starts are stopped with it)."""

    url: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def serve_in_subprocess(tmp: Path, *args: str) -> ServedMock:
    """Start ``python -m capmock serve ARGS`` on a free port and wait until it answers.

    PYTHONPATH is this worktree, so the code under test is served whatever is installed.
    """
    port = free_port()
    log = tmp / f"serve-{port}.log"
    env = {**os.environ, "PYTHONPATH": str(WORKTREE)}
    env.pop("CAPMOCK_ADMIN_TOKEN", None)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "capmock", "serve", "--port", str(port), *args],
            cwd=WORKTREE,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served = ServedMock(f"http://127.0.0.1:{port}", process, log)

    def healthy() -> bool:
        try:
            return httpx.get(f"{served.url}/__admin/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(healthy, f"capmock serve {' '.join(args)}", process)
    except RuntimeError as error:
        stop_process(process)
        raise RuntimeError(f"{error}; its output:\n{served.output()}") from None
    return served


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServedMock]]:
    """Start mocks in subprocesses; every one is stopped when the test ends."""
    started: list[ServedMock] = []

    def start(*args: str) -> ServedMock:
        served = serve_in_subprocess(tmp_path, *args)
        started.append(served)
        return served

    yield start
    for served in started:
        stop_process(served.process)

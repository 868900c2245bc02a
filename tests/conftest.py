"""Shared fixtures: real mocks on real sockets, on each kind of store and each lane,
reset to the default world per test; a throwaway redis-server; mocks in subprocesses."""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright
from support import (
    BACKENDS,
    CHROMIUM,
    CHROMIUM_ARGS,
    REDIS_DATABASES,
    Clock,
    LiveMock,
    RedisCluster,
    RedisServer,
    ServedMock,
    backend_url,
    free_port,
    redis_answers,
    redis_binary,
    serve_in_subprocess,
    start_server,
    stop_process,
    stop_server,
    wait_until,
)

from mock_server.app import create_app
from mock_server.data import DEFAULT_FIXTURES
from mock_server.fixtures import load_fixtures
from mock_server.stores.open import open_store

SERVED = [
    ("memory", "fast-lane"),
    ("memory", "connexion-only"),
    ("sqlite", "fast-lane"),
    ("redis", "fast-lane"),
]
"""Where the HTTP tests run: the fast lane on every store, and Connexion alone (with
responses validated against the contract) on the memory store."""


@pytest.fixture(scope="session", params=SERVED, ids=["-".join(p) for p in SERVED])
def live_mock(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveMock]:
    """One mock per store and lane for the session, on the default fixtures."""
    backend, lane = request.param
    url = backend_url(backend, request, tmp_path_factory.mktemp(backend))
    clock = Clock()
    fast = lane == "fast-lane"
    store = open_store(url, load_fixtures(DEFAULT_FIXTURES))
    app = create_app(store=store, clock=clock, validate_responses=not fast, fast_lane=fast)
    server, thread, base = start_server(app)
    with httpx.Client(base_url=base, timeout=10) as client:
        yield LiveMock(url=base, clock=clock, client=client, store_url=url)
    stop_server(server, thread)


@pytest.fixture
def served() -> Iterator[Callable[[object], str]]:
    """Serve ASGI apps on loopback in threads; each is stopped when the test ends."""
    servers = []

    def serve(app: object) -> str:
        server, thread, url = start_server(app)
        servers.append((server, thread))
        return url

    yield serve
    for server, thread in servers:
        stop_server(server, thread)


@pytest.fixture
def store_url(live_mock: LiveMock) -> str:
    """The URL of the store behind the session's mock."""
    return live_mock.store_url


@pytest.fixture
def mock(live_mock: LiveMock) -> LiveMock:
    """The session's mock, back at its default fixtures and balances."""
    live_mock.put_fixtures(DEFAULT_FIXTURES.read_text())
    return live_mock


@pytest.fixture
def world_text() -> str:
    """The default fixture file's text, for tests that change one setting of it."""
    return DEFAULT_FIXTURES.read_text()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A throwaway redis-server on a free loopback port, without persistence."""
    binary = redis_binary("redis-server")
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

    try:
        wait_until(lambda: redis_answers(port), "redis-server", process)
        yield RedisServer(port, itertools.count(1))
    finally:
        stop_process(process)


@pytest.fixture(params=BACKENDS)
def fresh_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty store of each kind, for one test."""
    return backend_url(request.param, request, tmp_path)


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """A throwaway Redis Cluster of three nodes, for the session."""
    cluster = RedisCluster.start(tmp_path_factory.mktemp("cluster"))
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "redis", "redis-cluster"])
def shared_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty store of each kind that several processes can share."""
    return backend_url(request.param, request, tmp_path)


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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, driven by Playwright: the pages are tested in a real
    browser (Playwright's own browser download is not used)."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: the pages are tested in a real browser. Install "
            "it with `apt-get install -y chromium` (Debian; .ci/run does this) or set "
            "CAPMOCK_CHROMIUM to a Chromium or Chrome binary."
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()

"""Test helpers: a real mock on a real socket, served by uvicorn in a thread or by
``capmock serve`` in a subprocess; a throwaway redis-server for the Redis store."""

from __future__ import annotations

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
from typing import Any

import httpx
import pytest
import uvicorn

from contract_tests.target import basic_header
from mock_server.halfclose import http_protocol
from mock_server.limits import Limits
from mock_server.limits.connections import protocol, server_options

DEDUCT = "/v2/customers/{user_id}/negativePointsAdjustment"
LOOKUP_DEDUCT = "/v2/customers/lookup/negativePointsAdjustment"
BALANCE = "/v2/customers/lookup/points/balance"
LEDGER = "/v2/pointsLedger/getCustomerLedgerInfo"
ALLOCATE = "/v2/customers/bulk/manualCurrencyAllocate"
SEED_USER = 388034468
ROOT = Path(__file__).resolve().parents[1]
MOBILE = {"identifierName": "mobile", "identifierValue": "9876543210", "source": "INSTORE"}
"""The seed customer's lookup by mobile, as the query of the lookup operations."""
BACKENDS = ["memory", "sqlite", "redis"]
REDIS_DATABASES = 256
STARTUP_SECONDS = 30
CHROMIUM = os.environ.get("CAPMOCK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
"""The Chromium the pages are tested in (Debian's), and how it is started."""


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
    store_url: str = "memory"

    def reset(self) -> None:
        self.client.post("/__admin/reset").raise_for_status()

    def put_fixtures(self, text: str) -> None:
        """Replace the mock's world with a fixture document (YAML or JSON text)."""
        response = self.client.put(
            "/__admin/fixtures",
            content=text.encode(),
            headers={"Content-Type": "application/yaml"},
        )
        assert response.status_code == 200, response.text

    @staticmethod
    def auth_headers(username: str = "store.server", password: str = "server123") -> dict:
        return {"Authorization": basic_header(username, password)}

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

    def call(
        self,
        method: str,
        path: str,
        params: dict[str, object] | None = None,
        body: object = None,
        auth: tuple[str, str] = ("store.server", "server123"),
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Any operation of the contract, as store.server (the clear password, sent as md5)."""
        return self.client.request(
            method,
            path,
            params=params,
            json=body,
            headers={**(headers or {}), "Authorization": basic_header(*auth)},
        )


def stop_server(server: uvicorn.Server, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(5)


def start_server(app: object, http: str = "auto") -> tuple[uvicorn.Server, threading.Thread, str]:
    """Serve ``app`` on a free loopback port in a thread, as ``capmock serve`` does: with
    its default limits (``http="auto"``), or with uvicorn's h11 or httptools protocol as
    the mock changes them (half-closed clients answered) and no limits."""
    limited = http == "auto"
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
        http=protocol(Limits(), 1) if limited else http_protocol(http),
        **(server_options(Limits()) if limited else {}),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        thread.join(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


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


def redis_binary(name: str = "redis-server") -> str:
    """The path of redis-server (or redis-cli); a failure that says how to install it if
    there is none: the Redis store is tested against a real Redis, never skipped."""
    binary = shutil.which(name)
    if binary is None:
        pytest.fail(
            f"{name} is not installed, and the Redis store is tested against a real "
            "one: install it with `apt-get install -y redis-server` (Debian/Ubuntu; .ci/run "
            f"does this) or put a {name} on PATH."
        )
    return binary


def redis_answers(port: int, password: str | None = None) -> bool:
    """Whether the redis-server on this loopback port answers PING."""
    import redis

    try:
        with redis.Redis(port=port, password=password, socket_connect_timeout=1) as client:
            return bool(client.ping())
    except redis.ConnectionError:
        return False


@dataclass
class RedisCluster:
    """A Redis Cluster of three masters (``redis-server --cluster-enabled yes``, joined
    with ``redis-cli --cluster create``) on free loopback ports."""

    workdir: Path
    ports: list[int]
    processes: list[subprocess.Popen]

    @classmethod
    def start(cls, workdir: Path, *options: str, nodes: int = 3) -> RedisCluster:
        """Start and join the nodes, each with redis-server's ``options`` too."""
        cluster = cls(workdir, [], [])
        while len(cluster.ports) < nodes:
            port = free_port()
            # a node also listens on port + 10000, its cluster bus
            if (
                port + 10000 < 65536
                and port + 10000 not in cluster.ports
                and _bindable(port + 10000)
            ):
                cluster.ports.append(port)
        try:
            for port in cluster.ports:
                cluster.processes.append(cluster._node(port, options))
            for port, process in zip(cluster.ports, cluster.processes, strict=True):
                wait_until(lambda port=port: redis_answers(port), "redis-server", process)
            subprocess.run(
                [
                    *(redis_binary("redis-cli"), "--cluster", "create"),
                    *(f"127.0.0.1:{port}" for port in cluster.ports),
                    *("--cluster-replicas", "0", "--cluster-yes"),
                ],
                check=True,
                capture_output=True,
                timeout=60,
            )
            wait_until(cluster.ready, "the Redis Cluster")
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _node(self, port: int, options: tuple[str, ...]) -> subprocess.Popen:
        return subprocess.Popen(
            [
                *(redis_binary(), "--port", str(port), "--bind", "127.0.0.1"),
                *("--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.workdir), *options),
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )

    def client(self, port: int) -> Any:
        import redis

        return redis.Redis(port=port, socket_connect_timeout=1, decode_responses=True)

    def ready(self) -> bool:
        """Every node says the cluster is ok and sees every slot served."""
        for port in self.ports:
            with self.client(port) as client:
                info = client.execute_command("CLUSTER", "INFO")
                if "cluster_state:ok" not in info or "cluster_slots_ok:16384" not in info:
                    return False
        return True

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.ports[0]}"

    def owner(self, slot: int) -> int:
        """The port of the node that serves ``slot``."""
        with self.client(self.ports[0]) as client:
            for start, end, node, *_ in client.execute_command("CLUSTER", "SLOTS"):
                if start <= slot <= end:
                    return int(node[1])
        raise LookupError(f"no node serves slot {slot}")

    def fresh_url(self) -> str:
        """The cluster's URL, every node emptied (the tests share it one at a time)."""
        for port in self.ports:
            with self.client(port) as client:
                client.flushall()
        return self.url

    def stop(self) -> None:
        for process in self.processes:
            stop_process(process)


def backend_url(backend: str, request: pytest.FixtureRequest, tmp: Path) -> str:
    """A fresh store URL of one kind: a new SQLite file, an emptied Redis database."""
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'state.db'}"
    if backend == "redis":
        return request.getfixturevalue("redis_server").fresh_url()
    if backend == "redis-cluster":
        return request.getfixturevalue("redis_cluster").fresh_url()
    return "memory"


@dataclass
class ServedMock:
    """``capmock serve`` running in a subprocess (its own session, so that the workers
    it starts are stopped with it)."""

    url: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def serve_in_subprocess(
    tmp: Path, *args: str, preexec_fn: Callable[[], None] | None = None
) -> ServedMock:
    """Start ``python -m capmock serve ARGS`` on a free port and wait until it answers;
    ``preexec_fn`` runs in the child first (e.g. to set its open-files limit).

    PYTHONPATH is this worktree, so the code under test is served whatever is installed.
    """
    port = free_port()
    log = tmp / f"serve-{port}.log"
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
            preexec_fn=preexec_fn,
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


def allocation(value: str = str(SEED_USER), name: str = "id", **fields: object) -> dict:
    """One manualCurrencyAllocate item, for the customer whose ``name`` is ``value``."""
    return {
        "orgId": 100737,
        "programId": 973,
        "awardStrategyId": 13167,
        "expiryStrategyId": 11833,
        "sourceValue": -1,
        "eventName": "TransactionAdd",
        "eventSourceId": "888812915",
        "lookupParams": {"identifierType": name, "identifierValue": value, "source": "INSTORE"},
        **fields,
    }


ISSUE = allocation("9876543210", "mobile")
"""One manualCurrencyAllocate item for the seed customer (by mobile)."""

"""Benchmark capmock against Stoplight Prism, bare Connexion and bare Starlette.

One run starts each target on a free loopback port, drives it with the same wrk load
(one valid deduction, Basic auth; the "-spread" rows spread it over many customers),
reads the server's CPU time and memory from /proc, stops it, and prints one table;
then it measures capmock's startup time and the load time of a 100,000-customer
fixture. benchmarks/README.md says what each number means.

    python -m benchmarks.run --duration 10 --json reports/bench.json
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fnmatch
import hashlib
import http.client
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import proc
from benchmarks.wrk import (
    INSTALL_HINT,
    WrkOutputError,
    WrkResult,
    lua_script,
    lua_spread_script,
    parse_wrk,
)

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(__file__).resolve().parent / ".cache"
PRISM_PACKAGE = "@stoplight/prism-cli"
PRISM_VERSION = "5.14"  # npm resolves this to the newest 5.14.x

HOST = "127.0.0.1"
USER_ID = 388034468
PATH_TEMPLATE = "/v2/customers/{userId}/negativePointsAdjustment?source=INSTORE"
PATH = PATH_TEMPLATE.format(userId=USER_ID)
USERNAME, PASSWORD = "store.server", "server123"
MD5_PASSWORD = hashlib.md5(PASSWORD.encode()).hexdigest()  # Capillary's Basic auth sends it
AUTHORIZATION = "Basic " + base64.b64encode(f"{USERNAME}:{MD5_PASSWORD}".encode()).decode()
BODY = json.dumps(
    {
        "pointCategoryTypes": "REGULAR",
        "pointsToBeAdjusted": "0.01",
        "reasonOfReturn": "Extra points were issued",
    }
)
HEADERS = {"Content-Type": "application/json", "Authorization": AUTHORIZATION}
HUGE_BALANCE = 10**11  # 0.01 a request: 10^13 requests before a refusal

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXTRAS = ("startup", "fixture-load")
NOISY_CORES = 0.1  # other processes' load worth a note in the table


class TargetError(Exception):
    """A target could not be started or measured; its row says why."""


# --- processes ------------------------------------------------------------------------


class Processes:
    """Every process the harness starts, each in its own process group, all stopped at exit."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: list[subprocess.Popen] = []

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None):
        log = (self.logs / f"{name}.log").open("ab")
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=SOURCE,  # python -m puts the working directory first on the path
                start_new_session=True,  # Ctrl+C reaches the harness only; it stops them
            )
        finally:
            log.close()
        process.log_path = self.logs / f"{name}.log"  # type: ignore[attr-defined]
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen | None) -> None:
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):  # workers left behind
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.running)):
            self.stop(process)


def log_tail(process: subprocess.Popen, lines: int = 8) -> str:
    path: Path | None = getattr(process, "log_path", None)
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


SOURCE = ROOT  # the checkout whose capmock is measured (--source)


def contract() -> Path:
    return SOURCE / "openapi" / "capillary.yaml"


def default_fixtures() -> Path:
    return SOURCE / "fixtures" / "default.yaml"


def python_env() -> dict[str, str]:
    """The environment of a Python target: the measured checkout, then this one, first."""
    paths = dict.fromkeys([str(SOURCE), str(ROOT)])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


# --- HTTP -----------------------------------------------------------------------------


def request(
    port: int, method: str, path: str, body: str | None = None, timeout: float = 5.0
) -> tuple[int, str]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = HEADERS if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        connection.close()


def wait_until(
    process: subprocess.Popen, probe: Callable[[], bool], timeout: float, interval: float
) -> float:
    """Seconds until ``probe()`` is true; TargetError if the process dies or time runs out."""
    start = time.perf_counter()
    while True:
        if process.poll() is not None:
            raise TargetError(f"exited with {process.returncode}: {log_tail(process)}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if probe():
                return time.perf_counter() - start
        if time.perf_counter() - start > timeout:
            raise TargetError(f"not ready after {timeout:.0f} s: {log_tail(process)}")
        time.sleep(interval)


def settle(pid: int, timeout: float = 5.0) -> None:
    """Wait until the tree is idle (e.g. extra workers done booting) before measuring."""
    deadline = time.monotonic() + timeout
    before = proc.cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.25)
        after = proc.cpu_seconds(pid)
        if after - before <= 0.01:
            return
        before = after


# --- targets --------------------------------------------------------------------------


@dataclass
class Context:
    tmp: Path
    procs: Processes
    args: argparse.Namespace
    fixtures: Path
    lua: Path
    spread_fixtures: Path  # --spread customers, the first one USER_ID
    spread_lua: Path  # a random one of them per request


@dataclass
class Target:
    name: str
    group: str  # "capmock", "prism" or "reference"
    what: str
    argv: Callable[[Context, int, str | None], list[str]]  # (ctx, port, redis url)
    env: Callable[[], dict[str, str]] | None = python_env
    health: str | None = None  # GET path answering 200 when ready; else any answer to the POST
    must_succeed: bool = False  # the sample deduction must be 200 and wrk see no failures
    redis: bool = False
    ready_timeout: float = 30.0
    spread: bool = False  # load spread over --spread customers instead of one


@dataclass
class Row:
    name: str
    group: str
    what: str
    command: list[str] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None
    error: str | None = None
    sample_status: int | None = None
    rss_mib: float | None = None
    redis_cpu_us_per_request: float | None = None
    cpu_ratio: float | None = None
    rps_ratio: float | None = None

    def median(self, key: str) -> float | None:
        values = [run[key] for run in self.runs if run.get(key) is not None]
        return statistics.median(values) if values else None

    @property
    def measured(self) -> bool:
        return bool(self.runs) and self.error is None

    @property
    def non_2xx(self) -> int:
        return sum(run["non_2xx_3xx"] for run in self.runs)

    def as_dict(self) -> dict[str, Any]:
        summary = {
            key: self.median(key)
            for key in ("requests_per_s", "p50_ms", "p99_ms", "cpu_us_per_request")
        }
        return {
            "name": self.name,
            "group": self.group,
            "what": self.what,
            "command": self.command,
            "skipped": self.skipped,
            "error": self.error,
            "sample_status": self.sample_status,
            "median": summary,
            "non_2xx_3xx": self.non_2xx if self.runs else None,
            "rss_mib": self.rss_mib,
            "redis_cpu_us_per_request": self.redis_cpu_us_per_request,
            "ratio_to_prism_best": {"cpu": self.cpu_ratio, "requests_per_s": self.rps_ratio},
            "notes": self.notes,
            "runs": self.runs,
        }


def capmock_argv(
    *extra: str, spread: bool = False
) -> Callable[[Context, int, str | None], list[str]]:
    def argv(ctx: Context, port: int, redis_url: str | None) -> list[str]:
        fixtures = ctx.spread_fixtures if spread else ctx.fixtures
        words = [sys.executable, "-m", "capmock", "serve"]
        words += ["--fixtures", str(fixtures), "--host", HOST, "--port", str(port)]
        for word in extra:
            words.append(
                word.format(tmp=ctx.tmp, port=port, redis=redis_url, workers=ctx.args.workers)
            )
        return words

    return argv


def capmock_targets(workers: int, spread: int) -> list[Target]:
    common = {"group": "capmock", "health": "/__admin/health", "must_succeed": True}
    many = f"{workers} workers"
    over = f"load over {spread:,} customers"
    sqlite, redis = "sqlite:///{tmp}/state-{port}.db", "{redis}"
    return [
        Target(
            "capmock-memory", what="capmock, memory store, 1 worker", argv=capmock_argv(), **common
        ),
        Target(
            "capmock-sqlite",
            what="capmock, SQLite store, 1 worker",
            argv=capmock_argv("--store", "sqlite:///{tmp}/state-{port}.db"),
            **common,
        ),
        Target(
            "capmock-sqlite-workers",
            what=f"capmock, SQLite store, {many}",
            argv=capmock_argv(
                "--store", "sqlite:///{tmp}/state-{port}.db", "--workers", "{workers}"
            ),
            **common,
        ),
        Target(
            "capmock-redis",
            what="capmock, Redis store, 1 worker",
            argv=capmock_argv("--store", "{redis}"),
            redis=True,
            **common,
        ),
        Target(
            "capmock-redis-workers",
            what=f"capmock, Redis store, {many}",
            argv=capmock_argv("--store", "{redis}", "--workers", "{workers}"),
            redis=True,
            **common,
        ),
        # The same stores with the load spread over many customers: what workers gain
        # when requests do not all queue on one customer's balance.
        Target(
            "capmock-sqlite-spread",
            what=f"capmock, SQLite store, 1 worker, {over}",
            argv=capmock_argv("--store", sqlite, spread=True),
            spread=True,
            **common,
        ),
        Target(
            "capmock-sqlite-workers-spread",
            what=f"capmock, SQLite store, {many}, {over}",
            argv=capmock_argv("--store", sqlite, "--workers", "{workers}", spread=True),
            spread=True,
            **common,
        ),
        Target(
            "capmock-redis-spread",
            what=f"capmock, Redis store, 1 worker, {over}",
            argv=capmock_argv("--store", redis, spread=True),
            redis=True,
            spread=True,
            **common,
        ),
        Target(
            "capmock-redis-workers-spread",
            what=f"capmock, Redis store, {many}, {over}",
            argv=capmock_argv("--store", redis, "--workers", "{workers}", spread=True),
            redis=True,
            spread=True,
            **common,
        ),
    ]


def prism_argv(*extra: str) -> Callable[[Context, int, str | None], list[str]]:
    def argv(ctx: Context, port: int, _redis: str | None) -> list[str]:
        binary = CACHE / "prism" / "node_modules" / ".bin" / "prism"
        return [str(binary), "mock", "-h", HOST, "-p", str(port), *extra, str(contract())]

    return argv


def module_argv(module: str, *extra: str) -> Callable[[Context, int, str | None], list[str]]:
    def argv(ctx: Context, port: int, _redis: str | None) -> list[str]:
        words = [sys.executable, "-m", module, "--host", HOST, "--port", str(port)]
        return words + [word.format(tmp=ctx.tmp) for word in extra]

    return argv


def all_targets(workers: int, spread: int) -> list[Target]:
    return [
        *capmock_targets(workers, spread),
        Target(
            "prism",
            group="prism",
            what=f"Stoplight Prism {PRISM_VERSION}.x mock, default logging",
            argv=prism_argv(),
            env=None,
            ready_timeout=90,
        ),
        Target(
            "prism-silent",
            group="prism",
            what=f"Stoplight Prism {PRISM_VERSION}.x mock, -v silent",
            argv=prism_argv("-v", "silent"),
            env=None,
            ready_timeout=90,
        ),
        Target(
            "starlette",
            group="reference",
            what="bare Starlette, fixed JSON (the ceiling)",
            argv=module_argv("benchmarks.apps.starlette_ceiling"),
        ),
        Target(
            "connexion",
            group="reference",
            what="bare Connexion 3 AsyncApp, trivial handler",
            argv=module_argv(
                "benchmarks.apps.connexion_bare", "--spec", "{tmp}/capillary-no-security.yaml"
            ),
        ),
    ]


# --- what the machine offers ----------------------------------------------------------


def serve_help() -> str:
    result = subprocess.run(
        [sys.executable, "-m", "capmock", "serve", "--help"],
        capture_output=True,
        text=True,
        env=python_env(),
        cwd=SOURCE,
        timeout=60,
        check=False,
    )
    return result.stdout


def skip_reason(target: Target, help_text: str) -> str | None:
    """Why ``target`` cannot run here, or None."""
    if target.group == "capmock" and target.name != "capmock-memory":
        if "--store" not in help_text:
            return "skipped: capmock serve has no --store yet"
        if "workers" in target.name and "--workers" not in help_text:
            return "skipped: capmock serve has no --workers yet"
        if target.redis and shutil.which("redis-server") is None:
            return "skipped: redis-server is not installed (apt-get install -y redis-server)"
    if target.group == "prism" and shutil.which("npm") is None:
        return "skipped: npm is not installed (apt-get install -y npm), so no Prism"
    return None


def prism_installed_version() -> str | None:
    manifest = CACHE / "prism" / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
    try:
        return json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def ensure_prism() -> str:
    """Install Prism into benchmarks/.cache/prism unless it is there; its version."""
    version = prism_installed_version()
    if version and version.startswith(PRISM_VERSION + "."):
        return version
    (CACHE / "prism").mkdir(parents=True, exist_ok=True)
    print(f"installing {PRISM_PACKAGE}@{PRISM_VERSION} into {CACHE / 'prism'} ...", flush=True)
    result = subprocess.run(
        [
            *("npm", "install", "--prefix", str(CACHE / "prism"), "--no-audit", "--no-fund"),
            *("--save-exact", "--loglevel=error", f"{PRISM_PACKAGE}@{PRISM_VERSION}"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    version = prism_installed_version()
    if result.returncode != 0 or version is None:
        raise TargetError(f"npm install failed: {result.stderr.strip()[-300:]}")
    return version


def tool_version(argv: list[str]) -> str | None:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    text = (result.stdout or result.stderr).strip()
    return text.splitlines()[0] if text else None


# --- generated inputs -----------------------------------------------------------------


def bench_fixture(customers: int = 1) -> dict[str, Any]:
    """``customers`` customers from USER_ID on, each with a balance that outlasts any
    run at 0.01 a request."""
    return {
        "users": [{"username": USERNAME, "password": PASSWORD, "accessGroups": ["points"]}],
        "programs": [{"id": 973, "name": "Bench", "default": True, "roundDecimals": 2}],
        "customers": [
            {
                "userId": USER_ID + i,
                "sources": ["INSTORE"],
                "enrollments": [{"programId": 973, "points": {"REGULAR": HUGE_BALANCE}}],
            }
            for i in range(customers)
        ],
    }


def write_big_fixtures(directory: Path, customers: int) -> tuple[Path, Path]:
    """The same world of ``customers`` customers as JSON and as hand-written-style YAML."""
    users = [{"username": USERNAME, "password": PASSWORD, "accessGroups": ["points"]}]
    programs = [
        {
            "id": 973,
            "name": "Big",
            "default": True,
            "roundDecimals": 2,
            "alternateCurrencies": [{"name": "coins"}],
        }
    ]
    first = 100_000_000
    enrollment = {
        "programId": 973,
        "points": {"REGULAR": 680, "PROMISED": 0},
        "alternateCurrencies": {"coins": 80155.5},
    }
    document = {
        "users": users,
        "programs": programs,
        "customers": [
            {"userId": first + i, "sources": ["INSTORE"], "enrollments": [enrollment]}
            for i in range(customers)
        ],
    }
    json_path = directory / f"customers-{customers}.json"
    json_path.write_text(json.dumps(document))
    yaml_path = directory / f"customers-{customers}.yaml"
    with yaml_path.open("w") as out:
        out.write("users:\n")
        out.write(f"  - {{username: {USERNAME}, password: {PASSWORD}, accessGroups: [points]}}\n")
        out.write("programs:\n")
        out.write("  - {id: 973, name: Big, default: true, roundDecimals: 2, ")
        out.write("alternateCurrencies: [{name: coins}]}\n")
        out.write("customers:\n")
        for i in range(customers):
            out.write(
                f"  - userId: {first + i}\n"
                "    sources: [INSTORE]\n"
                "    enrollments:\n"
                "      - programId: 973\n"
                "        points: {REGULAR: 680, PROMISED: 0}\n"
                "        alternateCurrencies: {coins: 80155.5}\n"
            )
    return json_path, yaml_path


def spec_without_security(directory: Path) -> Path:
    import yaml

    spec = yaml.safe_load(contract().read_text())
    spec.pop("security", None)
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict):
                operation.pop("security", None)
    path = directory / "capillary-no-security.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


# --- measuring ------------------------------------------------------------------------


def run_wrk(ctx: Context, port: int, seconds: int, lua: Path) -> WrkResult:
    argv = ["wrk", f"-t{ctx.args.threads}", f"-c{ctx.args.connections}", f"-d{seconds}s"]
    argv += ["--latency", "--timeout", "10s", "-s", str(lua), f"http://{HOST}:{port}{PATH}"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = process.communicate(timeout=seconds + 60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if process.returncode != 0:
        said = (err.strip() or out.strip())[-300:]
        raise TargetError(f"wrk exited with {process.returncode}: {said}")
    try:
        return parse_wrk(out)
    except WrkOutputError as error:
        raise TargetError(str(error)) from None


def children_cpu() -> float:
    """CPU seconds of the harness's reaped children (wrk, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def start_redis(ctx: Context) -> tuple[subprocess.Popen, str]:
    port = free_port()
    argv = ["redis-server", "--bind", HOST, "--port", str(port), "--save", ""]
    argv += ["--appendonly", "no", "--dir", str(ctx.tmp), "--daemonize", "no"]
    process = ctx.procs.start(f"redis-{port}", argv)

    def pong() -> bool:
        with socket.create_connection((HOST, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    wait_until(process, pong, timeout=20, interval=0.05)
    return process, f"redis://{HOST}:{port}/0"


def measure(target: Target, ctx: Context) -> Row:
    row = Row(target.name, target.group, target.what)
    server = redis = None
    try:
        redis_url = None
        if target.redis:
            redis, redis_url = start_redis(ctx)
        port = free_port()
        row.command = target.argv(ctx, port, redis_url)
        env = target.env() if target.env else None
        server = ctx.procs.start(target.name, row.command, env)

        def ready() -> bool:
            if target.health:
                return request(port, "GET", target.health)[0] == 200
            request(port, "POST", PATH, BODY)
            return True

        wait_until(server, ready, target.ready_timeout, interval=0.05)
        row.sample_status, sample = request(port, "POST", PATH, BODY)
        if target.must_succeed and row.sample_status != 200:
            raise TargetError(f"the sample deduction answered {row.sample_status}: {sample[:200]}")
        if not 200 <= row.sample_status < 300:
            row.notes.append(f"answers {row.sample_status}")
        lua = ctx.spread_lua if target.spread else ctx.lua
        if ctx.args.warmup > 0:
            run_wrk(ctx, port, ctx.args.warmup, lua)
        for _ in range(ctx.args.repeat):
            settle(server.pid)
            cpu_before = proc.cpu_seconds(server.pid)
            redis_before = proc.cpu_seconds(redis.pid) if redis else 0.0
            machine_before, steal_before = proc.machine_cpu()
            wrk_before = children_cpu()
            start = time.perf_counter()
            result = run_wrk(ctx, port, ctx.args.duration, lua)
            wall = time.perf_counter() - start
            cpu = proc.cpu_seconds(server.pid) - cpu_before
            redis_cpu = (proc.cpu_seconds(redis.pid) - redis_before) if redis else None
            machine_after, steal_after = proc.machine_cpu()
            wrk_cpu = children_cpu() - wrk_before
            # what the rest of the machine used meanwhile, in cores: the noise on the numbers
            others = machine_after - machine_before - cpu - wrk_cpu - (redis_cpu or 0.0)
            per_request = 1e6 / result.requests if result.requests else None
            row.runs.append(
                {
                    **result.as_dict(),
                    "server_cpu_s": cpu,
                    "wrk_cpu_s": wrk_cpu,
                    "other_processes_cores": max(others, 0.0) / wall,
                    "steal_cores": (steal_after - steal_before) / wall,
                    "cpu_us_per_request": cpu * per_request if per_request else None,
                    "redis_cpu_us_per_request": (
                        redis_cpu * per_request if redis_cpu is not None and per_request else None
                    ),
                }
            )
        row.rss_mib = proc.rss_bytes(server.pid) / 2**20
        row.redis_cpu_us_per_request = row.median("redis_cpu_us_per_request")
        if row.redis_cpu_us_per_request is not None:
            row.notes.append(f"+ redis-server {row.redis_cpu_us_per_request:.0f} µs/req")
        if target.must_succeed or row.non_2xx:
            row.notes.append(f"non-2xx {row.non_2xx}")
        others = row.median("other_processes_cores") or 0.0
        if others >= NOISY_CORES:
            row.notes.append(f"other processes busy {others:.2f} cores")
        steal = row.median("steal_cores") or 0.0
        if steal >= NOISY_CORES:
            row.notes.append(f"steal {steal:.2f} cores")
        socket_errors = sum(sum(run["socket_errors"].values()) for run in row.runs)
        if socket_errors:
            row.notes.append(f"socket errors {socket_errors}")
        if server.poll() is not None:
            raise TargetError(f"exited during the run: {log_tail(server)}")
    except TargetError as error:
        row.error = str(error)
    finally:
        ctx.procs.stop(server)
        ctx.procs.stop(redis)
    return row


def add_ratios(rows: list[Row]) -> tuple[float | None, float | None]:
    """Compare every row with Prism's best: its lowest CPU per request, highest requests/s.

    Both ratios read "times better than Prism": Prism's CPU / the row's CPU, and the
    row's requests/s / Prism's requests/s.
    """
    prism = [row for row in rows if row.group == "prism" and row.measured]
    cpus = [c for row in prism if (c := row.median("cpu_us_per_request"))]
    rates = [r for row in prism if (r := row.median("requests_per_s"))]
    best_cpu = min(cpus) if cpus else None
    best_rps = max(rates) if rates else None
    for row in rows:
        cpu, rps = row.median("cpu_us_per_request"), row.median("requests_per_s")
        row.cpu_ratio = best_cpu / cpu if best_cpu and cpu else None
        row.rps_ratio = rps / best_rps if best_rps and rps else None
    return best_cpu, best_rps


def measure_startup(ctx: Context, samples: int) -> dict[str, Any]:
    """Process start to the first 200 from /__admin/health, on the default fixtures."""
    times = []
    for _ in range(samples):
        port = free_port()
        argv = [sys.executable, "-m", "capmock", "serve", "--host", HOST, "--port", str(port)]
        start = time.perf_counter()
        server = ctx.procs.start("capmock-startup", argv, python_env())
        try:
            wait_until(
                server,
                lambda port=port: request(port, "GET", "/__admin/health", timeout=1)[0] == 200,
                timeout=60,
                interval=0.002,
            )
            times.append(time.perf_counter() - start)
        finally:
            ctx.procs.stop(server)
    return {
        "fixtures": str(default_fixtures()),
        "seconds": times,
        "median_s": statistics.median(times),
    }


def time_check(path: Path, samples: int) -> dict[str, Any]:
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "capmock", "check", str(path)],
            capture_output=True,
            text=True,
            env=python_env(),
            cwd=SOURCE,
            timeout=600,
            check=False,
        )
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise TargetError(f"capmock check {path.name} failed: {result.stderr.strip()[-300:]}")
    return {"file": path.name, "seconds": times, "median_s": statistics.median(times)}


def measure_fixture_load(ctx: Context, customers: int, samples: int) -> dict[str, Any]:
    """Wall time of ``capmock check`` on big fixtures; the default file gives the baseline
    (interpreter start and imports), so the difference is about the loading itself."""
    json_path, yaml_path = write_big_fixtures(ctx.tmp, customers)
    baseline = time_check(default_fixtures(), samples)
    results = {"customers": customers, "baseline": baseline}
    for kind, path in (("json", json_path), ("yaml", yaml_path)):
        timing = time_check(path, samples)
        timing["size_mib"] = path.stat().st_size / 2**20
        timing["minus_baseline_s"] = timing["median_s"] - baseline["median_s"]
        results[kind] = timing
    return results


# --- output ---------------------------------------------------------------------------

COLUMNS = (
    "target",
    "req/s",
    "p50 ms",
    "p99 ms",
    "CPU µs/req",
    "RSS MiB",
    "CPU x Prism",
    "req/s x Prism",
    "notes",
)


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def table_rows(rows: list[Row]) -> list[tuple[str, ...]]:
    lines = []
    for row in rows:
        if row.skipped or row.error:
            lines.append((row.name, *["-"] * 7, row.skipped or f"FAILED: {row.error}"))
            continue
        lines.append(
            (
                row.name,
                _num(row.median("requests_per_s")),
                _num(row.median("p50_ms"), 2),
                _num(row.median("p99_ms"), 2),
                _num(row.median("cpu_us_per_request")),
                _num(row.rss_mib, 1),
                _ratio(row.cpu_ratio),
                _ratio(row.rps_ratio),
                "; ".join([row.what, *row.notes]),
            )
        )
    return lines


def print_markdown(title: str, rows: list[Row]) -> None:
    """The table as Markdown, for benchmarks/README.md."""
    print(f"{title}\n")
    print("| " + " | ".join(COLUMNS) + " |")
    print(
        "|"
        + "|".join("---" if i in (0, len(COLUMNS) - 1) else "--:" for i in range(len(COLUMNS)))
        + "|"
    )
    for line in table_rows(rows):
        print("| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |")
    print()


def print_table(title: str, rows: list[Row]) -> None:
    lines = table_rows(rows)
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(title)
        widths = [max(len(c), *(len(line[i]) for line in lines)) for i, c in enumerate(COLUMNS)]
        for line in (COLUMNS, tuple("-" * w for w in widths), *lines):
            cells = [
                cell.ljust(width) if i in (0, len(COLUMNS) - 1) else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(line, widths, strict=True))
            ]
            print("  ".join(cells).rstrip())
        return
    table = Table(title=title, title_justify="left")
    for i, column in enumerate(COLUMNS):
        justify = "left" if i in (0, len(COLUMNS) - 1) else "right"
        table.add_column(column, justify=justify, overflow="fold")
    for line in lines:
        table.add_row(*line)
    Console(width=max(shutil.get_terminal_size().columns, 160)).print(table)


def print_extras(extras: dict[str, Any]) -> None:
    if startup := extras.get("startup"):
        seconds = ", ".join(f"{s * 1000:.0f}" for s in startup["seconds"])
        print(
            f"capmock startup to first 200 from /__admin/health (default fixtures): "
            f"median {startup['median_s'] * 1000:.0f} ms of [{seconds}] ms"
        )
    if load := extras.get("fixture-load"):
        base = load["baseline"]
        print(
            f"capmock check, wall time, median of {len(base['seconds'])}: "
            f"default.yaml {base['median_s']:.2f} s (interpreter + imports)"
        )
        for kind in ("json", "yaml"):
            timing = load[kind]
            print(
                f"  {load['customers']:,} customers, {kind.upper()} "
                f"({timing['size_mib']:.1f} MiB): {timing['median_s']:.2f} s, "
                f"{timing['minus_baseline_s']:.2f} s over the baseline"
            )
    for name, error in extras.get("errors", {}).items():
        print(f"{name}: FAILED: {error}")


# --- the command ----------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    names = [target.name for target in all_targets(2, 2)] + list(EXTRAS)
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__.split("\n\n")[0],
        epilog="targets and measurements (for --only): " + ", ".join(names),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per run (10)")
    parser.add_argument(
        "--warmup",
        type=int,
        default=5,
        help="seconds of unmeasured load first, for JITs and caches (5)",
    )
    parser.add_argument("--connections", type=int, default=32, help="wrk -c (32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t (2)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per target; the table shows medians (1)"
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="capmock --workers N rows (nproc)"
    )
    parser.add_argument(
        "--spread",
        type=int,
        default=1000,
        metavar="N",
        help="customers the *-spread rows deduct from, one at random per request (1000)",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only these (repeatable, comma-separated, shell patterns: 'capmock*')",
    )
    parser.add_argument(
        "--samples", type=int, default=3, help="startup and fixture-load samples (3)"
    )
    parser.add_argument(
        "--customers", type=int, default=100_000, help="customers in the big fixture (100000)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    parser.add_argument(
        "--markdown", action="store_true", help="print the table as Markdown (for a README)"
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=ROOT,
        metavar="DIR",
        help="the checkout whose capmock is measured (default: this one)",
    )
    args = parser.parse_args(argv)
    if min(args.duration, args.connections, args.threads, args.repeat, args.samples) <= 0:
        parser.error("--duration, --connections, --threads, --repeat, --samples must be > 0")
    if args.spread <= 0:
        parser.error("--spread must be > 0")
    if args.warmup < 0:
        parser.error("--warmup must be >= 0")
    if args.threads > args.connections:
        parser.error("wrk needs --connections >= --threads")
    patterns = [p.strip() for value in args.only or ["*"] for p in value.split(",") if p.strip()]
    for pattern in patterns:
        if not fnmatch.filter(names, pattern):
            parser.error(f"--only {pattern} matches nothing; choose from {', '.join(names)}")
    args.selected = {name for name in names if any(fnmatch.fnmatch(name, p) for p in patterns)}
    args.source = args.source.resolve()
    if not (args.source / "capmock" / "cli.py").is_file():
        parser.error(f"--source {args.source} has no capmock/cli.py")
    return args


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM and SIGINT (even where a shell ignored it) unwind the harness, so every
    finally block stops what it started."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    global SOURCE
    args = parse_args(argv)
    SOURCE = args.source
    needs_wrk = bool(args.selected.difference(EXTRAS))
    if needs_wrk and shutil.which("wrk") is None:
        print(INSTALL_HINT, file=sys.stderr)
        return EXIT_USAGE
    with (
        sigterm_as_interrupt(),
        tempfile.TemporaryDirectory(prefix="capmock-bench-") as tmp_name,
    ):
        tmp = Path(tmp_name)
        procs = Processes(tmp)
        try:
            return run(args, tmp, procs)
        except KeyboardInterrupt:
            print("\ninterrupted: stopping every server started", file=sys.stderr)
            return 130
        finally:
            procs.stop_all()


def run(args: argparse.Namespace, tmp: Path, procs: Processes) -> int:
    fixtures = tmp / "bench-fixtures.json"
    fixtures.write_text(json.dumps(bench_fixture(), indent=1))
    lua = tmp / "deduct.lua"
    lua.write_text(lua_script("POST", BODY, HEADERS))
    spread_fixtures = tmp / f"bench-fixtures-{args.spread}.json"
    spread_fixtures.write_text(json.dumps(bench_fixture(args.spread), indent=1))
    spread_lua = tmp / "deduct-spread.lua"
    spread_lua.write_text(
        lua_spread_script("POST", BODY, HEADERS, PATH_TEMPLATE, USER_ID, args.spread)
    )
    spec_without_security(tmp)
    ctx = Context(
        tmp=tmp,
        procs=procs,
        args=args,
        fixtures=fixtures,
        lua=lua,
        spread_fixtures=spread_fixtures,
        spread_lua=spread_lua,
    )

    environment = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "loadavg_before": os.getloadavg(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "wrk": tool_version(["wrk", "--version"]),
        "source": str(SOURCE),
        "settings": {
            key: getattr(args, key)
            for key in (
                "duration",
                "warmup",
                "connections",
                "threads",
                "repeat",
                "workers",
                "spread",
            )
        },
        "request": {"method": "POST", "path": PATH, "body": BODY},
        "spread_path": PATH_TEMPLATE.replace(
            "{userId}", f"{{{USER_ID}..{USER_ID + args.spread - 1}}}"
        ),
    }
    print(
        f"{environment['cpus']} CPUs, load average {environment['loadavg_before'][0]:.2f}; "
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s after "
        f"{args.warmup:g} s warm-up, {args.repeat} run(s) per target",
        flush=True,
    )

    help_text = serve_help()
    rows: list[Row] = []
    prism_checked: str | None = None
    for target in all_targets(args.workers, args.spread):
        if target.name not in args.selected:
            continue
        row = Row(target.name, target.group, target.what)
        row.skipped = skip_reason(target, help_text)
        if not row.skipped and target.group == "prism":
            try:
                prism_checked = prism_checked or ensure_prism()
                environment["prism"] = prism_checked
            except (TargetError, subprocess.TimeoutExpired) as error:
                row.skipped = f"skipped: Prism could not be installed: {error}"
        if not row.skipped:
            print(f"measuring {target.name} ...", flush=True)
            row = measure(target, ctx)
            if row.error:
                print(f"  {target.name} failed: {row.error}", file=sys.stderr, flush=True)
        rows.append(row)
    best_cpu, best_rps = add_ratios(rows)

    extras: dict[str, Any] = {"errors": {}}
    if "startup" in args.selected:
        print("measuring capmock startup ...", flush=True)
        try:
            extras["startup"] = measure_startup(ctx, args.samples)
        except TargetError as error:
            extras["errors"]["startup"] = str(error)
    if "fixture-load" in args.selected:
        print(f"measuring the load of {args.customers:,} customers ...", flush=True)
        try:
            extras["fixture-load"] = measure_fixture_load(ctx, args.customers, args.samples)
        except (TargetError, subprocess.TimeoutExpired) as error:
            extras["errors"]["fixture-load"] = str(error)
    environment["loadavg_after"] = os.getloadavg()

    print()
    if rows:
        title = (
            f"wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s, "
            f"median of {args.repeat}; x Prism = times better than Prism's best "
            f"({_num(best_cpu)} µs/req, {_num(best_rps)} req/s)"
        )
        (print_markdown if args.markdown else print_table)(title, rows)
    print_extras(extras)
    print(f"load average after: {environment['loadavg_after'][0]:.2f}")

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "environment": environment,
            "prism_best": {"cpu_us_per_request": best_cpu, "requests_per_s": best_rps},
            "targets": [row.as_dict() for row in rows],
            **{key: value for key, value in extras.items() if key != "errors"},
            "errors": extras["errors"],
        }
        args.json.write_text(json.dumps(document, indent=2, default=str) + "\n")
        print(f"results written to {args.json}")

    failed = [
        row.name
        for row in rows
        if row.group == "capmock" and (row.error or (row.measured and row.non_2xx))
    ]
    if failed or extras["errors"]:
        print(f"failed: {', '.join(failed + list(extras['errors']))}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

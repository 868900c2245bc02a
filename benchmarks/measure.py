"""One target under load: start it (and its redis-server), check a sample answer, warm it,
drive it with wrk ``repeat`` times while sampling its process tree's CPU, stop it."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from benchmarks import usage, wrk
from benchmarks.processes import Process, Processes, TargetError, free_port, wait_until
from benchmarks.report import Row, Run
from benchmarks.targets import Target
from benchmarks.workload import BODY, HEADERS, HOST, PATH, Inputs, Load

CONSOLE_POLL = "/__admin/requests?limit=100"
"""What an open console asks the mock once a second (mock_server/console/static/console.js)."""


def request(
    port: int,
    method: str,
    path: str,
    body: str | None = None,
    timeout: float = 5.0,
    headers: dict[str, str] | None = None,
) -> tuple[int, str]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        sent = {**(HEADERS if body is not None else {}), **(headers or {})}
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        connection.close()


def settle(pid: int, timeout: float = 5.0) -> None:
    """Wait until the tree is idle (e.g. extra workers done booting) before measuring."""
    deadline = time.monotonic() + timeout
    before = usage.cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.25)
        after = usage.cpu_seconds(pid)
        if after - before <= 0.01:
            return
        before = after


def run_wrk(load: Load, port: int, seconds: int, script: Path) -> wrk.WrkResult:
    argv = wrk.command(
        f"http://{HOST}:{port}{PATH}",
        script,
        threads=load.threads,
        connections=load.connections,
        seconds=seconds,
    )
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
        return wrk.parse(out)
    except wrk.WrkOutputError as error:
        raise TargetError(str(error)) from None


def start_redis(procs: Processes, inputs: Inputs) -> tuple[Process, str]:
    port = free_port()
    argv = ["redis-server", "--bind", HOST, "--port", str(port), "--save", ""]
    argv += ["--appendonly", "no", "--dir", str(inputs.tmp), "--daemonize", "no"]
    process = procs.start(f"redis-{port}", argv)

    def pong() -> bool:
        with socket.create_connection((HOST, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    wait_until(process, pong, timeout=20, interval=0.05)
    return process, f"redis://{HOST}:{port}/0"


def measured_run(load: Load, port: int, script: Path, server: int, redis: int | None) -> Run:
    """One wrk run of ``load.duration`` seconds, and the CPU the machine spent meanwhile."""
    settle(server)
    cpu_before = usage.cpu_seconds(server)
    redis_before = usage.cpu_seconds(redis) if redis else 0.0
    machine_before, steal_before = usage.machine_cpu()
    wrk_before = usage.reaped_children_cpu()
    start = time.perf_counter()
    result = run_wrk(load, port, load.duration, script)
    wall = time.perf_counter() - start
    cpu = usage.cpu_seconds(server) - cpu_before
    redis_cpu = usage.cpu_seconds(redis) - redis_before if redis else None
    machine_after, steal_after = usage.machine_cpu()
    wrk_cpu = usage.reaped_children_cpu() - wrk_before
    others = machine_after - machine_before - cpu - wrk_cpu - (redis_cpu or 0.0)
    return Run(
        load=result,
        server_cpu_s=cpu,
        wrk_cpu_s=wrk_cpu,
        other_processes_cores=max(others, 0.0) / wall,
        steal_cores=(steal_after - steal_before) / wall,
        redis_cpu_s=redis_cpu,
    )


@contextmanager
def console_open(port: int) -> Iterator[None]:
    """The console's polling, from a thread, while the block runs: the next poll a second
    after the last one answered, as the page does. A poll that fails fails the row."""
    stop = threading.Event()
    failures: list[str] = []

    def poll() -> None:
        while not stop.wait(1.0):
            try:
                status, text = request(port, "GET", CONSOLE_POLL, timeout=30)
            except OSError as error:
                status, text = 0, str(error)
            if status != 200:
                failures.append(f"GET {CONSOLE_POLL} answered {status}: {text[:200]}")
                return

    thread = threading.Thread(target=poll, name="console", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
    if failures:
        raise TargetError(failures[0])


def session_script(port: int, inputs: Inputs, name: str) -> tuple[dict[str, str], Path]:
    """Open a session on the target; its header, and a wrk script that sends it."""
    status, text = request(port, "POST", "/__admin/sessions", "{}")
    if status != 201:
        raise TargetError(f"POST /__admin/sessions answered {status}: {text[:200]}")
    extra = {"X-Capmock-Session": json.loads(text)["id"]}
    script = inputs.tmp / f"{name}.lua"
    script.write_text(wrk.lua_script("POST", BODY, {**HEADERS, **extra}))
    return extra, script


def measure(target: Target, inputs: Inputs, procs: Processes, load: Load, warmup: int) -> Row:
    """Start ``target``, warm it for ``warmup`` seconds, measure it; its row, failed or not."""
    row = Row(target.name, target.group, target.what, must_succeed=target.must_succeed)
    server = redis = None
    try:
        redis_url = None
        if target.redis:
            redis, redis_url = start_redis(procs, inputs)
        port = free_port()
        row.command = target.argv(inputs, port, redis_url)
        server = procs.start(target.name, row.command, target.env(inputs))

        def ready() -> bool:
            if target.health:
                return request(port, "GET", target.health)[0] == 200
            request(port, "POST", PATH, BODY)
            return True

        wait_until(server, ready, target.ready_timeout, interval=0.05)
        script = inputs.spread_lua if target.spread else inputs.lua
        extra: dict[str, str] = {}
        if target.session:
            extra, script = session_script(port, inputs, target.name)
        row.sample_status, sample = request(port, "POST", PATH, BODY, headers=extra)
        if target.must_succeed and row.sample_status != 200:
            raise TargetError(f"the sample deduction answered {row.sample_status}: {sample[:200]}")
        with console_open(port) if target.console else nullcontext():
            if warmup > 0:
                run_wrk(load, port, warmup, script)
            for _ in range(load.repeat):
                row.runs.append(
                    measured_run(load, port, script, server.pid, redis.pid if redis else None)
                )
        row.rss_mib = usage.rss_bytes(server.pid) / 2**20
        if server.exited():
            raise TargetError(f"exited during the run: {server.tail()}")
    except TargetError as error:
        row.error = str(error)
    finally:
        procs.stop(server)
        procs.stop(redis)
    return row

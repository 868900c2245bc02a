"""The timings besides the table: capmock's startup, and the load of a big fixture."""

from __future__ import annotations

import functools
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.measure import request
from benchmarks.processes import Processes, TargetError, free_port, wait_until
from benchmarks.workload import HOST, PASSWORD, USERNAME, Inputs

NAMES = ("startup", "fixture-load", "session-create")
SESSIONS = 50


def measure_startup(procs: Processes, inputs: Inputs, samples: int) -> dict[str, Any]:
    """Process start to the first 200 from /__admin/health, on the default fixtures."""
    times = []
    for _ in range(samples):
        port = free_port()
        argv = [sys.executable, "-m", "capmock", "serve", "--host", HOST, "--port", str(port)]
        start = time.perf_counter()
        server = procs.start("capmock-startup", argv, inputs.python_env())
        try:
            wait_until(server, functools.partial(healthy, port), timeout=60, interval=0.002)
            times.append(time.perf_counter() - start)
        finally:
            procs.stop(server)
    return {
        "fixtures": str(inputs.default_fixtures),
        "seconds": times,
        "median_s": statistics.median(times),
    }


def measure_session_creation(procs: Processes, inputs: Inputs, customers: int) -> dict[str, Any]:
    """Wall time of ``POST /__admin/sessions`` (HTTP round trip included), on a mock
    serving ``customers`` customers and on the default fixtures: a session copies nothing,
    so the two should not differ."""
    json_path, _ = write_big_fixtures(inputs.tmp, customers)
    return {
        "customers": customers,
        "big": _time_sessions(procs, inputs, json_path),
        "default": _time_sessions(procs, inputs, inputs.default_fixtures),
    }


def _time_sessions(procs: Processes, inputs: Inputs, fixtures: Path) -> dict[str, Any]:
    port = free_port()
    argv = [sys.executable, "-m", "capmock", "serve", "--host", HOST, "--port", str(port)]
    argv += ["--fixtures", str(fixtures), "--max-sessions", str(SESSIONS + 1)]
    server = procs.start("capmock-sessions", argv, inputs.python_env())
    try:
        wait_until(server, functools.partial(healthy, port), timeout=300, interval=0.05)
        times = []
        for _ in range(SESSIONS):
            start = time.perf_counter()
            status, text = request(port, "POST", "/__admin/sessions", "{}")
            times.append(time.perf_counter() - start)
            if status != 201:
                raise TargetError(f"POST /__admin/sessions answered {status}: {text[:200]}")
    finally:
        procs.stop(server)
    return {
        "fixtures": fixtures.name,
        "seconds": times,
        "median_s": statistics.median(times),
        "max_s": max(times),
    }


def healthy(port: int) -> bool:
    return request(port, "GET", "/__admin/health", timeout=1)[0] == 200


def measure_fixture_load(inputs: Inputs, customers: int, samples: int) -> dict[str, Any]:
    """Wall time of ``capmock check`` on big fixtures; the default file gives the baseline
    (interpreter start and imports), so the difference is about the loading itself."""
    json_path, yaml_path = write_big_fixtures(inputs.tmp, customers)
    baseline = time_check(inputs, inputs.default_fixtures, samples)
    results: dict[str, Any] = {"customers": customers, "baseline": baseline}
    for kind, path in (("json", json_path), ("yaml", yaml_path)):
        timing = time_check(inputs, path, samples)
        timing["size_mib"] = path.stat().st_size / 2**20
        timing["minus_baseline_s"] = timing["median_s"] - baseline["median_s"]
        results[kind] = timing
    return results


def time_check(inputs: Inputs, path: Path, samples: int) -> dict[str, Any]:
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "capmock", "check", str(path)],
            capture_output=True,
            text=True,
            env=inputs.python_env(),
            cwd=inputs.source,
            timeout=600,
            check=False,
        )
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise TargetError(f"capmock check {path.name} failed: {result.stderr.strip()[-300:]}")
    return {"file": path.name, "seconds": times, "median_s": statistics.median(times)}


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

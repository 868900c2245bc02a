"""The ``capmock`` command as a user runs it: a real process on a real port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from support import basic_header

ROOT = Path(__file__).resolve().parents[1]


def capmock(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "capmock", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_help_teaches_with_examples():
    result = capmock("serve", "--help")
    assert result.returncode == 0
    assert "capmock serve --fixtures my-world.yaml" in result.stdout
    assert "--admin-token" in result.stdout


def test_check_reports_a_good_file():
    result = capmock("check", str(ROOT / "fixtures" / "default.yaml"))
    assert result.returncode == 0
    assert "OK, 2 programs, 5 customers" in result.stdout


def test_check_names_the_file_place_and_problem(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("programs:\n  - id: 1\n    name: P\n    roundDecimals: 7\ncustomers: []\n")
    result = capmock("check", str(bad))
    assert result.returncode == 2
    assert str(bad) in result.stderr and "programs[0].roundDecimals" in result.stderr
    assert "line 4" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_a_bad_fixture_file_without_a_traceback(tmp_path: Path):
    result = capmock("serve", "--fixtures", str(tmp_path / "missing.yaml"))
    assert result.returncode == 2
    assert "missing.yaml" in result.stderr and "Traceback" not in result.stderr


def test_serve_teaches_its_limits_and_refuses_a_bad_size():
    result = capmock("serve", "--help")
    for option in ("--max-body-size", "--max-fixture-size", "--max-header-size",
                   "--keep-alive", "--request-timeout", "--max-connections"):  # fmt: skip
        assert option in result.stdout
    assert "capmock serve --max-body-size 1MiB" in result.stdout
    refused = capmock("serve", "--max-body-size", "lots", "--port", str(free_port()))
    assert refused.returncode == 2
    assert "'lots' is not a size (examples: 65536, 64KiB, 16MiB)" in refused.stderr


def test_serve_beyond_loopback_needs_an_admin_token():
    result = capmock("serve", "--host", "0.0.0.0", "--port", str(free_port()))
    assert result.returncode == 2
    assert "--admin-token" in result.stderr


def test_serve_reports_a_port_in_use():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = capmock("serve", "--port", str(port))
    assert result.returncode == 1
    assert f"127.0.0.1:{port}" in result.stderr and "in use" in result.stderr


def test_serve_starts_on_the_default_fixtures_and_answers():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "capmock", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/__admin/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "the mock did not start"
            time.sleep(0.1)
        response = httpx.post(
            f"{url}/v2/customers/388034468/negativePointsAdjustment?source=INSTORE",
            json={"pointsToBeAdjusted": "10", "reasonOfReturn": "Extra points were issued"},
            headers={"Authorization": basic_header("store.server", "server123")},
        )
        assert response.json()["pointsAvailable"] == "670.000"
        assert httpx.get(f"{url}/ui/").status_code == 200
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert "2 programs, 5 customers" in out
    assert f"http://127.0.0.1:{port}/ui/" in out


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_top_level_flags(args):
    result = capmock(*args)
    assert result.returncode == 0 and "capmock" in result.stdout

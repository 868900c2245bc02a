"""The ``capmock`` command as a user runs it: a real process on a real port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import yaml
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
    assert result.stderr.startswith("capmock check: the fixtures were refused:")
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
    assert result.stderr.startswith(f"capmock serve: cannot listen on 127.0.0.1:{port}: ")
    assert "the port is in use" in result.stderr


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


@pytest.mark.parametrize("args", [["--version"], ["--help"], []])
def test_top_level_flags(args):
    result = capmock(*args)
    assert result.returncode == 0 and "capmock" in result.stdout


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["serve", "--prot", "1"], "capmock serve: No such option '--prot'"),
        (["serve", "--port", "99999"], "capmock serve: Invalid value for '--port'"),
        (["srve"], "capmock: No such command 'srve'"),
        (["test", "--max-examples", "0"], "capmock test: Invalid value for '--max-examples'"),
        (["check"], "capmock check: Missing argument 'FIXTURES_PATH'"),
        (["serve", "--host", "0.0.0.0"], "capmock serve: --host 0.0.0.0 is reachable"),
    ],
)
def test_usage_errors_name_the_subcommand_then_say_where_help_is(args, problem):
    result = capmock(*args)
    assert result.returncode == 2
    first, hint = result.stderr.splitlines()[:2]
    assert first.startswith(problem), result.stderr
    assert hint == f"Try '{problem.split(':')[0]} --help' for help."
    assert "Error:" not in result.stderr and "Usage:" not in result.stderr


def test_a_missing_sqlite_folder_is_named(tmp_path: Path):
    result = capmock("serve", "--port", "0", "--store", "sqlite:///nodir/x.db")
    assert result.returncode == 2
    assert result.stderr.startswith("capmock serve: cannot use the store sqlite:///nodir/x.db: ")
    assert "nodir does not exist: create it first" in result.stderr


def start(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "capmock", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def wait_for_port_file(path: Path, process: subprocess.Popen) -> int:
    deadline = time.monotonic() + 20
    while not path.exists():
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        assert time.monotonic() < deadline, "no port file"
        time.sleep(0.05)
    return int(path.read_text())


def stop(process: subprocess.Popen) -> str:
    process.terminate()
    out, _ = process.communicate(timeout=10)
    return out


@pytest.mark.parametrize("workers", ["1", "2"])
def test_port_0_prints_and_writes_the_real_port(tmp_path: Path, workers: str):
    store = ["--store", f"sqlite:///{tmp_path / 'state.db'}"] if workers == "2" else []
    port_file = tmp_path / "capmock.port"
    process = start(
        "--port", "0", "--port-file", str(port_file), "--workers", workers, *store, cwd=tmp_path
    )
    try:
        port = wait_for_port_file(port_file, process)
        assert port > 0
        health = httpx.get(f"http://127.0.0.1:{port}/__admin/health", timeout=20)
        assert health.json()["status"] == "ok"
    finally:
        out = stop(process)
    assert f"http://127.0.0.1:{port}/ui/" in out
    assert ":0/" not in out


def test_access_log_logs_each_request_and_is_off_by_default(tmp_path: Path):
    logs = {}
    for flag in ("--access-log", "--no-access-log"):
        port_file = tmp_path / f"{flag}.port"
        process = start("--port", "0", "--port-file", str(port_file), flag, cwd=tmp_path)
        try:
            port = wait_for_port_file(port_file, process)
            assert httpx.get(f"http://127.0.0.1:{port}/__admin/health").status_code == 200
        finally:
            logs[flag] = stop(process)
    assert '"GET /__admin/health HTTP/1.1" 200' in logs["--access-log"]
    assert "/__admin/health HTTP" not in logs["--no-access-log"]


def test_the_clear_password_hint_is_logged_by_default(tmp_path: Path):
    port_file = tmp_path / "capmock.port"
    process = start("--port", "0", "--port-file", str(port_file), cwd=tmp_path)
    try:
        port = wait_for_port_file(port_file, process)
        response = httpx.post(
            f"http://127.0.0.1:{port}/v2/customers/388034468/negativePointsAdjustment",
            params={"source": "INSTORE"},
            json={"pointsToBeAdjusted": "10", "reasonOfReturn": "Extra points were issued"},
            auth=("store.server", "server123"),
        )
    finally:
        out = stop(process)
    assert response.status_code == 401
    assert response.headers["X-Capmock-Hint"] == "the password must be sent as md5hex(password)"
    (line,) = [line for line in out.splitlines() if "md5hex(password)" in line]
    assert line.startswith("WARNING:") and "store.server" in line


def test_init_writes_starter_files_that_serve_and_describe_each_other(tmp_path: Path):
    from contract_tests.derive import derive_profile
    from contract_tests.profile import load_profile

    result = capmock("init", str(tmp_path))
    assert result.returncode == 0, result.stderr
    fixtures = tmp_path / "capmock-fixtures.yaml"
    profile = tmp_path / "capmock-profile.yaml"
    assert f"capmock serve --fixtures {fixtures}" in result.stdout

    checked = capmock("check", str(fixtures))
    assert checked.returncode == 0 and "OK, 2 programs, 5 customers" in checked.stdout
    text = fixtures.read_text()
    assert text.startswith("# Starter fixtures written by `capmock init`")
    assert "yaml-language-server" not in text
    assert text.count("#") > 40  # the default world's comments came along

    # what capmock test would derive from the mock serving the fixtures, but for which
    # source the customer is not in (any such source will do)
    written = replace(load_profile(profile), origin="", base_url=None, other_source=None)
    derived = replace(derive_profile(yaml.safe_load(text), ""), other_source=None)
    assert written == derived


def test_init_refuses_to_overwrite_without_force(tmp_path: Path):
    mine = tmp_path / "capmock-fixtures.yaml"
    mine.write_text("my own world\n")
    result = capmock("init", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith(f"capmock init: {mine} already exists: --force overwrites")
    assert mine.read_text() == "my own world\n"
    assert not (tmp_path / "capmock-profile.yaml").exists()

    forced = capmock("init", str(tmp_path), "--force")
    assert forced.returncode == 0
    assert mine.read_text().startswith("# Starter fixtures")


def test_init_writes_to_the_current_folder_by_default(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "capmock", "init"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "capmock-fixtures.yaml",
        "capmock-profile.yaml",
    ]

"""Safety of the contract suite on live systems, and its command line.

A non-loopback target needs a profile, gets only requests the contract says must be
refused, and never sees /__admin; a dry run sends nothing; the exit codes hold.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from support import LiveMock, start_server

from contract_tests import documented, schema_run
from contract_tests.limits import BudgetExhaustedError, Limits, parse_rate
from contract_tests.options import Options, UsageError, build_target
from contract_tests.profile import DEFAULT_PROFILE, ProfileError, load_profile
from contract_tests.runner import run
from contract_tests.target import Target, UnsafeRequestError
from mock_server.app import create_app
from mock_server.data import DEFAULT_FIXTURES
from mock_server.fixtures import load_fixtures

ROOT = Path(__file__).resolve().parent.parent
REMOTE = "http://192.0.2.10"  # TEST-NET-1: never routed, so nothing can leave by mistake
# Targets are built as for --dry-run, which skips the TCP reachability probe.


def capmock(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "capmock", "test", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_a_remote_target_needs_a_profile() -> None:
    with pytest.raises(UsageError, match="--profile"):
        build_target(Options(base_url=REMOTE), REMOTE)


def test_a_remote_target_is_read_only_without_allow_writes() -> None:
    target = build_target(Options(profile=DEFAULT_PROFILE, dry_run=True), REMOTE)
    assert not target.writes_allowed
    assert not target.admin
    assert schema_run.user_id_for(target) == target.profile.unknown_customer_id


def test_allow_writes_with_a_profile_writes_to_the_test_customer_only() -> None:
    target = build_target(Options(profile=DEFAULT_PROFILE, allow_writes=True, dry_run=True), REMOTE)
    assert target.writes_allowed
    assert schema_run.user_id_for(target) == target.profile.user_id


def test_a_write_is_refused_before_anything_is_sent() -> None:
    target = Target(REMOTE, load_profile(DEFAULT_PROFILE))
    with pytest.raises(UnsafeRequestError):
        target.send("POST", "/v2/customers/1/negativePointsAdjustment", body={}, writes=True)
    assert target.limits.sent == 0


def test_admin_api_is_never_called_beyond_loopback() -> None:
    target = Target(REMOTE, load_profile(DEFAULT_PROFILE), admin=True)
    with pytest.raises(UnsafeRequestError):
        target.reset()


@pytest.fixture
def fresh_mock() -> Iterator[LiveMock]:
    import httpx

    server, thread, url = start_server(create_app(load_fixtures(DEFAULT_FIXTURES)))
    with httpx.Client(base_url=url, timeout=10) as client:
        yield LiveMock(url=url, clock=None, client=client)  # type: ignore[arg-type]
    server.should_exit = True
    thread.join(5)


def test_a_read_only_run_changes_no_balance(fresh_mock: LiveMock) -> None:
    """Everything a read-only run sends, sent to our mock: not one deduction lands."""
    profile = load_profile(DEFAULT_PROFILE)
    target = Target(fresh_mock.url, profile)
    for case in documented.error_cases(profile):
        assert not case.writes
        case.run(target)
    for phase in schema_run.PHASES:
        schema_run.run_phase(target, phase, max_examples=20, seed=1)
    fixtures = fresh_mock.client.get("/__admin/fixtures").json()
    for customer in fixtures["customers"]:
        view = fresh_mock.client.get(f"/__admin/customers/{customer['userId']}").json()
        assert view["ledger"] == [], customer["userId"]


def test_dry_run_lists_every_test_and_sends_nothing() -> None:
    console = Console(record=True, width=200)
    code = run(Options(base_url=REMOTE, profile=DEFAULT_PROFILE, dry_run=True), console=console)
    text = console.export_text()
    assert code == 0
    assert "test_documented[8015-the-profile-s-unknown-customer]" in text
    assert "test_model  (not run: writes not allowed)" in text
    assert "test_schema[stateful]" in text
    assert "curl" not in text


def test_a_bad_profile_names_the_file_and_the_place(tmp_path: Path) -> None:
    bad = tmp_path / "org.yaml"
    bad.write_text(DEFAULT_PROFILE.read_text().replace("roundDecimals: 2", "roundDecimals: 7"))
    with pytest.raises(ProfileError, match=r"org\.yaml: line \d+: program\.roundDecimals: 7"):
        load_profile(bad)


def test_usage_errors_exit_2() -> None:
    assert capmock("--base-url", REMOTE, "--dry-run").returncode == 2
    assert capmock("--base-url", "http://127.0.0.1:9").returncode == 2  # nothing listens
    assert capmock("--auth", "no-colon", "--dry-run").returncode == 2
    assert capmock("--rate-limit", "fast", "--dry-run").returncode == 2


def test_a_healthy_target_exits_0_and_writes_junit(tmp_path: Path) -> None:
    result = capmock("--max-examples", "3", "--seed", "1", "--junit", str(tmp_path / "j.xml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failed" in result.stdout
    assert (tmp_path / "j.xml").read_text().count("<testcase") >= 40


def test_the_request_budget_is_never_exceeded() -> None:
    limits = Limits(max_requests=3)
    for _ in range(3):
        limits.acquire()
    with pytest.raises(BudgetExhaustedError):
        limits.acquire()
    assert limits.sent == 3


@pytest.mark.parametrize(("text", "per_second"), [("10/s", 10.0), ("600/m", 10.0), ("2", 2.0)])
def test_rates_are_read_per_second(text: str, per_second: float) -> None:
    assert parse_rate(text) == per_second


def test_a_spent_budget_leaves_tests_not_run_without_failing() -> None:
    result = capmock("--max-requests", "40", "--max-examples", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "--max-requests" in result.stdout
    assert re.search(r"0 failed, [1-9][0-9]* not run", result.stdout)

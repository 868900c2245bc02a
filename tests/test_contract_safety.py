"""Safety of the contract suite on live systems.

A live target (beyond loopback, or with --live) needs a profile, never sees /__admin,
and, without --allow-writes, gets no request that could move a balance even if it
accepted every one: a lenient server that deducts whatever it is sent keeps an empty
ledger. With --allow-writes only the test customer loses points.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from broken_servers import LenientServer
from rich.console import Console

from contract_tests import schema_run, spec
from contract_tests.limits import BudgetExhaustedError, Limits, parse_rate
from contract_tests.options import Options, UsageError
from contract_tests.plans.listing import collected_cases, plan
from contract_tests.profile import DEFAULT_PROFILE, ProfileError, load_profile
from contract_tests.reach import UnsafeRequestError
from contract_tests.runner import run
from contract_tests.session import build_target
from contract_tests.target import Target

ROOT = Path(__file__).resolve().parent.parent
REMOTE = "http://192.0.2.10"  # TEST-NET-1: never routed, so nothing can leave by mistake
# Targets are built as for --dry-run, which skips the TCP reachability probe.
PROFILE = load_profile(DEFAULT_PROFILE)
TEST_CUSTOMER = PROFILE.user_id


def capmock(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "capmock", "test", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
        check=False,
    )


def test_a_remote_target_needs_a_profile() -> None:
    with pytest.raises(UsageError, match="--profile"):
        build_target(Options(base_url=REMOTE), REMOTE)


def test_live_needs_a_profile_even_on_loopback() -> None:
    with pytest.raises(UsageError, match="with --live give --profile"):
        build_target(Options(live=True, dry_run=True), "http://127.0.0.1:8080")


@pytest.mark.parametrize("url", [REMOTE, "http://127.0.0.1:8080"])
def test_a_live_target_is_read_only_without_allow_writes(url: str) -> None:
    target = build_target(Options(profile=DEFAULT_PROFILE, live=True, dry_run=True), url)
    assert not target.writes_allowed
    assert not target.admin
    assert schema_run.user_id_for(target) == PROFILE.unknown_customer_id


def test_allow_writes_with_a_profile_writes_to_the_test_customer_only() -> None:
    target = build_target(Options(profile=DEFAULT_PROFILE, allow_writes=True, dry_run=True), REMOTE)
    assert target.writes_allowed
    assert schema_run.user_id_for(target) == TEST_CUSTOMER
    with pytest.raises(UnsafeRequestError, match="not the profile's test customer"):
        target.check_safe("POST", "/v2/customers/388034469/negativePointsAdjustment")


def test_a_request_naming_the_test_customer_is_refused_unsent_without_writes() -> None:
    target = Target(REMOTE, PROFILE)
    with pytest.raises(UnsafeRequestError, match="may not write"):
        target.send("PUT", f"/v2/customers/{TEST_CUSTOMER}/negativePointsAdjustment", body={})
    assert target.limits.sent == 0
    for safe in (PROFILE.unknown_customer_id, *spec.WIDE_USER_IDS, "-1", "%0A", "not-a-number"):
        target.check_safe("POST", f"/v2/customers/{safe}/negativePointsAdjustment")


def test_admin_api_is_never_called_beyond_loopback() -> None:
    target = Target(REMOTE, PROFILE, admin=True)
    with pytest.raises(UnsafeRequestError):
        target.reset()


def test_without_writes_no_planned_request_names_a_customer() -> None:
    """What a read-only run plans: every request that will be sent names the unknown
    customer, an id beyond 32 bits, or no customer; the rest are not run."""
    target = build_target(Options(profile=DEFAULT_PROFILE, dry_run=True), REMOTE)
    allowed = {PROFILE.unknown_customer_id, *spec.WIDE_USER_IDS}
    sent = 0
    for cases in collected_cases(target).values():
        for case in cases:
            named = re.match(r"^/v2/customers/([0-9]+)/", case.request.path)
            if case.needs_writes:
                continue
            sent += 1
            assert not case.guarded, case.name
            assert named is None or int(named[1]) in allowed or int(named[1]) >= 2**63, case.name
    assert sent > 40
    not_run = [item.test_id for item in plan(target, Options()) if item.not_run]
    assert "test_model" in not_run
    assert "test_race" in not_run
    assert any(name.startswith("test_documented[8907") for name in not_run)


def _ledger_after(
    served: Callable[[object], str], server: LenientServer, *args: str
) -> subprocess.CompletedProcess[str]:
    url = served(server)
    return capmock(
        *("--base-url", url, "--profile", str(DEFAULT_PROFILE), "--live"),
        *("--max-examples", "3", "--seed", "1", *args),
    )


def test_a_live_run_without_allow_writes_takes_nothing_from_a_lenient_server(
    served: Callable[[object], str],
) -> None:
    """The lenient server deducts from any customer it knows whatever it is sent; a run
    that may not write sends it nothing it could deduct."""
    server = LenientServer()
    result = _ledger_after(served, server)
    assert server.ledger == []
    assert result.returncode == 1, result.stdout + result.stderr  # it accepts what it must refuse
    assert re.search(r"not run +test_model", result.stdout)
    assert "needs --allow-writes" in result.stdout
    assert re.search(r"\d+ passed, [1-9]\d* failed, [1-9]\d* not run", result.stdout)


def test_with_allow_writes_only_the_test_customer_loses_points(
    served: Callable[[object], str],
) -> None:
    server = LenientServer()
    result = _ledger_after(served, server, "--allow-writes", "--race", "3")
    assert result.returncode == 1, result.stdout + result.stderr
    assert server.ledger
    assert {user_id for user_id, _amount in server.ledger} == {TEST_CUSTOMER}


def test_a_target_that_accepts_the_unknown_customer_stops_the_run(
    served: Callable[[object], str],
) -> None:
    server = LenientServer(lookup=False)
    result = _ledger_after(served, server)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        "capmock test: the target accepted a deduction for the profile's unknown customer "
        "999999999 (HTTP 200)"
    )
    assert server.ledger == [(PROFILE.unknown_customer_id, 1)]


def test_dry_run_lists_every_test_and_sends_nothing() -> None:
    console = Console(record=True, width=200)
    code = run(Options(base_url=REMOTE, profile=DEFAULT_PROFILE, dry_run=True), console=console)
    text = console.export_text()
    assert code == 0
    assert "read-only: nothing is sent that could take a point" in text
    assert "preflight (before any test)" in text
    assert "test_documented[8015-the-profile-s-unknown-customer]" in text
    assert "test_model  (not run: needs --allow-writes)" in text
    assert "test_race  (not run: needs --allow-writes)" in text
    assert "test_user_id_range[user-id-2^63-1]" in text
    assert "test_schema[stateful]" in text
    assert "curl" not in text
    assert '{"pointsToBeAdjusted": -5, "reasonOfReturn": "capmock contract test"}' in text
    assert "Decimal" not in text
    assert """bytes '{"pointsToBeAdjusted": "1", "reasonOfReturn": "\\377\\376"}'""" in text


def test_a_bad_profile_names_the_file_and_the_place(tmp_path: Path) -> None:
    bad = tmp_path / "org.yaml"
    bad.write_text(DEFAULT_PROFILE.read_text().replace("roundDecimals: 2", "roundDecimals: 7"))
    with pytest.raises(ProfileError, match=r"org\.yaml: line \d+: program\.roundDecimals: 7"):
        load_profile(bad)


def test_a_profile_whose_unknown_customer_is_the_test_customer_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "org.yaml"
    bad.write_text(
        DEFAULT_PROFILE.read_text().replace(
            "unknownCustomerId: 999999999", "unknownCustomerId: 388034468"
        )
    )
    with pytest.raises(ProfileError, match="unknownCustomerId: is the test customer"):
        load_profile(bad)


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

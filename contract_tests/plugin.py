"""The pytest plugin: ``pytest contract_tests --base-url URL ...``.

It turns the command-line options into a Target once per session (starting our own
mock when no URL is given), drops the tests that write when the run may not, lists the
plan instead of running on ``--dry-run``, resets our own mock before each test, and
keeps every finding for the report.
"""

from __future__ import annotations

import contextlib
import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from contract_tests import plan
from contract_tests.findings import ContractBrokenError, Finding
from contract_tests.limits import BudgetExhaustedError, parse_rate
from contract_tests.local_mock import local_mock
from contract_tests.options import DRY_RUN_URL, Options, UsageError, build_target, named_base_url
from contract_tests.target import Target

STEPS = 20
TARGET = pytest.StashKey[Target]()
OPTIONS = pytest.StashKey[Options]()
FINDINGS = pytest.StashKey[dict[str, list[Finding]]]()
STACK = pytest.StashKey[contextlib.ExitStack]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("capmock", "capmock contract tests")
    group.addoption("--base-url", help="The API to test; without it, a fresh local mock.")
    group.addoption("--profile", type=Path, help="Target profile YAML (what exists there).")
    group.addoption("--auth", help="Basic credentials USER:PASSWORD (clear; sent as md5).")
    group.addoption("--oauth", help="OAuth KEY:SECRET.")
    group.addoption("--allow-writes", action="store_true", help="Deduct on a non-loopback target.")
    group.addoption("--dry-run", action="store_true", help="List tests and requests; send none.")
    group.addoption("--max-examples", type=int, default=50, help="Examples per generated test.")
    group.addoption("--seed", type=int, help="Seed that reproduces a run (default: random, shown).")
    group.addoption("--rate-limit", help="At most this many requests, e.g. 10/s or 600/m.")
    group.addoption("--max-requests", type=int, help="Send at most this many requests.")
    group.addoption("--report", type=Path, help="Directory for findings.json and findings.txt.")


def pytest_configure(config: pytest.Config) -> None:
    get = config.getoption
    try:
        rate = parse_rate(get("--rate-limit")) if get("--rate-limit") else None
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    options = Options(
        base_url=get("--base-url"),
        profile=get("--profile"),
        auth=get("--auth"),
        oauth=get("--oauth"),
        allow_writes=get("--allow-writes"),
        dry_run=get("--dry-run"),
        max_examples=get("--max-examples"),
        seed=get("--seed") if get("--seed") is not None else random.randrange(2**32),
        rate_limit=rate,
        max_requests=get("--max-requests"),
    )
    stack = contextlib.ExitStack()
    try:
        base_url = named_base_url(options)
        if base_url is None and not options.dry_run:
            mock = stack.enter_context(local_mock())
            base_url, options = mock.url, replace(options, admin_token=mock.admin_token)
        target = build_target(options, base_url or DRY_RUN_URL)
    except UsageError as error:
        stack.close()
        raise pytest.UsageError(str(error)) from None
    stack.callback(target.close)
    config.stash[TARGET] = target
    config.stash[OPTIONS] = options
    config.stash[FINDINGS] = {}
    config.stash[STACK] = stack


def pytest_report_header(config: pytest.Config) -> str:
    target, options = config.stash[TARGET], config.stash[OPTIONS]
    return (
        f"capmock contract tests: {target.base_url}, profile {target.profile.origin}, "
        f"seed {options.seed} (rerun with --seed {options.seed})"
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    if STACK in config.stash:
        config.stash[STACK].close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    target = config.stash[TARGET]
    options = config.stash[OPTIONS]
    if options.dry_run:
        _print_plan(config, target, options)
        config.hook.pytest_deselected(items=list(items))
        items.clear()
        return
    if not target.writes_allowed:
        dropped = [item for item in items if item.get_closest_marker("writes")]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = [item for item in items if not item.get_closest_marker("writes")]


def _print_plan(config: pytest.Config, target: Target, options: Options) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    write = reporter.write_line if reporter else print
    write(f"dry run against {target.base_url}, profile {target.profile.origin}; nothing is sent")
    for planned in plan.plan(target, options.max_examples, STEPS):
        skipped = planned.writes and not target.writes_allowed
        write(f"{planned.test_id}{'  (not run: writes)' if skipped else ''}")
        for request in planned.requests:
            write(f"    {request}")


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    return request.config.stash[TARGET]


@pytest.fixture(scope="session")
def run_options(request: pytest.FixtureRequest) -> Options:
    return request.config.stash[OPTIONS]


@pytest.fixture(autouse=True)
def _fresh_mock(target: Target) -> None:
    """Our own mock starts every test from its fixtures; nothing else is ever reset."""
    target.reset()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    try:
        return (yield)
    except BudgetExhaustedError as error:
        pytest.skip(f"not run: {error}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if call.excinfo is not None and isinstance(call.excinfo.value, ContractBrokenError):
        item.config.stash[FINDINGS][item.nodeid] = call.excinfo.value.findings
        report.longrepr = str(call.excinfo.value)
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    directory = session.config.getoption("--report")
    if directory is None or FINDINGS not in session.config.stash:
        return
    directory.mkdir(parents=True, exist_ok=True)
    findings = session.config.stash[FINDINGS]
    (directory / "findings.json").write_text(
        json.dumps(
            {
                test: [f.__dict__ if hasattr(f, "__dict__") else _as_dict(f) for f in found]
                for test, found in findings.items()
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    text = "\n\n".join(
        f"== {test}\n" + "\n\n".join(f.render() for f in found) for test, found in findings.items()
    )
    (directory / "findings.txt").write_text(text or "no findings\n", encoding="utf-8")


def _as_dict(finding: Finding) -> dict[str, str]:
    return {
        "problem": finding.problem,
        "curl": finding.curl,
        "response": finding.response,
        "expected": finding.expected,
    }

"""The pytest plugin: ``pytest contract_tests --base-url URL ...``.

It reads the options (from ``options.SPECS``, or the Options object ``capmock test``
puts in ``config.stash``), opens the session once (starting our own mock when no URL is
given, then the preflight), skips the tests that need writes when the run may not,
lists the plan instead of running on ``--dry-run``, resets our own mock before each
test, keeps every result and observation, and writes the reports at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from contract_tests.findings import (
    ContractBrokenError,
    Finding,
    NotRunError,
    Observation,
    Verdict,
)
from contract_tests.limits import BudgetExhaustedError
from contract_tests.options import Options, UsageError, add_pytest_options, options_from_pytest
from contract_tests.plans.listing import NEEDS_WRITES, collected_cases, print_plan
from contract_tests.report import findings_json, github, html, junit
from contract_tests.report.coverage import coverage_rows, order_notes, warnings
from contract_tests.report.model import FAILED, NOT_RUN, PASSED, RunReport, TestResult
from contract_tests.report.text import summary_lines
from contract_tests.session import Session, open_session, profile_text
from contract_tests.target import Target

SESSION = pytest.StashKey[Session]()
RECORD = pytest.StashKey["Record"]()


@dataclass
class Record:
    """What the run gathers for its report."""

    results: dict[str, TestResult] = field(default_factory=dict)
    observations: list[Observation] = field(default_factory=list)
    report: RunReport | None = None


def pytest_addoption(parser: pytest.Parser) -> None:
    add_pytest_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.stash[RECORD] = Record()
    if SESSION in config.stash:
        return  # capmock test opened it, and closes it
    try:
        options = options_from_pytest(config.getoption)
        if options.print_profile:
            print(profile_text(options), end="")
            pytest.exit("", returncode=0)
        session = open_session(options)
    except UsageError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[SESSION] = session
    config.add_cleanup(session.close)


def pytest_report_header(config: pytest.Config) -> str:
    session = config.stash[SESSION]
    target, seed = session.target, session.options.seed
    return (
        f"capmock contract tests: {target.base_url}, profile {target.profile.origin}, "
        f"seed {seed} (rerun with --seed {seed})"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    session = config.stash[SESSION]
    if session.options.dry_run:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        print_plan(reporter.write_line if reporter else print, session.target, session.options)
        config.hook.pytest_deselected(items=list(items))
        items.clear()
        return
    if not session.target.writes_allowed:
        for item in items:
            if item.get_closest_marker("writes"):
                item.add_marker(pytest.mark.skip(reason=NEEDS_WRITES))


@pytest.fixture(scope="session")
def session(request: pytest.FixtureRequest) -> Session:
    return request.config.stash[SESSION]


@pytest.fixture(scope="session")
def target(session: Session) -> Target:
    return session.target


@pytest.fixture(scope="session")
def run_options(session: Session) -> Options:
    return session.options


@pytest.fixture
def judged(request: pytest.FixtureRequest) -> Callable[[Verdict], None]:
    """Hand a test's verdict over: its observation is kept for the coverage matrix, and
    its findings fail the test."""
    observations = request.config.stash[RECORD].observations

    def judge(verdict: Verdict) -> None:
        if verdict.observation is not None:
            observations.append(verdict.observation)
        if verdict.findings:
            raise ContractBrokenError(verdict.findings)

    return judge


@pytest.fixture(autouse=True)
def reset_own_mock(target: Target) -> None:
    """Our own mock starts every test from its fixtures; nothing else is ever reset.
    (Public: ``conftest.py`` imports the plugin's public names.)"""
    target.reset()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    try:
        return (yield)
    except (BudgetExhaustedError, NotRunError) as error:
        pytest.skip(str(error))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report: pytest.TestReport = yield
    findings = []
    if call.excinfo is not None and isinstance(call.excinfo.value, ContractBrokenError):
        findings = call.excinfo.value.findings
        report.longrepr = str(call.excinfo.value)
    results = item.config.stash[RECORD].results
    name = item.nodeid.split("::", 1)[-1]
    result = _result(name, report, findings)
    if result is not None and (name not in results or result.outcome == FAILED):
        results[name] = result
    return report


def _result(name: str, report: pytest.TestReport, findings: list[Finding]) -> TestResult | None:
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        return TestResult(name, NOT_RUN, str(reason).removeprefix("Skipped: "))
    if report.failed:
        text = str(report.longrepr)
        detail = "; ".join(f.problem for f in findings[:3]) if findings else _headline(text)
        return TestResult(name, FAILED, detail, findings, text, report.duration)
    if report.when == "call":
        return TestResult(name, PASSED, "", duration=report.duration)
    return None


def _headline(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("E ")]
    return (errors[0][1:].strip() if errors else lines[-1].strip() if lines else "")[:300]


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if SESSION not in config.stash or RECORD not in config.stash:
        return
    run = config.stash[SESSION]
    if run.options.dry_run:
        return
    record = config.stash[RECORD]
    record.report = build_report(run, record)
    _write_reports(run.options, record.report)
    if record.report.coverage_failed and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def build_report(run: Session, record: Record) -> RunReport:
    target, options = run.target, run.options
    tests_of_code: dict[int, list[str]] = {}
    for test, cases in collected_cases(target).items():
        for case in cases:
            if case.code is not None:
                tests_of_code.setdefault(case.code, []).append(f"{test}[{case.name}]")
    results = list(record.results.values())
    return RunReport(
        target=target.base_url,
        profile=target.profile.origin,
        seed=options.seed,
        rerun=options.rerun_command(None if run.own_mock else target.base_url),
        mode=target.mode,
        started=run.started_at,
        duration=time.monotonic() - run.started,
        tests=results,
        coverage=coverage_rows(target.profile, record.observations, record.results, tests_of_code),
        warnings=warnings(target.traffic, results),
        notes=list(run.notes),
        order=order_notes(record.observations),
        min_coverage=options.min_coverage,
    )


def _write_reports(options: Options, report: RunReport) -> None:
    if options.junit is not None:
        options.junit.parent.mkdir(parents=True, exist_ok=True)
        options.junit.write_text(junit.render(report), encoding="utf-8")
    if options.report is not None:
        options.report.mkdir(parents=True, exist_ok=True)
        (options.report / "index.html").write_text(html.render(report), encoding="utf-8")
        (options.report / "findings.json").write_text(
            findings_json.render(report), encoding="utf-8"
        )
        (options.report / "junit.xml").write_text(junit.render(report), encoding="utf-8")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Under plain pytest: the same summary lines and annotations as ``capmock test``."""
    report = config.stash[RECORD].report if RECORD in config.stash else None
    if report is None:
        return
    options = config.stash[SESSION].options
    terminalreporter.section("capmock contract tests")
    directory = str(options.report) if options.report is not None else None
    for line in summary_lines(report, directory):
        terminalreporter.write_line(line)
    if options.format == "github":
        for line in github.render(report):
            terminalreporter.write_line(line)

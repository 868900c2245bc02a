"""``capmock test``: run the contract tests through pytest, with a progress display on a
terminal and a table of what passed and failed at the end.

Exit codes: 0 the target honours the contract, 1 it does not, 2 usage error.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from contract_tests import documented, plan
from contract_tests.options import DRY_RUN_URL, Options, UsageError, build_target, named_base_url
from contract_tests.plugin import OPTIONS, STEPS, TARGET

HERE = Path(__file__).resolve().parent
EXIT_OK, EXIT_BROKEN, EXIT_USAGE = 0, 1, 2


class Reporter:
    """A pytest plugin that shows progress and collects outcomes for the summary."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.rows: list[tuple[str, str, str]] = []
        self.failures: list[tuple[str, str]] = []
        self.progress: Progress | None = None
        self.header = ""
        self.seed: int | None = None
        self.task: object = None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.console.is_terminal and session.items:
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("contract tests", total=len(session.items))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        name = report.nodeid.split("::", 1)[-1]
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            if report.skipped:
                reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
                self.rows.append((name, "not run", str(reason).removeprefix("Skipped: ")))
            elif report.failed:
                first = str(report.longrepr).splitlines()
                self.rows.append((name, "FAILED", _headline(first)))
                self.failures.append((name, str(report.longrepr)))
            else:
                self.rows.append((name, "passed", ""))
            if self.progress is not None:
                self.progress.update(self.task, advance=1, description=name[:50])

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        for item in items:
            if item.get_closest_marker("writes"):
                self.rows.append((item.nodeid.split("::", 1)[-1], "not run", "writes not allowed"))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.progress is not None:
            self.progress.stop()
        if TARGET in session.config.stash:
            target = session.config.stash[TARGET]
            self.header = f"{target.base_url}, profile {target.profile.origin}"
            self.seed = session.config.stash[OPTIONS].seed
            profile = target.profile
            for code, reason in sorted(documented.not_covered(profile).items()):
                self.rows.append((f"documented code {code}", "not run", reason))

    def summary(self) -> None:
        for name, text in self.failures:
            self.console.rule(f"[red]{escape(name)}")
            self.console.print(text, markup=False, highlight=False, soft_wrap=True)
        table = Table(title="capmock contract tests")
        table.add_column("test")
        table.add_column("result")
        table.add_column("detail", overflow="fold")
        style = {"passed": "green", "FAILED": "red", "not run": "yellow"}
        for name, outcome, detail in self.rows:
            table.add_row(escape(name), f"[{style[outcome]}]{outcome}", escape(detail))
        self.console.print(table)
        counts = {
            o: sum(1 for r in self.rows if r[1] == o) for o in ("passed", "FAILED", "not run")
        }
        self.console.print(f"target {self.header}", markup=False, soft_wrap=True)
        self.console.print(
            f"{counts['passed']} passed, {counts['FAILED']} failed, {counts['not run']} not run; "
            f"seed {self.seed} (rerun with --seed {self.seed})"
        )


def _headline(lines: list[str]) -> str:
    findings = [line for line in lines[1:] if line and not line.startswith(" ")]
    return "; ".join(findings[:3]) or (lines[0] if lines else "")


def run(
    options: Options,
    *,
    junit: Path | None = None,
    report: Path | None = None,
    console: Console | None = None,
) -> int:
    """Run the whole suite; the exit code."""
    console = console or Console(highlight=False)
    if options.dry_run:
        return _dry_run(options, console)
    args = [str(HERE), "-c", str(HERE / "pytest.ini"), "-p", "no:terminal"]
    args += _option_args(options)
    if junit is not None:
        args += ["--junitxml", str(junit)]
    if report is not None:
        args += ["--report", str(report)]
        if junit is None:
            args += ["--junitxml", str(report / "junit.xml")]
    reporter = Reporter(console)
    try:
        code = pytest.main(args, plugins=[reporter])
    except UsageError as error:
        console.print(f"capmock test: {error}", markup=False)
        return EXIT_USAGE
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        return EXIT_USAGE
    reporter.summary()
    return (
        EXIT_OK if code in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED) else EXIT_BROKEN
    )


def _dry_run(options: Options, console: Console) -> int:
    try:
        target = build_target(options, named_base_url(options) or DRY_RUN_URL)
    except UsageError as error:
        console.print(f"capmock test: {error}", markup=False)
        return EXIT_USAGE
    console.print(
        f"dry run against {target.base_url}, profile {target.profile.origin}: nothing is sent",
        markup=False,
        soft_wrap=True,
    )
    for planned in plan.plan(target, options.max_examples, STEPS):
        note = (
            "  (not run: writes not allowed)"
            if planned.writes and not target.writes_allowed
            else ""
        )
        console.print(f"{planned.test_id}{note}", markup=False, soft_wrap=True)
        for request in planned.requests:
            console.print(f"    {request}", markup=False, soft_wrap=True)
    return EXIT_OK


def _option_args(options: Options) -> list[str]:
    args = ["--max-examples", str(options.max_examples)]
    pairs = {
        "--base-url": options.base_url,
        "--profile": options.profile,
        "--auth": options.auth,
        "--oauth": options.oauth,
        "--seed": options.seed,
        "--rate-limit": f"{options.rate_limit}/s" if options.rate_limit else None,
        "--max-requests": options.max_requests,
    }
    for flag, value in pairs.items():
        if value is not None:
            args += [flag, str(value)]
    if options.allow_writes:
        args.append("--allow-writes")
    return args

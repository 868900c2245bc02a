"""``capmock test``: open the session, run the contract suite through pytest with the
Options object in ``config.stash``, show progress while it runs and the summary at the
end.

pytest captures file descriptors 1 and 2 while tests run, which swallows anything drawn
on them; the progress display is therefore drawn on a duplicate of the terminal's file
descriptor taken before pytest starts. On a terminal it is a bar with the count, the
elapsed time and the test running now; off a terminal (CI logs) each test is a plain
line with its full name.

Exit codes: 0 the target honours the contract, 1 it does not (or too few codes were
checked for ``--min-coverage``), 2 usage error.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path
from typing import Any, TextIO

import pytest
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from contract_tests.options import Options, UsageError
from contract_tests.plans.listing import print_plan
from contract_tests.plugin import RECORD, SESSION
from contract_tests.report import github
from contract_tests.report.model import FAILED, NOT_RUN, PASSED, RunReport
from contract_tests.report.text import failure_text, summary_lines
from contract_tests.session import Session, open_session, profile_text

HERE = Path(__file__).resolve().parent
EXIT_OK, EXIT_BROKEN, EXIT_USAGE = 0, 1, 2
STYLE = {PASSED: "green", FAILED: "red", NOT_RUN: "yellow"}


class Carrier:
    """Hands the session to the plugin before it configures, and takes the report back."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.report: RunReport | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[SESSION] = self.session

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.report = session.config.stash[RECORD].report


class Display:
    """Progress while the tests run: a bar on a terminal, a line per test elsewhere."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress: Progress | None = None
        self.task = TaskID(0)
        self.total = 0
        self.done = 0
        self.outcomes: dict[str, str] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)
        if self.console.is_terminal and self.total:
            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self.progress.start()
            self.task = self.progress.add_task("collected", total=self.total)

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        if self.progress is not None:
            self.progress.update(self.task, description=escape(_name(nodeid)))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.outcomes[report.nodeid] = FAILED
        elif report.skipped:
            self.outcomes.setdefault(report.nodeid, NOT_RUN)
        elif report.when == "call":
            self.outcomes.setdefault(report.nodeid, PASSED)

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress.update(self.task, advance=1)
            return
        outcome = self.outcomes.get(nodeid, FAILED)
        self.console.print(
            f"[{self.done}/{self.total}] {outcome:7} {_name(nodeid)}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def _name(nodeid: str) -> str:
    return nodeid.split("::", 1)[-1]


def run(options: Options, *, console: Console | None = None) -> int:
    """Run the whole suite; the exit code."""
    stream = None
    if console is None:
        stream = _duplicate_stdout()
        console = Console(file=stream or sys.stdout, highlight=False)
    try:
        return _run(options, console)
    finally:
        if stream is not None:
            stream.close()


def _run(options: Options, console: Console) -> int:
    try:
        if options.print_profile:
            console.file.write(profile_text(options))
            return EXIT_OK
        session = open_session(options)
    except UsageError as error:
        print(f"capmock test: {error}", file=sys.stderr)
        return EXIT_USAGE
    with contextlib.closing(session):
        if options.dry_run:
            print_plan(lambda line: _plain(console, line), session.target, session.options)
            return EXIT_OK
        for note in session.notes:  # before the run, while it can still be stopped
            _plain(console, f"note: {note}")
        carrier, display = Carrier(session), Display(console)
        args = [str(HERE), "-c", str(HERE / "pytest.ini"), "-p", "no:terminal"]
        code = pytest.main(args, plugins=[carrier, display])
        if carrier.report is None:
            print(f"capmock test: the run stopped early (pytest exit {int(code)})", file=sys.stderr)
            return EXIT_USAGE
        _summary(console, carrier.report, session.options)
    if code == pytest.ExitCode.OK:
        return EXIT_OK
    if code == pytest.ExitCode.TESTS_FAILED:
        return EXIT_BROKEN
    return EXIT_USAGE


def _summary(console: Console, report: RunReport, options: Options) -> None:
    for name, text in failure_text(report):
        console.rule(f"[red]{escape(name)}")
        _plain(console, text)
    if console.is_terminal:
        table = Table(title="capmock contract tests")
        table.add_column("test", overflow="fold")
        table.add_column("result", no_wrap=True)
        table.add_column("detail", overflow="fold")
        for test in report.tests:
            style = STYLE[test.outcome]
            table.add_row(escape(test.name), f"[{style}]{test.outcome}", escape(test.detail))
        console.print(table)
    else:
        for test in report.tests:
            if test.outcome != PASSED:
                _plain(console, f"{test.outcome:7} {test.name}: {test.detail}")
    directory = str(options.report) if options.report is not None else None
    for line in summary_lines(report, directory):
        _plain(console, line)
    if options.format == "github":
        for line in github.render(report):
            _plain(console, line)


def _plain(console: Console, line: str) -> None:
    console.print(line, markup=False, highlight=False, soft_wrap=True, emoji=False)


def _duplicate_stdout() -> TextIO | None:
    """A stream on a duplicate of standard output's file descriptor: pytest's capture
    redirects the descriptor itself while tests run, not this duplicate. None when
    standard output has no descriptor (then nothing can be drawn during the tests)."""
    try:
        descriptor = os.dup(sys.stdout.fileno())
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None
    return open(descriptor, "w", encoding="utf-8", errors="replace", buffering=1)

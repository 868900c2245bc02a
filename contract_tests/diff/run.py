"""``capmock diff``: both targets, the plan, the requests, the drifts, the baseline and
the outputs, in that order. Progress and problems go to standard error, the report to
standard output (or ``--output``).

Exit codes: 0 no new drift (or the baseline was just updated), 1 new drift, 2 usage
error: a bad option or baseline, a target that cannot be reached or fails its preflight.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from contract_tests.diff import baseline, html
from contract_tests.diff.compare import Drift, describe, differences, grouped
from contract_tests.diff.normalise import Normaliser
from contract_tests.diff.options import DiffOptions
from contract_tests.diff.plan import paired, print_plan
from contract_tests.diff.report import RENDERERS, DiffReport, Shown, as_json, failure
from contract_tests.diff.send import Sent, send_pairs
from contract_tests.diff.sides import Side, close_sides, open_sides
from contract_tests.diff.suggest import Roles, suggestion
from contract_tests.options import UsageError

EXIT_OK, EXIT_DRIFT, EXIT_USAGE = 0, 1, 2
READ_ONLY = "read-only: nothing is sent that could take a point"
WRITES = "writes allowed to each profile's test customer"


def run(options: DiffOptions, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run one diff; the exit code."""
    out, err = out or sys.stdout, err or sys.stderr

    def say(line: str) -> None:
        print(f"capmock diff: {line}", file=err, flush=True)

    started, started_at = time.monotonic(), datetime.now(UTC).isoformat(timespec="seconds")
    try:
        _check_outputs(options)
        reads = options.baseline is not None and not options.update_baseline
        known = baseline.load(options.baseline) if reads and options.baseline else []
        sides = open_sides(options)
    except UsageError as error:
        say(str(error))
        with suppress(UsageError):  # the output itself is the problem, said above
            _emit(failure(options.format, str(error)), options.output, out)
        return EXIT_USAGE
    try:
        targets = {key: side.target for key, side in sides.items()}
        pairs, alone = paired(targets)
        if options.dry_run:
            mode = WRITES if options.allow_writes else READ_ONLY
            print(f"dry run ({mode}); nothing is sent", file=out)
            for note in [side.describe() for side in sides.values()] + alone:
                print(note, file=out)
            print_plan(lambda line: print(line, file=out), targets, pairs)
            return EXIT_OK
        for side in sides.values():
            say(side.describe())
        for note in (note for side in sides.values() for note in side.notes):
            say(f"note: {note}")
        mode = WRITES if options.allow_writes else READ_ONLY
        say(f"sending {len(pairs)} requests to each target ({mode})")
        with _progress(err, len(pairs)) as progress:
            sent = send_pairs(targets, pairs, progress)
        drifts = _drifts(options, sides, sent)
        gone = baseline.mark(drifts, known)
        if options.update_baseline and options.baseline is not None:
            baseline.write(options.baseline, drifts)
        report = DiffReport(
            [Shown.of(side) for side in sides.values()],
            mode,
            drifts,
            sent,
            started_at,
            time.monotonic() - started,
            alone,
            gone,
            [note for side in sides.values() for note in side.notes],
            str(options.baseline) if options.baseline is not None else None,
            options.update_baseline,
        )
        _outputs(options, report, out, say)
        return EXIT_DRIFT if report.failed else EXIT_OK
    except UsageError as error:
        say(str(error))
        return EXIT_USAGE
    finally:
        close_sides(sides)


def _drifts(options: DiffOptions, sides: dict[str, Side], sent: list[Sent]) -> list[Drift]:
    normaliser = Normaliser(options.ignore, options.substitute, _compare_balances(options, sides))
    found = []
    for one in sent:
        seen = {
            key: normaliser.seen(one.answers[key], side.target.profile, one.pair.cases[key].request)
            for key, side in sides.items()
        }
        found += differences(one, seen)
    drifts = grouped(found, describe)
    roles = Roles(sides, options.allow_writes)
    for drift in drifts:
        drift.suggestion = suggestion(drift.first, roles)
    return drifts


def _compare_balances(options: DiffOptions, sides: dict[str, Side]) -> bool:
    """``auto``: compared when both targets are capmock serving the same fixtures."""
    if options.balances != "auto":
        return options.balances == "compare"
    a, b = sides["a"].fixtures, sides["b"].fixtures
    return a is not None and a == b


def _check_outputs(options: DiffOptions) -> None:
    """Before anything is sent (a live org's budget is spent once): the places the
    outputs go must be writable."""
    for path in (options.output, options.baseline if options.update_baseline else None):
        if path is not None and (path.is_dir() or not path.parent.is_dir()):
            problem = "it is a directory" if path.is_dir() else "its directory does not exist"
            raise UsageError(f"cannot write {path}: {problem}")
    if options.report is not None:
        if options.report.exists() and not options.report.is_dir():
            raise UsageError(f"cannot write the report to {options.report}: not a directory")
        try:
            options.report.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            problem = f"cannot write the report to {options.report}: {error.strerror}"
            raise UsageError(problem) from None


def _outputs(
    options: DiffOptions, report: DiffReport, out: TextIO, say: Callable[[str], None]
) -> None:
    _emit(RENDERERS[options.format](report), options.output, out)
    if options.report is not None:
        try:
            options.report.mkdir(parents=True, exist_ok=True)
            (options.report / "index.html").write_text(html.render(report), "utf-8")
            (options.report / "drift.json").write_text(as_json(report), "utf-8")
            (options.report / "junit.xml").write_text(RENDERERS["junit"](report), "utf-8")
        except OSError as error:
            raise UsageError(f"cannot write the report to {options.report}: {error}") from None
    if options.output is not None or options.format != "text":
        where = [str(p) for p in (options.output, options.report) if p is not None]
        say(report.summary() + (f"; report in {' and '.join(where)}" if where else ""))
    elif options.report is not None:
        say(f"report in {options.report}")
    if options.update_baseline:
        say(f"wrote {len(report.drifts)} drifts to {options.baseline}")


def _emit(text: str, output: Path | None, out: TextIO) -> None:
    if output is None:
        out.write(text)
        out.flush()
        return
    if text:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot write {output}: {error.strerror}") from None


@contextmanager
def _progress(err: TextIO, total: int) -> Iterator[Callable[[int, Sent], None]]:
    """A bar on a terminal; elsewhere (CI logs) a line per pair."""
    console = Console(file=err, highlight=False)
    if not console.is_terminal:

        def line(done: int, sent: Sent) -> None:
            answers = " / ".join(
                answer.shown.splitlines()[0] if answer.shown else str(answer.problem)
                for answer in sent.answers.values()
            )
            print(f"capmock diff: [{done}/{total}] {sent.pair.name()}: {answers}", file=err)

        yield line
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task("sending", total=total)
    with bar:

        def advance(done: int, sent: Sent) -> None:
            bar.update(task, completed=done, description=escape(sent.pair.name()))

        yield advance

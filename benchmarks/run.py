"""Benchmark capmock against Stoplight Prism, WireMock, bare Connexion and bare Starlette.

One run starts each target on a free loopback port, drives it with the same wrk load
(one valid deduction, Basic auth; the "-spread" rows spread it over many customers),
reads the CPU time and memory of the server's process tree, stops it, and prints one
table; then it measures capmock's startup time and the load time of a 100,000-customer
fixture. benchmarks/README.md says what each number means.

    python -m benchmarks.run --duration 10 --json reports/bench.json
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks import extras, report
from benchmarks.measure import measure
from benchmarks.processes import Processes, TargetError, tool_version
from benchmarks.targets import Target, all_targets
from benchmarks.workload import (
    BODY,
    PATH,
    PATH_TEMPLATE,
    ROOT,
    USER_ID,
    Inputs,
    Load,
    write_inputs,
)
from benchmarks.wrk import INSTALL_HINT

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_WARMUP = 5
SETTINGS = ("duration", "warmup", "connections", "threads", "repeat", "workers", "spread")


def warmup_option(text: str) -> tuple[str | None, int]:
    """``S`` or ``NAME=S``: (None or the NAME pattern, seconds)."""
    pattern, _, seconds = text.rpartition("=")
    try:
        value = int(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected S or NAME=S, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return pattern or None, value


def warmup(target: Target, default: int, given: list[tuple[str | None, int]]) -> int:
    """The last ``NAME=S`` matching ``target``, else its own warm-up, else ``default``."""
    for pattern, seconds in reversed(given):
        if pattern is not None and fnmatch.fnmatch(target.name, pattern):
            return seconds
    return default if target.warmup is None else target.warmup


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    table = all_targets(2, 2)
    names = [target.name for target in table] + list(extras.NAMES)
    own = ", ".join(f"{t.name} {t.warmup}" for t in table if t.warmup is not None)
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=(__doc__ or "").split("\n\n")[0],
        epilog="targets and measurements (for --only): " + ", ".join(names),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per run (10)")
    parser.add_argument(
        "--warmup",
        type=warmup_option,
        action="append",
        metavar="[NAME=]S",
        help=(
            f"seconds of unmeasured load first, for JITs and caches ({DEFAULT_WARMUP}"
            f"{'; ' + own if own else ''}); NAME=S sets it for the targets NAME matches "
            "(repeatable, shell patterns)"
        ),
    )
    parser.add_argument("--connections", type=int, default=32, help="wrk -c (32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t (2)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per target; the table shows medians (1)"
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="capmock --workers N rows (nproc)"
    )
    parser.add_argument(
        "--spread",
        type=int,
        default=1000,
        metavar="N",
        help="customers the *-spread rows deduct from, one at random per request (1000)",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only these (repeatable, comma-separated, shell patterns: 'capmock*')",
    )
    parser.add_argument(
        "--samples", type=int, default=3, help="startup and fixture-load samples (3)"
    )
    parser.add_argument(
        "--customers", type=int, default=100_000, help="customers in the big fixture (100000)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    parser.add_argument(
        "--markdown", action="store_true", help="print the table as Markdown (for a README)"
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=ROOT,
        metavar="DIR",
        help="the checkout whose capmock is measured (default: this one)",
    )
    args = parser.parse_args(argv)
    if min(args.duration, args.connections, args.threads, args.repeat, args.samples) <= 0:
        parser.error("--duration, --connections, --threads, --repeat, --samples must be > 0")
    if args.spread <= 0:
        parser.error("--spread must be > 0")
    if args.threads > args.connections:
        parser.error("wrk needs --connections >= --threads")
    patterns = [p.strip() for value in args.only or ["*"] for p in value.split(",") if p.strip()]
    for pattern in patterns:
        if not fnmatch.filter(names, pattern):
            parser.error(f"--only {pattern} matches nothing; choose from {', '.join(names)}")
    args.selected = {name for name in names if any(fnmatch.fnmatch(name, p) for p in patterns)}
    given = args.warmup or []
    for pattern, _ in given:
        if pattern is not None and not fnmatch.filter([t.name for t in table], pattern):
            parser.error(f"--warmup {pattern}=S matches no target")
    args.warmup = next((s for p, s in reversed(given) if p is None), DEFAULT_WARMUP)
    args.warmups = {target.name: warmup(target, args.warmup, given) for target in table}
    args.source = args.source.resolve()
    if not (args.source / "capmock" / "cli.py").is_file():
        parser.error(f"--source {args.source} has no capmock/cli.py")
    return args


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM and SIGINT (even where a shell ignored it) unwind the harness, so every
    finally block stops what it started."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    needs_wrk = bool(args.selected.difference(extras.NAMES))
    if needs_wrk and shutil.which("wrk") is None:
        print(INSTALL_HINT, file=sys.stderr)
        return EXIT_USAGE
    with (
        sigterm_as_interrupt(),
        tempfile.TemporaryDirectory(prefix="capmock-bench-") as tmp_name,
    ):
        tmp = Path(tmp_name)
        procs = Processes(tmp, cwd=args.source)
        try:
            return run(args, write_inputs(args.source, tmp, args.spread), procs)
        except KeyboardInterrupt:
            print("\ninterrupted: stopping every server started", file=sys.stderr)
            return EXIT_INTERRUPTED
        finally:
            procs.stop_all()


def capmock_help(inputs: Inputs) -> str:
    """``capmock serve --help`` of the measured checkout: which stores and options it has."""
    result = subprocess.run(
        [sys.executable, "-m", "capmock", "serve", "--help"],
        capture_output=True,
        text=True,
        env=inputs.python_env(),
        cwd=inputs.source,
        timeout=60,
        check=False,
    )
    return result.stdout


def plan(args: argparse.Namespace, targets: list[Target]) -> str:
    """The opening line: the machine, the load, and how long the load alone lasts."""
    warmups = {t.name: args.warmups[t.name] for t in targets}
    own = ", ".join(f"{name} {s} s" for name, s in warmups.items() if s != args.warmup)
    seconds = sum(warmups.values()) + len(targets) * args.repeat * args.duration
    return (
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s after "
        f"{args.warmup} s warm-up{f' ({own})' if own else ''}, "
        f"{args.repeat} run(s) per target; {len(targets)} target(s), "
        f"{seconds // 60} min {seconds % 60} s of load"
    )


def measure_or_skip(
    target: Target,
    help_text: str,
    warmup: int,
    inputs: Inputs,
    procs: Processes,
    load: Load,
    environment: dict[str, Any],
) -> report.Row:
    """``target``'s row: measured, or skipped saying why (``help_text`` is ``capmock serve
    --help``); what it installs goes into ``environment``."""
    row = report.Row(target.name, target.group, target.what)
    row.skipped = target.missing(help_text)
    if not row.skipped:
        try:
            environment.update(target.prepare(inputs))
        except (TargetError, subprocess.TimeoutExpired) as error:
            row.skipped = f"skipped: {error}"
    if row.skipped:
        return row
    print(f"measuring {target.name} ...", flush=True)
    row = measure(target, inputs, procs, load, warmup)
    if row.error:
        print(f"  {target.name} failed: {row.error}", file=sys.stderr, flush=True)
    return row


def measure_extras(args: argparse.Namespace, inputs: Inputs, procs: Processes) -> dict[str, Any]:
    """The startup and fixture-load timings asked for, and the errors of those that failed."""
    timings: dict[str, Any] = {"errors": {}}
    if "startup" in args.selected:
        print("measuring capmock startup ...", flush=True)
        try:
            timings["startup"] = extras.measure_startup(procs, inputs, args.samples)
        except TargetError as error:
            timings["errors"]["startup"] = str(error)
    if "fixture-load" in args.selected:
        print(f"measuring the load of {args.customers:,} customers ...", flush=True)
        try:
            timings["fixture-load"] = extras.measure_fixture_load(
                inputs, args.customers, args.samples
            )
        except (TargetError, subprocess.TimeoutExpired) as error:
            timings["errors"]["fixture-load"] = str(error)
    if "session-create" in args.selected:
        print(f"measuring session creation over {args.customers:,} customers ...", flush=True)
        try:
            timings["session-create"] = extras.measure_session_creation(
                procs, inputs, args.customers
            )
        except TargetError as error:
            timings["errors"]["session-create"] = str(error)
    return timings


def run(args: argparse.Namespace, inputs: Inputs, procs: Processes) -> int:
    started = time.gmtime()
    targets = [t for t in all_targets(args.workers, args.spread) if t.name in args.selected]
    environment: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", started),
        "cpus": os.cpu_count(),
        "loadavg_before": os.getloadavg(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "wrk": tool_version(["wrk", "--version"]),
        "source": str(inputs.source),
        "settings": {key: getattr(args, key) for key in SETTINGS},
        "warmup_s": {t.name: args.warmups[t.name] for t in targets},
        "request": {"method": "POST", "path": PATH, "body": BODY},
        "spread_path": PATH_TEMPLATE.replace(
            "{userId}", f"{{{USER_ID}..{USER_ID + args.spread - 1}}}"
        ),
    }
    print(plan(args, targets), flush=True)
    load = Load(args.threads, args.connections, args.duration, args.repeat)
    help_text = capmock_help(inputs)
    rows = [
        measure_or_skip(t, help_text, args.warmups[t.name], inputs, procs, load, environment)
        for t in targets
    ]
    best = report.add_ratios(rows)
    timings = measure_extras(args, inputs, procs)
    environment["loadavg_after"] = os.getloadavg()

    print()
    if rows:
        caption = report.title(time.strftime("%Y-%m-%d %H:%M UTC", started), load, best)
        if args.markdown:
            print(report.markdown(caption, rows))
        else:
            report.print_table(caption, rows)
    for line in report.extras_lines(timings):
        print(line)
    print(f"load average after: {environment['loadavg_after'][0]:.2f}")

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        document = report.document(environment, best, rows, timings)
        args.json.write_text(json.dumps(document, indent=2, default=str) + "\n")
        print(f"results written to {args.json}")

    failed = [
        row.name
        for row in rows
        if row.group == "capmock" and (row.error or (row.measured and row.non_2xx))
    ]
    if failed or timings["errors"]:
        print(f"failed: {', '.join(failed + list(timings['errors']))}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

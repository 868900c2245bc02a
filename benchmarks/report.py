"""The results: one row per target with its runs, medians and ratios to Prism's best, and
the table in three forms (a terminal, Markdown for a README, JSON). Nothing here starts
or times anything."""

from __future__ import annotations

import shutil
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.workload import Load
from benchmarks.wrk import WrkResult

COLUMNS = (
    "target",
    "req/s",
    "p50 ms",
    "p99 ms",
    "CPU µs/req",
    "RSS MiB",
    "CPU x Prism",
    "req/s x Prism",
    "notes",
)
NOISY_CORES = 0.1  # other processes' load worth a note in the table


@dataclass(frozen=True)
class Run:
    """One measured wrk run against a target, and the CPU time spent meanwhile."""

    load: WrkResult
    server_cpu_s: float
    wrk_cpu_s: float
    other_processes_cores: float  # the rest of the machine, in cores: the noise
    steal_cores: float
    redis_cpu_s: float | None = None

    def _per_request_us(self, seconds: float | None) -> float | None:
        if seconds is None or not self.load.requests:
            return None
        return seconds * 1e6 / self.load.requests

    @property
    def cpu_us_per_request(self) -> float | None:
        return self._per_request_us(self.server_cpu_s)

    @property
    def redis_cpu_us_per_request(self) -> float | None:
        return self._per_request_us(self.redis_cpu_s)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.load.as_dict(),
            "server_cpu_s": self.server_cpu_s,
            "wrk_cpu_s": self.wrk_cpu_s,
            "other_processes_cores": self.other_processes_cores,
            "steal_cores": self.steal_cores,
            "cpu_us_per_request": self.cpu_us_per_request,
            "redis_cpu_us_per_request": self.redis_cpu_us_per_request,
        }


MEDIANS: dict[str, Callable[[Run], float | None]] = {
    "requests_per_s": lambda run: run.load.requests_per_s,
    "p50_ms": lambda run: run.load.latency_ms("p50"),
    "p99_ms": lambda run: run.load.latency_ms("p99"),
    "cpu_us_per_request": lambda run: run.cpu_us_per_request,
    "redis_cpu_us_per_request": lambda run: run.redis_cpu_us_per_request,
    "other_processes_cores": lambda run: run.other_processes_cores,
    "steal_cores": lambda run: run.steal_cores,
}


@dataclass
class Row:
    name: str
    group: str  # "capmock", "prism", "wiremock" or "reference"
    what: str
    command: list[str] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    skipped: str | None = None
    error: str | None = None
    sample_status: int | None = None
    rss_mib: float | None = None
    must_succeed: bool = False  # every answer must be a 200: the notes count the others
    cpu_ratio: float | None = None
    rps_ratio: float | None = None

    def median(self, key: str) -> float | None:
        """The median of one of :data:`MEDIANS` over the runs, None without values."""
        values = [value for run in self.runs if (value := MEDIANS[key](run)) is not None]
        return statistics.median(values) if values else None

    @property
    def measured(self) -> bool:
        return bool(self.runs) and self.error is None

    @property
    def non_2xx(self) -> int:
        return sum(run.load.non_2xx_3xx for run in self.runs)

    @property
    def notes(self) -> list[str]:
        notes = []
        if self.sample_status is not None and not 200 <= self.sample_status < 300:
            notes.append(f"answers {self.sample_status}")
        if (redis := self.median("redis_cpu_us_per_request")) is not None:
            notes.append(f"+ redis-server {redis:.0f} µs/req")
        if self.must_succeed or self.non_2xx:
            notes.append(f"non-2xx {self.non_2xx}")
        if (others := self.median("other_processes_cores") or 0.0) >= NOISY_CORES:
            notes.append(f"other processes busy {others:.2f} cores")
        if (steal := self.median("steal_cores") or 0.0) >= NOISY_CORES:
            notes.append(f"steal {steal:.2f} cores")
        if socket_errors := sum(sum(run.load.socket_errors.values()) for run in self.runs):
            notes.append(f"socket errors {socket_errors}")
        return notes

    def as_dict(self) -> dict[str, Any]:
        keys = ("requests_per_s", "p50_ms", "p99_ms", "cpu_us_per_request")
        return {
            "name": self.name,
            "group": self.group,
            "what": self.what,
            "command": self.command,
            "skipped": self.skipped,
            "error": self.error,
            "sample_status": self.sample_status,
            "median": {key: self.median(key) for key in keys},
            "non_2xx_3xx": self.non_2xx if self.runs else None,
            "rss_mib": self.rss_mib,
            "redis_cpu_us_per_request": self.median("redis_cpu_us_per_request"),
            "ratio_to_prism_best": {"cpu": self.cpu_ratio, "requests_per_s": self.rps_ratio},
            "notes": self.notes,
            "runs": [run.as_dict() for run in self.runs],
        }


def add_ratios(rows: list[Row]) -> tuple[float | None, float | None]:
    """Compare every row with Prism's best: its lowest CPU per request, highest requests/s.

    Both ratios read "times better than Prism": Prism's CPU / the row's CPU, and the
    row's requests/s / Prism's requests/s.
    """
    prism = [row for row in rows if row.group == "prism" and row.measured]
    cpus = [c for row in prism if (c := row.median("cpu_us_per_request"))]
    rates = [r for row in prism if (r := row.median("requests_per_s"))]
    best_cpu = min(cpus) if cpus else None
    best_rps = max(rates) if rates else None
    for row in rows:
        cpu, rps = row.median("cpu_us_per_request"), row.median("requests_per_s")
        row.cpu_ratio = best_cpu / cpu if best_cpu and cpu else None
        row.rps_ratio = rps / best_rps if best_rps and rps else None
    return best_cpu, best_rps


def title(date: str, load: Load, best: tuple[float | None, float | None]) -> str:
    """The caption line: the date of the run, the load, and Prism's best."""
    best_cpu, best_rps = best
    return (
        f"{date}, load `wrk -t{load.threads} -c{load.connections} -d{load.duration}s`, "
        f"median of {load.repeat} run(s); "
        f"x Prism = times better than Prism's best "
        f"({_num(best_cpu)} µs/req, {_num(best_rps)} req/s)."
    )


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def cells(row: Row) -> tuple[str, ...]:
    """One line of the table."""
    if row.skipped or row.error:
        return (row.name, *["-"] * 7, row.skipped or f"FAILED: {row.error}")
    return (
        row.name,
        _num(row.median("requests_per_s")),
        _num(row.median("p50_ms"), 2),
        _num(row.median("p99_ms"), 2),
        _num(row.median("cpu_us_per_request")),
        _num(row.rss_mib, 1),
        _ratio(row.cpu_ratio),
        _ratio(row.rps_ratio),
        "; ".join([row.what, *row.notes]),
    )


def _left(i: int) -> bool:
    return i in (0, len(COLUMNS) - 1)


def markdown(caption: str, rows: list[Row]) -> str:
    """The table as Markdown, for benchmarks/README.md."""
    lines = [caption, "", "| " + " | ".join(COLUMNS) + " |"]
    lines.append("|" + "|".join("---" if _left(i) else "--:" for i in range(len(COLUMNS))) + "|")
    for line in map(cells, rows):
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |")
    return "\n".join(lines) + "\n"


def plain(caption: str, rows: list[Row]) -> str:
    """The table as aligned plain text, for a terminal without rich."""
    lines = [cells(row) for row in rows]
    widths = [max(len(c), *(len(line[i]) for line in lines)) for i, c in enumerate(COLUMNS)]
    out = [caption]
    for line in (COLUMNS, tuple("-" * w for w in widths), *lines):
        out.append(
            "  ".join(
                cell.ljust(width) if _left(i) else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(line, widths, strict=True))
            ).rstrip()
        )
    return "\n".join(out) + "\n"


def print_table(caption: str, rows: list[Row]) -> None:
    """The table on the terminal, drawn by rich when it is installed."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(plain(caption, rows))
        return
    table = Table(title=caption, title_justify="left")
    for i, column in enumerate(COLUMNS):
        table.add_column(column, justify="left" if _left(i) else "right", overflow="fold")
    for line in map(cells, rows):
        table.add_row(*line)
    Console(width=max(shutil.get_terminal_size().columns, 160)).print(table)


def extras_lines(extras: dict[str, Any]) -> list[str]:
    """Startup and fixture-load timings, and the extras that failed."""
    lines = []
    if startup := extras.get("startup"):
        seconds = ", ".join(f"{s * 1000:.0f}" for s in startup["seconds"])
        lines.append(
            f"capmock startup to first 200 from /__admin/health (default fixtures): "
            f"median {startup['median_s'] * 1000:.0f} ms of [{seconds}] ms"
        )
    if load := extras.get("fixture-load"):
        base = load["baseline"]
        lines.append(
            f"capmock check, wall time, median of {len(base['seconds'])}: "
            f"default.yaml {base['median_s']:.2f} s (interpreter + imports)"
        )
        for kind in ("json", "yaml"):
            timing = load[kind]
            lines.append(
                f"  {load['customers']:,} customers, {kind.upper()} "
                f"({timing['size_mib']:.1f} MiB): {timing['median_s']:.2f} s, "
                f"{timing['minus_baseline_s']:.2f} s over the baseline"
            )
    if sessions := extras.get("session-create"):
        big, small = sessions["big"], sessions["default"]
        lines.append(
            f"POST /__admin/sessions, wall time with the HTTP round trip, "
            f"{len(big['seconds'])} sessions: {sessions['customers']:,} customers median "
            f"{big['median_s'] * 1000:.2f} ms (max {big['max_s'] * 1000:.2f}); default "
            f"fixtures median {small['median_s'] * 1000:.2f} ms (max {small['max_s'] * 1000:.2f})"
        )
    lines += [f"{name}: FAILED: {error}" for name, error in extras.get("errors", {}).items()]
    return lines


def document(
    environment: dict[str, Any],
    best: tuple[float | None, float | None],
    rows: list[Row],
    extras: dict[str, Any],
) -> dict[str, Any]:
    """Every number of the run, for --json."""
    best_cpu, best_rps = best
    return {
        "environment": environment,
        "prism_best": {"cpu_us_per_request": best_cpu, "requests_per_s": best_rps},
        "targets": [row.as_dict() for row in rows],
        **{key: value for key, value in extras.items() if key != "errors"},
        "errors": extras.get("errors", {}),
    }

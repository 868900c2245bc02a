"""The outcome of a diff, and its outputs: text, Markdown, JUnit and GitHub annotations
through compat's renderers (a drift is a finding: NEW fails the run, KNOWN does not),
and a JSON document of its own that carries both answers of every drift."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contract_tests.compat import render
from contract_tests.compat.findings import Finding, Report, Severity, Wording
from contract_tests.diff.baseline import Known
from contract_tests.diff.compare import Drift
from contract_tests.diff.send import Sent
from contract_tests.diff.sides import Side

WORDING = Wording(
    command="capmock diff",
    between="vs",
    passed="no new drift",
    failed="new drift",
    levels=((Severity.ERR, "NEW"), (Severity.INFO, "KNOWN")),
    fail_on=False,
)
SHOWN_CASES = 3
"""Cases named per drift in the short formats; JSON and HTML name them all."""


@dataclass(frozen=True)
class Shown:
    """One side, as the report shows it."""

    name: str
    url: str
    kind: str
    """``capmock on loopback`` or ``live``."""
    profile: str

    @classmethod
    def of(cls, side: Side) -> Shown:
        kind = "capmock on loopback" if side.capmock else "live"
        return cls(side.name, side.target.base_url, kind, side.target.profile.origin)


@dataclass
class DiffReport:
    targets: list[Shown]
    mode: str
    drifts: list[Drift]
    sent: list[Sent]
    started: str
    duration: float = 0.0
    not_compared: list[str] = field(default_factory=list)
    gone: list[Known] = field(default_factory=list)
    """Known drifts this run did not see."""
    notes: list[str] = field(default_factory=list)
    baseline: str | None = None
    updated: bool = False
    """Whether this run wrote its drifts to the baseline."""

    @property
    def new(self) -> list[Drift]:
        return [drift for drift in self.drifts if not drift.known]

    @property
    def alike(self) -> int:
        """Pairs both targets answered, and alike."""
        drifting = {id(d.sent) for drift in self.drifts for d in drift.seen_in}
        return sum(
            1
            for sent in self.sent
            if id(sent) not in drifting and all(a.answered for a in sent.answers.values())
        )

    @property
    def unanswered(self) -> list[Sent]:
        """Pairs neither target answered (the budget spent on both): nothing to compare."""
        return [s for s in self.sent if not any(a.answered for a in s.answers.values())]

    @property
    def failed(self) -> bool:
        return bool(self.new) and not self.updated

    def verdict(self) -> str:
        return WORDING.failed if self.failed else WORDING.passed

    def checked(self) -> list[str]:
        """What the run did, one line each, for the end of every format."""
        lines = [
            f"{target.name}: {target.url} ({target.kind}; profile {target.profile})"
            for target in self.targets
        ]
        lines.append(
            f"{len(self.sent)} requests to each target ({self.mode}); "
            f"{self.alike} answered alike; {_count(len(self.drifts), 'drift')}"
        )
        if self.unanswered:
            problem = next(iter(self.unanswered[0].answers.values())).problem
            lines.append(
                f"{_count(len(self.unanswered), 'request')} answered by neither target, so not "
                f"compared ({problem})"
            )
        if self.baseline is not None:
            if self.updated:
                lines.append(f"baseline {self.baseline}: {len(self.drifts)} written to it")
            else:
                known = len(self.drifts) - len(self.new)
                lines.append(f"baseline {self.baseline}: {known} known from it")
        lines += self.not_compared
        lines += [
            f"known drift not seen this time ({entry.kind} {entry.subject}: {entry.a} / "
            f"{entry.b}): --update-baseline drops it"
            for entry in self.gone
        ]
        lines += [f"note: {note}" for note in self.notes]
        return lines

    def summary(self) -> str:
        """``new drift (2 NEW, 1 KNOWN)``, as every format says it."""
        return render.summary(as_findings(self), Severity.ERR)


def as_findings(report: DiffReport) -> Report:
    """The report as compat's findings, for compat's renderers."""
    a, b = report.targets
    findings = Report(f"A {a.url}", f"B {b.url}", wording=WORDING, checked=report.checked())
    for drift in report.drifts:
        known = drift.known or report.updated
        lines = [("suggestion", drift.suggestion)] if drift.suggestion else []
        if drift.cases != [drift.first.sent.pair.name()] or drift.cases[0] not in drift.text:
            lines.append(("seen in", _seen_in(drift)))
        findings.findings.append(
            Finding(
                rule=f"{drift.kind}-drift",
                severity=Severity.INFO if known else Severity.ERR,
                message=drift.text,
                old=drift.a,
                new=drift.b,
                source="diff",
                lines=tuple(lines),
            )
        )
    return findings


def _seen_in(drift: Drift) -> str:
    cases = drift.cases
    shown = ", ".join(cases[:SHOWN_CASES])
    more = f" and {len(cases) - SHOWN_CASES} more" if len(cases) > SHOWN_CASES else ""
    return f"{_count(len(cases), 'request')}: {shown}{more}"


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"


def as_json(report: DiffReport) -> str:
    document = {
        "verdict": report.verdict(),
        "targets": [vars(target) for target in report.targets],
        "mode": report.mode,
        "started": report.started,
        "durationSeconds": round(report.duration, 3),
        "counts": {
            "requests": len(report.sent),
            "alike": report.alike,
            "unanswered": len(report.unanswered),
            "drifts": len(report.drifts),
            "new": 0 if report.updated else len(report.new),
            "gone": len(report.gone),
        },
        "baseline": report.baseline,
        "baselineUpdated": report.updated,
        "drifts": [_drift_json(drift, report.updated) for drift in report.drifts],
        "gone": [vars(entry) for entry in report.gone],
        "notCompared": report.not_compared,
        "notes": report.notes,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _drift_json(drift: Drift, updated: bool) -> dict[str, Any]:
    return {
        "kind": drift.kind,
        "subject": drift.subject,
        "a": drift.a,
        "b": drift.b,
        "text": drift.text,
        "suggestion": drift.suggestion,
        "known": drift.known or updated,
        "seenIn": [
            {
                "case": d.sent.pair.name(),
                "a": {
                    "request": d.sent.answers["a"].request,
                    "response": d.sent.answers["a"].shown or d.seen["a"].describe(),
                },
                "b": {
                    "request": d.sent.answers["b"].request,
                    "response": d.sent.answers["b"].shown or d.seen["b"].describe(),
                },
            }
            for d in drift.seen_in
        ],
    }


def _through_compat(name: str) -> Callable[[DiffReport], str]:
    def rendered(report: DiffReport) -> str:
        return render.RENDERERS[name](as_findings(report), Severity.ERR)

    return rendered


RENDERERS: dict[str, Callable[[DiffReport], str]] = {
    "text": _through_compat("text"),
    "json": as_json,
    "markdown": _through_compat("markdown"),
    "junit": _through_compat("junit"),
    "github": _through_compat("github"),
}


def failure(fmt: str, problem: str) -> str:
    """What a machine-read format says when the targets could not be compared."""
    return render.failure(fmt, problem, "capmock diff", "the targets")

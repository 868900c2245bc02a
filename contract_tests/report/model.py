"""The one model of a run's results that every renderer reads: the terminal summary,
``index.html``, ``findings.json``, JUnit XML and GitHub annotations."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from contract_tests.findings import Finding

PASSED, FAILED, NOT_RUN = "passed", "FAILED", "not run"
CHECKED, OTHER_FIRST, NOT_CHECKED = "checked", "8015 first", "not run"


@dataclass(frozen=True)
class TestResult:
    name: str
    """The test as pytest names it, e.g. ``test_documented[8003-an-unknown-source]``."""
    outcome: str
    detail: str
    """The headline of a failure, or why the test did not run."""
    findings: list[Finding] = field(default_factory=list)
    text: str = ""
    """The whole failure as pytest reported it, for failures that are not findings."""
    duration: float = 0.0


@dataclass(frozen=True)
class CodeRow:
    """One documented error code in the coverage matrix."""

    code: int
    message: str
    tests: list[str]
    state: str
    """CHECKED, OTHER_FIRST (a read-only run's request was looked up first) or NOT_CHECKED."""
    triggered: bool | None = None
    code_ok: bool | None = None
    status_ok: bool | None = None
    message_ok: bool | None = None
    """None: not compared (capmock's own codes on a real org), or the code was not seen."""
    note: str = ""


@dataclass
class RunReport:
    target: str
    profile: str
    seed: int | None
    rerun: str
    mode: str
    """Whether the run could write, in words."""
    started: str
    duration: float
    tests: list[TestResult]
    coverage: list[CodeRow]
    warnings: list[str] = field(default_factory=list)
    """What would make a pass meaningless (every answer 401/403, every deduction 8015)."""
    notes: list[str] = field(default_factory=list)
    """What a person should know about the setup."""
    order: list[str] = field(default_factory=list)
    """Which checks the target makes before it looks the customer up, as seen."""
    min_coverage: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return {
            outcome: sum(1 for test in self.tests if test.outcome == outcome)
            for outcome in (PASSED, FAILED, NOT_RUN)
        }

    @property
    def coverage_percent(self) -> float:
        if not self.coverage:
            return 0.0
        checked = sum(1 for row in self.coverage if row.state == CHECKED)
        return 100.0 * checked / len(self.coverage)

    @property
    def coverage_failed(self) -> bool:
        return self.coverage_percent < self.min_coverage

    @property
    def findings(self) -> list[tuple[str, Finding]]:
        return [(test.name, finding) for test in self.tests for finding in test.findings]

    def as_dict(self) -> dict[str, Any]:
        counts = self.counts
        return {
            "target": self.target,
            "profile": self.profile,
            "seed": self.seed,
            "rerun": self.rerun,
            "mode": self.mode,
            "started": self.started,
            "durationSeconds": round(self.duration, 3),
            "counts": {
                "passed": counts[PASSED],
                "failed": counts[FAILED],
                "notRun": counts[NOT_RUN],
                "findings": len(self.findings),
            },
            "coverage": {
                "percent": round(self.coverage_percent, 1),
                "minimum": self.min_coverage,
                "codes": [asdict(row) for row in self.coverage],
            },
            "warnings": self.warnings,
            "notes": self.notes,
            "order": self.order,
            "tests": [
                {
                    "name": test.name,
                    "outcome": test.outcome,
                    "detail": test.detail,
                    "durationSeconds": round(test.duration, 3),
                    "findings": [asdict(finding) for finding in test.findings],
                    **({"text": test.text} if test.text and not test.findings else {}),
                }
                for test in self.tests
            ],
        }

"""What compat reports: typed findings with a severity, and the report that gathers them.

Every finding names its rule (the oasdiff id where compat mirrors one), where in the API
it applies and what changed; the renderers read only these fields and the report's
``Wording``, so other commands (``capmock diff``) report through them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Severity(IntEnum):
    """INFO: a change, not a break. WARN: may break some clients. ERR: breaks clients."""

    INFO = 0
    WARN = 1
    ERR = 2


@dataclass(frozen=True, slots=True)
class Place:
    """Where a change applies: an operation, a part of it and a path inside that part."""

    operation: str
    """``POST /v2/customers/{userId}/negativePointsAdjustment``, or ``""`` for the document."""
    part: str
    """``request body application/json``, ``query parameter source``, ``response 200 ...``."""
    path: str = ""
    """Inside the part: ``reasonOfReturn``, ``errors[].code``; ``""`` for the part itself."""

    def __str__(self) -> str:
        return " ".join(
            bit for bit in (self.operation, self.part, self.path and f"· {self.path}") if bit
        )


@dataclass(frozen=True, slots=True)
class Example:
    """A minimal message one version accepts and the other refuses, with the refusal."""

    direction: str
    """``request`` (valid under OLD, refused by NEW) or ``response`` (the other way round)."""
    message: dict[str, Any]
    refusal: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One change between the two contracts."""

    rule: str
    severity: Severity
    message: str
    places: tuple[Place, ...] = ()
    old: Any = None
    new: Any = None
    note: str = ""
    example: Example | None = None
    source: str = "rules"
    """``rules`` (structural), ``catalogue`` (error codes) or ``examples`` (property check)."""
    lines: tuple[tuple[str, str], ...] = ()
    """More labelled lines to show under the message, after the note."""

    def details(self) -> list[tuple[str, str]]:
        """Labelled lines a renderer may show under the message."""
        lines = [("at", str(place)) for place in self.places]
        if self.note:
            lines.append(("note", self.note))
        return lines + list(self.lines)


@dataclass(frozen=True, slots=True)
class Wording:
    """How a report names itself, its verdicts and its severities."""

    command: str = "capmock compat"
    between: str = "->"
    """Between the two things compared: ``OLD -> NEW``."""
    passed: str = "compatible"
    failed: str = "breaking"
    levels: tuple[tuple[Severity, str], ...] = (
        (Severity.ERR, "ERR"),
        (Severity.WARN, "WARN"),
        (Severity.INFO, "INFO"),
    )
    """The severities this report uses, most severe first, each with its name."""
    fail_on: bool = True
    """Whether the summary names the severity the run fails on (``--fail-on``)."""

    def level(self, severity: Severity) -> str:
        return dict(self.levels)[severity]


@dataclass(slots=True)
class Report:
    """Every finding of one comparison, most severe first, and what was compared."""

    old: str
    new: str
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    """One line per thing the comparison did, e.g. ``property check: 200 requests``."""
    wording: Wording = field(default_factory=Wording)

    def sorted(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: (-f.severity, f.rule, f.message))

    def count(self, severity: Severity) -> int:
        return sum(1 for finding in self.findings if finding.severity is severity)

    def breaking(self, fail_on: Severity) -> bool:
        return any(finding.severity >= fail_on for finding in self.findings)

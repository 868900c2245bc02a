"""A finding: one way the target broke the contract, with what shows it; and an
observation: what a test of one documented error code saw, for the coverage matrix.

Every finding carries the request as a curl command someone can paste, the response
that came back, and what the contract expected instead.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Finding:
    problem: str
    """Names the problem, e.g. "8907 expected, got 200"."""
    curl: str
    response: str
    expected: str

    def render(self) -> str:
        return (
            f"{self.problem}\n"
            f"  request:\n{_indent(self.curl)}\n"
            f"  response:\n{_indent(self.response)}\n"
            f"  expected:\n{_indent(self.expected)}"
        )


@dataclass(frozen=True, slots=True)
class Observation:
    """What the test of one documented code saw."""

    code: int
    """The code the test is for."""
    test: str
    status: int
    answered: int | None
    """The first code answered; None when the answer had no error envelope."""
    status_ok: bool
    message_ok: bool | None
    """None when the message was not compared (capmock's codes on a real org)."""
    first: int | None = None
    """Another code the contract allows to come first, when the target answered it: 8015
    when a read-only run's request for the unknown customer is looked up first."""

    @property
    def triggered(self) -> bool:
        return self.answered == self.code

    @property
    def checked(self) -> bool:
        """The target's handling of the code was seen: the code came, or a wrong answer
        where it had to come."""
        return self.first is None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one test found, and what it saw of the code it is for."""

    findings: list[Finding]
    observation: Observation | None = None


class NotRunError(Exception):
    """The test cannot run on this target (the message says why): reported as not run."""


class ContractBrokenError(AssertionError):
    """Raised by a test whose target broke the contract; carries every finding."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        count = f"{len(findings)} finding{'s' if len(findings) != 1 else ''}"
        super().__init__(f"{count}\n\n" + "\n\n".join(f.render() for f in findings))


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines() or [""])

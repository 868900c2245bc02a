"""A finding: one way the target broke the contract, with what shows it.

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


class ContractBrokenError(AssertionError):
    """Raised by a test whose target broke the contract; carries every finding."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        count = f"{len(findings)} finding{'s' if len(findings) != 1 else ''}"
        super().__init__(f"{count}\n\n" + "\n\n".join(f.render() for f in findings))


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines() or [""])

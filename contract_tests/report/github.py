"""GitHub Actions annotations: one ``::error`` line per finding, and one for a coverage
below ``--min-coverage``."""

from __future__ import annotations

from contract_tests.report.model import FAILED, RunReport


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: RunReport) -> list[str]:
    lines = []
    for test, finding in report.findings:
        message = "\n".join((finding.problem, f"expected: {finding.expected}", finding.curl))
        lines.append(_error(f"capmock contract: {test}", message))
    for result in report.tests:
        if result.outcome == FAILED and not result.findings:
            lines.append(_error(f"capmock contract: {result.name}", result.detail))
    if report.coverage_failed:
        message = (
            f"{report.coverage_percent:.0f}% of the documented error codes were checked, "
            f"below --min-coverage {report.min_coverage}"
        )
        lines.append(_error("capmock contract coverage", message))
    return lines


def _error(title: str, message: str) -> str:
    return f"::error title={_property(title)}::{_data(message)}"

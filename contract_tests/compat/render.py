"""Reports as text, JSON, Markdown, JUnit XML or GitHub annotations.

Renderers read only a report's findings (rule, severity, message, places, details and
example) and the verdict, so any command that reports findings can use them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from contract_tests.compat.findings import Finding, Report, Severity

FORMATS = ("text", "json", "markdown", "junit", "github")


def verdict(report: Report, fail_on: Severity) -> str:
    if report.breaking(fail_on):
        return "breaking"
    return "compatible"


def summary(report: Report, fail_on: Severity) -> str:
    counts = ", ".join(f"{report.count(level)} {level.name}" for level in reversed(Severity))
    return f"{verdict(report, fail_on)} ({counts}; failing on {fail_on.name})"


def text(report: Report, fail_on: Severity) -> str:
    lines = [f"capmock compat {report.old} -> {report.new}", ""]
    for finding in report.sorted():
        lines.append(f"{finding.severity.name:<4} {finding.rule}: {finding.message}")
        lines.extend(f"     {label}: {value}" for label, value in finding.details())
        if finding.example:
            lines.append(
                f"     example ({_example_caption(finding)}): {_compact(finding.example.message)}"
            )
            lines.append(f"     refused: {finding.example.refusal}")
    if report.findings:
        lines.append("")
    lines.extend(report.checked)
    lines.append(summary(report, fail_on))
    return "\n".join(lines) + "\n"


def as_json(report: Report, fail_on: Severity) -> str:
    return (
        json.dumps(
            {
                "old": report.old,
                "new": report.new,
                "verdict": verdict(report, fail_on),
                "failOn": fail_on.name,
                "counts": {level.name: report.count(level) for level in Severity},
                "checked": report.checked,
                "findings": [_finding_json(finding) for finding in report.sorted()],
            },
            indent=2,
            default=str,
        )
        + "\n"
    )


def markdown(report: Report, fail_on: Severity) -> str:
    icon = "❌" if report.breaking(fail_on) else "✅"
    lines = [
        f"## {icon} capmock compat: {summary(report, fail_on)}",
        "",
        f"`{report.old}` → `{report.new}`",
        "",
    ]
    if report.findings:
        lines += ["| severity | rule | change | where |", "| --- | --- | --- | --- |"]
        for finding in report.sorted():
            where = "<br>".join(_cell(str(place)) for place in finding.places)
            cells = (finding.severity.name, f"`{finding.rule}`", _cell(finding.message), where)
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        for finding in report.sorted():
            if finding.example or finding.note:
                title = f"{finding.severity.name} {finding.rule}: {_cell(finding.message)}"
                lines.append(f"<details><summary>{title}</summary>")
                lines.append("")
                if finding.note:
                    lines.append(_cell(finding.note))
                if finding.example:
                    lines += [
                        "",
                        f"Example ({_example_caption(finding)}), refused: "
                        + _cell(finding.example.refusal),
                        "",
                        "```json",
                        json.dumps(finding.example.message, indent=2, default=str),
                        "```",
                    ]
                lines += ["", "</details>"]
        lines.append("")
    lines += [f"- {line}" for line in report.checked]
    return "\n".join(lines) + "\n"


def junit(report: Report, fail_on: Severity) -> str:
    failures = [f for f in report.findings if f.severity >= fail_on]
    cases = []
    for finding in report.sorted():
        name = quoteattr(f"{finding.rule}: {finding.message}")
        body = _plain(finding)
        if finding.severity >= fail_on:
            kind = quoteattr(finding.severity.name)
            cases.append(
                f'  <testcase classname="capmock.compat" name={name}>\n'
                f"    <failure type={kind} message={quoteattr(finding.message)}>"
                f"{escape(body)}</failure>\n"
                f"  </testcase>"
            )
        else:
            cases.append(
                f'  <testcase classname="capmock.compat" name={name}>\n'
                f"    <system-out>{escape(finding.severity.name + ' ' + body)}</system-out>\n"
                "  </testcase>"
            )
    if not cases:
        cases.append('  <testcase classname="capmock.compat" name="no changes"/>')
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<testsuite name="capmock compat" tests="{len(cases)}" '
        f'failures="{len(failures)}" errors="0">\n' + "\n".join(cases) + "\n</testsuite>\n"
    )


def github(report: Report, fail_on: Severity) -> str:
    lines = []
    for finding in report.sorted():
        level = (
            "error"
            if finding.severity >= fail_on
            else "warning"
            if finding.severity is Severity.WARN
            else "notice"
        )
        title = _escape_property(f"{finding.severity.name} {finding.rule}")
        lines.append(f"::{level} title={title}::{_escape_data(_plain(finding))}")
    lines.append(f"::notice title=capmock compat::{_escape_data(summary(report, fail_on))}")
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[[Report, Severity], str]] = {
    "text": text,
    "json": as_json,
    "markdown": markdown,
    "junit": junit,
    "github": github,
}


def failure(fmt: str, problem: str) -> str:
    """What a machine-read format says when no comparison could be made: never "no changes"."""
    if fmt == "json":
        return json.dumps({"verdict": "error", "error": problem}, indent=2) + "\n"
    if fmt == "junit":
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<testsuite name="capmock compat" tests="1" failures="0" errors="1">\n'
            f'  <testcase classname="capmock.compat" name="compare the contracts">\n'
            f"    <error message={quoteattr(problem)}/>\n  </testcase>\n</testsuite>\n"
        )
    if fmt == "github":
        return f"::error title=capmock compat::{_escape_data(problem)}\n"
    if fmt == "markdown":
        return f"## ⚠️ capmock compat could not compare the contracts\n\n{_cell(problem)}\n"
    return ""


def _finding_json(finding: Finding) -> dict[str, Any]:
    data = asdict(finding)
    data["severity"] = finding.severity.name
    return data


def _plain(finding: Finding) -> str:
    lines = [f"{finding.message}"] + [f"{label}: {value}" for label, value in finding.details()]
    if finding.example:
        lines.append(f"example ({_example_caption(finding)}): {_compact(finding.example.message)}")
        lines.append(f"refused: {finding.example.refusal}")
    return "\n".join(lines)


def _example_caption(finding: Finding) -> str:
    assert finding.example is not None
    if finding.example.direction == "request":
        return "a request the old contract accepts"
    return "a response the new contract allows"


def _compact(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, default=str)


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")

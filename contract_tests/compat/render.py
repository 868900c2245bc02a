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
        return report.wording.failed
    return report.wording.passed


def summary(report: Report, fail_on: Severity) -> str:
    wording = report.wording
    counts = ", ".join(f"{report.count(level)} {name}" for level, name in wording.levels)
    failing = f"; failing on {wording.level(fail_on)}" if wording.fail_on else ""
    return f"{verdict(report, fail_on)} ({counts}{failing})"


def text(report: Report, fail_on: Severity) -> str:
    wording = report.wording
    width = max(len(name) for _, name in wording.levels)
    lines = [f"{wording.command} {report.old} {wording.between} {report.new}", ""]
    for finding in report.sorted():
        level = wording.level(finding.severity)
        lines.append(f"{level:<{width}} {finding.rule}: {finding.message}")
        lines.extend(f"{'':{width + 1}}{label}: {value}" for label, value in finding.details())
        if finding.example:
            lines.append(
                f"{'':{width + 1}}example ({_example_caption(finding)}): "
                f"{_compact(finding.example.message)}"
            )
            lines.append(f"{'':{width + 1}}refused: {finding.example.refusal}")
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
    wording = report.wording
    icon = "❌" if report.breaking(fail_on) else "✅"
    arrow = "→" if wording.between == "->" else wording.between
    lines = [
        f"## {icon} {wording.command}: {summary(report, fail_on)}",
        "",
        f"`{report.old}` {arrow} `{report.new}`",
        "",
    ]
    if report.findings:
        placed = any(finding.places for finding in report.findings)
        columns = ["severity", "rule", "change", *(["where"] if placed else [])]
        lines += ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
        for finding in report.sorted():
            level = wording.level(finding.severity)
            cells = [level, f"`{finding.rule}`", _cell(finding.message)]
            if placed:
                cells.append("<br>".join(_cell(str(place)) for place in finding.places))
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        for finding in report.sorted():
            if finding.example or finding.note or finding.lines:
                level = wording.level(finding.severity)
                title = f"{level} {finding.rule}: {_cell(finding.message)}"
                lines.append(f"<details><summary>{title}</summary>")
                lines.append("")
                if finding.note:
                    lines.append(_cell(finding.note))
                lines += [f"- {label}: {_cell(value)}" for label, value in finding.lines]
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
    wording = report.wording
    classname = quoteattr(wording.command.replace(" ", "."))
    failures = [f for f in report.findings if f.severity >= fail_on]
    cases = []
    for finding in report.sorted():
        name = quoteattr(f"{finding.rule}: {finding.message}")
        body = _plain(finding)
        level = wording.level(finding.severity)
        if finding.severity >= fail_on:
            cases.append(
                f"  <testcase classname={classname} name={name}>\n"
                f"    <failure type={quoteattr(level)} message={quoteattr(finding.message)}>"
                f"{escape(body)}</failure>\n"
                f"  </testcase>"
            )
        else:
            cases.append(
                f"  <testcase classname={classname} name={name}>\n"
                f"    <system-out>{escape(level + ' ' + body)}</system-out>\n"
                "  </testcase>"
            )
    if not cases:
        cases.append(f'  <testcase classname={classname} name="no changes"/>')
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<testsuite name={quoteattr(wording.command)} tests="{len(cases)}" '
        f'failures="{len(failures)}" errors="0">\n' + "\n".join(cases) + "\n</testsuite>\n"
    )


def github(report: Report, fail_on: Severity) -> str:
    wording = report.wording
    lines = []
    for finding in report.sorted():
        level = (
            "error"
            if finding.severity >= fail_on
            else "warning"
            if finding.severity is Severity.WARN
            else "notice"
        )
        title = _escape_property(f"{wording.level(finding.severity)} {finding.rule}")
        lines.append(f"::{level} title={title}::{_escape_data(_plain(finding))}")
    command = _escape_property(wording.command)
    lines.append(f"::notice title={command}::{_escape_data(summary(report, fail_on))}")
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[[Report, Severity], str]] = {
    "text": text,
    "json": as_json,
    "markdown": markdown,
    "junit": junit,
    "github": github,
}


def failure(
    fmt: str, problem: str, command: str = "capmock compat", what: str = "the contracts"
) -> str:
    """What a machine-read format says when no comparison could be made: never "no changes"."""
    if fmt == "json":
        return json.dumps({"verdict": "error", "error": problem}, indent=2) + "\n"
    if fmt == "junit":
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<testsuite name={quoteattr(command)} tests="1" failures="0" errors="1">\n'
            f"  <testcase classname={quoteattr(command.replace(' ', '.'))} "
            f"name={quoteattr(f'compare {what}')}>\n"
            f"    <error message={quoteattr(problem)}/>\n  </testcase>\n</testsuite>\n"
        )
    if fmt == "github":
        return f"::error title={_escape_property(command)}::{_escape_data(problem)}\n"
    if fmt == "markdown":
        return f"## ⚠️ {command} could not compare {what}\n\n{_cell(problem)}\n"
    return ""


def _finding_json(finding: Finding) -> dict[str, Any]:
    data = asdict(finding)
    data["severity"] = finding.severity.name
    if not finding.lines:
        del data["lines"]
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

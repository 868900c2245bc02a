"""``index.html``: one self-contained page (no script, no network) that a person reads
top-down: the summary and its warnings, the error-code coverage matrix, every finding
with its curl command, response and expectation, then every test."""

from __future__ import annotations

from html import escape

from contract_tests.findings import Finding
from contract_tests.report.model import (
    CHECKED,
    FAILED,
    NOT_CHECKED,
    NOT_RUN,
    OTHER_FIRST,
    PASSED,
    CodeRow,
    RunReport,
)

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem;
         border-bottom: 1px solid #eee; }
th { background: #f5f5f7; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.summary dt { font-weight: 600; }
dl.summary dd { margin: 0; }
pre { background: #f5f5f7; padding: .6rem; overflow-x: auto; white-space: pre-wrap;
      word-break: break-all; margin: .3rem 0; }
.verdict { font-size: 1.3rem; font-weight: 700; }
.ok, .passed, .yes { color: #1a7f37; }
.bad, .FAILED, .no { color: #cf222e; font-weight: 600; }
.skip, .not-run, .first { color: #9a6700; }
.warning { background: #fff8c5; border: 1px solid #d4a72c; padding: .5rem .8rem;
           margin: .4rem 0; }
.finding { border-left: 4px solid #cf222e; padding: .2rem 0 .2rem .8rem; margin: 1rem 0; }
"""


def render(report: RunReport) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>capmock contract tests: {escape(report.target)}</title>",
        f"<style>{STYLE}</style></head><body>",
        _summary(report),
        _matrix(report.coverage),
        _findings(report),
        _tests(report),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _summary(report: RunReport) -> str:
    counts = report.counts
    broken = counts[FAILED] > 0 or report.coverage_failed
    verdict = (
        '<p class="verdict bad">The target broke the contract</p>'
        if counts[FAILED]
        else '<p class="verdict bad">Too few documented codes were checked</p>'
        if broken
        else '<p class="verdict ok">The target honoured the contract</p>'
    )
    rows = [
        ("Target", report.target),
        ("Profile", report.profile),
        ("Mode", report.mode),
        ("Seed", str(report.seed)),
        (
            "Tests",
            f"{counts[PASSED]} passed, {counts[FAILED]} failed, {counts[NOT_RUN]} not run; "
            f"{len(report.findings)} findings",
        ),
        (
            "Coverage",
            f"{report.coverage_percent:.0f}% of the {len(report.coverage)} documented error "
            "codes checked" + (f" (minimum {report.min_coverage}%)" if report.min_coverage else ""),
        ),
        ("Started", f"{report.started}, {report.duration:.1f} s"),
    ]
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    warnings = "".join(
        f'<div class="warning"><strong>Warning:</strong> {escape(w)}</div>' for w in report.warnings
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.notes + report.order)
    return (
        '<section id="summary"><h1>capmock contract tests</h1>'
        f"{verdict}{warnings}"
        f'<dl class="summary">{items}</dl>'
        f"<p>Rerun with:</p><pre>{escape(report.rerun)}</pre>"
        + (f"<ul>{notes}</ul>" if notes else "")
        + "</section>"
    )


def _mark(value: bool | None) -> str:
    if value is None:
        return '<td class="skip">&ndash;</td>'
    return '<td class="yes">yes</td>' if value else '<td class="no">no</td>'


def _seen(value: bool | None) -> str:
    """Whether the code came: not a verdict, so never in red."""
    return "<td>&ndash;</td>" if value is None else f"<td>{'yes' if value else 'no'}</td>"


def _matrix(rows: list[CodeRow]) -> str:
    body = []
    for row in rows:
        state = {CHECKED: "checked", OTHER_FIRST: "8015 first", NOT_CHECKED: "not run"}[row.state]
        css = {CHECKED: "ok", OTHER_FIRST: "first", NOT_CHECKED: "not-run"}[row.state]
        body.append(
            f'<tr id="code-{row.code}"><td>{row.code}</td><td>{escape(row.message)}</td>'
            f'<td class="{css}">{state}</td>'
            f"{_seen(row.triggered)}{_mark(row.code_ok)}{_mark(row.status_ok)}"
            f"{_mark(row.message_ok)}"
            f"<td>{escape(row.note)}<br><small>{escape(', '.join(row.tests))}</small></td></tr>"
        )
    return (
        '<section id="coverage"><h2>Error-code coverage</h2>'
        "<p>Every documented code: whether a test checked it, whether the code came, "
        "whether the code, the HTTP status and the message were the documented ones, and "
        "why a code was not checked.</p>"
        '<table class="matrix"><thead><tr><th>code</th><th>documented message</th>'
        "<th>state</th><th>triggered</th><th>code</th><th>status</th><th>message</th>"
        "<th>note / tests</th></tr></thead><tbody>" + "".join(body) + "</tbody></table></section>"
    )


def _finding(test: str, finding: Finding) -> str:
    return (
        f'<div class="finding"><p><strong>{escape(finding.problem)}</strong><br>'
        f"<small>{escape(test)}</small></p>"
        f"<p>Request:</p><pre>{escape(finding.curl or '(no request)')}</pre>"
        f"<p>Response:</p><pre>{escape(finding.response or '(none)')}</pre>"
        f"<p>Expected:</p><pre>{escape(finding.expected)}</pre></div>"
    )


def _findings(report: RunReport) -> str:
    found = [_finding(test, finding) for test, finding in report.findings]
    others = [
        f'<div class="finding"><p><strong>{escape(t.name)}</strong></p>'
        f"<pre>{escape(t.text or t.detail)}</pre></div>"
        for t in report.tests
        if t.outcome == FAILED and not t.findings
    ]
    content = "".join(found + others) or "<p>None: no test found the contract broken.</p>"
    return f'<section id="findings"><h2>Findings ({len(found)})</h2>{content}</section>'


def _tests(report: RunReport) -> str:
    rows = "".join(
        f'<tr><td>{escape(t.name)}</td><td class="{t.outcome.replace(" ", "-")}">'
        f"{escape(t.outcome)}</td><td>{escape(t.detail)}</td><td>{t.duration:.2f}</td></tr>"
        for t in report.tests
    )
    return (
        '<section id="tests"><h2>Every test</h2><table><thead><tr><th>test</th>'
        "<th>result</th><th>detail</th><th>s</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )

"""``index.html`` of ``capmock diff --report DIR``: a sibling of ``capmock test``'s page,
in its style (one self-contained page, no script, nothing fetched), read top-down: the
verdict and both targets, every drift (new ones first) with its suggestion and both
answers side by side, then every request and whether its answers drifted."""

from __future__ import annotations

import re
from html import escape

from contract_tests.diff.compare import Drift
from contract_tests.diff.report import DiffReport
from contract_tests.report.html import STYLE as TEST_STYLE

STYLE = (
    TEST_STYLE
    + """
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.known { border-left-color: #9a6700; }
.label { font-weight: 700; }
.suggestion { background: #ddf4ff; border: 1px solid #54aeff; padding: .4rem .8rem; }
"""
)
CODE_SPAN = re.compile(r"`([^`]+)`")
"""Suggestions write what to type in backticks, as Markdown does."""
SHOWN_BYTES = 4000
"""Longer requests and responses (100,000 nested brackets) are cut on the page."""


def render(report: DiffReport) -> str:
    a, b = report.targets
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>capmock diff: {escape(a.url)} vs {escape(b.url)}</title>",
        f"<style>{STYLE}</style></head><body>",
        _summary(report),
        _drifts(report),
        _requests(report),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _summary(report: DiffReport) -> str:
    verdict = (
        '<p class="verdict bad">New drift between the targets</p>'
        if report.failed
        else '<p class="verdict ok">No new drift between the targets</p>'
    )
    rows = [
        *((t.name, f"{t.url} ({t.kind}; profile {t.profile})") for t in report.targets),
        ("Mode", report.mode),
        ("Result", report.summary()),
        ("Requests", f"{len(report.sent)} to each target, {report.alike} answered alike"),
        ("Baseline", report.baseline or "none"),
        ("Started", f"{report.started}, {report.duration:.1f} s"),
    ]
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    others = report.checked()[len(report.targets) + 1 :]
    notes = "".join(f"<li>{escape(line)}</li>" for line in others)
    return (
        '<section id="summary"><h1>capmock diff</h1>'
        f'{verdict}<dl class="summary">{items}</dl>'
        + (f"<ul>{notes}</ul>" if notes else "")
        + "</section>"
    )


def _drifts(report: DiffReport) -> str:
    ordered = sorted(report.drifts, key=lambda d: d.known or report.updated)
    body = "".join(_drift(drift, drift.known or report.updated) for drift in ordered)
    content = body or "<p>None: both targets answered every request alike.</p>"
    return f'<section id="drifts"><h2>Drifts ({len(report.drifts)})</h2>{content}</section>'


def _drift(drift: Drift, known: bool) -> str:
    first = drift.first
    label = "KNOWN" if known else "NEW"
    suggestion = (
        f'<p class="suggestion"><strong>Suggestion:</strong> {_code(drift.suggestion)}</p>'
        if drift.suggestion
        else ""
    )
    cases = "".join(f"<li>{escape(case)}</li>" for case in drift.cases)
    sides = "".join(
        f'<div><p class="label">{side.upper()}</p>'
        f"<pre>{escape(_cut(first.sent.answers[side].request))}</pre>"
        f"<pre>{escape(_cut(first.sent.answers[side].shown or first.seen[side].describe()))}"
        "</pre></div>"
        for side in ("a", "b")
    )
    return (
        f'<div class="finding{" known" if known else ""}">'
        f'<p><span class="{"skip" if known else "bad"}">{label}</span> '
        f"<code>{escape(drift.kind)}-drift</code> <strong>{escape(drift.text)}</strong></p>"
        f"{suggestion}<p>Seen in {len(drift.cases)} request(s):</p><ul>{cases}</ul>"
        f'<p>The first of them:</p><div class="pair">{sides}</div></div>'
    )


def _requests(report: DiffReport) -> str:
    drifting: dict[int, list[str]] = {}
    for drift in report.drifts:
        for difference in drift.seen_in:
            drifting.setdefault(id(difference.sent), []).append(f"{drift.kind}-drift")
    rows = []
    for sent in report.sent:
        kinds = drifting.get(id(sent), [])
        state = (
            f'<td class="bad">{escape(", ".join(kinds))}</td>'
            if kinds
            else '<td class="ok">alike</td>'
        )
        answers = "".join(
            f"<td>{escape(_brief(sent.answers[side].shown or sent.answers[side].problem))}</td>"
            for side in ("a", "b")
        )
        rows.append(f"<tr><td>{escape(sent.pair.name())}</td>{answers}{state}</tr>")
    return (
        '<section id="requests"><h2>Every request</h2><table><thead><tr><th>request</th>'
        "<th>A answered</th><th>B answered</th><th>drift</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _brief(shown: str | None) -> str:
    """The status line of a response: ``HTTP 400 (application/json)``."""
    return (shown or "").splitlines()[0] if shown else ""


def _code(text: str) -> str:
    """Escaped, with each `span` in <code>."""
    return CODE_SPAN.sub(r"<code>\1</code>", escape(text))


def _cut(text: str) -> str:
    if len(text) <= SHOWN_BYTES:
        return text
    return f"{text[:SHOWN_BYTES]}... ({len(text)} characters)"

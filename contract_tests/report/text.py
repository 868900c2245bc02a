"""The summary printed at the end of a run, as plain lines: ``capmock test`` and the
pytest plugin print the same ones."""

from __future__ import annotations

from contract_tests.report.model import CHECKED, FAILED, NOT_RUN, OTHER_FIRST, PASSED, RunReport


def failure_text(report: RunReport) -> list[tuple[str, str]]:
    """Each failed test and its whole failure: every finding with curl, response and
    expectation, or the error pytest reported."""
    blocks = []
    for test in report.tests:
        if test.outcome != FAILED:
            continue
        if test.findings:
            count = f"{len(test.findings)} finding{'s' if len(test.findings) != 1 else ''}"
            text = count + "\n\n" + "\n\n".join(f.render() for f in test.findings)
        else:
            text = test.text or test.detail
        blocks.append((test.name, text))
    return blocks


def summary_lines(report: RunReport, report_dir: str | None = None) -> list[str]:
    counts = report.counts
    checked = sum(1 for row in report.coverage if row.state == CHECKED)
    first = [str(row.code) for row in report.coverage if row.state == OTHER_FIRST]
    not_checked = [
        f"{row.code} ({row.note})"
        for row in report.coverage
        if row.state not in (CHECKED, OTHER_FIRST)
    ]
    lines = [
        f"coverage: {checked} of {len(report.coverage)} documented error codes checked "
        f"({report.coverage_percent:.0f}%)"
        + (f", below --min-coverage {report.min_coverage}" if report.coverage_failed else "")
    ]
    if first:
        lines.append(f"  answered 8015 first (customer looked up first): {', '.join(first)}")
    if not_checked:
        lines.append("  not checked: " + "; ".join(not_checked))
    lines += [f"note: {note}" for note in report.notes + report.order]
    lines += [f"WARNING: {warning}" for warning in report.warnings]
    if report_dir is not None:
        lines.append(f"report: {report_dir}/index.html")
    lines.append(f"target {report.target}, profile {report.profile} ({report.mode})")
    lines.append(
        f"{counts[PASSED]} passed, {counts[FAILED]} failed, {counts[NOT_RUN]} not run "
        f"in {report.duration:.1f} s; seed {report.seed}; rerun: {report.rerun}"
    )
    return lines

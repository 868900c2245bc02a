"""One comparison: structural rules, the error catalogue and the property check, merged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from contract_tests.compat import catalogue, crosscheck, operations
from contract_tests.compat.documents import Contract
from contract_tests.compat.findings import Finding, Report, Severity


def compare(
    old: Contract,
    new: Contract,
    budget: crosscheck.Budget,
    progress: Callable[[str], None] = lambda line: None,
) -> Report:
    report = Report(old.label, new.label)
    structural = _merged(operations.compare(old.document, new.document))
    report.checked.append(f"structural rules: {len(structural)} changes")
    progress(report.checked[-1])
    codes = catalogue.compare(old.document, new.document, old.label, new.label)
    report.checked.append(f"error catalogue: {len(codes)} changes")
    progress(report.checked[-1])
    findings = structural + codes
    if budget.examples:
        outcome = crosscheck.check(old, new, budget, progress)
        findings = _with_examples(findings, outcome.breaks)
        report.checked.append(
            f"property check: {outcome.generated} generated messages, "
            f"{len(outcome.breaks)} breaks (seed {budget.seed})"
        )
        report.checked.extend(f"property check skipped {line}" for line in outcome.skipped)
    else:
        report.checked.append("property check: off (--examples 0)")
    report.findings = findings
    return report


def _merged(findings: list[Finding]) -> list[Finding]:
    """One finding per change, listing every place it shows (a shared schema shows in many)."""
    merged: dict[tuple[object, ...], Finding] = {}
    for finding in findings:
        key = (
            finding.rule,
            finding.severity,
            finding.message,
            repr(finding.old),
            repr(finding.new),
            finding.note,
        )
        if key in merged:
            known = merged[key]
            places = known.places + tuple(p for p in finding.places if p not in known.places)
            merged[key] = replace(known, places=places)
        else:
            merged[key] = finding
    return list(merged.values())


def _with_examples(findings: list[Finding], breaks: list[crosscheck.Break]) -> list[Finding]:
    """Each break's example goes to the rule that names its place, confirming it (ERR);
    a break no rule names becomes a finding of its own."""
    findings = list(findings)
    for found in breaks:
        for index, finding in enumerate(findings):
            if found.place in finding.places and finding.severity >= Severity.WARN:
                if finding.example is None:
                    findings[index] = replace(finding, severity=Severity.ERR, example=found.example)
                break
        else:
            rule = (
                "request-refused-by-new"
                if found.example.direction == "request"
                else "response-refused-by-old"
            )
            what = (
                "a request valid under the old contract is refused by the new one"
                if found.example.direction == "request"
                else "a response valid under the new contract is refused by the old one"
            )
            findings.append(
                Finding(
                    rule,
                    Severity.ERR,
                    what,
                    (found.place,),
                    example=found.example,
                    source="examples",
                )
            )
    return findings

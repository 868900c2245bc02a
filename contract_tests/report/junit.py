"""JUnit XML: a testcase per test, the findings of a failure as its text, the reason a
test did not run as its skip message."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from contract_tests.report.model import FAILED, NOT_RUN, RunReport

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    """Text XML 1.0 can carry: characters it forbids are written as ``\\uXXXX``."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def render(report: RunReport) -> str:
    counts = report.counts
    suite = ET.Element(
        "testsuite",
        name="capmock contract tests",
        tests=str(len(report.tests)),
        failures=str(counts[FAILED]),
        errors="0",
        skipped=str(counts[NOT_RUN]),
        time=f"{report.duration:.3f}",
        timestamp=report.started,
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("target", report.target),
        ("profile", report.profile),
        ("seed", str(report.seed)),
        ("rerun", report.rerun),
        ("coverage", f"{report.coverage_percent:.1f}%"),
    ):
        ET.SubElement(properties, "property", name=name, value=_clean(value))
    for test in report.tests:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"contract_tests.{test.name.split('[', 1)[0]}",
            name=_clean(test.name),
            time=f"{test.duration:.3f}",
        )
        if test.outcome == FAILED:
            failure = ET.SubElement(case, "failure", message=_clean(test.detail))
            text = "\n\n".join(f.render() for f in test.findings) if test.findings else test.text
            failure.text = _clean(text)
        elif test.outcome == NOT_RUN:
            ET.SubElement(case, "skipped", message=_clean(test.detail))
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

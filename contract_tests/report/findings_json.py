"""``findings.json``: the whole report as data (target, seed, counts, coverage, every
test and finding). A clean run writes the same summary, with no findings."""

from __future__ import annotations

import json

from contract_tests.report.model import RunReport


def render(report: RunReport) -> str:
    return json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n"

"""Known drifts: a JSON file a team reviews and commits, so that only new drift fails.

A drift is known when its kind, subject and both values are in the file: 8015 answered
with 404 stays known however many requests meet it, and becomes new if the org starts
answering 410. Each entry also carries its line and suggestion, for the people who read
the file in a pull request; they are not compared.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract_tests.diff.compare import KINDS, Drift
from contract_tests.options import UsageError

FORMAT = "capmockDiffBaseline"
VERSION = 1
FIELDS = ("kind", "subject", "a", "b")


@dataclass(frozen=True)
class Known:
    kind: str
    subject: str
    a: str
    b: str
    text: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.kind, self.subject, self.a, self.b)


def load(path: Path) -> list[Known]:
    """The known drifts; UsageError naming the file and the place of a problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such baseline (--update-baseline writes one)") from None
    except OSError as error:
        raise UsageError(f"{path}: cannot read the baseline: {error.strerror}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(
            f"{path}: line {error.lineno}, column {error.colno}: not JSON: {error.msg}"
        ) from None
    return _entries(path, document)


def _entries(path: Path, document: Any) -> list[Known]:
    if not isinstance(document, dict) or not isinstance(document.get("drifts"), list):
        raise UsageError(f"{path}: not a baseline: it needs a drifts array (--update-baseline)")
    if document.get(FORMAT, VERSION) != VERSION:
        raise UsageError(
            f"{path}: {FORMAT}: {document[FORMAT]!r} is a version this capmock does not read "
            f"(it reads {VERSION})"
        )
    known = []
    for index, entry in enumerate(document["drifts"]):
        place = f"{path}: drifts[{index}]"
        if not isinstance(entry, dict):
            raise UsageError(f"{place}: is not an object")
        for name in FIELDS:
            if not isinstance(entry.get(name), str):
                raise UsageError(f"{place}.{name}: {entry.get(name)!r} is not a string")
        if entry["kind"] not in KINDS:
            raise UsageError(f"{place}.kind: {entry['kind']!r} is not one of {', '.join(KINDS)}")
        known.append(
            Known(
                entry["kind"], entry["subject"], entry["a"], entry["b"], str(entry.get("text", ""))
            )
        )
    return known


def mark(drifts: list[Drift], known: list[Known]) -> list[Known]:
    """Mark the drifts the baseline knows; return its entries this run did not see."""
    keys = {entry.key for entry in known}
    for drift in drifts:
        drift.known = drift.key in keys
    seen = {drift.key for drift in drifts}
    return [entry for entry in known if entry.key not in seen]


def write(path: Path, drifts: list[Drift]) -> None:
    entries = [
        {
            "kind": drift.kind,
            "subject": drift.subject,
            "a": drift.a,
            "b": drift.b,
            "text": drift.text,
            **({"suggestion": drift.suggestion} if drift.suggestion else {}),
        }
        for drift in sorted(drifts, key=lambda d: (KINDS.index(d.kind), d.subject, d.a, d.b))
    ]
    document = {FORMAT: VERSION, "drifts": entries}
    try:
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    except OSError as error:
        raise UsageError(f"{path}: cannot write the baseline: {error.strerror}") from None

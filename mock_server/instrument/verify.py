"""Which journal entries match a pattern, how many, and for the closest that do not, which
criterion differed, field by field.

A pattern (``match``) names any of: ``operation``, ``userId``, ``source``, ``status``,
``code``, ``session`` (null: the default world), ``method``, ``path``, and ``body``:
body fields, each equal to a value or ``{"matches": REGEX}`` (the whole value, as text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mock_server.instrument.journal import View

FIELDS = ("operation", "userId", "source", "status", "code", "session", "method", "path")
NEAR_MISSES = 3
_MISSING = object()


class PatternError(ValueError):
    """A pattern that cannot be used, e.g. a regular expression that does not compile."""


@dataclass(frozen=True)
class Difference:
    """One criterion an entry does not meet."""

    field: str
    expected: Any
    actual: Any

    def text(self) -> str:
        return f"{self.field}: expected {_show(self.expected)}, got {_show(self.actual)}"

    def as_json(self) -> dict[str, Any]:
        actual = None if self.actual is _MISSING else self.actual
        return {"field": self.field, "expected": self.expected, "actual": actual}


def differences(match: Mapping[str, Any], entry: View) -> list[Difference]:
    """Every criterion of ``match`` that ``entry`` does not meet (none: it matches)."""
    found = [
        Difference(name, match[name], entry.get(name))
        for name in FIELDS
        if name in match and not _equal(match[name], entry.get(name))
    ]
    body_criteria = match.get("body") or {}
    if body_criteria:
        body = _body(entry)
        for name, expected in body_criteria.items():
            actual = body.get(name, _MISSING) if isinstance(body, dict) else _MISSING
            if not _meets(expected, actual):
                found.append(Difference(f"body.{name}", expected, actual))
    return found


def matching(match: Mapping[str, Any], entries: list[View]) -> list[View]:
    check(match)
    return [entry for entry in entries if not differences(match, entry)]


def check(match: Mapping[str, Any]) -> None:
    """Raise ``PatternError`` for a regular expression that does not compile."""
    for name, expected in (match.get("body") or {}).items():
        if _is_regex(expected):
            try:
                re.compile(expected["matches"])
            except re.error as error:
                raise PatternError(f"body.{name}: {expected['matches']!r}: {error}") from None


def verify(
    match: Mapping[str, Any], count: Mapping[str, int], entries: list[View]
) -> tuple[bool, dict[str, Any]]:
    """Whether the number of entries matching is what ``count`` (eq, min, max) says, and
    the report: expected, actual and, when it fails, the closest near-misses."""
    found = matching(match, entries)
    actual = len(found)
    ok = (
        count.get("eq", actual) == actual
        and actual >= count.get("min", actual)
        and actual <= count.get("max", actual)
    )
    report: dict[str, Any] = {
        "matched": ok,
        "expected": dict(count),
        "actual": actual,
        "requests": [entry["id"] for entry in found],
    }
    if not ok:
        report["message"] = (
            f"expected {_wanted(count)} matching {json.dumps(match, default=str)}; found {actual}"
        )
        report["nearMisses"] = near_misses(match, entries) if actual < _least(count) else []
    return ok, report


def near_misses(match: Mapping[str, Any], entries: list[View]) -> list[dict[str, Any]]:
    """The entries closest to matching (fewest criteria differ, newest first), among
    those that meet at least one criterion; with a session named, only its entries."""
    criteria = {name: match[name] for name in FIELDS if name in match and name != "session"}
    total = len(criteria) + len(match.get("body") or {})
    criteria["body"] = match.get("body") or {}
    if "session" in match:
        entries = [entry for entry in entries if entry.get("session") == match["session"]]
    scored = []
    for index, entry in enumerate(entries):
        missed = differences(criteria, entry)
        if missed and (len(missed) < total or total == 1):
            scored.append((len(missed), -index, entry, missed))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [
        {
            "id": entry["id"],
            "request": _request_line(entry),
            "status": entry["status"],
            "explanation": entry.get("explanation"),
            "differences": [difference.text() for difference in missed],
            "fields": [difference.as_json() for difference in missed],
        }
        for _, _, entry, missed in scored[:NEAR_MISSES]
    ]


def _least(count: Mapping[str, int]) -> int:
    return count.get("eq", count.get("min", 0))


def _wanted(count: Mapping[str, int]) -> str:
    if "eq" in count:
        return f"exactly {count['eq']} request{'s' if count['eq'] != 1 else ''}"
    parts = []
    if "min" in count:
        parts.append(f"at least {count['min']}")
    if "max" in count:
        parts.append(f"at most {count['max']}")
    return " and ".join(parts) + " requests" if parts else "any number of requests"


def _request_line(entry: View) -> str:
    query = f"?{entry['query']}" if entry.get("query") else ""
    return f"{entry['method']} {entry['path']}{query}"


def _body(entry: View) -> Any:
    text = entry.get("body")
    if not text:
        return None
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError:
        return None


def _is_regex(expected: Any) -> bool:
    return isinstance(expected, dict) and set(expected) == {"matches"}


def _meets(expected: Any, actual: Any) -> bool:
    if _is_regex(expected):
        if actual is _MISSING or actual is None:
            return False
        return re.fullmatch(expected["matches"], _as_text(actual)) is not None
    return actual is not _MISSING and _equal(expected, actual)


def _equal(expected: Any, actual: Any) -> bool:
    """JSON equality, numbers by value (``10`` equals ``10.0``; not the string ``"10"``)."""
    if _is_number(expected) and _is_number(actual):
        return Decimal(str(expected)) == Decimal(str(actual))
    if _is_number(expected) or _is_number(actual):
        return False
    return bool(expected == actual)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return f"{value:f}"
    return json.dumps(value)


def _show(value: Any) -> str:
    if value is _MISSING:
        return "nothing (the field is absent)"
    if _is_regex(value):
        return f"a value matching /{value['matches']}/"
    if isinstance(value, Decimal):
        return f"{value:f}"
    return json.dumps(value, default=str)

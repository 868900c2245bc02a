"""Where two answers to the same question differ, each difference a small check.

Each check reads two normalised answers (``normalise.Seen``) and names what differs:
the kind (status, code, message, header, shape, value, no answer), what it is about
(the code, the header, the field, or the case itself) and each side's value. The same
difference seen by several cases is one drift: 8015 answered with 404 is one drift
however many requests met it. A difference that follows from another is not reported
again: when the codes differ, their statuses, messages and headers are not compared.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from contract_tests.diff.normalise import COMPARED_HEADERS, Seen
from contract_tests.diff.send import Sent

NO_ANSWER, CODE, STATUS, MESSAGE, HEADER, SHAPE, VALUE = (
    "no-answer",
    "code",
    "status",
    "message",
    "header",
    "shape",
    "value",
)
KINDS = (NO_ANSWER, CODE, STATUS, MESSAGE, HEADER, SHAPE, VALUE)
ABSENT = "(none)"
CONTENT_TYPE = "content-type"


@dataclass(frozen=True)
class Difference:
    """One way the two answers to one pair differ."""

    kind: str
    subject: str
    """What it is about: ``8015`` (a status), ``Allow with 9112``, ``errors[].code``, or
    the pair's key when it is about the case itself."""
    a: str
    b: str
    sent: Sent
    seen: dict[str, Seen]

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.kind, self.subject, self.a, self.b)


@dataclass
class Drift:
    """A difference, with every pair it was seen in and what to do about it."""

    kind: str
    subject: str
    a: str
    b: str
    text: str
    """One line: what differs."""
    suggestion: str = ""
    seen_in: list[Difference] = field(default_factory=list)
    known: bool = False
    """In the baseline: reported, but it does not fail the run."""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.kind, self.subject, self.a, self.b)

    @property
    def first(self) -> Difference:
        return self.seen_in[0]

    @property
    def cases(self) -> list[str]:
        return [difference.sent.pair.name() for difference in self.seen_in]


def differences(sent: Sent, seen: dict[str, Seen]) -> list[Difference]:
    """Every difference between the two answers to one pair."""
    a, b = seen["a"], seen["b"]
    found: list[tuple[str, str, str, str]] = []
    if a.problem is not None or b.problem is not None:
        if (a.problem is None) != (b.problem is None):
            found.append((NO_ANSWER, sent.pair.key, a.describe(), b.describe()))
    elif a.envelope != b.envelope or a.codes != b.codes:
        found.append((CODE, sent.pair.key, _codes(a), _codes(b)))
    else:
        found += _status(sent, a, b)
        found += _messages(a, b)
        found += _headers(a, b)
        found += _shapes(a, b)
    return [Difference(kind, subject, x, y, sent, seen) for kind, subject, x, y in found]


def grouped(found: Iterable[Difference], text: Callable[[Difference], str]) -> list[Drift]:
    """One drift per distinct difference, in the order first seen."""
    drifts: dict[tuple[str, str, str, str], Drift] = {}
    for difference in found:
        drift = drifts.get(difference.key)
        if drift is None:
            kind, subject, a, b = difference.key
            drift = drifts[difference.key] = Drift(kind, subject, a, b, text(difference))
        drift.seen_in.append(difference)
    return list(drifts.values())


def describe(difference: Difference) -> str:
    """The one line that says what differs."""
    d = difference
    a, b = d.seen["a"], d.seen["b"]
    case = d.sent.pair.name()
    if d.kind == CODE or d.kind == NO_ANSWER:
        return f"{case}: A answers {a.describe()}, B {b.describe()}"
    if d.kind == STATUS:
        what = f"{d.subject} comes" if a.envelope else f"{case} is answered"
        return f"{what} with HTTP {d.a} from A, HTTP {d.b} from B"
    if d.kind == MESSAGE:
        return f"the message of {d.subject} differs: A {d.a!r}, B {d.b!r}"
    if d.kind == HEADER:
        return f"{d.subject}: A {_shown(d.a)}, B {_shown(d.b)}"
    if d.kind == SHAPE:
        return f"{d.subject}: {d.a} on A, {d.b} on B"
    return f"{d.subject}: A {d.a}, B {d.b}"


def _codes(seen: Seen) -> str:
    if seen.envelope:
        return ", ".join(map(str, seen.codes))
    return seen.describe()


def _context(seen: Seen) -> str:
    """What kind of answer a header or field belongs to: ``9112``, ``HTTP 200``."""
    return _codes(seen) if seen.envelope else f"HTTP {seen.status}"


def _status(sent: Sent, a: Seen, b: Seen) -> list[tuple[str, str, str, str]]:
    if a.status == b.status:
        return []
    subject = _codes(a) if a.envelope else sent.pair.key
    return [(STATUS, subject, str(a.status), str(b.status))]


def _messages(a: Seen, b: Seen) -> list[tuple[str, str, str, str]]:
    return [
        (MESSAGE, str(code), x, y)
        for code, x, y in zip(a.codes, a.messages, b.messages, strict=True)
        if x != y
    ]


def _headers(a: Seen, b: Seen) -> list[tuple[str, str, str, str]]:
    """Content-Type is one drift for all error answers (or all answers of a status);
    the others are about the code they come with (Allow with 9112). Those belong to a
    status (WWW-Authenticate to a 401, Allow to a 405): when the statuses differ, their
    difference follows from that one and is not reported again."""
    x, y = a.headers or {}, b.headers or {}
    kind = "error answers" if a.envelope else f"HTTP {a.status} answers"
    names = COMPARED_HEADERS if a.status == b.status else {CONTENT_TYPE: "Content-Type"}
    return [
        (
            HEADER,
            f"{title} of {kind}" if name == CONTENT_TYPE else f"{title} with {_context(a)}",
            x.get(name, ABSENT),
            y.get(name, ABSENT),
        )
        for name, title in names.items()
        if x.get(name) != y.get(name)
    ]


def _shapes(a: Seen, b: Seen) -> list[tuple[str, str, str, str]]:
    if a.shape is None or b.shape is None:
        if a.media != b.media and (a.shape is None) != (b.shape is None):
            kinds = [f"not JSON ({s.media})" if s.shape is None else "JSON" for s in (a, b)]
            return [(SHAPE, f"the body of {_context(a)}", kinds[0], kinds[1])]
        return []
    context = "the error envelope" if a.envelope else f"HTTP {a.status} answers"
    found: list[tuple[str, str, str, str]] = []
    differing: list[str] = []
    for path in sorted(a.shape.keys() | b.shape.keys()):
        x, y = a.shape.get(path, "absent"), b.shape.get(path, "absent")
        if x == y or any(path.startswith((f"{d}.", f"{d}[")) for d in differing):
            continue
        differing.append(path)
        found.append((SHAPE, f"{path} in {context}", x, y))
    found += _values(a.values or {}, b.values or {}, differing, context)
    return found


def _values(
    x: dict[str, Any], y: dict[str, Any], differing: list[str], context: str
) -> list[tuple[str, str, str, str]]:
    found = []
    for path in sorted(x.keys() & y.keys()):
        if x[path] == y[path] or _collapsed(path) in differing:
            continue
        found.append((VALUE, f"{path} in {context}", _json(x[path]), _json(y[path])))
    return found


def _collapsed(path: str) -> str:
    """``errors[0].status`` as its shape's path, ``errors[].status``."""
    out, depth = [], 0
    for char in path:
        if char == "[":
            depth += 1
            out.append("[")
        elif char == "]":
            depth -= 1
            out.append("]")
        elif depth == 0:
            out.append(char)
    return "".join(out)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _shown(value: str) -> str:
    return "sends none" if value == ABSENT else repr(value)

"""What must differ between two targets, read alike before their answers are compared.

Built in, for every answer:

- the values each target's profile gives its requests (its program, customers,
  promotion, award, currency, user names) read as ``{programId}``, ``{userId}``...; in a
  message whose code has a documented template, each placeholder the request explains
  (the decimal places sent, the program's decimals, the amount, the currency named, the
  reason's length) reads as the template's ``{name}``: "after substituting the values";
- dates and times (ISO 8601, HTTP dates) read ``<date>``, UUIDs ``<uuid>``, the value of
  any ``requestId``/``traceId``/``correlationId`` field ``<request id>``, of any
  ``...token`` field ``<token>``;
- balances (``pointsAvailable``, ``valueAvailable``) that are well formed read
  ``<balance>`` unless they are compared (``--balances``);
- the data of reads: in a 2xx answer to a GET (a balance, a ledger) every value is the
  world's, so unless balances are compared only the shape is, with a null matching any
  type (a customer without a name) and the keys that are the profile's values (a
  currency's name) read as their placeholder;
- of the headers, only those a client acts on are compared, in the form that matters:
  Content-Type (its media type), Allow (its set of methods), WWW-Authenticate (its
  schemes), Retry-After (present, as seconds or a date) and Location.

Then the run's own: ``--ignore`` (JSON paths and headers left out) and ``--substitute``
(regular expressions read as a text).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jsonpath

from contract_tests import spec
from contract_tests.diff.options import Substitution
from contract_tests.diff.send import Answer
from contract_tests.expectations import BALANCE, as_sent, envelope_problems
from contract_tests.plans.requests import Request
from contract_tests.profile import Profile

COMPARED_HEADERS = {
    "content-type": "Content-Type",
    "allow": "Allow",
    "www-authenticate": "WWW-Authenticate",
    "retry-after": "Retry-After",
    "location": "Location",
}
"""The headers compared, by the lower-case name answers are read with."""
BALANCE_FIELDS = frozenset({"pointsAvailable", "valueAvailable"})
ENVELOPE_FIELDS = frozenset({"code", "message"})
"""Fields of ``errors[]`` compared on their own (code, then message), not as values."""

_DATE = re.compile(
    r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"
)
_HTTP_DATE = re.compile(
    r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\b"
)
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\b")
_REQUEST_ID = re.compile(r"(request|trace|correlation)[-_]?id$", re.IGNORECASE)
_TOKEN = re.compile(r"token$", re.IGNORECASE)
SHORTEST_ID = 3
"""Profile values shorter than this (a 2 as roundDecimals) are substituted only where a
message template says a value stands, never anywhere in a text."""


@dataclass(frozen=True)
class Seen:
    """An answer as it is compared."""

    status: int | None
    problem: str | None
    """Why there was no answer; None when there was one."""
    media: str
    """The media type, for people: ``application/json``, ``text/html``, ``no content type``."""
    json: bool
    envelope: bool
    """Whether the body is the error envelope."""
    codes: tuple[int, ...] = ()
    messages: tuple[str, ...] = ()
    shape: dict[str, str] | None = None
    """Each field's path (``errors[].code``) and JSON type; None when the body is not JSON."""
    values: dict[str, Any] | None = None
    """Each leaf's path (``errors[0].status``) and value, but the codes and messages."""
    headers: dict[str, str] | None = None
    """The compared headers that came, normalised."""
    world: bool = False
    """Whether the body is the data of a read (its values not compared, a null matching
    any type)."""

    def describe(self) -> str:
        """``8015 (HTTP 404)``, ``HTTP 200``, ``HTTP 502 text/html``: the answer in brief."""
        if self.problem is not None:
            return self.problem
        if self.envelope:
            return f"{', '.join(map(str, self.codes))} (HTTP {self.status})"
        if self.json:
            return f"HTTP {self.status}"
        return f"HTTP {self.status} {self.media}"


@dataclass(frozen=True)
class Normaliser:
    ignore: tuple[str, ...] = ()
    substitutions: tuple[Substitution, ...] = ()
    balances: bool = False
    """Whether balances are compared; when not, well-formed ones read ``<balance>``."""

    def seen(self, answer: Answer, profile: Profile, request: Request) -> Seen:
        if not answer.answered:
            return Seen(None, answer.problem, "", json=False, envelope=False)
        kind = answer.headers.get("content-type", "")
        media = kind.split(";")[0].strip().lower() or "no content type"
        headers = self._headers(answer.headers, profile)
        try:
            raw = json.loads(answer.body)
        except (ValueError, RecursionError):
            return Seen(answer.status, None, media, json=False, envelope=False, headers=headers)
        document = self._without_ignored(raw)
        ids = _ids(profile)
        world = request.method == "GET" and 200 <= (answer.status or 0) < 300 and not self.balances
        shape = dict(_shape(document, "", ids if world else None))
        values = {} if world else self._values(document, ids)
        if world or envelope_problems(raw):
            return Seen(
                answer.status,
                None,
                media,
                json=True,
                envelope=False,
                shape=shape,
                values=values,
                headers=headers,
                world=world,
            )
        expected = _expected(profile, request)
        kept = document.get("errors") if isinstance(document, dict) else None
        messages = []
        for index, item in enumerate(raw["errors"]):
            left = kept[index] if isinstance(kept, list) and index < len(kept) else None
            message = left.get("message") if isinstance(left, dict) else None
            messages.append(
                self._message(item["code"], message, expected, ids)
                if isinstance(message, str)
                else "<ignored>"
            )
        return Seen(
            answer.status,
            None,
            media,
            json=True,
            envelope=True,
            codes=tuple(item["code"] for item in raw["errors"]),
            messages=tuple(messages),
            shape=shape,
            values=values,
            headers=headers,
        )

    def text(self, value: str) -> str:
        """Dates, UUIDs, then ``--substitute``."""
        value = _HTTP_DATE.sub("<date>", _DATE.sub("<date>", value))
        value = _UUID.sub("<uuid>", value)
        for substitution in self.substitutions:
            value = substitution.pattern.sub(substitution.text, value)
        return value

    def _message(
        self, code: int, message: str, expected: dict[str, set[str]], ids: dict[str, str]
    ) -> str:
        template = spec.templates().get(code)
        match = template.pattern().fullmatch(message) if template else None
        if match is None:
            return self.text(_swap(message, ids))
        parts, last = [], 0
        for name, value in match.groupdict().items():
            start, end = match.span(name)
            parts.append(message[last:start])
            parts.append(f"{{{name}}}" if value in expected.get(name, ()) else _swap(value, ids))
            last = end
        parts.append(message[last:])
        return self.text("".join(parts))

    def _values(self, document: Any, ids: dict[str, str]) -> dict[str, Any]:
        values = {}
        for path, key, value in _leaves(document, ""):
            if path.startswith("errors[") and key in ENVELOPE_FIELDS:
                continue
            values[path] = self._value(key, value, ids)
        return values

    def _value(self, key: str, value: Any, ids: dict[str, str]) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and str(value) in ids:
            return ids[str(value)]
        if not isinstance(value, str):
            return value
        if _REQUEST_ID.search(key):
            return "<request id>"
        if _TOKEN.search(key):
            return "<token>"
        if key in BALANCE_FIELDS and not self.balances and BALANCE.match(value):
            return "<balance>"
        return self.text(_swap(value, ids))

    def _without_ignored(self, document: Any) -> Any:
        paths = [path for path in self.ignore if path.startswith("$")]
        if not paths:
            return document
        document = copy.deepcopy(document)
        for path in paths:
            for match in reversed(list(jsonpath.finditer(path, document))):
                parent = match.parent.obj if match.parent is not None else None
                if isinstance(parent, dict | list):
                    del parent[match.parts[-1]]  # type: ignore[arg-type]
                else:
                    document = None
        return document

    def _headers(self, headers: dict[str, str], profile: Profile) -> dict[str, str]:
        ids = _ids(profile)
        kept = {}
        for name in COMPARED_HEADERS:
            if name in headers and name not in self.ignore:
                kept[name] = self.text(_swap(_header(name, headers[name]), ids))
        return kept


def _header(name: str, value: str) -> str:
    if name == "content-type":
        return value.split(";")[0].strip().lower()
    if name == "allow":
        return ", ".join(sorted({m.strip().upper() for m in value.split(",") if m.strip()}))
    if name == "www-authenticate":
        schemes = [
            piece.split()[0]
            for piece in value.split(",")
            if piece.strip() and "=" not in piece.split()[0]
        ]
        return ", ".join(scheme.capitalize() for scheme in schemes)
    if name == "retry-after":
        return "<seconds>" if value.strip().isdigit() else "<date>"
    return value.strip()


def _ids(profile: Profile) -> dict[str, str]:
    """The profile's values that requests carry, each with its placeholder."""
    named: list[tuple[str, object]] = [
        ("userId", profile.user_id),
        ("unknownCustomerId", profile.unknown_customer_id),
        ("programId", profile.program_id),
        ("unknownProgramId", profile.unknown_program_id),
        ("promotionId", profile.promotion_id),
        ("promotionIdentifier", profile.promotion_identifier),
        ("awardId", profile.award_id),
        ("currency", profile.currency),
        ("username", profile.credentials.name),
    ]
    if profile.no_access is not None:
        named.append(("noAccessUsername", profile.no_access.name))
    return {str(value): f"{{{name}}}" for name, value in named if len(str(value)) >= SHORTEST_ID}


def _swap(text: str, ids: dict[str, str]) -> str:
    """Each whole occurrence of a profile value in ``text`` as its placeholder."""
    if not ids:
        return text
    values = sorted(ids, key=len, reverse=True)
    pattern = r"(?<![\w.-])(" + "|".join(map(re.escape, values)) + r")(?![\w-])"
    return re.sub(pattern, lambda match: ids[match[1]], text)


def _expected(profile: Profile, request: Request) -> dict[str, set[str]]:
    """What each placeholder of a documented message stands for, given this request."""
    body = request.body
    if body is None and request.raw is not None:
        try:
            body = json.loads(request.raw)
        except (ValueError, RecursionError):  # the odd inputs: 100,000 nested brackets
            body = None
    body = body if isinstance(body, dict) else {}
    expected: dict[str, set[str]] = {
        "decimals": {str(profile.round_decimals)},
        "program_id": {str(profile.program_id), str(profile.unknown_program_id)},
        "principal": {profile.credentials.name},
    }
    if profile.no_access is not None:
        expected["principal"].add(profile.no_access.name)
    currency = body.get("alternateCurrencyName")
    amount = as_sent(body.get("valueToBeAdjusted" if currency else "pointsToBeAdjusted"))
    if amount is not None:
        exponent = amount.as_tuple().exponent
        expected["amount"] = {f"{amount:f}"}
        expected["places"] = {str(max(0, -exponent) if isinstance(exponent, int) else 0)}
    if isinstance(currency, str):
        expected["name"] = {currency}
    if isinstance(body.get("programId"), int):
        expected["program_id"].add(str(body["programId"]))
    if isinstance(body.get("reasonOfReturn"), str):
        expected["length"] = {str(len(body["reasonOfReturn"]))}
    return expected


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _shape(value: Any, path: str, ids: dict[str, str] | None = None) -> Iterable[tuple[str, str]]:
    """Each field's path, with array items as ``[]``, and its type; with ``ids``, keys
    that are the profile's values read as their placeholders."""
    yield path or "(body)", _type(value)
    if isinstance(value, dict):
        for key, item in value.items():
            name = ids.get(str(key), str(key)) if ids is not None else str(key)
            yield from _shape(item, f"{path}.{name}" if path else name, ids)
    elif isinstance(value, list):
        for item in value:
            yield from _shape(item, f"{path}[]", ids)


def _leaves(value: Any, path: str, key: str = "") -> Iterable[tuple[str, str, Any]]:
    """Each scalar's path (``errors[0].status``), the name of its field, and its value."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _leaves(item, f"{path}.{name}" if path else str(name), str(name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]", key)
    else:
        yield path or "(body)", key, value

"""What the contract says about errors, read from ``openapi/capillary.yaml``.

The contract is the single source of truth: the codes, their messages (the table of
the 400 response), and which HTTP status each code comes with (the examples of each
response) are read from it rather than written down again here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from mock_server.data import CONTRACT

DEDUCT_PATH = "/v2/customers/{userId}/negativePointsAdjustment"
TOKEN_PATH = "/v3/oauth/token/generate"
CAPMOCK_CODES = range(9100, 9200)
"""capmock's own codes, for refusals whose real Capillary code is unknown."""

SHAPE_CODES = frozenset({9100, 9101, 9102, 9103, 9104, 9105, 9106, 9107, 9108, 9110})
"""Codes the contract gives only to requests that break its schema: a schema-valid
request refused with one of them was valid data refused as invalid."""

WIDE_USER_IDS = (2**31, 2**32 - 1, 2**32, 2**62, 2**63 - 1)
"""userIds beyond 32 bits, up to the contract's maximum, that no customer is expected to
have. Their low 32 bits read as a signed integer are 0 or negative: a server that cuts
them to 32 bits looks up an impossible id (and answers 8013, not 8015) rather than
another customer, so checking the whole range can never touch a real balance."""

FIXED_MESSAGE_CODES = (9113, 9115, 9116)
"""Codes outside the 400 table whose examples show a message with no variable part."""

_ROW = re.compile(r"^\|\s*(\d{4})\s*\|\s*(.+?)\s*\|\s*(.+?)\s*\|\s*$")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class Template:
    """A documented message, with ``{placeholders}`` for the request's values."""

    code: int
    text: str

    def pattern(self) -> re.Pattern[str]:
        parts = _PLACEHOLDER.split(self.text)
        regex = "".join(
            re.escape(part) if index % 2 == 0 else rf"(?P<{part}>.+?)"
            for index, part in enumerate(parts)
        )
        return re.compile(regex, re.DOTALL)

    def render(self, **values: object) -> str:
        return self.text.format(**values)

    def matches(self, message: str) -> bool:
        return self.pattern().fullmatch(message) is not None


@cache
def document() -> dict[str, Any]:
    with CONTRACT.open(encoding="utf-8") as stream:
        loaded: dict[str, Any] = yaml.safe_load(stream)
    return loaded


def _deduct_responses() -> dict[str, Any]:
    responses: dict[str, Any] = document()["paths"][DEDUCT_PATH]["post"]["responses"]
    return responses


@cache
def templates() -> dict[int, Template]:
    """Message templates per code: the 400 table, and the fixed messages of other codes."""
    found: dict[int, Template] = {}
    for line in _deduct_responses()["400"]["description"].splitlines():
        row = _ROW.match(line.strip())
        if row:
            code = int(row[1])
            found[code] = Template(code, row[2].replace("`", ""))
    for code, message in _example_messages():
        if code in FIXED_MESSAGE_CODES:
            found.setdefault(code, Template(code, message))
    return found


@cache
def documented_codes() -> frozenset[int]:
    schemas = document()["components"]["schemas"]
    return frozenset(schemas["ErrorItem"]["properties"]["code"]["enum"])


@cache
def _statuses_by_code() -> dict[int, frozenset[int]]:
    """400 for the codes of the 400 table; for the others, the status of every response
    whose examples show the code (401, 403, 415)."""
    table = {code for code in templates() if code not in FIXED_MESSAGE_CODES}
    found: dict[int, set[int]] = {code: {400} for code in table}
    for path in document()["paths"].values():
        for response_status, response in path["post"]["responses"].items():
            for code in _codes_in(response) - table:
                found.setdefault(code, set()).add(int(response_status))
    return {code: frozenset(statuses) for code, statuses in found.items()}


def expected_statuses(code: int, error_status: dict[int, int]) -> frozenset[int] | None:
    """The statuses a code may come with on a target whose ``errorStatus`` remaps some
    codes (the contract's 404 exists only for that); None when the contract is silent."""
    if code in error_status:
        return frozenset({error_status[code]})
    return _statuses_by_code().get(code)


def enum(schema_name: str) -> tuple[str, ...]:
    return tuple(document()["components"]["schemas"][schema_name]["enum"])


def request_examples() -> dict[str, dict[str, Any]]:
    """The seed's request examples, by name, as the contract carries them."""
    content = document()["paths"][DEDUCT_PATH]["post"]["requestBody"]["content"]
    examples = content["application/json"]["examples"]
    return {name: example["value"] for name, example in examples.items()}


def _codes_in(response: dict[str, Any]) -> set[int]:
    codes = set()
    for media in response.get("content", {}).values():
        for example in media.get("examples", {}).values():
            for error in (example.get("value") or {}).get("errors") or []:
                codes.add(int(error["code"]))
    return codes


def _example_messages() -> list[tuple[int, str]]:
    found = []
    for path in document()["paths"].values():
        for response in path["post"]["responses"].values():
            for media in response.get("content", {}).values():
                for example in media.get("examples", {}).values():
                    for error in (example.get("value") or {}).get("errors") or []:
                        found.append((int(error["code"]), " ".join(error["message"].split())))
    return found

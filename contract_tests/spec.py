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
LOOKUP_DEDUCT_PATH = "/v2/customers/lookup/negativePointsAdjustment"
BALANCE_PATH = "/v2/customers/lookup/points/balance"
LEDGER_PATH = "/v2/pointsLedger/getCustomerLedgerInfo"
ALLOCATE_PATH = "/v2/customers/bulk/manualCurrencyAllocate"
TOKEN_PATH = "/v3/oauth/token/generate"
DEDUCT_PATHS = (DEDUCT_PATH, LOOKUP_DEDUCT_PATH)
METHODS = ("get", "put", "post", "delete", "patch")
ITEM_STATUS = "207"
"""The response whose table lists the refusals of single items of an allocation."""
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

_ROW = re.compile(r"^\|\s*(\d{4,5})\s*\|\s*(.+?)\s*\|\s*(.+?)\s*\|\s*$")
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
    """The contract with every ``$ref`` inside it followed (examples and responses shared
    by operations read as if written in each)."""
    with CONTRACT.open(encoding="utf-8") as stream:
        loaded: dict[str, Any] = yaml.safe_load(stream)
    resolved: dict[str, Any] = _resolved(loaded, loaded)
    return resolved


def _resolved(node: Any, root: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = root
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return _resolved(target, root)
        return {key: _resolved(value, root) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolved(item, root) for item in node]
    return node


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation of the contract: (path, method, operation)."""
    return [
        (path, method, item[method])
        for path, item in document()["paths"].items()
        for method in METHODS
        if method in item
    ]


def _tables() -> list[tuple[str, int, str, str]]:
    """Every row of every response's table of codes: (status, code, message, when)."""
    rows = []
    for _, _, operation in operations():
        for status, response in operation["responses"].items():
            for line in response.get("description", "").splitlines():
                row = _ROW.match(line.strip())
                if row and row[1].isdigit():
                    rows.append((status, int(row[1]), row[2].replace("`", ""), row[3]))
    return rows


@cache
def templates() -> dict[int, Template]:
    """Message templates per code: the tables of the responses, and the fixed messages of
    other codes."""
    found: dict[int, Template] = {}
    for _, code, message, _ in _tables():
        found.setdefault(code, Template(code, message))
    for code, message in _example_messages():
        if code in FIXED_MESSAGE_CODES:
            found.setdefault(code, Template(code, message))
    return found


@cache
def item_codes() -> frozenset[int]:
    """The codes an allocation item may be refused with (the 207 answer's table)."""
    return frozenset(code for status, code, _, _ in _tables() if status == ITEM_STATUS)


@cache
def documented_codes() -> frozenset[int]:
    schemas = document()["components"]["schemas"]
    return frozenset(schemas["ErrorItem"]["properties"]["code"]["enum"])


@cache
def _statuses_by_code() -> dict[int, frozenset[int]]:
    """400 for the codes of the 400 tables; for the others, the status of every response
    whose examples show the code (401, 403, 415). Codes only an allocation item answers
    with are not among them: the call itself is never refused with them."""
    table = {code for status, code, _, _ in _tables() if status == "400"}
    found: dict[int, set[int]] = {code: {400} for code in table}
    for _, _, operation in operations():
        for response_status, response in operation["responses"].items():
            for code in _codes_in(response) - table:
                found.setdefault(code, set()).add(int(response_status))
    return {code: frozenset(statuses) for code, statuses in found.items()}


@cache
def catalogue_statuses() -> dict[int, int]:
    """Each code's default HTTP status (``x-capmock-errors``): an allocation item's
    ``httpStatus`` when refused with it."""
    return {row["code"]: row["status"] for row in document()["x-capmock-errors"]}


def expected_statuses(code: int, error_status: dict[int, int]) -> frozenset[int] | None:
    """The statuses a code may come with on a target whose ``errorStatus`` remaps some
    codes (the contract's 404 exists only for that); None when the contract is silent."""
    if code in error_status:
        return frozenset({error_status[code]})
    return _statuses_by_code().get(code)


def enum(schema_name: str) -> tuple[str, ...]:
    return tuple(document()["components"]["schemas"][schema_name]["enum"])


def request_examples(path: str = DEDUCT_PATH) -> dict[str, Any]:
    """The request examples of the POST at ``path`` (the seed's, by default), by name."""
    content = document()["paths"][path]["post"]["requestBody"]["content"]
    examples = content["application/json"]["examples"]
    return {name: example["value"] for name, example in examples.items()}


def parameter_examples(path: str, method: str = "get") -> dict[str, Any]:
    """The parameters of an operation that carry an example, with it: together, the
    documented example of a GET."""
    parameters = document()["paths"][path][method].get("parameters", [])
    return {p["name"]: p["example"] for p in parameters if "example" in p}


def _errors_in(response: dict[str, Any]) -> list[dict[str, Any]]:
    """The error items of a response's examples (top-level ``errors`` only)."""
    return [
        error
        for media in response.get("content", {}).values()
        for example in media.get("examples", {}).values()
        for error in (example.get("value") or {}).get("errors") or []
    ]


def _codes_in(response: dict[str, Any]) -> set[int]:
    return {int(error["code"]) for error in _errors_in(response)}


def _example_messages() -> list[tuple[int, str]]:
    return [
        (int(error["code"]), " ".join(error["message"].split()))
        for _, _, operation in operations()
        for response in operation["responses"].values()
        for error in _errors_in(response)
    ]

"""Connexion validators that refuse bad requests in the API's own error envelope.

The contract's schemas decide what is valid; this module only decides which
documented code a violation is reported with (the "shape" rows of the rules table),
and keeps the amounts exact: JSON bodies are parsed with ``Decimal`` so that
``100.50`` keeps its two decimal places, as sent.
"""

from __future__ import annotations

import json
import re
import sys
from decimal import Decimal, InvalidOperation
from typing import Any

import jsonschema_rs
from connexion.datastructures import MediaTypeDict
from connexion.validators import AbstractRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, ValidationError
from jsonschema.exceptions import relevance
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server import contract
from mock_server.errors import MESSAGES, ApiError, Code, RuleError
from mock_server.lanes.body import read_body, replay
from mock_server.lanes.json_text import json_text
from mock_server.lanes.routes import route_of
from mock_server.rules.money import MAX_AMOUNT
from mock_server.schemas import explaining

BODY_KEY = "capmock.body"
"""Where the parsed body is left in the ASGI scope's state for the handler."""

PARAMETER_CODES = {
    ("query", "source"): Code.INVALID_SOURCE,
    ("path", "userId"): Code.INVALID_IDENTIFIER,
    ("query", "identifierName"): Code.INVALID_IDENTIFIER,
    ("query", "identifierValue"): Code.CUSTOMER_NOT_FOUND,
    ("query", "entityType"): Code.INVALID_ENTITY_TYPE,
    ("query", "ledgerEntryType"): Code.INVALID_LEDGER_ENTRY_TYPE,
    ("query", "pointCategoryType"): Code.INVALID_POINT_CATEGORY_TYPE,
}
INT64_TEXT = re.compile(r"[+-]?[0-9]{1,19}")
"""An integer that routing may parse; longer digit runs are out of int64 range anyway."""
AMOUNT_FIELDS = ("pointsToBeAdjusted", "valueToBeAdjusted")
ENUM_SHOWN = 12
"""An enum of more values than this is not listed in a message (the documented codes)."""
SHAPE_ROWS: dict[Code, int] = {
    Code.INVALID_SOURCE: 3,
    Code.INVALID_IDENTIFIER: 4,
    Code.UNSUPPORTED_MEDIA_TYPE: 5,
    Code.MALFORMED_JSON: 6,
    Code.BODY_NOT_OBJECT: 6,
    Code.REASON_MISSING: 7,
    Code.REASON_TOO_LONG: 8,
    Code.AMOUNT_MISSING: 9,
    Code.AMOUNT_NOT_A_NUMBER: 10,
    Code.AMOUNT_NEGATIVE: 11,
    Code.AMOUNT_TOO_LARGE: 12,
    Code.INVALID_CATEGORY: 13,
    Code.INVALID_REF_TYPE: 14,
    Code.INVALID_INPUT: 15,
}
"""The row of the rules table (docs/rules.md) each shape refusal comes from."""
OPERATION_SHAPE_ROWS: dict[str, dict[Code, int]] = {
    "deductPointsByLookup": {**SHAPE_ROWS, Code.CUSTOMER_NOT_FOUND: 4},
    "getPointsBalance": {
        Code.INVALID_SOURCE: 3,
        Code.INVALID_IDENTIFIER: 4,
        Code.CUSTOMER_NOT_FOUND: 5,
        Code.INVALID_ENTITY_TYPE: 6,
        Code.INVALID_INPUT: 7,
    },
    "getCustomerLedgerInfo": {
        Code.INVALID_SOURCE: 3,
        Code.INVALID_IDENTIFIER: 4,
        Code.CUSTOMER_NOT_FOUND: 5,
        Code.INVALID_LEDGER_ENTRY_TYPE: 6,
        Code.INVALID_POINT_CATEGORY_TYPE: 6,
        Code.INVALID_INPUT: 7,
    },
    "bulkManualCurrencyAllocation": {
        Code.UNSUPPORTED_MEDIA_TYPE: 3,
        Code.MALFORMED_JSON: 4,
        Code.BODY_INCOMPLETE: 4,
        Code.BATCH_SIZE: 5,
        Code.INVALID_INPUT: 6,
    },
}
"""The rows of the other operations' tables that their shape refusals come from; the
userId deduct's are ``SHAPE_ROWS``."""


class ShapeError(RuleError):
    """A refusal of the request's shape, numbered by the userId deduct's table until
    ``for_operation`` numbers it by the table of the operation it was made to."""

    def for_operation(self, operation: str | None) -> ShapeError:
        rows = OPERATION_SHAPE_ROWS.get(operation or "")
        if rows is not None:
            self.rule = rows.get(self.code, self.rule)
        return self


def shape(code: Code, reason: str = "", **values: object) -> ShapeError:
    """A refusal of the request's shape: its code, its row, and why (by default, what its
    message says)."""
    row = SHAPE_ROWS.get(code, 0)
    return ShapeError(row, code, reason or MESSAGES[code].format(**values), **values)


class EnvelopeParameterValidator(ParameterValidator):
    """Reports a bad parameter with its documented code (``PARAMETER_CODES``: a bad
    ``source`` is 8003, a bad ``userId`` or ``identifierName`` 8013...), else 9110."""

    def validate_request(self, request: Any) -> None:
        checks = (
            ("query", self.validate_query_parameter),
            ("path", self.validate_path_parameter),
            ("header", self.validate_header_parameter),
            ("cookie", self.validate_cookie_parameter),
        )
        for location, check in checks:
            for param in self.parameters.get(location, []):
                problem = check(param, request)
                if problem:
                    code = PARAMETER_CODES.get((location, param["name"]))
                    reason = f"{location} parameter {param['name']}: {_first_line(problem)}"
                    if code is not None:
                        raise shape(code, reason)
                    raise shape(Code.INVALID_INPUT, reason, detail=_first_line(problem))


class PathParameterGuard:
    """Refuses a path that names an operation but with a badly typed parameter.

    Connexion routes ``{userId}`` as an integer: ``/v2/customers/abc/...`` would find no
    route (404) and 5,000 digits would crash Python's int(). The API must answer 8013
    for both, so this runs before routing.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            error = path_parameter_error(scope["path"])
            if error is not None:
                raise error
        await self.app(scope, receive, send)


def path_parameter_error(path: str) -> ApiError | None:
    """The refusal for a path whose integer parameter is not a 64-bit integer's digits."""
    found = route_of(path)
    if found is not None:
        route, match = found
        for name in route.integers:
            if not INT64_TEXT.fullmatch(match[name]):
                code = PARAMETER_CODES.get(("path", name), Code.INVALID_INPUT)
                shown = match[name] if len(match[name]) <= 40 else f"{match[name][:40]}..."
                return shape(
                    code,
                    f"{name} {shown!r} is not a 64-bit integer",
                    detail=f"{name} must be an integer",
                )
    return None


class EnvelopeJSONBodyValidator(AbstractRequestBodyValidator):
    """Parses JSON exactly (Decimal, no NaN) and reports violations with their codes."""

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        """Read the body with the one reader both lanes use (a body that did not arrive
        in full is refused), parse and validate it, and replay it to the handler."""
        raw = await read_body(receive, scope)
        batch = self._schema.get("type") == "array"
        if not raw:
            raise (
                _not_a_batch("empty") if batch else shape(Code.BODY_NOT_OBJECT, "the body is empty")
            )
        body = parse_json(raw, _charset(scope) or self._encoding)
        scope.setdefault("state", {})[BODY_KEY] = body
        if batch:
            self._validate_batch(body)
        else:
            self._validate(body)
        return replay(raw, receive), scope

    def _validate_batch(self, body: Any) -> None:
        """An array body (manualCurrencyAllocate): 9150 for its length, else the first
        item's first violation as 9110, naming the item."""
        if not isinstance(body, list):
            raise _not_a_batch(_kind(body))
        limit = self._schema.get("maxItems", len(body))
        if not self._schema.get("minItems", 0) <= len(body) <= limit:
            raise shape(
                Code.BATCH_SIZE, f"the body holds {len(body)} items", limit=limit, count=len(body)
            )
        fast, explainer = validators(self._schema)
        if fast.is_valid(schema_view(body)):
            return
        error = min(explainer.iter_errors(body), key=lambda e: list(map(str, e.path)))
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.path)
        detail = f"{where}: {_first_line(error.message)}"
        raise shape(Code.INVALID_INPUT, f"item {detail}", detail=detail)

    def _validate(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise shape(Code.BODY_NOT_OBJECT, f"the body is a JSON {type(body).__name__}")
        fast, explainer = validators(self._schema)
        if fast.is_valid(schema_view(body)):
            return
        errors = [_code_for(error, body) for error in explainer.iter_errors(body)]
        raise (
            min(errors, key=_rank)
            if errors
            else shape(
                Code.INVALID_INPUT,
                "the body does not match the contract",
                detail="the body does not match the contract",
            )
        )


_compiled: dict[str, tuple[Any, Any]] = {}
_seen: dict[int, tuple[dict[str, Any], Any, Any]] = {}


def validators(schema: dict[str, Any]) -> tuple[Any, Any]:
    """A fast validator (jsonschema-rs) that decides, and jsonschema that explains.

    Compiled once per schema, whoever asks: Connexion's lane and the fast lane share
    one compiled body schema (Connexion would build one per request). Looked up by
    identity first; the cache holds the schema itself, so an id is never reused.
    """
    entry = _seen.get(id(schema))
    if entry is None:
        text = json.dumps(schema, sort_keys=True, default=str)
        compiled = _compiled.get(text) or _compiled.setdefault(text, compile_schema(schema))
        entry = (schema, *compiled)
        _seen[id(schema)] = entry
    return entry[1], entry[2]


def body_schema(path: str, method: str) -> dict[str, Any]:
    """An operation's JSON body schema as Connexion hands it to its validator: the
    references resolved, and the contract's components beside it."""
    document = contract.resolved()
    operation = document["paths"][path][method]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    return {**schema, "components": document["components"]}


def compile_schema(schema: dict[str, Any]) -> tuple[Any, Any]:
    """Validators for an OpenAPI 3.0 request schema, which Connexion checks as Draft 4:
    jsonschema-rs decides, jsonschema explains, both with ECMA-262 patterns."""
    fast = jsonschema_rs.Draft4Validator(schema)
    explainer = explaining(Draft4Validator)(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
    return fast, explainer


def parse_json(raw: bytes, encoding: str = "utf-8") -> Any:
    """Parse a JSON body exactly: numbers with a fraction become Decimals, as sent.

    Refused (9100): bytes that are not text in ``encoding``, NaN and Infinity, integers
    of more digits than Python converts, and escapes of half a character (a lone
    surrogate such as ``\\ud800``, which no text can hold).
    """
    try:
        text = raw.decode(encoding)
        body = json.loads(
            text, parse_float=Decimal, parse_int=_int, parse_constant=_refuse_constant
        )
    except UnicodeDecodeError:
        raise _malformed(f"the bytes are not valid {encoding}") from None
    except LookupError:
        raise _malformed(f"unknown charset {encoding}") from None
    except RecursionError:
        raise _malformed("nested too deeply") from None
    except ValueError as error:
        raise _malformed(_first_line(str(error))) from None
    if _SURROGATE_ESCAPE.search(text):
        half = _lone_surrogate(body)
        if half is not None:
            raise _malformed(f"\\u{ord(half):04x} is half a character (a lone surrogate)")
    return body


def _malformed(detail: str) -> RuleError:
    return shape(Code.MALFORMED_JSON, f"the body is not JSON: {detail}", detail=detail)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate(value: Any) -> str | None:
    """The first lone surrogate in a parsed body's strings (keys too), if any; json has
    already joined the escaped pairs."""
    texts: list[Any] = [value]
    while texts:
        item = texts.pop()
        if isinstance(item, str):
            found = _SURROGATE.search(item)
            if found:
                return found[0]
        elif isinstance(item, dict):
            texts.extend(item)
            texts.extend(item.values())
        elif isinstance(item, list):
            texts.extend(item)
    return None


def _int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > sys.get_int_max_str_digits():
        raise ValueError(f"an integer of {digits:,} digits is too long")
    return int(text)


def schema_view(body: Any) -> Any:
    """The body as jsonschema-rs must see it to judge as Draft 4 and jsonschema do.

    jsonschema-rs takes a Decimal whose exponent is 0 for an integer: ``9.73e2``
    (Decimal 9.73E+2) would pass as the integer 973 where ``973.0`` does not. Any
    number sent with a fraction or an exponent is a number, never an integer (Draft 4,
    which OpenAPI 3.0 uses), so such Decimals are shown to it with one decimal place.
    Amounts keep their own Decimal, as sent: only validation sees this view.
    """
    if isinstance(body, Decimal):
        sign, digits, exponent = body.as_tuple()
        return Decimal((sign, (*digits, 0), -1)) if exponent == 0 else body
    if isinstance(body, dict):
        return {key: schema_view(value) for key, value in body.items()}
    if isinstance(body, list):
        return [schema_view(value) for value in body]
    return body


def _charset(scope: Scope) -> str | None:
    """The charset of the Content-Type; Connexion misses it after "; " (with a space)."""
    content_type = Headers(scope=scope).get("content-type", "")
    match = re.search(r"charset\s*=\s*\"?([^\";\s]+)", content_type, re.IGNORECASE)
    return match[1] if match else None


def _not_a_batch(kind: str) -> RuleError:
    detail = f"the body must be a JSON array, got {kind}"
    return shape(Code.INVALID_INPUT, detail, detail=detail)


def _kind(body: Any) -> str:
    if isinstance(body, dict):
        return "an object"
    if isinstance(body, str | bool) or body is None:
        return {str: "a string", bool: "a boolean"}.get(type(body), "null")
    return "a number"


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _rank(error: ApiError) -> int:
    """When a body breaks several rules, the first of these codes is reported."""
    order = [
        Code.REASON_MISSING,
        Code.REASON_TOO_LONG,
        Code.AMOUNT_MISSING,
        Code.AMOUNT_NOT_A_NUMBER,
        Code.AMOUNT_NEGATIVE,
        Code.AMOUNT_TOO_LARGE,
        Code.INVALID_CATEGORY,
        Code.INVALID_REF_TYPE,
    ]
    return order.index(error.code) if error.code in order else len(order)


def _code_for(error: ValidationError, body: dict[str, Any]) -> RuleError:
    """The documented code for one schema violation of a request body, and why."""
    field = str(error.path[0]) if error.path else None
    if field is None and error.validator == "required" and isinstance(error.validator_value, list):
        missing = [name for name in error.validator_value if name not in body]
        field = missing[0] if missing else None
    if field is None and error.validator == "oneOf":
        amount = "valueToBeAdjusted" if "alternateCurrencyName" in body else "pointsToBeAdjusted"
        return shape(Code.AMOUNT_MISSING, field=amount)
    if field == "reasonOfReturn":
        if error.validator == "maxLength":
            return shape(Code.REASON_TOO_LONG, length=len(body["reasonOfReturn"]))
        return shape(Code.REASON_MISSING, "reasonOfReturn is missing, not a string, or blank")
    if field in AMOUNT_FIELDS:
        return _amount_error(field, body.get(field))
    if field == "pointCategoryTypes":
        return shape(Code.INVALID_CATEGORY, value=json_text(body.get(field)))
    if field == "pointsAwardedRefType":
        given = body.get(field)
        return shape(Code.INVALID_REF_TYPE, f"pointsAwardedRefType {given!r} is not a known type")
    return shape(Code.INVALID_INPUT, detail=problem(error, field))


def problem(error: ValidationError, field: str | None = None) -> str:
    """One violation as a message names it: where (the dotted path, else ``field``), then
    what (``action.status: 99 is less than the minimum of 200``), through the
    alternatives of a ``oneOf`` to the one meant."""
    error = _meant(error)
    where = ".".join(str(part) for part in error.absolute_path) or field
    what = describe(error)
    return f"{where}: {what}" if where else what


def describe(error: ValidationError) -> str:
    """A schema violation in words, with values written as the JSON that was sent."""
    kind, expected, value = error.validator, _any(error.validator_value), _any(error.instance)
    shown = json_text(value)
    if kind == "type":
        types = expected if isinstance(expected, list) else [expected]
        return f"{shown} is not of type {', '.join(json.dumps(t) for t in types)}"
    if kind == "required":
        missing = [name for name in expected if name not in value]
        return f"{json_text(missing[0] if missing else expected[0])} is a required property"
    if kind == "minimum":
        return f"{shown} is less than the minimum of {json_text(expected)}"
    if kind == "maximum":
        return f"{shown} is greater than the maximum of {json_text(expected)}"
    if kind == "minLength":
        return f"{shown} is shorter than {expected} characters"
    if kind == "maxLength":
        return f"{shown} is longer than {expected} characters"
    if kind == "pattern":
        return f"{shown} does not match {json.dumps(expected)}"
    if kind == "enum" and len(expected) > ENUM_SHOWN:
        return f"{shown} is not one of the values allowed"
    if kind == "enum":
        return f"{shown} is not one of {json_text(expected)}"
    if kind == "additionalProperties" and isinstance(value, dict):
        known = _any(error.schema).get("properties", {})
        unexpected = [name for name in value if name not in known]
        if unexpected:
            return f"{json_text(unexpected[0])} is not a field of this object"
    return f"{shown} does not match the contract"


def _any(value: Any) -> Any:
    """A field of a jsonschema error, which its stubs type as "or Unset"; read only after
    the error's kind says it is set."""
    return value


def _meant(error: ValidationError) -> ValidationError:
    """For a value no alternative of a ``oneOf`` accepts, the error of the alternative it
    was meant for: the one whose ``type`` (the JSON type, or a ``type`` field's value) it
    has, with the fewest errors; descending through nested ``oneOf``."""
    if error.validator != "oneOf" or not error.context:
        return error
    branches = _branches(error)
    meant = [errors for errors in branches if not any(_wrong_kind(sub, error) for sub in errors)]
    chosen = min(meant or branches, key=len)
    return _meant(max(chosen, key=relevance))


def _branches(error: ValidationError) -> list[list[ValidationError]]:
    """The errors of each alternative of a ``oneOf``."""
    branches: dict[object, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(sub.schema_path[0], []).append(sub)
    return list(branches.values())


def _wrong_kind(sub: ValidationError, parent: ValidationError) -> bool:
    """Whether an alternative's error says the value is of another kind altogether."""
    relative = list(sub.absolute_path)[len(parent.absolute_path) :]
    if sub.validator == "oneOf" and not relative:
        return all(any(_wrong_kind(s, sub) for s in errors) for errors in _branches(sub))
    if sub.validator == "type" and not relative:
        return True
    return sub.validator == "enum" and relative == ["type"]


def _amount_error(field: str, value: Any) -> RuleError:
    shown = json_text(value)
    number = _as_decimal(value)
    if number is None:
        return shape(Code.AMOUNT_NOT_A_NUMBER, field=field, value=shown)
    if number < 0:
        return shape(Code.AMOUNT_NEGATIVE, field=field, value=shown)
    if number > MAX_AMOUNT:
        return shape(Code.AMOUNT_TOO_LARGE, field=field, value=shown)
    return shape(Code.AMOUNT_NOT_A_NUMBER, field=field, value=shown)


def _as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


VALIDATOR_MAP = {
    "parameter": EnvelopeParameterValidator,
    "body": MediaTypeDict({"*/*json": EnvelopeJSONBodyValidator}),
}

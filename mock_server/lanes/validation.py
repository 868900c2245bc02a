"""Connexion validators that refuse bad requests in the API's own error envelope.

The contract's schemas decide what is valid; this module only decides which
documented code a violation is reported with (the "shape" rows of the rules table),
and keeps the amounts exact: JSON bodies are parsed with ``Decimal`` so that
``100.50`` keeps its two decimal places, as sent.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

import jsonschema_rs
from connexion.datastructures import MediaTypeDict
from connexion.validators import AbstractRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, ValidationError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server import contract
from mock_server.errors import MESSAGES, ApiError, Code, RuleError
from mock_server.lanes.body import read_body, replay
from mock_server.rules.money import MAX_AMOUNT

BODY_KEY = "capmock.body"
"""Where the parsed body is left in the ASGI scope's state for the handler."""

PARAMETER_CODES = {
    ("query", "source"): Code.INVALID_SOURCE,
    ("path", "userId"): Code.INVALID_IDENTIFIER,
}
INT64_TEXT = re.compile(r"[+-]?[0-9]{1,19}")
"""An integer that routing may parse; longer digit runs are out of int64 range anyway."""
AMOUNT_FIELDS = ("pointsToBeAdjusted", "valueToBeAdjusted")
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


def shape(code: Code, reason: str = "", **values: object) -> RuleError:
    """A refusal of the request's shape: its code, its row, and why (by default, what its
    message says)."""
    return RuleError(SHAPE_ROWS[code], code, reason or MESSAGES[code].format(**values), **values)


class EnvelopeParameterValidator(ParameterValidator):
    """Reports a bad ``source`` as 8003 and a bad ``userId`` as 8013."""

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
    for pattern, names in _relaxed_routes():
        match = pattern.fullmatch(path)
        if match:
            for name in names:
                if not INT64_TEXT.fullmatch(match[name]):
                    code = PARAMETER_CODES.get(("path", name), Code.INVALID_INPUT)
                    shown = match[name] if len(match[name]) <= 40 else f"{match[name][:40]}..."
                    return shape(
                        code,
                        f"{name} {shown!r} is not a 64-bit integer",
                        detail=f"{name} must be an integer",
                    )
    return None


@cache
def _relaxed_routes() -> tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]:
    """Each templated path of the contract, matching any text in its integer parameters."""
    routes = []
    for template, item in contract.document()["paths"].items():
        integers = {
            p["name"]
            for operation in item.values()
            if isinstance(operation, dict)
            for p in operation.get("parameters", [])
            if p.get("in") == "path" and p.get("schema", {}).get("type") == "integer"
        }
        names = tuple(name for name in re.findall(r"{(\w+)}", template) if name in integers)
        if names:
            regex = re.sub(r"{(\w+)}", r"(?P<\1>[^/]*)", template)
            routes.append((re.compile(regex, re.DOTALL), names))
    return tuple(routes)


class EnvelopeJSONBodyValidator(AbstractRequestBodyValidator):
    """Parses JSON exactly (Decimal, no NaN) and reports violations with their codes."""

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        """Read the body with the one reader both lanes use (a body that did not arrive
        in full is refused), parse and validate it, and replay it to the handler."""
        raw = await read_body(receive, scope)
        if not raw:
            raise shape(Code.BODY_NOT_OBJECT, "the body is empty")
        body = parse_json(raw, _charset(scope) or self._encoding)
        scope.setdefault("state", {})[BODY_KEY] = body
        self._validate(body)
        return replay(raw, receive), scope

    def _validate(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise shape(Code.BODY_NOT_OBJECT, f"the body is a JSON {type(body).__name__}")
        fast, explaining = _validators(self._schema)
        if fast.is_valid(body):
            return
        errors = [_code_for(error, body) for error in explaining.iter_errors(body)]
        raise (
            min(errors, key=_rank)
            if errors
            else shape(
                Code.INVALID_INPUT,
                "the body does not match the contract",
                detail="the body does not match the contract",
            )
        )


_compiled: dict[int, tuple[dict[str, Any], Any, Draft4Validator]] = {}


def _validators(schema: dict[str, Any]) -> tuple[Any, Draft4Validator]:
    """A fast validator (jsonschema-rs) that decides, and jsonschema that explains.

    Compiled once per operation (Connexion would build one per request), keyed by
    identity; the cache holds the schema itself, so an id is never reused.
    """
    entry = _compiled.get(id(schema))
    if entry is None:
        entry = (schema, *compile_schema(schema))
        _compiled[id(schema)] = entry
    return entry[1], entry[2]


def compile_schema(schema: dict[str, Any]) -> tuple[Any, Draft4Validator]:
    """Validators for an OpenAPI 3.0 request schema, which Connexion checks as Draft 4."""
    fast = jsonschema_rs.Draft4Validator(schema)
    return fast, Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def parse_json(raw: bytes, encoding: str = "utf-8") -> Any:
    """Parse a JSON body exactly: numbers with a fraction become Decimals, as sent."""
    try:
        return json.loads(
            raw.decode(encoding), parse_float=Decimal, parse_constant=_refuse_constant
        )
    except UnicodeDecodeError:
        raise _malformed(f"the bytes are not valid {encoding}") from None
    except LookupError:
        raise _malformed(f"unknown charset {encoding}") from None
    except (ValueError, RecursionError) as error:
        raise _malformed(_first_line(str(error))) from None


def _malformed(detail: str) -> RuleError:
    return shape(Code.MALFORMED_JSON, f"the body is not JSON: {detail}", detail=detail)


def _charset(scope: Scope) -> str | None:
    """The charset of the Content-Type; Connexion misses it after "; " (with a space)."""
    content_type = Headers(scope=scope).get("content-type", "")
    match = re.search(r"charset\s*=\s*\"?([^\";\s]+)", content_type, re.IGNORECASE)
    return match[1] if match else None


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
        return shape(Code.INVALID_CATEGORY, value=json.dumps(body.get(field), default=str))
    if field == "pointsAwardedRefType":
        given = body.get(field)
        return shape(Code.INVALID_REF_TYPE, f"pointsAwardedRefType {given!r} is not a known type")
    where = f"{field}: " if field else ""
    return shape(Code.INVALID_INPUT, detail=where + _first_line(error.message))


def _amount_error(field: str, value: Any) -> RuleError:
    shown = str(value) if isinstance(value, Decimal) else json.dumps(value, default=str)
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

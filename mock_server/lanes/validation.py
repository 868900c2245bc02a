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
from mock_server.errors import ApiError, Code
from mock_server.lanes.body import read_body, replay
from mock_server.rules.money import MAX_AMOUNT

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
                    if code is not None:
                        raise ApiError.of(code)
                    raise ApiError.of(Code.INVALID_INPUT, detail=_first_line(problem))


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
    """The refusal for a path whose integer parameter is not a 64-bit integer's digits
    (``/v2/customers/lookup/...`` is a route of its own, not a userId)."""
    if path in _static_routes():
        return None
    for pattern, names in _relaxed_routes():
        match = pattern.fullmatch(path)
        if match:
            for name in names:
                if not INT64_TEXT.fullmatch(match[name]):
                    code = PARAMETER_CODES.get(("path", name), Code.INVALID_INPUT)
                    return ApiError.of(code, detail=f"{name} must be an integer")
    return None


@cache
def _static_routes() -> frozenset[str]:
    return frozenset(path for path in contract.document()["paths"] if "{" not in path)


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
        batch = self._schema.get("type") == "array"
        if not raw:
            raise _not_a_batch("empty") if batch else ApiError.of(Code.BODY_NOT_OBJECT)
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
            raise ApiError.of(Code.BATCH_SIZE, limit=limit, count=len(body))
        fast, explaining = _validators(self._schema)
        if fast.is_valid(body):
            return
        error = min(explaining.iter_errors(body), key=lambda e: list(map(str, e.path)))
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.path)
        raise ApiError.of(Code.INVALID_INPUT, detail=f"{where}: {_first_line(error.message)}")

    def _validate(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise ApiError.of(Code.BODY_NOT_OBJECT)
        fast, explaining = _validators(self._schema)
        if fast.is_valid(body):
            return
        errors = [_code_for(error, body) for error in explaining.iter_errors(body)]
        raise (
            min(errors, key=_rank)
            if errors
            else ApiError.of(Code.INVALID_INPUT, detail="the body does not match the contract")
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
        raise ApiError.of(
            Code.MALFORMED_JSON, detail=f"the bytes are not valid {encoding}"
        ) from None
    except LookupError:
        raise ApiError.of(Code.MALFORMED_JSON, detail=f"unknown charset {encoding}") from None
    except (ValueError, RecursionError) as error:
        raise ApiError.of(Code.MALFORMED_JSON, detail=_first_line(str(error))) from None


def _charset(scope: Scope) -> str | None:
    """The charset of the Content-Type; Connexion misses it after "; " (with a space)."""
    content_type = Headers(scope=scope).get("content-type", "")
    match = re.search(r"charset\s*=\s*\"?([^\";\s]+)", content_type, re.IGNORECASE)
    return match[1] if match else None


def _not_a_batch(kind: str) -> ApiError:
    return ApiError.of(Code.INVALID_INPUT, detail=f"the body must be a JSON array, got {kind}")


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


def _code_for(error: ValidationError, body: dict[str, Any]) -> ApiError:
    """The documented code for one schema violation of a request body."""
    field = str(error.path[0]) if error.path else None
    if field is None and error.validator == "required" and isinstance(error.validator_value, list):
        missing = [name for name in error.validator_value if name not in body]
        field = missing[0] if missing else None
    if field is None and error.validator == "oneOf":
        amount = "valueToBeAdjusted" if "alternateCurrencyName" in body else "pointsToBeAdjusted"
        return ApiError.of(Code.AMOUNT_MISSING, field=amount)
    if field == "reasonOfReturn":
        if error.validator == "maxLength":
            return ApiError.of(Code.REASON_TOO_LONG, length=len(body["reasonOfReturn"]))
        return ApiError.of(Code.REASON_MISSING)
    if field in AMOUNT_FIELDS:
        return _amount_error(field, body.get(field))
    if field == "pointCategoryTypes":
        return ApiError.of(Code.INVALID_CATEGORY, value=json.dumps(body.get(field), default=str))
    if field == "pointsAwardedRefType":
        return ApiError.of(Code.INVALID_REF_TYPE)
    where = f"{field}: " if field else ""
    return ApiError.of(Code.INVALID_INPUT, detail=where + _first_line(error.message))


def _amount_error(field: str, value: Any) -> ApiError:
    shown = str(value) if isinstance(value, Decimal) else json.dumps(value, default=str)
    number = _as_decimal(value)
    if number is None:
        return ApiError.of(Code.AMOUNT_NOT_A_NUMBER, field=field, value=shown)
    if number < 0:
        return ApiError.of(Code.AMOUNT_NEGATIVE, field=field, value=shown)
    if number > MAX_AMOUNT:
        return ApiError.of(Code.AMOUNT_TOO_LARGE, field=field, value=shown)
    return ApiError.of(Code.AMOUNT_NOT_A_NUMBER, field=field, value=shown)


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

"""The answer the mock gives for a code a fault forces: the refusal that code is, with
the values its message names read from the request as the rules and the schema mapping
read them, so that it is byte for byte what the mock answers when the code happens.

Values no request can give (the ``detail`` of 9100, 9110, 9190...) name the fault
instead; a value the request lacks (an amount, on the token endpoint) is ``null``.
"""

from __future__ import annotations

import string
from decimal import InvalidOperation
from typing import Any

from starlette.types import Scope

from mock_server.auth import claimed
from mock_server.errors import MESSAGES, ApiError, Code
from mock_server.instrument.actions import Answer
from mock_server.instrument.calls import Call
from mock_server.lanes.json_text import json_text
from mock_server.lanes.render import render
from mock_server.limits import Limits
from mock_server.model import World
from mock_server.operations.deduct import to_deduction
from mock_server.rules import deduct

TOKEN_ENVELOPE = {Code.INVALID_CLIENT}
"""Codes the token endpoint answers in its own envelope, ``{"data": null, "errors": ...}``."""


def forced_answer(
    code: int,
    scope: Scope,
    call: Call,
    body: object,
    world: World,
    limits: Limits,
    fault_id: str,
) -> Answer:
    """The answer for ``code`` to this request (``body``: its parsed JSON body, if it had
    one), in the world being served, under the mock's ``limits``."""
    parsed = body if isinstance(body, dict) else None
    detail = f"forced by capmock fault {fault_id}"
    error = refusal(Code(code), scope, call, parsed, world, limits, detail)
    status = error.status(world.error_status)
    if error.code in TOKEN_ENVELOPE:
        body = render({"data": None, "errors": error.envelope()["errors"]})
        return Answer.of(status, body).with_headers(error.challenge(status))
    answer = Answer.refusal(error, world.error_status)
    return answer.with_headers(error.challenge(status)) if _navigating(scope) else answer


def refusal(
    code: Code,
    scope: Scope,
    call: Call,
    body: dict[str, Any] | None,
    world: World,
    limits: Limits,
    detail: str,
) -> ApiError:
    rule = _by_the_rules(code, call, body, world, detail)
    if rule is not None:
        return rule
    known = {**_values(code, scope, body), **_limits(code, scope, limits)}
    names = [name for _, name, _, _ in string.Formatter().parse(MESSAGES[code]) if name]
    return ApiError.of(
        code, **{name: known.get(name, detail if name == "detail" else "null") for name in names}
    )


def _by_the_rules(
    code: Code, call: Call, body: dict[str, Any] | None, world: World, detail: str
) -> ApiError | None:
    """The rules' refusal, for the codes of the rules table. 9106 is the schema's: the
    contract's maximum and pattern refuse every amount above 10^12, as a number or a
    string, before the rules see it."""
    if code not in deduct.ROWS or code == Code.AMOUNT_TOO_LARGE:
        return None
    if body is None or call.user_id is None:
        return None
    try:
        request = to_deduction(call.user_id, call.source or "", body)
    except (KeyError, TypeError, ValueError, InvalidOperation):
        return None
    return deduct.forced(world, request, code, detail)


def _values(code: Code, scope: Scope, body: dict[str, Any] | None) -> dict[str, object]:
    """The values of the schema's and the HTTP layer's messages, as they fill them in."""
    values: dict[str, object] = {"method": scope["method"], "path": scope["path"]}
    headers = dict(scope["headers"][::-1])  # the first of repeated headers wins
    content_type = headers.get(b"content-type")
    values["content_type"] = "none" if content_type is None else content_type.decode("latin-1")
    caller = claimed(headers.get(b"authorization"), headers.get(b"x-cap-api-oauth-token"))
    values["principal"] = "the caller" if caller is None else caller[1]
    if body is not None:
        field = values["field"] = _amount_field(body)
        if code == Code.INVALID_CATEGORY:
            values["value"] = json_text(body.get("pointCategoryTypes"))
        elif field in body:
            values["value"] = json_text(body[field])
        reason = body.get("reasonOfReturn")
        if isinstance(reason, str):
            values["length"] = len(reason)
    return values


def _limits(code: Code, scope: Scope, limits: Limits) -> dict[str, object]:
    """The values of the limits' messages: the limits this mock was started with."""
    sizes = {
        Code.BODY_TOO_LARGE: limits.body_limit(scope["method"], scope["path"]),
        Code.HEADERS_TOO_LARGE: limits.max_header_bytes,
        Code.TOO_MANY_CONNECTIONS: limits.max_connections,
    }
    return {"limit": sizes.get(code, "null"), "seconds": f"{limits.request_timeout_seconds:g}"}


def _navigating(scope: Scope) -> bool:
    """Whether a 401 carries WWW-Authenticate, as the lanes decide: not on a web page's
    own fetch, where a Basic challenge would open the browser's password dialog."""
    for name, value in scope["headers"]:
        if name == b"sec-fetch-mode":
            return bool(value == b"navigate")
    return True


def _amount_field(body: dict[str, Any]) -> str:
    """The amount that counts, as the schema mapping names it."""
    return "valueToBeAdjusted" if "alternateCurrencyName" in body else "pointsToBeAdjusted"

"""Custom Schemathesis checks: the rules of the contract that Schemathesis cannot know,
and the hook that keeps Schemathesis inside the run's limits and safety rules.

Schemathesis registers checks and hooks globally, so they read the run in progress from
``ACTIVE`` (set by ``schema_run.run_phase``) and do nothing when no run is active.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import jsonschema
import schemathesis
from schemathesis import GenerationMode

from contract_tests import expectations, spec
from contract_tests.limits import Limits
from contract_tests.reach import Reach, UnsafeRequestError
from contract_tests.target import Traffic


@dataclass
class ActiveRun:
    limits: Limits
    error_status: dict[int, int]
    allow_negative: bool
    user_id: int
    """The only userId Schemathesis may send to (the test or the unknown customer)."""
    traffic: Traffic
    reach: Reach
    """Which customers a lookup or an allocation may name: their identifiers are pinned
    to these before a case is sent."""
    source: str | None = None
    """The source allocations name, when the phase pins it (else as generated)."""


ACTIVE: ActiveRun | None = None


def _document(response: Any) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _is_deduction(case: Any) -> bool:
    return case.operation.path in spec.DEDUCT_PATHS


@schemathesis.check
def error_envelope_on_every_4xx(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx, documented or not, carries Capillary's error envelope."""
    if ACTIVE is None or not 400 <= response.status_code < 500:
        return None
    problems = expectations.envelope_problems(_document(response))
    if problems:
        raise AssertionError(
            f"HTTP {response.status_code} without the error envelope: {problems[0]}"
        )
    return True


@schemathesis.check
def only_documented_error_codes(ctx: Any, response: Any, case: Any) -> bool | None:
    """Error codes are documented ones, with their documented status and message, and the
    values a message repeats from the request are the request's."""
    if ACTIVE is None or not 400 <= response.status_code < 500:
        return None
    document = _document(response)
    if expectations.envelope_problems(document):
        return None
    problems = expectations.documented_code_problems(
        response.status_code, document, ACTIVE.error_status
    )
    if not problems and _is_deduction(case):
        problems = expectations.message_value_problems(document, case.body)
    if problems:
        raise AssertionError(problems[0])
    return True


@schemathesis.check
def deduction_success_body(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 200 deduction names the balance it deducted from, with three decimals, and the
    documented message."""
    if ACTIVE is None or response.status_code != 200 or not _is_deduction(case):
        return None
    body = case.body if isinstance(case.body, dict) else {}
    currency = body.get("alternateCurrencyName")
    problems = expectations.success_problems(
        _document(response),
        currency=currency if isinstance(currency, str) else None,
        allow_negative=ACTIVE.allow_negative,
    )
    if problems:
        raise AssertionError(problems[0])
    return True


@schemathesis.check
def allocation_answer_adds_up(ctx: Any, response: Any, case: Any) -> bool | None:
    """An allocation answers each item, in order: 200 when all were issued, else 207, and
    every refused item with a documented item code, its message and its status."""
    if ACTIVE is None or case.operation.path != spec.ALLOCATE_PATH:
        return None
    if response.status_code not in (200, 207) or not isinstance(case.body, list):
        return None
    problems = expectations.allocation_problems(
        response.status_code, _document(response), len(case.body), ACTIVE.error_status
    )
    if problems:
        raise AssertionError(problems[0])
    return True


@schemathesis.check
def balance_numbers_have_three_decimals(ctx: Any, response: Any, case: Any) -> bool | None:
    """The balance lookup writes every amount as a number with three decimals (670.000),
    and its sums hold: promised = its breakup, total = main + promised."""
    if ACTIVE is None or case.operation.path != spec.BALANCE_PATH or response.status_code != 200:
        return None
    text = response.content.decode("utf-8", "replace")
    try:
        document = json.loads(text, parse_float=Decimal)
    except ValueError:
        return None
    entity = document.get("entityId") if isinstance(document, dict) else None
    problems = expectations.points_balance_problems(text, document, entity)
    if problems:
        raise AssertionError(problems[0])
    return True


@schemathesis.check
def valid_data_not_refused_as_invalid(ctx: Any, response: Any, case: Any) -> bool | None:
    """A schema-valid request may be refused by a business rule (8015, 8907...), never with
    a code that means the request broke the schema."""
    if ACTIVE is None or response.status_code != 400 or not _is_deduction(case):
        return None
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return None
    if not _valid_request(case):
        return None
    codes = expectations.error_codes(_document(response))
    refused = sorted(set(codes) & spec.SHAPE_CODES)
    if refused:
        raise AssertionError(
            f"a schema-valid request was refused as invalid with {refused[0]}; "
            "only business refusals are documented for valid data"
        )
    return True


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Send nothing beyond the run's budget and rate, and no request to another customer."""
    if ACTIVE is None:
        return
    user_id = (case.path_parameters or {}).get("userId")
    if case.operation.path == spec.DEDUCT_PATH and str(user_id) != str(ACTIVE.user_id):
        raise UnsafeRequestError(f"Schemathesis aimed at userId {user_id!r}, not {ACTIVE.user_id}")
    _aim(case, ACTIVE)
    ACTIVE.reach.check(case.method, case.operation.path, case.query, case.body)
    ACTIVE.limits.acquire()


def _aim(case: Any, run: ActiveRun) -> None:
    """Give every identifier a case sends (in its query, in an allocation's lookupParams)
    the value the run may reach for its name: generated names stay, so that refusals of
    unknown names are still tried."""
    read = case.method.upper() == "GET"
    query = case.query
    if isinstance(query, dict) and "identifierValue" in query:
        names = str(query.get("identifierName", "")).split(",")
        query["identifierValue"] = ",".join(run.reach.aim(name, read) for name in names)
    if case.operation.path != spec.ALLOCATE_PATH or not isinstance(case.body, list):
        return
    for item in case.body:
        lookup = item.get("lookupParams") if isinstance(item, dict) else None
        if isinstance(lookup, dict) and "identifierValue" in lookup:
            lookup["identifierValue"] = run.reach.aim(str(lookup.get("identifierType", "")))
            if run.source is not None:
                lookup["source"] = run.source


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    """Count the answer, for the warnings that would make a pass meaningless."""
    if ACTIVE is not None:
        ACTIVE.traffic.record(case.formatted_path, response.status_code, _document(response))


def _valid_request(case: Any) -> bool:
    query = case.query or {}
    if query.get("source") not in spec.enum("Source"):
        return False
    return not any(_request_validator().iter_errors(case.body))


@cache
def _request_validator() -> jsonschema.Draft4Validator:
    document = spec.document()
    schema = {"$ref": "#/components/schemas/DeductionRequest", "components": document["components"]}
    return jsonschema.Draft4Validator(schema)

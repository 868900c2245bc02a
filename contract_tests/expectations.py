"""What a response must look like, as plain functions that list the problems found.

Shared by the documented-behaviour tests, the model-based tests and the custom
Schemathesis checks, so that each rule of the contract is written once.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from contract_tests import spec

BALANCE = re.compile(r"^-?[0-9]+\.[0-9]{3}$")
SUCCESS_SUFFIX = " deducted successfully for the user "


def content_type_problems(headers: dict[str, str]) -> list[str]:
    """Every answer of the contract is JSON."""
    kind = headers.get("content-type", "")
    if kind.split(";")[0].strip().lower() != "application/json":
        return [f"Content-Type is {kind or 'missing'!r}, not application/json"]
    return []


def envelope_problems(document: Any) -> list[str]:
    """Problems with the error envelope: ``errors[]`` of ``{status: false, code, message}``."""
    if not isinstance(document, dict):
        return ["the body is not a JSON object in the error envelope"]
    errors = document.get("errors")
    if not isinstance(errors, list) or not errors:
        return ["the envelope has no non-empty errors[] array"]
    problems = []
    for index, item in enumerate(errors):
        if not isinstance(item, dict):
            problems.append(f"errors[{index}] is not an object")
            continue
        if item.get("status") is not False:
            problems.append(f"errors[{index}].status is {item.get('status')!r}, not false")
        if not isinstance(item.get("code"), int) or isinstance(item.get("code"), bool):
            problems.append(f"errors[{index}].code is {item.get('code')!r}, not an integer")
        if not isinstance(item.get("message"), str):
            problems.append(f"errors[{index}].message is {item.get('message')!r}, not a string")
    warnings = document.get("warnings", [])
    if not isinstance(warnings, list):
        problems.append("warnings is not an array")
    return problems


def error_codes(document: Any) -> list[int]:
    if envelope_problems(document):
        return []
    return [item["code"] for item in document["errors"]]


def documented_code_problems(status: int, document: Any, error_status: dict[int, int]) -> list[str]:
    """Every code must be documented, come with its documented status, and carry its
    documented message."""
    problems = []
    for item in document["errors"]:
        code, message = item["code"], item["message"]
        if code not in spec.documented_codes():
            problems.append(f"error code {code} is not documented by the contract")
            continue
        statuses = spec.expected_statuses(code, error_status)
        if statuses is not None and status not in statuses:
            wanted = " or ".join(str(s) for s in sorted(statuses))
            problems.append(f"error code {code} came with HTTP {status}, documented with {wanted}")
        template = spec.templates().get(code)
        if template is not None and not template.matches(message):
            problems.append(
                f"error code {code} has the message {message!r}, documented as {template.text!r}"
            )
    return problems


def message_value_problems(document: Any, body: Any) -> list[str]:
    """The values a message repeats from the request must be the request's: the amount as
    sent (8907), its decimal places (8906), the currency's name (8911), the programId
    named (1218)."""
    if not isinstance(body, dict):
        return []
    currency = body.get("alternateCurrencyName")
    amount = as_sent(
        body.get("valueToBeAdjusted" if currency is not None else "pointsToBeAdjusted")
    )
    expected: dict[str, str] = {}
    if amount is not None:
        expected["amount"] = f"{amount:f}"
        exponent = amount.as_tuple().exponent
        expected["places"] = str(max(0, -exponent) if isinstance(exponent, int) else 0)
    if isinstance(currency, str):
        expected["name"] = currency
    if isinstance(body.get("programId"), int) and not isinstance(body["programId"], bool):
        expected["program_id"] = str(body["programId"])
    problems = []
    for item in document["errors"]:
        template = spec.templates().get(item["code"])
        match = template.pattern().fullmatch(item["message"]) if template else None
        if match is None:
            continue
        for name, shown in match.groupdict().items():
            if name in expected and shown != expected[name] and not _same_program(item, name):
                problems.append(
                    f"error code {item['code']} says {name} {shown!r}, the request sent "
                    f"{expected[name]!r}"
                )
    return problems


def _same_program(item: dict[str, Any], name: str) -> bool:
    """8906 names the program whose decimals count, which a promotion or award may decide."""
    return name == "program_id" and item["code"] == 8906


def as_sent(value: Any) -> Decimal | None:
    """An amount as the server reads it from the JSON sent: strings and numbers as written."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        number = Decimal(value if isinstance(value, str) else json.dumps(value, default=str))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def balance_problems(value: Any, name: str, *, allow_negative: bool) -> list[str]:
    if not isinstance(value, str) or not BALANCE.match(value):
        return [f"{name} is {value!r}, not a string with exactly three decimals like '670.000'"]
    if not allow_negative and Decimal(value) < 0:
        return [f"{name} is {value}, below zero while negative balances are not allowed"]
    return []


def success_problems(document: Any, *, currency: str | None, allow_negative: bool) -> list[str]:
    """The success body: status, the one balance field that fits the request, message."""
    if not isinstance(document, dict):
        return ["the success body is not a JSON object"]
    problems = []
    if document.get("status") != "success":
        problems.append(f"status is {document.get('status')!r}, not 'success'")
    field, other = (
        ("valueAvailable", "pointsAvailable") if currency else ("pointsAvailable", "valueAvailable")
    )
    if field not in document:
        problems.append(f"{field} is missing")
    else:
        problems += balance_problems(document[field], field, allow_negative=allow_negative)
    if other in document:
        problems.append(f"{other} is present, but the request deducted {currency or 'points'}")
    expected_message = f"{currency or 'points'}{SUCCESS_SUFFIX}"
    if document.get("message") != expected_message:
        problems.append(f"message is {document.get('message')!r}, not {expected_message!r}")
    if not isinstance(document.get("warnings"), list):
        problems.append("warnings is missing or not an array")
    return problems


THREE_DECIMALS = re.compile(r'"(\w+)":\s*(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)')
POINT_FIELDS = ("totalPoints", "mainPoints", "promisedPoints")
BREAKUP_FIELDS = ("delayedAccrualPoints", "externalTriggerBasedPoints")


def points_balance_problems(text: str, document: Any, user_id: Any) -> list[str]:
    """The balance lookup's answer: the customer's id, every amount a JSON number with
    three decimals, and the sums it promises (promised = the breakup, total = main +
    promised)."""
    if not isinstance(document, dict):
        return ["the balance answer is not a JSON object"]
    problems = []
    if document.get("entityId") != user_id:
        problems.append(f"entityId is {document.get('entityId')!r}, not the customer {user_id}")
    for name, literal in THREE_DECIMALS.findall(text):
        if name in (*POINT_FIELDS, *BREAKUP_FIELDS) and not re.fullmatch(
            r"-?[0-9]+\.[0-9]{3}", literal
        ):
            problems.append(f"{name} is {literal}, not a number with three decimals like 670.000")
    breakup = document.get("promisedPointsBreakup")
    amounts = [_number(document.get(name)) for name in POINT_FIELDS]
    parts = [
        _number(breakup.get(name) if isinstance(breakup, dict) else None) for name in BREAKUP_FIELDS
    ]
    total, main, promised = amounts
    delayed, external = parts
    if total is None or main is None or promised is None or delayed is None or external is None:
        return [*problems, "a points field is missing or not a number"]
    if promised != delayed + external:
        problems.append(f"promisedPoints {promised} is not {delayed} + {external}, its breakup")
    if total != main + promised:
        problems.append(f"totalPoints {total} is not mainPoints {main} + promisedPoints {promised}")
    return problems


def ledger_problems(document: Any, user_id: int, limit: int, offset: int) -> list[str]:
    """One page of the ledger: the customer, the page's arithmetic, three-decimal amounts."""
    if not isinstance(document, dict):
        return ["the ledger answer is not a JSON object"]
    problems = []
    customer = document.get("customerDetails") or {}
    if not isinstance(customer, dict) or customer.get("userId") != user_id:
        problems.append(f"customerDetails does not name the customer {user_id}")
    details = document.get("ledgerDetails") or {}
    entries = document.get("ledgerEntries")
    if not isinstance(details, dict) or not isinstance(entries, list):
        return [*problems, "ledgerDetails or ledgerEntries is missing"]
    total = details.get("totalEntries")
    expected = {
        "pageNumber": offset,
        "pageSize": limit,
        "pageCount": -(-total // limit) if isinstance(total, int) else None,
    }
    for name, value in expected.items():
        if details.get(name) != value:
            problems.append(f"ledgerDetails.{name} is {details.get(name)!r}, not {value!r}")
    if isinstance(total, int) and len(entries) != max(0, min(limit, total - offset * limit)):
        problems.append(f"{len(entries)} entries on page {offset} of {total} by {limit}")
    for event in entries:
        for row in event.get("entryDetails", []) if isinstance(event, dict) else []:
            if not isinstance(row, dict) or not BALANCE.match(str(row.get("points"))):
                problems.append(f"an entry's points are {row!r}, not three decimals")
    return problems


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    return Decimal(value)


def allocation_problems(
    status: int, document: Any, items: int, error_status: dict[int, int]
) -> list[str]:
    """An allocation's answer: one result per item, counted right; 200 exactly when every
    item succeeded, 207 otherwise; each refused item with a documented item code, its
    message, and that code's status as its httpStatus."""
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        return ["the allocation answer has no data array"]
    data = document["data"]
    problems = []
    succeeded = sum(isinstance(r, dict) and r.get("status") == "SUCCESS" for r in data)
    counts = {"total": items, "success": succeeded, "failures": len(data) - succeeded}
    if len(data) != items:
        problems.append(f"{len(data)} results for {items} items")
    for name, value in counts.items():
        if document.get(name) != value:
            problems.append(f"{name} is {document.get(name)!r}, not {value}")
    wanted = 200 if succeeded == len(data) else 207
    if status != wanted:
        problems.append(f"HTTP {status} for {succeeded} of {len(data)} items issued, not {wanted}")
    for index, result in enumerate(data):
        if isinstance(result, dict) and result.get("status") == "FAILURE":
            problems += [f"data[{index}]: {p}" for p in _item_problems(result, error_status)]
    return problems


def _item_problems(result: dict[str, Any], error_status: dict[int, int]) -> list[str]:
    errors = result.get("errors")
    if not isinstance(errors, list) or envelope_problems({"errors": errors}):
        return ["a refused item without errors in the envelope's shape"]
    first = errors[0]
    code = first["code"]
    if code not in spec.item_codes():
        return [f"error code {code} is not documented for an allocation item"]
    status = error_status.get(code, spec.catalogue_statuses()[code])
    problems = []
    if result.get("httpStatus") != status:
        problems.append(f"httpStatus is {result.get('httpStatus')!r} for {code}, not {status}")
    template = spec.templates()[code]
    if not template.matches(first["message"]):
        problems.append(
            f"error code {code} has the message {first['message']!r}, not {template.text!r}"
        )
    return problems

"""manualCurrencyAllocate: one case per code it documents, and its documented examples.

A call is refused as a whole only for its shape (9150, 9110); every other refusal is an
item's, inside a 207 answer (``judge_item``). Read-only runs name the profile's unknown
identifier in every item, so nothing can be issued even by a server that accepted it
(such a server answers 8015 for the item, or the code, which the report tells apart);
with writes, items name the test customer, and each documented example must top up its
balance by exactly what the answer says it issued.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from contract_tests import spec
from contract_tests.expectations import content_type_problems
from contract_tests.findings import Finding, Observation, Verdict
from contract_tests.plans.documented import CUSTOMER_NOT_FOUND, error_case
from contract_tests.plans.requests import Case, Request
from contract_tests.plans.views import CATEGORIES, exact_json, ledger_request, snapshot
from contract_tests.profile import Profile
from contract_tests.target import Exchange, Target

BATCH = 10
"""The documented batch size: 11 items must be refused as a whole."""
SOME_REFUSED = 207
UNKNOWN_ID = 999999999
"""An award strategy and a program id no org has (the profile's unknownProgramId)."""


def item(profile: Profile, *, writes: bool, **fields: Any) -> dict[str, Any]:
    """An item issuing the profile's fixed award to the test customer (writes) or to the
    unknown identifier."""
    name, value = profile.lookup if writes else profile.unknown_identifier
    ids = profile.allocation
    return {
        "orgId": ids.org_id if ids else 100737,
        "programId": profile.program_id,
        "awardStrategyId": ids.award_strategy_id if ids else UNKNOWN_ID,
        "expiryStrategyId": ids.expiry_strategy_id if ids else UNKNOWN_ID,
        "sourceValue": -1,
        "eventName": "TransactionAdd",
        "eventSourceId": "capmock-contract-test",
        "lookupParams": {
            "identifierType": name,
            "identifierValue": value,
            "source": profile.source,
            "entityType": "CUSTOMER",
        },
        **fields,
    }


def _call(items: list[dict[str, Any]]) -> Request:
    return Request("POST", spec.ALLOCATE_PATH, body=items)


def allocation_error_cases(profile: Profile, *, writes: bool) -> list[Case]:
    """The call's own refusals, and each item refusal the profile lets us cause."""
    one = item(profile, writes=writes)
    cases = [
        error_case(
            profile,
            9150,
            f"{BATCH + 1} items, one more than the batch takes",
            _call([one] * (BATCH + 1)),
            {"limit": BATCH, "count": BATCH + 1},
            writes=writes,
            name="9150-allocate-eleven-items",
        ),
        error_case(
            profile,
            9110,
            "an item without programId",
            _call([{key: value for key, value in one.items() if key != "programId"}]),
            None,
            writes=writes,
            name="9110-allocate-item-without-program",
        ),
    ]
    if profile.allocation is None:
        return cases
    refused: list[tuple[int, str, dict[str, Any], dict[str, Any]]] = [
        (
            9152,
            "an item of another org",
            {"orgId": profile.allocation.org_id + 1},
            {"org_id": profile.allocation.org_id + 1, "expected": profile.allocation.org_id},
        ),
        (
            9151,
            "an item for a user group",
            {"lookupParams": {**one["lookupParams"], "entityType": "USERGROUP2"}},
            {"what": "allocations to a USERGROUP2"},
        ),
        (
            8136,
            f"an award strategy {UNKNOWN_ID}, which does not exist",
            {"awardStrategyId": UNKNOWN_ID},
            {"detail": f"Award Strategy not found with id : {UNKNOWN_ID}"},
        ),
        (
            8136,
            f"a program {profile.unknown_program_id}, which does not exist",
            {"programId": profile.unknown_program_id},
            {"detail": "Program with id not found"},
        ),
    ]
    for code, what, fields, values in refused:
        name = f"{code}-allocate-{'-'.join(what.split()[:4])}".lower()
        also = CUSTOMER_NOT_FOUND if not writes else None
        request = _call([item(profile, writes=writes, **fields)])
        judge = judge_item(profile, code, values, name, also=also)
        cases.append(
            error_case(profile, code, what, request, values, writes=writes, name=name, judge=judge)
        )
    unknown = item(profile, writes=False)
    cases.append(
        error_case(
            profile,
            CUSTOMER_NOT_FOUND,
            "an item for the unknown identifier",
            _call([unknown]),
            {},
            writes=writes,
            name="8015-allocate-unknown-identifier",
            judge=judge_item(profile, CUSTOMER_NOT_FOUND, {}, "8015-allocate-unknown-identifier"),
        )
    )
    unique = f"capmock-{secrets.token_hex(6)}"
    again = item(profile, writes=True, uniqueId=unique)
    cases.append(
        error_case(
            profile,
            6006,
            "the same uniqueId twice in one call: the second item",
            _call([again, again]),
            {},
            writes=writes,
            needs_customer=True,
            name="6006-allocate-unique-id-twice",
            judge=judge_item(profile, 6006, {}, "6006-allocate-unique-id-twice", index=1),
        )
    )
    return cases


def judge_item(
    profile: Profile,
    code: int,
    values: dict[str, Any],
    test: str,
    *,
    also: int | None = None,
    index: int = 0,
) -> Callable[[Exchange], Verdict]:
    """An allocation whose item ``index`` must be refused with ``code`` (or ``also``): a
    207, the item FAILURE with the code, its message and its httpStatus."""
    template = spec.templates()[code]
    strict = profile.capmock_codes or code not in spec.CAPMOCK_CODES

    def judge(exchange: Exchange) -> Verdict:
        document = exact_json(exchange)
        data = document.get("data") if isinstance(document, dict) else None
        refused = data[index] if isinstance(data, list) and len(data) > index else None
        problems = content_type_problems(exchange.response_headers)
        if exchange.status != SOME_REFUSED:
            problems.append(
                f"an allocation with a refused item answered HTTP {exchange.status}, not 207"
            )
        if not isinstance(refused, dict):
            problems.append(f"the answer has no data[{index}] for the item")
            return _verdict(problems, exchange, code, test, None, None)
        errors = refused.get("errors") if isinstance(refused.get("errors"), list) else []
        first = errors[0] if errors and isinstance(errors[0], dict) else {}
        answered = first.get("code")
        judged = also if also is not None and answered == also else code
        expected_status = profile.error_status.get(judged, spec.catalogue_statuses()[judged])
        if refused.get("status") != "FAILURE":
            problems.append(f"data[{index}].status is {refused.get('status')!r}, not 'FAILURE'")
        if refused.get("httpStatus") != expected_status:
            problems.append(
                f"data[{index}].httpStatus is {refused.get('httpStatus')!r}, not {expected_status}"
            )
        message_ok = None
        if strict:
            message = (template if judged == code else spec.templates()[judged]).render(
                **(values if judged == code else {})
            )
            message_ok = answered == judged and first.get("message") == message
            if answered != judged:
                problems.append(f"{code} expected for data[{index}], got code {answered}")
            elif first.get("message") != message:
                problems.append(f"{code} message is {first.get('message')!r}, expected {message!r}")
        seen = Observation(
            code,
            test,
            exchange.status,
            answered,
            refused.get("httpStatus") == expected_status,
            message_ok,
            first=also if judged != code else None,
        )
        return _verdict(problems, exchange, code, test, seen, template.text)

    return judge


def _verdict(
    problems: list[str],
    exchange: Exchange,
    code: int,
    test: str,
    seen: Observation | None,
    message: str | None,
) -> Verdict:
    expected = f"HTTP 207, the item refused with {code}" + (f" ({message})" if message else "")
    findings = [
        Finding(p, exchange.curl(), exchange.describe_response(), expected) for p in problems
    ]
    return Verdict(findings, seen or Observation(code, test, exchange.status, None, False, None))


def allocation_example_cases(profile: Profile) -> list[Case]:
    """The documented allocations with the profile's ids, each to the test customer, each
    checked against the balance and the ledger."""
    ids = profile.allocation
    if ids is None:
        return []
    name, value = profile.lookup
    cases = []
    for example, body in spec.request_examples(spec.ALLOCATE_PATH).items():
        if ids.currency_identifier is None and any(
            "alternateCurrencyIdentifier" in i for i in body
        ):
            continue
        items = [
            {
                **sent,
                "orgId": ids.org_id,
                "programId": profile.program_id,
                "awardStrategyId": ids.award_strategy_id,
                "expiryStrategyId": ids.expiry_strategy_id,
                "sourceValue": -1,
                "lookupParams": {
                    **sent["lookupParams"],
                    "identifierType": name,
                    "identifierValue": value,
                    "source": profile.source,
                },
                **(
                    {"alternateCurrencyIdentifier": ids.currency_identifier}
                    if "alternateCurrencyIdentifier" in sent
                    else {}
                ),
            }
            for sent in body
        ]
        cases.append(
            Case(
                f"example-allocate-{example}",
                f"the documented allocation {example!r}, to the test customer",
                _call(items),
                _issued,
                needs_writes=True,
            )
        )
    return cases


def _issued(target: Target, request: Request) -> Verdict:
    """Every item issued, and the balance and the ledger show exactly what was."""
    before = snapshot(target)
    exchange = request.send(target)
    document = exact_json(exchange)
    problems = content_type_problems(exchange.response_headers)
    items = request.body if isinstance(request.body, list) else []
    data = document.get("data") if isinstance(document, dict) else None
    if exchange.status != 200 or not isinstance(data, list) or len(data) != len(items):
        problems.append(
            f"a documented allocation got HTTP {exchange.status}, not 200 with an item each"
        )
        return _findings(problems, exchange)
    moved = {category: Decimal(0) for category in CATEGORIES}
    events = []
    for index, (sent, result) in enumerate(zip(items, data, strict=True)):
        effects = result.get("sideEffects") if isinstance(result, dict) else None
        if not isinstance(result, dict) or result.get("status") != "SUCCESS" or not effects:
            problems.append(f"data[{index}] is not a SUCCESS with sideEffects: {result!r}")
            continue
        events.append(result.get("eventLogId"))
        if "alternateCurrencyIdentifier" not in sent:
            awarded = effects[0].get("awardedPoints")
            category = sent.get("currencyType", "REGULAR")
            moved[category] += (
                Decimal(awarded) if isinstance(awarded, Decimal | int) else Decimal(0)
            )
    after = snapshot(target)
    problems += [f.problem for f in before.problems() + after.problems()]
    if not problems and before.points is not None and after.points is not None:
        for category, amount in moved.items():
            if after.points[category] - before.points[category] != amount:
                problems.append(
                    f"{category} points went from {before.points[category]} to "
                    f"{after.points[category]}, but the allocation issued {amount}"
                )
        newest = ledger_request(target.profile, limit=len(items)).send(target)
        shown = exact_json(newest)
        ledger_ids = [
            event.get("eventLogId")
            for event in (shown or {}).get("ledgerEntries", [])
            if isinstance(event, dict)
        ]
        if sorted(map(str, ledger_ids)) != sorted(map(str, events)):
            problems.append(
                f"the ledger's newest events are {ledger_ids}, not the allocation's {events}"
            )
    return _findings(problems, exchange)


def _findings(problems: list[str], exchange: Exchange) -> Verdict:
    expected = "HTTP 200, every item issued, the balance and the ledger showing it"
    return Verdict(
        [Finding(p, exchange.curl(), exchange.describe_response(), expected) for p in problems]
    )

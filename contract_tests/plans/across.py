"""The balance model across endpoints: one world behind every operation.

On the test customer: read the balance, issue the profile's award
(manualCurrencyAllocate), deduct by userId, deduct by identifier (its primary one,
mobile by default), then read the balance and the ledger again. Every answer must be
the model's to the last decimal: each deduction's ``pointsAvailable``, the balance
lookup's ``mainPoints``, and the ledger's three newest events (the credit and the two
debits, with the allocation's ``eventLogId``). When the whole ledger fits in one page,
its opening balances, credits and debits must also add up to the balance.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from contract_tests import spec
from contract_tests.findings import Finding, NotRunError, Verdict
from contract_tests.model import balance_text
from contract_tests.plans.requests import REASON, Request
from contract_tests.plans.views import LEDGER_CATEGORIES, exact_json, ledger_request, snapshot
from contract_tests.profile import Profile
from contract_tests.target import Exchange, Target

PAGE = 100
"""The most events the ledger gives in one page."""


def amounts(profile: Profile) -> tuple[Decimal, Decimal]:
    """Two deductions with as many decimals as the program takes (up to two)."""
    places = min(profile.round_decimals, 2)
    return Decimal("1.25").quantize(Decimal(1).scaleb(-places)), Decimal("2.5").quantize(
        Decimal(1).scaleb(-min(places, 1))
    )


def requests(profile: Profile) -> list[Request]:
    """What the test sends, in order (between reads of the balance and the ledger)."""
    if profile.allocation is None:
        return []
    by_id, by_lookup = amounts(profile)
    name, value = profile.lookup
    ids = profile.allocation
    issue = {
        "orgId": ids.org_id,
        "programId": profile.program_id,
        "awardStrategyId": ids.award_strategy_id,
        "expiryStrategyId": ids.expiry_strategy_id,
        "sourceValue": -1,
        "eventName": "TransactionAdd",
        "eventSourceId": "capmock-balance-model",
        "lookupParams": {
            "identifierType": name,
            "identifierValue": value,
            "source": profile.source,
        },
    }
    deduct = spec.DEDUCT_PATH.replace("{userId}", str(profile.user_id))
    lookup = {"identifierName": name, "identifierValue": value, "source": profile.source}
    return [
        Request("POST", spec.ALLOCATE_PATH, body=[issue]),
        Request(
            "POST",
            deduct,
            {"source": profile.source},
            {
                "pointsToBeAdjusted": f"{by_id:f}",
                "programId": profile.program_id,
                "reasonOfReturn": REASON,
            },
        ),
        Request(
            "POST",
            spec.LOOKUP_DEDUCT_PATH,
            lookup,
            {
                "pointsToBeAdjusted": f"{by_lookup:f}",
                "programId": profile.program_id,
                "reasonOfReturn": REASON,
            },
        ),
    ]


def run_across(target: Target) -> Verdict:
    """The findings of one pass; NotRunError when the profile cannot issue points."""
    profile = target.profile
    sent = requests(profile)
    if not sent:
        raise NotRunError("the profile names no allocation settings (allocation: orgId, ...)")
    start = snapshot(target)
    if start.problems():
        return Verdict(start.problems())
    assert start.points is not None
    balance = start.points["REGULAR"]
    findings: list[Finding] = []
    allocated = sent[0].send(target)
    awarded, event = _awarded(allocated)
    if awarded is None:
        return Verdict(
            [_finding(allocated, "the allocation did not issue points", "HTTP 200, SUCCESS")]
        )
    balance += awarded
    for request in sent[1:]:
        exchange = request.send(target)
        balance -= Decimal(request.body["pointsToBeAdjusted"])
        answered = (
            exchange.json().get("pointsAvailable") if isinstance(exchange.json(), dict) else None
        )
        if exchange.status != 200 or answered != balance_text(balance):
            findings.append(
                _finding(
                    exchange,
                    f"after {_steps(request)}, pointsAvailable is {answered!r}, the model's "
                    f"balance is {balance_text(balance)!r}",
                    f"HTTP 200, pointsAvailable {balance_text(balance)!r}",
                )
            )
    end = snapshot(target)
    if end.problems():
        return Verdict(findings + end.problems())
    assert end.points is not None
    if end.points["REGULAR"] != balance:
        findings.append(
            _finding(
                end.balance,
                f"the balance lookup says mainPoints {end.points['REGULAR']}, but after "
                f"{awarded} issued and {'; '.join(_steps(r) for r in sent[1:])} the balance is "
                f"{balance_text(balance)}",
                f"mainPoints {balance_text(balance)}",
            )
        )
    findings += _ledger_findings(target, profile, awarded, event, sent[1:], balance)
    return Verdict(findings)


def _awarded(exchange: Exchange) -> tuple[Decimal | None, Any]:
    document = exact_json(exchange)
    data = document.get("data") if isinstance(document, dict) else None
    result = data[0] if isinstance(data, list) and data else None
    if exchange.status != 200 or not isinstance(result, dict) or result.get("status") != "SUCCESS":
        return None, None
    effects = result.get("sideEffects") or [{}]
    awarded = effects[0].get("awardedPoints") if isinstance(effects[0], dict) else None
    if not isinstance(awarded, Decimal | int):
        return None, None
    return Decimal(awarded), result.get("eventLogId")


def _ledger_findings(
    target: Target,
    profile: Profile,
    awarded: Decimal,
    event: Any,
    deductions: list[Request],
    balance: Decimal,
) -> list[Finding]:
    """The three newest events are the deductions and the credit, in order; a ledger that
    fits in a page adds up to the balance."""
    page = ledger_request(profile, limit=PAGE).send(target)
    document = exact_json(page)
    entries = document.get("ledgerEntries") if isinstance(document, dict) else None
    if page.status != 200 or not isinstance(entries, list):
        return [_finding(page, f"the ledger could not be read: HTTP {page.status}", "HTTP 200")]
    expected = [
        ("ManualPointsAdjustment", "DEBIT", Decimal(deductions[1].body["pointsToBeAdjusted"])),
        ("ManualPointsAdjustment", "DEBIT", Decimal(deductions[0].body["pointsToBeAdjusted"])),
        ("BulkAllocatePoints", "CREDIT", awarded),
    ]
    newest = [_main_row(entry) for entry in entries[:3]]
    findings = []
    if newest != expected:
        findings.append(
            _finding(
                page,
                f"the ledger's newest events are {newest}, not the deduction by identifier, the "
                "deduction by userId and the allocation",
                f"newest first: {expected}",
            )
        )
    elif entries[2].get("eventLogId") != event:
        findings.append(
            _finding(
                page,
                f"the allocation's event is {entries[2].get('eventLogId')!r} in the ledger, "
                f"{event!r} in its answer",
                "the same eventLogId",
            )
        )
    total = (document.get("ledgerDetails") or {}).get("totalEntries")
    if isinstance(total, int) and total <= PAGE:
        summed = sum(
            (
                _signed(row)
                for entry in entries
                for row in entry.get("entryDetails", [])
                if row.get("pointsCategory") == "Main" and "alternateCurrencyName" not in row
            ),
            Decimal(0),
        )
        if summed != balance:
            findings.append(
                _finding(
                    page,
                    f"the ledger's REGULAR rows add up to {summed}, the balance is {balance}",
                    "opening balances + credits - debits = the balance",
                )
            )
    return findings


def _main_row(entry: Any) -> tuple[Any, Any, Any] | None:
    rows = entry.get("entryDetails") if isinstance(entry, dict) else None
    if not isinstance(rows, list) or len(rows) != 1 or not isinstance(rows[0], dict):
        return None
    row = rows[0]
    if (
        LEDGER_CATEGORIES.get(str(row.get("pointsCategory"))) != "REGULAR"
        or "alternateCurrencyName" in row
    ):
        return None
    return entry.get("eventName"), row.get("ledgerEntryType"), Decimal(str(row.get("points")))


def _signed(row: dict[str, Any]) -> Decimal:
    amount = Decimal(str(row.get("points")))
    return -amount if row.get("ledgerEntryType") == "DEBIT" else amount


def _steps(request: Request) -> str:
    how = "by identifier" if request.path == spec.LOOKUP_DEDUCT_PATH else "by userId"
    return f"a deduction of {request.body['pointsToBeAdjusted']} {how}"


def _finding(exchange: Exchange, problem: str, expected: str) -> Finding:
    return Finding(problem, exchange.curl(), exchange.describe_response(), expected)

"""A refused request must leave the test customer where it was.

Where the run may write, a request refused at the test customer is sent between two
reads of it: the points balance lookup and the newest entry of the points ledger. Both
must be exactly the same after as before: a server that refuses but deducts anyway (or
writes a ledger entry) is a finding. Reading changes nothing, so the check itself takes
no point. (``probe_request``, a deduction of 1, is what the race sends.)
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from contract_tests import spec
from contract_tests.findings import Finding, Verdict
from contract_tests.model import CURRENCY, Bucket, balance_text
from contract_tests.plans.requests import Request
from contract_tests.plans.views import Snapshot, balance_request, ledger_request, snapshot
from contract_tests.profile import Profile
from contract_tests.target import Exchange, Target

PROBE_REASON = "capmock balance check"
PROBE_AMOUNT = Decimal(1)


def probe_request(profile: Profile, bucket: Bucket) -> Request:
    """A deduction of 1 from ``bucket`` of the test customer."""
    body: dict[str, Any] = {"reasonOfReturn": PROBE_REASON}
    if bucket.kind == CURRENCY:
        body |= {"alternateCurrencyName": bucket.name, "valueToBeAdjusted": "1"}
    else:
        body["pointsToBeAdjusted"] = "1"
        if bucket.name != "REGULAR":
            body["pointCategoryTypes"] = bucket.name
    path = spec.DEDUCT_PATH.replace("{userId}", str(profile.user_id))
    return Request("POST", path, {"source": profile.source}, body)


def reads(profile: Profile) -> list[Request]:
    """What is read before and after a guarded request."""
    return [balance_request(profile), ledger_request(profile, limit=1)]


def guarded(target: Target, request: Request, judge: Callable[[Exchange], Verdict]) -> Verdict:
    """Read, send ``request`` and judge it, read again; the verdict with any finding about
    what moved."""
    before = snapshot(target)
    exchange = request.send(target)
    verdict = judge(exchange)
    findings = list(verdict.findings)
    if _accepted(exchange):
        return Verdict(findings, verdict.observation)
    after = snapshot(target)
    findings += _moved(before, exchange, after)
    return Verdict(findings, verdict.observation)


def _accepted(exchange: Exchange) -> bool:
    """Whether something was meant to move: a 200, or an allocation answer (207) with an
    item that succeeded."""
    if exchange.status == 200:
        return True
    document = exchange.json()
    return (
        200 <= exchange.status < 300
        and isinstance(document, dict)
        and bool(document.get("success"))
    )


def _moved(before: Snapshot, refused: Exchange, after: Snapshot) -> list[Finding]:
    problems = before.problems() or after.problems()
    if problems:
        return problems
    assert before.points is not None and after.points is not None
    found = []
    changed = {
        category: (before.points[category], after.points[category])
        for category in before.points
        if before.points[category] != after.points[category]
    }
    if changed:
        shown = "; ".join(
            f"{category} {balance_text(was)} before, {balance_text(now)} after"
            for category, (was, now) in changed.items()
        )
        found.append(
            Finding(
                f"the balance moved around a refused request (HTTP {refused.status}): {shown}",
                refused.curl(),
                refused.describe_response(),
                "a refused request changes no balance: the balance lookup answers the same "
                "points before and after it",
            )
        )
    if (before.entries, before.newest) != (after.entries, after.newest):
        found.append(
            Finding(
                f"the ledger moved around a refused request (HTTP {refused.status}): "
                f"{before.entries} events before (newest {before.newest}), {after.entries} "
                f"after (newest {after.newest})",
                refused.curl(),
                refused.describe_response(),
                "a refused request writes no ledger entry",
            )
        )
    return found

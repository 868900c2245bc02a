"""A refused request must leave the balance where it was.

Where the run may write, a request refused at the test customer is sent between two
probes: deductions of 1 from the bucket the request would have touched. The balance the
second probe returns must be exactly 1 below the first's; a server that refuses but
deducts anyway (or deducts twice, or not at all) is a finding. This needs no balance
endpoint, so it works on any target.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from contract_tests import spec
from contract_tests.findings import Finding, Verdict
from contract_tests.model import CURRENCY, POINTS, Bucket, answered_balance, balance_text
from contract_tests.plans.requests import Request
from contract_tests.profile import Profile
from contract_tests.target import Exchange, Target

PROBE_REASON = "capmock balance check"
PROBE_AMOUNT = Decimal(1)


def probed_bucket(profile: Profile, request: Request) -> Bucket:
    """The bucket a request would deduct from: the profile's currency when it names it,
    else the points category it names, else REGULAR points."""
    body = request.body if isinstance(request.body, dict) else {}
    if body.get("alternateCurrencyName") == profile.currency:
        return Bucket(CURRENCY, profile.currency)
    category = body.get("pointCategoryTypes")
    if category in spec.enum("PointCategory"):
        return Bucket(POINTS, category)
    return Bucket(POINTS, "REGULAR")


def probe_request(profile: Profile, bucket: Bucket) -> Request:
    body: dict[str, Any] = {"reasonOfReturn": PROBE_REASON}
    if bucket.kind == CURRENCY:
        body |= {"alternateCurrencyName": bucket.name, "valueToBeAdjusted": "1"}
    else:
        body["pointsToBeAdjusted"] = "1"
        if bucket.name != "REGULAR":
            body["pointCategoryTypes"] = bucket.name
    path = spec.DEDUCT_PATH.replace("{userId}", str(profile.user_id))
    return Request("POST", path, {"source": profile.source}, body)


def guarded(target: Target, request: Request, judge: Callable[[Exchange], Verdict]) -> Verdict:
    """Probe, send ``request`` and judge it, probe again; the verdict with any finding
    about the balance added."""
    profile = target.profile
    bucket = probed_bucket(profile, request)
    probe = probe_request(profile, bucket)
    before = probe.send(target)
    exchange = request.send(target)
    verdict = judge(exchange)
    after = probe.send(target)
    findings = list(verdict.findings)
    if exchange.status != 200:
        findings += _balance_findings(bucket, before, exchange, after)
    return Verdict(findings, verdict.observation)


def _balance_findings(
    bucket: Bucket, before: Exchange, refused: Exchange, after: Exchange
) -> list[Finding]:
    field = "valueAvailable" if bucket.kind == CURRENCY else "pointsAvailable"
    first, second = answered_balance(before, field), answered_balance(after, field)
    if first is None:
        return [
            Finding(
                f"the balance of {bucket.describe()} could not be checked: a deduction of 1 "
                f"before the refused request got HTTP {before.status}",
                before.curl(),
                before.describe_response(),
                f"HTTP 200 with {field}, so that the balance before and after the refused "
                "request can be compared",
            )
        ]
    wanted = first - PROBE_AMOUNT
    if second == wanted:
        return []
    shown = repr(balance_text(second)) if second is not None else after.describe_response()
    return [
        Finding(
            f"the balance of {bucket.describe()} moved around a refused request (HTTP "
            f"{refused.status}): a deduction of 1 answered {balance_text(first)!r} before it "
            f"and {shown} after it, not {balance_text(wanted)!r}; the refusal took points, or "
            "a deduction took other than it said",
            refused.curl(),
            refused.describe_response(),
            "a refused request changes no balance, and each deduction of 1 takes 1",
        )
    ]

"""The whole range of ``userId``: the contract takes any positive 64-bit integer.

A deduction for each of ``spec.WIDE_USER_IDS`` (from 2^31 to 2^63 - 1) must be refused
like any unknown customer's: 8015. A server that keeps ids in 32 bits answers otherwise
(8013, a 5xx, or another customer's balance). The ids are chosen so that a server that
cuts them to 32 bits lands on an impossible id, never on a real customer: the test is
safe on live targets and runs on every run.
"""

from __future__ import annotations

from collections.abc import Callable

from contract_tests import spec
from contract_tests.findings import Verdict
from contract_tests.plans.documented import CUSTOMER_NOT_FOUND, judge_error
from contract_tests.plans.requests import REASON, Case, Request
from contract_tests.profile import Profile
from contract_tests.target import Exchange, Target


def exponent_name(user_id: int) -> str:
    """``2^31``, ``2^32-1``...: how a test names an id of the range."""
    for power in range(31, 64):
        if user_id == 2**power:
            return f"2^{power}"
        if user_id == 2**power - 1:
            return f"2^{power}-1"
    return str(user_id)


def identifier_cases(profile: Profile) -> list[Case]:
    body = {"pointsToBeAdjusted": "1", "reasonOfReturn": REASON}
    cases = []
    for user_id in spec.WIDE_USER_IDS:
        name = f"user-id-{exponent_name(user_id)}"
        request = Request(
            "POST",
            spec.DEDUCT_PATH.replace("{userId}", str(user_id)),
            {"source": profile.source},
            body,
        )
        cases.append(
            Case(
                name,
                f"userId {user_id} ({exponent_name(user_id)}) is an unknown customer: 8015",
                request,
                _sender(judge_error(profile, CUSTOMER_NOT_FOUND, {}, name)),
            )
        )
    return cases


def _sender(judge: Callable[[Exchange], Verdict]) -> Callable[[Target, Request], Verdict]:
    def execute(target: Target, request: Request) -> Verdict:
        return judge(request.send(target))

    return execute

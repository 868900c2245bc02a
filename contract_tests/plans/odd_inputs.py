"""Odd input: requests no client should send, each of which must get a 4xx in the error
envelope with a documented code and message, never a 500 or another body.

Schemathesis is pinned to one customer, so it never fuzzes the path; these cases make
sure the odd paths and bodies are tried on every run, and each is one the contract says
must be refused. They name the test customer where the run may write (and then check
that each refusal left its balance alone), else the profile's unknown customer.
"""

from __future__ import annotations

from contract_tests import spec
from contract_tests.expectations import (
    content_type_problems,
    documented_code_problems,
    envelope_problems,
)
from contract_tests.findings import Finding, Verdict
from contract_tests.plans.guard import guarded
from contract_tests.plans.requests import REASON, Case, Request
from contract_tests.profile import Profile
from contract_tests.target import Exchange, Target

JSON = {"Content-Type": "application/json"}


def odd_input_cases(profile: Profile, *, writes: bool) -> list[Case]:
    customer = profile.user_id if writes else profile.unknown_customer_id
    deduct = spec.DEDUCT_PATH.replace("{userId}", str(customer))
    params = {"source": profile.source}

    def path(user_id: str) -> str:
        return spec.DEDUCT_PATH.replace("{userId}", user_id)

    def raw(body: bytes, headers: dict[str, str] = JSON) -> Request:
        return Request("POST", deduct, params, raw=body, headers=headers)

    requests = {
        "newline-in-user-id": Request("POST", path("%0A"), params, {"reasonOfReturn": REASON}),
        "user-id-beyond-int64": Request(
            "POST", path("99999999999999999999"), params, {"reasonOfReturn": REASON}
        ),
        "negative-user-id": Request("POST", path("-1"), params, {"reasonOfReturn": REASON}),
        "non-utf8-body": raw(b'{"pointsToBeAdjusted": "1", "reasonOfReturn": "\xff\xfe"}'),
        "nan-amount": raw(b'{"pointsToBeAdjusted": NaN, "reasonOfReturn": "r"}'),
        "infinite-amount": raw(b'{"pointsToBeAdjusted": 1e400, "reasonOfReturn": "r"}'),
        "deeply-nested-body": raw(b"[" * 100000 + b"]" * 100000),
        "empty-body": raw(b""),
        "null-body": raw(b"null"),
        "amount-as-object": raw(b'{"pointsToBeAdjusted": {"value": 1}, "reasonOfReturn": "r"}'),
        "amount-as-boolean": raw(b'{"pointsToBeAdjusted": true, "reasonOfReturn": "r"}'),
        "reason-as-number": raw(b'{"pointsToBeAdjusted": "1", "reasonOfReturn": 5}'),
        "source-repeated": Request(
            "POST",
            deduct + f"?source={profile.source}&source=NOT_A_SOURCE",
            None,
            {"reasonOfReturn": REASON},
        ),
        "text-plain-body": raw(b"pointsToBeAdjusted=1", {"Content-Type": "text/plain"}),
    }

    def execute(target: Target, sent: Request) -> Verdict:
        def judge(exchange: Exchange) -> Verdict:
            return Verdict(_judge(profile, exchange))

        if writes and sent.path.startswith(deduct):
            return guarded(target, sent, judge)
        return judge(sent.send(target))

    return [
        Case(
            f"odd-input-{name}",
            f"{name.replace('-', ' ')} is refused with a documented 4xx",
            request,
            execute,
            guarded=writes and request.path.startswith(deduct),
        )
        for name, request in requests.items()
    ]


def _judge(profile: Profile, exchange: Exchange) -> list[Finding]:
    document = exchange.json()
    problems = []
    if not 400 <= exchange.status < 500:
        problems.append(f"odd input answered with HTTP {exchange.status}, not a 4xx")
    problems += content_type_problems(exchange.response_headers)
    shape = envelope_problems(document)
    problems += shape
    if not shape and 400 <= exchange.status < 500:
        problems += documented_code_problems(exchange.status, document, profile.error_status)
    expected = "a 4xx in the error envelope, with a documented code and its message"
    return [
        Finding(problem, exchange.curl(), exchange.describe_response(), expected)
        for problem in problems
    ]

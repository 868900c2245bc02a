"""The read endpoints: the points balance lookup and the points ledger. One case per code
they document, and their documented examples, all reading the test customer: reading
changes nothing, so every run sends them, with or without ``--allow-writes``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contract_tests import spec
from contract_tests.expectations import (
    content_type_problems,
    ledger_problems,
    points_balance_problems,
)
from contract_tests.findings import Finding, Verdict
from contract_tests.plans.documented import error_case
from contract_tests.plans.requests import Case, Request
from contract_tests.plans.views import exact_json, lookup_params
from contract_tests.profile import Profile
from contract_tests.target import Exchange, Target


def _balance(profile: Profile, **params: Any) -> Request:
    return Request("GET", spec.BALANCE_PATH, {**lookup_params(profile), **params})


def _ledger(profile: Profile, **params: Any) -> Request:
    return Request("GET", spec.LEDGER_PATH, {**lookup_params(profile), **params})


def read_error_cases(profile: Profile, *, writes: bool) -> list[Case]:
    """A case per code the balance and the ledger document, at the test customer."""
    found: list[tuple[int, str, Request, dict[str, Any] | None, str]] = [
        (
            1212,
            "entityType GROUP",
            _balance(profile, entityType="GROUP"),
            {},
            "1212-balance-entity-type-group",
        ),
        (
            9151,
            "entityType FLEET, which capmock does not serve",
            _balance(profile, entityType="FLEET"),
            {"what": "the balance of a FLEET"},
            "9151-balance-fleet",
        ),
        (
            1218,
            f"the balance in program {profile.unknown_program_id}, which does not exist",
            _balance(profile, programId=profile.unknown_program_id),
            {"program_id": profile.unknown_program_id},
            "1218-balance-unknown-program",
        ),
        (
            8003,
            "the balance in an unknown source",
            _balance(profile, source="NOT_A_SOURCE"),
            {},
            "8003-balance-unknown-source",
        ),
        (
            8013,
            "the balance by identifierName userId",
            _balance(profile, identifierName="userId"),
            {},
            "8013-balance-identifier-name-user-id",
        ),
        (
            11029,
            "a ledger page of 101 entries",
            _ledger(profile, limit=101),
            {},
            "11029-ledger-limit-101",
        ),
        (
            11003,
            "a ledger page far beyond the last",
            _ledger(profile, offset=2147483647),
            {},
            "11003-ledger-page-beyond-the-last",
        ),
        (
            11007,
            "ledgerEntryType REFUND",
            _ledger(profile, ledgerEntryType="REFUND"),
            {},
            "11007-ledger-entry-type-refund",
        ),
        (
            11008,
            "pointCategoryType MAIN",
            _ledger(profile, pointCategoryType="MAIN"),
            {},
            "11008-ledger-category-main",
        ),
        (
            9153,
            "a startDate after the endDate",
            _ledger(profile, startDate="2025-02-01T00:00:00", endDate="2025-01-01T00:00:00"),
            {"detail": "startDate is after endDate"},
            "9153-ledger-start-after-end",
        ),
        (
            9151,
            "the ledger of a FLEET",
            _ledger(profile, type="FLEET"),
            {"what": "the ledger of a FLEET"},
            "9151-ledger-fleet",
        ),
        (
            9110,
            "a ledger page of 0 entries",
            _ledger(profile, limit=0),
            None,
            "9110-ledger-limit-0",
        ),
    ]
    others = [name for name in profile.identifiers if name != profile.primary_identifier]
    if profile.dual_eligibility and others:
        name = others[0]
        found.append(
            (
                8015,
                f"the balance by the {name} alone, not the primary identifier (dual eligibility)",
                _balance(profile, identifierName=name, identifierValue=profile.identifiers[name]),
                {},
                "8015-balance-without-the-primary-identifier",
            )
        )
    return [
        error_case(
            profile, code, what, request, values, writes=writes, reads_customer=True, name=name
        )
        for code, what, request, values, name in found
    ]


def read_example_cases(profile: Profile) -> list[Case]:
    """The documented balance and ledger requests, with the profile's ids."""
    balance = _documented(spec.BALANCE_PATH, profile)
    if profile.dual_eligibility and "email" in profile.identifiers and profile.lookup[0] != "email":
        name, value = profile.lookup
        balance |= {
            "identifierName": f"email,{name}",
            "identifierValue": f"{profile.identifiers['email']},{value}",
        }
    ledger = _documented(spec.LEDGER_PATH, profile) | {"alternateCurrencyNames": profile.currency}
    return [
        Case(
            "example-balance",
            "the documented balance lookup, for the test customer",
            Request("GET", spec.BALANCE_PATH, balance),
            _judged(
                lambda e: points_balance_problems(
                    e.response_body.decode(), exact_json(e), profile.user_id
                )
            ),
        ),
        Case(
            "example-ledger",
            "the documented ledger request, for the test customer",
            Request("GET", spec.LEDGER_PATH, ledger),
            _judged(
                lambda e: ledger_problems(
                    exact_json(e), profile.user_id, int(ledger["limit"]), int(ledger["offset"])
                )
            ),
        ),
    ]


def _documented(path: str, profile: Profile) -> dict[str, Any]:
    """A GET's documented example with the test customer's lookup and program."""
    params = spec.parameter_examples(path)
    return (
        params
        | lookup_params(profile)
        | ({"programId": profile.program_id} if "programId" in params else {})
    )


def _judged(problems_of: Callable[[Exchange], list[str]]) -> Callable[[Target, Request], Verdict]:
    def run(target: Target, request: Request) -> Verdict:
        exchange = request.send(target)
        problems = content_type_problems(exchange.response_headers)
        if exchange.status != 200:
            problems.append(f"the documented example got HTTP {exchange.status}, not 200")
        else:
            problems += problems_of(exchange)
        return Verdict(
            [
                Finding(
                    problem,
                    exchange.curl(),
                    exchange.describe_response(),
                    "HTTP 200, as documented",
                )
                for problem in problems
            ]
        )

    return run

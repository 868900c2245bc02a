"""The deduct by identifier (``POST /v2/customers/lookup/negativePointsAdjustment``): the
lookup's own refusals, and the seed's nine examples sent by identifier.

Every other rule is the userId form's, which ``documented`` checks. Read-only runs aim
at the profile's unknown identifier; a write names the test customer by its primary
identifier (``Profile.lookup``).
"""

from __future__ import annotations

from typing import Any

from contract_tests import spec
from contract_tests.plans.documented import CUSTOMER_NOT_FOUND, error_case, run_example
from contract_tests.plans.requests import REASON, Case, Request
from contract_tests.profile import Profile

INVALID_IDENTIFIER = 8013


def lookup(profile: Profile, *, writes: bool, **params: Any) -> Request:
    """A deduction of 1 point by identifier: of the test customer when the run may write,
    else of the unknown identifier."""
    name, value = profile.lookup if writes else profile.unknown_identifier
    query = {"identifierName": name, "identifierValue": value, "source": profile.source, **params}
    body = {"pointsToBeAdjusted": "1", "reasonOfReturn": REASON}
    return Request("POST", spec.LOOKUP_DEDUCT_PATH, query, body)


def lookup_error_cases(profile: Profile, *, writes: bool) -> list[Case]:
    """8013 and 8015 as the lookup form gives them."""
    unknown_name, unknown_value = profile.unknown_identifier
    cases = [
        error_case(
            profile,
            INVALID_IDENTIFIER,
            "identifierName userId, which no lookup accepts",
            lookup(profile, writes=writes, identifierName="userId"),
            {},
            writes=writes,
            name="8013-lookup-identifier-name-user-id",
        ),
        error_case(
            profile,
            CUSTOMER_NOT_FOUND,
            f"the {unknown_name} {unknown_value}, which no customer has",
            lookup(profile, writes=False),
            {},
            writes=writes,
            name="8015-lookup-unknown-identifier",
        ),
    ]
    if profile.other_source is not None and profile.identifiers:
        cases.append(
            error_case(
                profile,
                CUSTOMER_NOT_FOUND,
                f"the test customer's {profile.lookup[0]} in {profile.other_source}",
                lookup(profile, writes=True, source=profile.other_source),
                {},
                writes=writes,
                needs_customer=True,
                name="8015-lookup-in-another-source",
            )
        )
    return cases


def lookup_example_cases(profile: Profile) -> list[Case]:
    """The seed's nine request examples, sent by the test customer's identifier."""
    name, value = profile.lookup
    params = {"identifierName": name, "identifierValue": value, "source": profile.source}
    cases = []
    for example, body in spec.request_examples(spec.LOOKUP_DEDUCT_PATH).items():
        sent = profile_ids(profile, body)
        cases.append(
            Case(
                f"example-lookup-{example}",
                f"the seed's example {example!r} by {name}, with the profile's ids",
                Request("POST", spec.LOOKUP_DEDUCT_PATH, params, sent),
                run_example(profile, sent),
                needs_writes=True,
            )
        )
    return cases


def profile_ids(profile: Profile, body: dict[str, Any]) -> dict[str, Any]:
    """An example body with the profile's ids in place of the documentation's."""
    ids = {
        "pointsAwardedId": profile.award_id,
        "pointsAwardedRefType": profile.award_ref_type,
        "promotionId": profile.promotion_id,
        "promotionIdentifier": profile.promotion_identifier,
        "programId": profile.program_id,
        "alternateCurrencyName": profile.currency,
    }
    return {key: ids.get(key, value) for key, value in body.items()}

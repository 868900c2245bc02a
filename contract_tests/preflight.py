"""One request before any test: are the credentials accepted, and does the target speak
the contract?

The request is a deduction of 1 point for the profile's unknown customer, which the
contract says must be refused with 8015. Credentials refused (401/403, or an OAuth key
refused at the token endpoint), a 2xx (the customer exists there, or the target takes
anything), or an answer outside the error envelope stop the run with one line, before
a single test has sent anything.
"""

from __future__ import annotations

from contract_tests import spec
from contract_tests.expectations import envelope_problems
from contract_tests.options import UsageError
from contract_tests.target import CredentialsRefusedError, Exchange, Target

REASON = "capmock preflight"


def preflight_request(target: Target) -> tuple[str, dict[str, str], dict[str, str]]:
    """The path, query and body of the preflight deduction."""
    profile = target.profile
    path = spec.DEDUCT_PATH.replace("{userId}", str(profile.unknown_customer_id))
    return path, {"source": profile.source}, {"pointsToBeAdjusted": "1", "reasonOfReturn": REASON}


def preflight(target: Target) -> list[str]:
    """Send the preflight; raise UsageError with one line when the run cannot go on, else
    return what a person should know about the answer (nothing when it is 8015)."""
    path, params, body = preflight_request(target)
    credentials = target.profile.credentials.describe()
    try:
        exchange = target.send("POST", path, params=params, body=body)
    except CredentialsRefusedError as error:
        raise UsageError(
            f"the target refused the credentials of {credentials} ({error.answer}); "
            "check --auth, --oauth or the profile's credentials"
        ) from None
    document = exchange.json()
    if exchange.status in (401, 403):
        raise UsageError(
            f"the target refused the credentials of {credentials} ({_answer(exchange)}); "
            "check --auth, --oauth or the profile's credentials"
        )
    if 200 <= exchange.status < 300:
        raise UsageError(
            f"the target accepted a deduction for the profile's unknown customer "
            f"{target.profile.unknown_customer_id} (HTTP {exchange.status}): that customer "
            "exists there or the target accepts anything; fix unknownCustomerId in the "
            "profile. Nothing else was sent"
        )
    if envelope_problems(document):
        kind = exchange.response_headers.get("content-type", "no content type")
        raise UsageError(
            f"the target does not answer as the contract says: a deduction for the unknown "
            f"customer got HTTP {exchange.status} ({kind}), not 8015 in the error envelope; "
            f"is {target.base_url} the root of the API?"
        )
    if document["errors"][0]["code"] != 8015:
        return [
            f"the preflight deduction for the unknown customer got {_answer(exchange)}, "
            "not 8015: the tests will say what is wrong"
        ]
    return []


def _answer(exchange: Exchange) -> str:
    """``9113 Authentication failed...`` from the envelope, else the HTTP status."""
    document = exchange.json()
    if not envelope_problems(document):
        first = document["errors"][0]
        return f"{first['code']} {first['message']}"
    return f"HTTP {exchange.status}"

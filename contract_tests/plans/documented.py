"""Documented behaviour: one case per documented error code and per seed example.

Each case is built from the target profile, sends the one request that must trigger
its code (breaking exactly one rule), and checks the status, the code and the message.
The seed's examples are sent with the profile's ids and checked against the model.

Where the run may write, every request names the test customer and each refusal is
checked to leave its balance alone (``guard``). Where it may not, every request names
the profile's unknown customer. Whether a real org checks a rule before or after it
looks the customer up is not documented, so such a request may then be answered with
its code or with 8015: either is accepted, and the report says which came first.
Only the codes that need the test customer's data (8907: its balance; 8015 in a source
it is not in) are then not run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from contract_tests import spec
from contract_tests.expectations import content_type_problems, envelope_problems
from contract_tests.findings import Finding, Observation, Verdict
from contract_tests.model import CURRENCY, POINTS, BalanceModel, Bucket, compare
from contract_tests.plans.guard import guarded
from contract_tests.plans.requests import REASON, Case, Request
from contract_tests.profile import Profile
from contract_tests.reach import Reach, UnsafeRequestError
from contract_tests.target import Exchange, Target, basic_header

NOT_A_TOKEN = "not-a-capmock-token"
CUSTOMER_NOT_FOUND = 8015
NEVER_LOOKED_UP_FIRST = frozenset(
    {8013, 9100, 9101, 9102, 9111, 9112, 9113, 9114, 9115, 9116, 9130, 9131}
)
"""Codes a server decides before it can look a customer up: the path, the head, the body's
bytes and their size, the method, the credentials. A read-only run expects exactly them,
never 8015."""


def error_cases(profile: Profile, *, writes: bool, admin: bool = False) -> list[Case]:
    """A case per documented code the profile lets us trigger; ``writes``: whether the
    run may deduct from the test customer (else requests name the unknown customer);
    ``admin``: whether the target is our own mock, whose admin API may set a rate limit."""
    p = profile
    customer = p.user_id if writes else p.unknown_customer_id
    deduct = spec.DEDUCT_PATH.replace("{userId}", str(customer))
    params = {"source": p.source}
    unit = "0." + "0" * p.round_decimals + "1"

    def body(**fields: Any) -> dict[str, Any]:
        return {"pointsToBeAdjusted": "1", "reasonOfReturn": REASON, **fields}

    def points(**fields: Any) -> Request:
        return Request("POST", deduct, params, body(**fields))

    wrong_ref_type = next(t for t in spec.enum("PointsAwardedRefType") if t != p.award_ref_type)
    cases: list[tuple[int, str, Request, dict[str, Any] | None]] = [
        (
            8003,
            "an unknown source",
            Request("POST", deduct, {"source": "NOT_A_SOURCE"}, body()),
            {},
        ),
        (
            8013,
            "a userId that is not a number",
            Request("POST", "/v2/customers/not-a-number/negativePointsAdjustment", params, body()),
            {},
        ),
        (
            8015,
            "the profile's unknown customer",
            Request(
                "POST",
                f"/v2/customers/{p.unknown_customer_id}/negativePointsAdjustment",
                params,
                body(),
            ),
            {},
        ),
        (
            8874,
            "a promotionIdentifier that does not exist",
            points(promotionIdentifier="capmock-no-such-promotion", programId=p.program_id),
            {},
        ),
        (
            8877,
            "a pointsAwardedId that does not exist",
            points(pointsAwardedId=9223372036854775807, pointsAwardedRefType=p.award_ref_type),
            {},
        ),
        (
            9975,
            f"the award {p.award_id} with the ref type {wrong_ref_type}",
            points(pointsAwardedId=p.award_id, pointsAwardedRefType=wrong_ref_type),
            {},
        ),
        (8882, "a blank reasonOfReturn", points(reasonOfReturn="   "), {}),
        (
            8887,
            "a promotionIdentifier without programId",
            points(promotionIdentifier=p.promotion_identifier),
            {},
        ),
        (8888, "an amount of zero", points(pointsToBeAdjusted="0"), {}),
        (
            8906,
            f"an amount with {p.round_decimals + 1} decimal places",
            points(pointsToBeAdjusted=unit),
            {
                "places": p.round_decimals + 1,
                "decimals": p.round_decimals,
                "program_id": p.program_id,
            },
        ),
        (
            8911,
            "an alternate currency the program does not have",
            Request(
                "POST",
                deduct,
                params,
                {
                    "alternateCurrencyName": "capmockNoSuchCurrency",
                    "valueToBeAdjusted": "1",
                    "reasonOfReturn": REASON,
                },
            ),
            {"name": "capmockNoSuchCurrency"},
        ),
        (
            1218,
            "a program that does not exist",
            points(programId=p.unknown_program_id),
            {"program_id": p.unknown_program_id},
        ),
        (
            9100,
            "a body that is not JSON",
            Request(
                "POST",
                deduct,
                params,
                raw=b'{"reasonOfReturn": ',
                headers={"Content-Type": "application/json"},
            ),
            None,
        ),
        (
            9101,
            "a JSON body that is not an object",
            Request(
                "POST", deduct, params, raw=b"[]", headers={"Content-Type": "application/json"}
            ),
            {},
        ),
        (
            9102,
            "a form body instead of JSON",
            Request(
                "POST",
                deduct,
                params,
                raw=b"pointsToBeAdjusted=1",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ),
            None,
        ),
        (
            9111,
            "a path that is no operation of the contract",
            Request("POST", "/v2/customers/capmock/noSuchOperation", params, body()),
            None,
        ),
        (
            9130,
            "a 70,000-byte body, over the 64 KiB limit",
            Request(
                "POST",
                deduct,
                params,
                raw=b'{"reasonOfReturn": "' + b"r" * 70_000 + b'"}',
                headers={"Content-Type": "application/json"},
            ),
            None,
        ),
        (
            9131,
            "a 20,000-byte header, over the 16 KiB limit",
            Request("POST", deduct, params, body(), headers={"X-Capmock-Padding": "p" * 20_000}),
            None,
        ),
        (
            9103,
            "no pointsToBeAdjusted",
            Request("POST", deduct, params, {"reasonOfReturn": REASON}),
            {"field": "pointsToBeAdjusted"},
        ),
        (
            9104,
            "an amount that is not a number",
            points(pointsToBeAdjusted="ten"),
            {"field": "pointsToBeAdjusted", "value": '"ten"'},
        ),
        (
            9105,
            "a negative amount",
            points(pointsToBeAdjusted=Decimal("-5")),
            {"field": "pointsToBeAdjusted", "value": "-5"},
        ),
        (
            9106,
            "an amount above 10^12",
            points(pointsToBeAdjusted="1000000000001"),
            {"field": "pointsToBeAdjusted", "value": '"1000000000001"'},
        ),
        (
            9107,
            "a reasonOfReturn of 51 characters",
            points(reasonOfReturn="r" * 51),
            {"length": 51},
        ),
        (
            9108,
            "an unknown pointCategoryTypes",
            points(pointCategoryTypes="BOGUS"),
            {"value": '"BOGUS"'},
        ),
        (
            9109,
            "both promotionId and promotionIdentifier",
            points(
                promotionId=p.promotion_id,
                promotionIdentifier=p.promotion_identifier,
                programId=p.program_id,
            ),
            {},
        ),
        (9110, "a promotionId of 10 digits", points(promotionId=1234567890), None),
        (9112, "an undeclared method", Request("PUT", deduct, params, body()), None),
        (
            9113,
            "a wrong Basic password",
            Request(
                "POST",
                deduct,
                params,
                body(),
                auth=False,
                headers={"Authorization": basic_header(_basic_name(p), "wrong-password")},
            ),
            {},
        ),
        (
            9115,
            "an OAuth token that is not one",
            Request(
                "POST",
                deduct,
                params,
                body(),
                auth=False,
                headers={"X-CAP-API-OAUTH-TOKEN": NOT_A_TOKEN},
            ),
            {},
        ),
        (
            9116,
            "a token request with a wrong secret",
            Request(
                "POST",
                spec.TOKEN_PATH,
                body={"key": "capmock-no-such-key", "secret": "wrong"},
                auth=False,
            ),
            {},
        ),
    ]
    built = [
        error_case(profile, code, what, request, values, writes=writes)
        for code, what, request, values in cases
    ]
    built.append(
        error_case(
            profile,
            9113,
            "no credentials at all",
            Request("POST", deduct, params, body(), auth=False),
            {},
            writes=writes,
            name="9113-no-credentials",
        )
    )
    at_customer = spec.DEDUCT_PATH.replace("{userId}", str(p.user_id))
    if p.other_source is not None:
        built.append(
            error_case(
                profile,
                CUSTOMER_NOT_FOUND,
                f"the test customer in {p.other_source}, a source it is not in",
                Request("POST", at_customer, {"source": p.other_source}, body()),
                {},
                writes=writes,
                needs_customer=True,
            )
        )
    if not p.allow_negative_balance:
        built.append(
            error_case(
                profile,
                8907,
                "an amount of 10^12, more than any balance",
                Request("POST", at_customer, params, body(pointsToBeAdjusted="1000000000000")),
                {"amount": "1000000000000"},
                writes=writes,
                needs_customer=True,
            )
        )
    if admin:
        built.append(_rate_limit_case(profile, points(pointsToBeAdjusted="0"), writes=writes))
    if p.no_access is not None:
        built.append(
            error_case(
                profile,
                9114,
                "credentials without the Points access group",
                Request("POST", deduct, params, body(), auth=p.no_access),
                None,
                writes=writes,
            )
        )
    return built


def names_test_customer(profile: Profile, request: Request) -> bool:
    """Whether a request names the test customer (its path, its lookup, an allocation)."""
    sent = request.body if request.body is not None else request.raw
    try:
        Reach(profile, writes=False).check("POST", request.path, request.params, sent)
    except UnsafeRequestError:
        return True
    return False


def not_covered(profile: Profile) -> dict[int, str]:
    """Documented codes no case triggers, and why: the summary lists them."""
    reasons = {
        9117: "the mock's admin API, outside the Capillary contract",
        9118: "the mock's admin API, outside the Capillary contract",
        9190: "the mock's store being unavailable: no request can cause it",
        9191: "the mock's store failing during a write: no request can cause it",
        9192: "a body cut short: the client that sent it is gone and reads no answer",
        9140: "a session of the mock (X-Capmock-Session), outside the Capillary contract",
        9141: "the mock's admin API, outside the Capillary contract",
        9193: "a rate limit: set through our own mock's admin API only (a run must not spend "
        "a live org's)",
        9199: "the mock's internal error: no request must trigger it",
    }
    limit = "a limit of the server on time or connections: tests/hostile checks it"
    reasons.update({code: limit for code in (9132, 9133)})
    if profile.allow_negative_balance:
        reasons[8907] = "negative balances are allowed: the model-based tests check overdrafts"
    if profile.no_access is None:
        reasons[9114] = "the profile names no credentials without the Points access group"
    reasons[9154] = (
        "a negative sourceValue with an award strategy that awards per unit: the profile "
        "names only a fixed one"
    )
    if profile.allocation is None:
        for code in (9152, 8136, 6006):
            reasons[code] = "the profile names no allocation settings (allocation: orgId, ...)"
    return reasons


def example_cases(profile: Profile) -> list[Case]:
    """The seed's nine request examples, with the profile's ids in place of the seed's."""
    p = profile
    ids = {
        "pointsAwardedId": p.award_id,
        "pointsAwardedRefType": p.award_ref_type,
        "promotionId": p.promotion_id,
        "promotionIdentifier": p.promotion_identifier,
        "programId": p.program_id,
        "alternateCurrencyName": p.currency,
    }
    cases = []
    for name, example in spec.request_examples().items():
        body = {key: ids.get(key, value) for key, value in example.items()}
        request = Request(
            "POST", spec.DEDUCT_PATH.replace("{userId}", str(p.user_id)), {"source": p.source}, body
        )
        cases.append(
            Case(
                f"example-{name}",
                f"the seed's example {name!r} with the profile's ids",
                request,
                run_example(profile, body),
                needs_writes=True,
            )
        )
    return cases


def error_case(
    profile: Profile,
    code: int,
    what: str,
    request: Request,
    values: dict[str, Any] | None,
    *,
    writes: bool,
    needs_customer: bool = False,
    reads_customer: bool = False,
    name: str | None = None,
    judge: Callable[[Exchange], Verdict] | None = None,
) -> Case:
    """The case for one documented code. ``needs_customer``: it must name the test
    customer to write (not run without writes); ``reads_customer``: it reads the test
    customer, which any run may. ``judge``: how the answer is judged, when not as an
    error envelope (an allocation item's refusal)."""
    name = name or f"{code}-{_slug(what)}"
    either = (
        not writes
        and not needs_customer
        and not reads_customer
        and code not in NEVER_LOOKED_UP_FIRST
        and code != CUSTOMER_NOT_FOUND
    )
    also = CUSTOMER_NOT_FOUND if either else None
    judge = judge or judge_error(profile, code, values, name, also=also)
    guard = writes and request.method != "GET" and names_test_customer(profile, request)

    def execute(target: Target, sent: Request) -> Verdict:
        if guard:
            return guarded(target, sent, judge)
        return judge(sent.send(target))

    return Case(
        name,
        f"{what} is refused with {code}" + (" (or 8015, if looked up first)" if either else ""),
        request,
        execute,
        needs_writes=needs_customer,
        code=code,
        guarded=guard,
    )


def _rate_limit_case(profile: Profile, request: Request, *, writes: bool) -> Case:
    """Our own mock only: with its rate limit set to 1 call per minute through its admin
    API, the second of two calls (each refused with 8888, so nothing is deducted) is 9193."""
    name = "9193-a-second-call-under-a-limit-of-1-per-minute"
    judge = judge_error(profile, 9193, {}, name)

    def execute(target: Target, sent: Request) -> Verdict:
        target.admin_call("PUT", "/rate-limit", {"requests": 1, "seconds": 60})
        try:
            sent.send(target)  # opens the caller's window
            return judge(sent.send(target))
        finally:
            target.admin_call("DELETE", "/rate-limit")

    return Case(
        name,
        "a second call in a minute, under a rate limit of 1 set through the mock's admin API, "
        "is refused with 9193",
        request,
        execute,
        code=9193,
    )


def judge_error(
    profile: Profile,
    code: int,
    values: dict[str, Any] | None,
    test: str,
    *,
    also: int | None = None,
) -> Callable[[Exchange], Verdict]:
    """Status, code and message; ``values`` None when the message has a free part.
    ``also``: another code the answer may carry instead (then judged as that code)."""

    def judge(exchange: Exchange) -> Verdict:
        document = exchange.json()
        first = document["errors"][0]["code"] if not envelope_problems(document) else None
        if also is not None and first == also:
            verdict = _judged(profile, also, {}, exchange, test)
            observed = verdict.observation
            assert observed is not None
            seen = Observation(
                code,
                test,
                observed.status,
                also,
                observed.status_ok,
                observed.message_ok,
                first=also,
            )
            return Verdict(verdict.findings, seen)
        return _judged(profile, code, values, exchange, test)

    return judge


def _judged(
    profile: Profile, code: int, values: dict[str, Any] | None, exchange: Exchange, test: str
) -> Verdict:
    strict = profile.capmock_codes or code not in spec.CAPMOCK_CODES
    statuses = spec.expected_statuses(code, profile.error_status)
    template = spec.templates().get(code)
    message = template.render(**values) if template and values is not None else None
    if statuses is None:
        statuses = frozenset({405}) if code == 9112 else frozenset(range(400, 500))
    document = exchange.json()
    problems = []
    status_ok = exchange.status in statuses
    if not status_ok:
        wanted = " or ".join(map(str, sorted(statuses))) if len(statuses) < 5 else "4xx"
        problems.append(f"{code} expected with HTTP {wanted}, got HTTP {exchange.status}")
    problems += content_type_problems(exchange.response_headers)
    shape = envelope_problems(document)
    problems += shape
    answered = None if shape else document["errors"][0]["code"]
    message_ok: bool | None = None
    if not shape and strict:
        first = document["errors"][0]
        message_ok = True
        if first["code"] != code:
            problems.append(f"{code} expected, got code {first['code']}")
            message_ok = False
        elif message is not None and first["message"] != message:
            problems.append(f"{code} message is {first['message']!r}, expected {message!r}")
            message_ok = False
        elif message is None and template and not template.matches(first["message"]):
            problems.append(f"{code} message is {first['message']!r}, not {template.text!r}")
            message_ok = False
    if code == 9112 and exchange.status == 405 and "allow" not in exchange.response_headers:
        problems.append("405 without the Allow header that HTTP requires")
    expected = f"HTTP {'/'.join(map(str, sorted(statuses)[:3]))}, error {code}" + (
        f": {message}" if message else f" ({template.text})" if template else ""
    )
    findings = [
        Finding(problem, exchange.curl(), exchange.describe_response(), expected)
        for problem in problems
    ]
    seen = Observation(code, test, exchange.status, answered, status_ok, message_ok)
    return Verdict(findings, seen)


def run_example(profile: Profile, body: dict[str, Any]) -> Callable[[Target, Request], Verdict]:
    """Read the balance first (our own mock only), then check the answer against the model;
    elsewhere the balance is unknown and only the shape of the answer is checked."""
    currency = body.get("alternateCurrencyName")
    category = body.get("pointCategoryTypes", "REGULAR")
    bucket = Bucket(CURRENCY, currency) if currency else Bucket(POINTS, category)
    amount = Decimal(str(body["valueToBeAdjusted"] if currency else body["pointsToBeAdjusted"]))

    def run(target: Target, request: Request) -> Verdict:
        before = mock_balances(target, profile).get(bucket)
        model = BalanceModel(
            profile.program_id,
            profile.round_decimals,
            profile.allow_negative_balance,
            {bucket: before},
        )
        expected = model.predict(bucket, amount)
        exchange = request.send(target)
        return Verdict(
            compare(
                exchange,
                expected,
                bucket,
                error_status=profile.error_status,
                allow_negative=profile.allow_negative_balance,
                why=f"{bucket.describe()} was {before if before is not None else 'unknown'}; "
                f"deducting {amount}",
            )
        )

    return run


def mock_balances(target: Target, profile: Profile) -> dict[Bucket, Decimal]:
    """The test customer's balances in the profile's program, from our own mock's admin
    API; empty on any other target, where balances are learnt from answers."""
    if not target.admin:
        return {}
    view = target.admin_call("GET", f"/customers/{profile.user_id}")
    return {
        Bucket(item["kind"], item["name"]): Decimal(item["balance"])
        for item in view["balances"]
        if item["programId"] == profile.program_id
    }


def _slug(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.lower().replace("^", "")))


def _basic_name(profile: Profile) -> str:
    credentials = profile.credentials
    return credentials.name if credentials.kind == "basic" else "store.server"


def check_every_code_has_a_case(cases: list[Case], profile: Profile) -> None:
    """Guard against a code added to the contract without a case here."""
    covered = {case.code for case in cases}
    missing = spec.documented_codes() - covered - set(not_covered(profile))
    if missing:
        raise RuntimeError(f"documented codes without a contract test: {sorted(missing)}")

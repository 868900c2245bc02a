"""Documented behaviour: one case per documented error code and per seed example.

Each case is built from the target profile, sends the one request that must trigger
its code (breaking exactly one rule), and checks the status, the code and the message.
The seed's examples are sent with the profile's ids and checked against the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from contract_tests import spec
from contract_tests.expectations import content_type_problems, envelope_problems
from contract_tests.findings import Finding
from contract_tests.model import CURRENCY, POINTS, BalanceModel, Bucket, compare
from contract_tests.profile import Credentials, Profile
from contract_tests.target import Exchange, Target, basic_header

REASON = "capmock contract test"
NOT_A_TOKEN = "not-a-capmock-token"


@dataclass(frozen=True)
class Request:
    """A request a case sends, as data, so a dry run can list it without sending it."""

    method: str
    path: str
    params: dict[str, Any] | None = None
    body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    auth: bool | Credentials = True

    def describe(self, base_url: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in (self.params or {}).items())
        shown = self.raw.decode("utf-8", "replace") if self.raw is not None else self.body
        auth = "no credentials" if self.auth is False else "credentials"
        if isinstance(self.auth, Credentials):
            auth = f"credentials of {self.auth.describe()}"
        extra = f" headers {self.headers}" if self.headers else ""
        url = base_url.rstrip("/") + self.path + (f"?{query}" if query else "")
        return f"{self.method} {url} ({auth}{extra}) body: {shown}"

    def send(self, target: Target, *, writes: bool) -> Exchange:
        return target.send(
            self.method,
            self.path,
            params=self.params,
            body=self.body,
            raw=self.raw,
            headers=self.headers,
            auth=self.auth,
            writes=writes,
        )


@dataclass(frozen=True)
class Case:
    """One named test: the request it sends and how it judges what comes back."""

    name: str
    summary: str
    request: Request
    writes: bool
    execute: Callable[[Target, Request], list[Finding]]

    def run(self, target: Target) -> list[Finding]:
        return self.execute(target, self.request)


def error_cases(profile: Profile) -> list[Case]:
    """A case per documented code the profile lets us trigger."""
    p = profile
    deduct = f"/v2/customers/{p.user_id}/negativePointsAdjustment"
    params = {"source": p.source}
    unit = "0." + "0" * p.round_decimals + "1"

    def body(**fields: Any) -> dict[str, Any]:
        return {"pointsToBeAdjusted": "1", "reasonOfReturn": REASON, **fields}

    def points(**fields: Any) -> Request:
        return Request("POST", deduct, params, body(**fields))

    wrong_ref_type = next(t for t in spec.enum("PointsAwardedRefType") if t != p.award_ref_type)
    cases = [
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
            {"field": "pointsToBeAdjusted", "value": "1000000000001"},
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
        _error_case(profile, code, what, request, values) for code, what, request, values in cases
    ]
    built.append(
        _error_case(
            profile,
            9113,
            "no credentials at all",
            Request("POST", deduct, params, body(), auth=False),
            {},
            name="9113-no-credentials",
        )
    )
    if p.other_source is not None:
        built.append(
            _error_case(
                profile,
                8015,
                f"the test customer in {p.other_source}, a source it is not in",
                Request("POST", deduct, {"source": p.other_source}, body()),
                {},
            )
        )
    if not p.allow_negative_balance:
        built.append(
            _error_case(
                profile,
                8907,
                "an amount of 10^12, more than any balance",
                points(pointsToBeAdjusted="1000000000000"),
                {"amount": "1000000000000"},
            )
        )
    if p.no_access is not None:
        built.append(
            _error_case(
                profile,
                9114,
                "credentials without the Points access group",
                Request("POST", deduct, params, body(), auth=p.no_access),
                None,
            )
        )
    _check_every_code_has_a_case(built, profile)
    return built


def not_covered(profile: Profile) -> dict[int, str]:
    """Documented codes no case triggers, and why: the summary lists them."""
    reasons = {
        9111: "an unknown path: not an operation of the contract",
        9117: "the mock's admin API, outside the Capillary contract",
        9118: "the mock's admin API, outside the Capillary contract",
        9190: "the mock's store being unavailable: no request can cause it",
        9191: "the mock's store failing during a write: no request can cause it",
        9192: "a body cut short: the client that sent it is gone and reads no answer",
        9130: "a session of the mock (X-Capmock-Session), outside the Capillary contract",
        9131: "the mock's admin API, outside the Capillary contract",
        9199: "the mock's internal error: no request must trigger it",
    }
    if profile.allow_negative_balance:
        reasons[8907] = "negative balances are allowed: the model-based tests check overdrafts"
    if profile.no_access is None:
        reasons[9114] = "the profile names no credentials without the Points access group"
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
            "POST",
            f"/v2/customers/{p.user_id}/negativePointsAdjustment",
            {"source": p.source},
            body,
        )
        cases.append(
            Case(
                f"example-{name}",
                f"the seed's example {name!r} with the profile's ids",
                request,
                True,
                _run_example(profile, body),
            )
        )
    return cases


def _error_case(
    profile: Profile,
    code: int,
    what: str,
    request: Request,
    values: dict[str, Any] | None,
    name: str | None = None,
) -> Case:
    judge = _judge_error(profile, code, values)
    return Case(
        name or f"{code}-{_slug(what)}",
        f"{what} is refused with {code}",
        request,
        False,
        lambda target, sent: judge(sent.send(target, writes=False)),
    )


def _judge_error(
    profile: Profile, code: int, values: dict[str, Any] | None
) -> Callable[[Exchange], list[Finding]]:
    """Status, code and message; ``values`` None when the message has a free part."""

    def judge(exchange: Exchange) -> list[Finding]:
        strict = profile.capmock_codes or code not in spec.CAPMOCK_CODES
        statuses = spec.expected_statuses(code, profile.error_status)
        template = spec.templates().get(code)
        message = template.render(**values) if template and values is not None else None
        if statuses is None:
            statuses = frozenset({405}) if code == 9112 else frozenset(range(400, 500))
        document = exchange.json()
        problems = []
        if exchange.status not in statuses:
            wanted = " or ".join(map(str, sorted(statuses))) if len(statuses) < 5 else "4xx"
            problems.append(f"{code} expected with HTTP {wanted}, got HTTP {exchange.status}")
        problems += content_type_problems(exchange.response_headers)
        shape = envelope_problems(document)
        problems += shape
        if not shape and strict:
            first = document["errors"][0]
            if first["code"] != code:
                problems.append(f"{code} expected, got code {first['code']}")
            elif message is not None and first["message"] != message:
                problems.append(f"{code} message is {first['message']!r}, expected {message!r}")
            elif message is None and template and not template.matches(first["message"]):
                problems.append(f"{code} message is {first['message']!r}, not {template.text!r}")
        if code == 9112 and exchange.status == 405 and "allow" not in exchange.response_headers:
            problems.append("405 without the Allow header that HTTP requires")
        expected = f"HTTP {'/'.join(map(str, sorted(statuses)[:3]))}, error {code}" + (
            f": {message}" if message else f" ({template.text})" if template else ""
        )
        return [
            Finding(problem, exchange.curl(), exchange.describe_response(), expected)
            for problem in problems
        ]

    return judge


def _run_example(
    profile: Profile, body: dict[str, Any]
) -> Callable[[Target, Request], list[Finding]]:
    """Read the balance first (our own mock only), then check the answer against the model;
    elsewhere the balance is unknown and only the shape of the answer is checked."""
    currency = body.get("alternateCurrencyName")
    category = body.get("pointCategoryTypes", "REGULAR")
    bucket = Bucket(CURRENCY, currency) if currency else Bucket(POINTS, category)
    amount = Decimal(str(body["valueToBeAdjusted"] if currency else body["pointsToBeAdjusted"]))

    def run(target: Target, request: Request) -> list[Finding]:
        before = mock_balances(target, profile).get(bucket)
        model = BalanceModel(
            profile.program_id,
            profile.round_decimals,
            profile.allow_negative_balance,
            {bucket: before},
        )
        expected = model.predict(bucket, amount)
        exchange = request.send(target, writes=True)
        return compare(
            exchange,
            expected,
            bucket,
            error_status=profile.error_status,
            allow_negative=profile.allow_negative_balance,
            why=f"{bucket.describe()} was {before if before is not None else 'unknown'}; "
            f"deducting {amount}",
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


def _check_every_code_has_a_case(cases: list[Case], profile: Profile) -> None:
    """Guard against a code added to the contract without a case here."""
    covered = {int(case.name.split("-")[0]) for case in cases}
    missing = spec.documented_codes() - covered - set(not_covered(profile))
    if missing:
        raise RuntimeError(f"documented codes without a contract test: {sorted(missing)}")

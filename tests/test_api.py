"""Every rule of the endpoint, over HTTP against a real uvicorn server on the default fixtures."""

from __future__ import annotations

import pytest
from support import SEED_USER, LiveMock

from contract_tests import spec

pytestmark = pytest.mark.usefixtures("mock")

POINTS = {"pointsToBeAdjusted": "10", "reasonOfReturn": "Extra points were issued"}
COINS = {"alternateCurrencyName": "coins", "valueToBeAdjusted": "10", "reasonOfReturn": "Refund"}


def refusal(response) -> tuple[int, int, str]:
    body = response.json()
    assert set(body) == {"errors", "warnings"}, body
    assert body["warnings"] == []
    (error,) = body["errors"]
    assert error["status"] is False
    return response.status_code, error["code"], error["message"]


def balance(mock: LiveMock, user_id: int, kind: str, name: str, program_id: int = 973) -> str:
    view = mock.client.get(f"/__admin/customers/{user_id}").json()
    (row,) = [
        b
        for b in view["balances"]
        if (b["programId"], b["kind"], b["name"]) == (program_id, kind, name)
    ]
    return row["balance"]


def seed_examples() -> dict[str, dict]:
    return spec.request_examples()


@pytest.mark.parametrize("name", sorted(seed_examples()))
def test_every_seed_example_succeeds_against_the_default_fixtures(mock: LiveMock, name: str):
    body = seed_examples()[name]
    response = mock.deduct(body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "success" and answer["warnings"] == []
    if "alternateCurrencyName" in body:
        currency = body["alternateCurrencyName"]
        assert answer == {**answer, "valueAvailable": "80145.500"}
        assert answer["message"] == f"{currency} deducted successfully for the user "
        assert "pointsAvailable" not in answer
    else:
        expected = {"100.00": "580.000", "10": "670.000"}[body["pointsToBeAdjusted"]]
        assert answer["pointsAvailable"] == expected
        assert answer["message"] == "points deducted successfully for the user "


def test_the_seed_answer_for_points(mock: LiveMock):
    response = mock.deduct(POINTS)
    assert response.json() == {
        "status": "success",
        "pointsAvailable": "670.000",
        "message": "points deducted successfully for the user ",
        "warnings": [],
    }
    assert balance(mock, SEED_USER, "points", "REGULAR") == "670.000"


def test_deductions_accumulate_exactly(mock: LiveMock):
    for amount, expected in [("0.10", "679.900"), (0.2, "679.700"), ("679.70", "0.000")]:
        response = mock.deduct({**POINTS, "pointsToBeAdjusted": amount})
        assert response.json()["pointsAvailable"] == expected


def test_currency_deduction_touches_only_that_currency(mock: LiveMock):
    assert mock.deduct(COINS).json()["valueAvailable"] == "80145.500"
    assert balance(mock, SEED_USER, "currency", "DocCoin") == "80155.500"
    assert balance(mock, SEED_USER, "points", "REGULAR") == "680.000"


@pytest.mark.parametrize(
    ("category", "before", "after"),
    [
        ("REGULAR", "5.000", "4.000"),
        ("PROMISED", "7.500", "6.500"),
        ("EXTERNAL_TRIGGER_BASED", "12.250", "11.250"),
    ],
)
def test_each_category_is_its_own_balance(mock: LiveMock, category, before, after):
    user = 388034472
    body = {**POINTS, "pointsToBeAdjusted": 1, "pointCategoryTypes": category}
    assert mock.deduct(body, user_id=user).json()["pointsAvailable"] == after
    others = {"REGULAR", "PROMISED", "EXTERNAL_TRIGGER_BASED"} - {category}
    expected = {"REGULAR": "5.000", "PROMISED": "7.500", "EXTERNAL_TRIGGER_BASED": "12.250"}
    for other in others:
        assert balance(mock, user, "points", other) == expected[other]
    assert before == expected[category]


@pytest.mark.parametrize("source", [None, "FOO", "instore", ""])
def test_missing_or_unknown_source_is_8003(mock: LiveMock, source):
    assert refusal(mock.deduct(POINTS, source=source)) == (400, 8003, "Invalid source")


@pytest.mark.parametrize("user_id", ["abc", "0", "-5", "1.5", "99999999999999999999", "%0A", " "])
def test_bad_user_id_is_8013(mock: LiveMock, user_id):
    assert refusal(mock.deduct(POINTS, user_id=user_id)) == (
        400,
        8013,
        "Lookup,Invalid identifier passed",
    )


def test_unknown_customer_is_8015(mock: LiveMock):
    expected = (400, 8015, "Customer not found for the given identifiers")
    assert refusal(mock.deduct(POINTS, user_id=123456789)) == expected


def test_customer_in_another_source_is_8015_and_all_finds_it(mock: LiveMock):
    assert refusal(mock.deduct(POINTS, user_id=388034470))[1] == 8015
    assert (
        mock.deduct(POINTS, user_id=388034470, source="WECHAT").json()["pointsAvailable"]
        == "290.000"
    )
    assert (
        mock.deduct(POINTS, user_id=388034470, source="ALL").json()["pointsAvailable"] == "280.000"
    )


@pytest.mark.parametrize("reason", [None, "", "   ", "\t\n"])
def test_missing_or_blank_reason_is_8882(mock: LiveMock, reason):
    body = {k: v for k, v in POINTS.items() if k != "reasonOfReturn"}
    if reason is not None:
        body["reasonOfReturn"] = reason
    assert refusal(mock.deduct(body)) == (400, 8882, "Reason for adjustment cannot be null")


def test_reason_of_50_characters_is_fine_and_51_is_refused(mock: LiveMock):
    assert mock.deduct({**POINTS, "reasonOfReturn": "r" * 50}).status_code == 200
    assert refusal(mock.deduct({**POINTS, "reasonOfReturn": "r" * 51})) == (
        400,
        9107,
        "reasonOfReturn must be at most 50 characters, got 51",
    )


@pytest.mark.parametrize("amount", ["0", 0, "0.00", 0.0])
def test_zero_amount_is_8888(mock: LiveMock, amount):
    assert refusal(mock.deduct({**POINTS, "pointsToBeAdjusted": amount})) == (
        400,
        8888,
        "Points to be adjusted cannot be zero",
    )


@pytest.mark.parametrize(
    ("amount", "code", "message"),
    [
        ("-5", 9105, 'pointsToBeAdjusted must be greater than 0, got "-5"'),
        (-5, 9105, "pointsToBeAdjusted must be greater than 0, got -5"),
        ("abc", 9104, 'pointsToBeAdjusted must be a number, got "abc"'),
        (True, 9104, "pointsToBeAdjusted must be a number, got true"),
        (None, 9104, "pointsToBeAdjusted must be a number, got null"),
        ("1e3", 9104, 'pointsToBeAdjusted must be a number, got "1e3"'),
        (1e13, 9106, "pointsToBeAdjusted must be at most 1000000000000, got 10000000000000.0"),
        (
            "9999999999999",
            9106,
            'pointsToBeAdjusted must be at most 1000000000000, got "9999999999999"',
        ),
    ],
)
def test_negative_non_numeric_or_huge_amounts_are_refused(mock: LiveMock, amount, code, message):
    assert refusal(mock.deduct({**POINTS, "pointsToBeAdjusted": amount})) == (400, code, message)


def test_missing_amount_is_9103_and_the_currency_decides_which(mock: LiveMock):
    assert refusal(mock.deduct({"reasonOfReturn": "x"})) == (
        400,
        9103,
        "pointsToBeAdjusted is required",
    )
    body = {"alternateCurrencyName": "coins", "pointsToBeAdjusted": "10", "reasonOfReturn": "x"}
    assert refusal(mock.deduct(body)) == (400, 9103, "valueToBeAdjusted is required")


def test_promotion_identifier_without_program_is_8887(mock: LiveMock):
    body = {**POINTS, "promotionIdentifier": "b86ca53f-4c5e-46d3-8d33-b61c4f49392c"}
    assert refusal(mock.deduct(body)) == (400, 8887, "Provide Program Id with Promotion Identifier")


def test_promotion_id_and_identifier_together_are_9109(mock: LiveMock):
    body = {
        **POINTS,
        "promotionId": 79555,
        "promotionIdentifier": "b86ca53f-4c5e-46d3-8d33-b61c4f49392c",
        "programId": 973,
    }
    assert refusal(mock.deduct(body))[1] == 9109


@pytest.mark.parametrize(
    "extra",
    [
        {"promotionId": 1},
        {"promotionId": 79556, "programId": 973},
        {"promotionIdentifier": "0c2f4a9e-6d1b-4f3a-9e57-5b8d2c7a1f64", "programId": 973},
    ],
)
def test_unknown_promotion_or_of_another_program_is_8874(mock: LiveMock, extra):
    assert refusal(mock.deduct({**POINTS, **extra})) == (
        400,
        8874,
        "promotion id passed is invalid",
    )


def test_promotion_id_of_ten_digits_is_invalid_input(mock: LiveMock):
    status, code, message = refusal(mock.deduct({**POINTS, "promotionId": 1234567890}))
    assert (status, code) == (400, 9110) and message.startswith("Input is invalid: promotionId")


@pytest.mark.parametrize(
    "extra",
    [
        {"pointsAwardedId": 1, "pointsAwardedRefType": "bill_regular"},
        {"pointsAwardedId": 38768509, "pointsAwardedRefType": "bill_regular"},
        {"pointsAwardedId": 38768508, "pointsAwardedRefType": "bill_regular", "programId": 974},
    ],
    ids=["unknown", "another-customers", "another-program"],
)
def test_bad_award_is_8877(mock: LiveMock, extra):
    assert refusal(mock.deduct({**POINTS, **extra})) == (
        400,
        8877,
        "points awarded Id passed is invalid",
    )


@pytest.mark.parametrize("ref_type", [None, "bill_regular", "bogus"])
def test_award_ref_type_missing_wrong_or_unknown_is_9975(mock: LiveMock, ref_type):
    body = {**POINTS, "pointsAwardedId": 38768510}
    if ref_type is not None:
        body["pointsAwardedRefType"] = ref_type
    assert refusal(mock.deduct(body)) == (400, 9975, "Points awarded ref type is invalid")


def test_not_enrolled_is_1218_with_the_program(mock: LiveMock):
    expected_message = (
        "Customer not enrolled in loyalty program : customer not found for programId 973"
    )
    assert refusal(mock.deduct(POINTS, user_id=388034469)) == (400, 1218, expected_message)
    assert refusal(mock.deduct({**POINTS, "programId": 97}))[2].endswith("programId 97")


def test_unknown_currency_is_8911(mock: LiveMock):
    body = {**COINS, "alternateCurrencyName": "gems"}
    assert refusal(mock.deduct(body)) == (
        400,
        8911,
        "No alternate currency with name gems found for programId in org",
    )


@pytest.mark.parametrize(
    ("amount", "program", "places", "decimals"),
    [("1.001", 973, 3, 2), ("1.5", 974, 1, 0), (1.25, 974, 2, 0), ("10.10", 974, 2, 0)],
)
def test_too_many_decimals_is_8906(mock: LiveMock, amount, program, places, decimals):
    user = SEED_USER if program == 973 else 388034469
    body = {**POINTS, "pointsToBeAdjusted": amount, "programId": program}
    assert refusal(mock.deduct(body, user_id=user)) == (
        400,
        8906,
        f"decimal places passed: {places} is greater than the configured round decimals: "
        f"{decimals} for programId: {program}",
    )


def test_decimals_are_counted_as_sent_for_json_numbers_too(mock: LiveMock):
    response = mock.client.post(
        f"/v2/customers/{SEED_USER}/negativePointsAdjustment?source=INSTORE",
        content=b'{"pointsToBeAdjusted": 10.50, "reasonOfReturn": "x"}',
        headers={"Content-Type": "application/json", **mock.auth_headers()},
    )
    assert response.json()["pointsAvailable"] == "669.500"
    response = mock.client.post(
        f"/v2/customers/{SEED_USER}/negativePointsAdjustment?source=INSTORE",
        content=b'{"pointsToBeAdjusted": 1.500, "reasonOfReturn": "x"}',
        headers={"Content-Type": "application/json", **mock.auth_headers()},
    )
    assert refusal(response)[1] == 8906


def test_overdraft_is_8907_and_nothing_is_deducted(mock: LiveMock):
    response = mock.deduct({**POINTS, "pointsToBeAdjusted": "680.01"})
    assert refusal(response) == (
        400,
        8907,
        "points to be deducted 680.01 is greater than available points for program "
        "and NegativeBalanceOnReturn config is disabled for org.",
    )
    assert balance(mock, SEED_USER, "points", "REGULAR") == "680.000"
    view = mock.client.get(f"/__admin/customers/{SEED_USER}").json()
    assert view["ledger"] == []


def test_currency_overdraft_is_8907(mock: LiveMock):
    assert refusal(mock.deduct(COINS, user_id=388034471))[1] == 8907


@pytest.mark.parametrize("category", ["regular", "GOLD", ""])
def test_unknown_category_is_9108(mock: LiveMock, category):
    status, code, _ = refusal(mock.deduct({**POINTS, "pointCategoryTypes": category}))
    assert (status, code) == (400, 9108)


def test_error_status_override_changes_only_the_status(mock: LiveMock, world_text):
    mock.put_fixtures(world_text.replace("errorStatus: {}", "errorStatus: {8015: 404}"))
    assert refusal(mock.deduct(POINTS, user_id=123456789)) == (
        404,
        8015,
        "Customer not found for the given identifiers",
    )
    assert refusal(mock.deduct(POINTS, source="FOO"))[0] == 400


def test_error_status_override_reaches_connexions_own_refusals(mock: LiveMock, world_text):
    mock.put_fixtures(world_text.replace("errorStatus: {}", "errorStatus: {9102: 400, 8003: 422}"))
    response = mock.client.post(
        f"/v2/customers/{SEED_USER}/negativePointsAdjustment?source=INSTORE",
        content=b"x",
        headers={"Content-Type": "text/plain", **mock.auth_headers()},
    )
    assert refusal(response)[:2] == (400, 9102)
    assert refusal(mock.deduct(POINTS, source="FOO"))[:2] == (422, 8003)


def test_negative_balance_allowed_goes_below_zero(mock: LiveMock, world_text):
    mock.put_fixtures(
        world_text.replace(
            "allowNegativeBalanceOnReturn: false", "allowNegativeBalanceOnReturn: true"
        )
    )
    response = mock.deduct({**POINTS, "pointsToBeAdjusted": "100.5"}, user_id=388034471)
    assert response.json()["pointsAvailable"] == "-100.500"


def test_refusals_come_in_order_shape_first(mock: LiveMock):
    # an unknown customer with a blank reason: the shape error wins
    body = {**POINTS, "reasonOfReturn": " "}
    assert refusal(mock.deduct(body, user_id=123456789))[1] == 8882
    # a bad source wins over everything in the body
    assert refusal(mock.deduct({}, source="FOO"))[1] == 8003

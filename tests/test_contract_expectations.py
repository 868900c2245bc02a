"""The rules the contract suite applies to single answers, on hand-made answers."""

from __future__ import annotations

import pytest

from contract_tests import expectations, spec


def envelope(code: int, message: str) -> dict:
    return {"errors": [{"status": False, "code": code, "message": message}], "warnings": []}


@pytest.mark.parametrize(
    ("code", "values", "body"),
    [
        (8907, {"amount": "10.5"}, {"pointsToBeAdjusted": 10.5}),
        (8907, {"amount": "100.00"}, {"pointsToBeAdjusted": "100.00"}),
        (8906, {"places": 3, "decimals": 2, "program_id": 1}, {"pointsToBeAdjusted": "1.001"}),
        (1218, {"program_id": 5}, {"programId": 5, "pointsToBeAdjusted": 1}),
    ],
)
def test_message_values_taken_from_the_request_pass(code: int, values: dict, body: dict) -> None:
    message = spec.templates()[code].render(**values)
    assert expectations.message_value_problems(envelope(code, message), body) == []


@pytest.mark.parametrize(
    ("code", "values", "body", "wrong"),
    [
        (8907, {"amount": "1"}, {"pointsToBeAdjusted": "100.00"}, "amount '1'"),
        (
            8906,
            {"places": 3, "decimals": 2, "program_id": 973},
            {"pointsToBeAdjusted": "1.0001"},
            "places '3'",
        ),
        (
            8911,
            {"name": "coins"},
            {"alternateCurrencyName": "gems", "valueToBeAdjusted": 1},
            "name",
        ),
        (1218, {"program_id": 5}, {"programId": 6, "pointsToBeAdjusted": 1}, "program_id '5'"),
    ],
)
def test_message_values_not_from_the_request_are_problems(
    code: int, values: dict, body: dict, wrong: str
) -> None:
    message = spec.templates()[code].render(**values)
    problems = expectations.message_value_problems(envelope(code, message), body)
    assert any(wrong in problem for problem in problems), problems


@pytest.mark.parametrize(
    "document",
    [None, [], {"errors": []}, {"errors": [{"code": 8015, "message": "x"}]}, {"error": {}}],
)
def test_anything_but_the_envelope_is_a_problem(document: object) -> None:
    assert expectations.envelope_problems(document)


def test_documented_code_with_another_status_or_message_is_a_problem() -> None:
    problems = expectations.documented_code_problems(
        404, envelope(8015, "not found"), error_status={}
    )
    assert any("HTTP 404" in p for p in problems)
    assert any("message" in p for p in problems)
    assert (
        expectations.documented_code_problems(
            404, envelope(8015, "Customer not found for the given identifiers"), {8015: 404}
        )
        == []
    )


@pytest.mark.parametrize("balance", ["670.00", "670", 670.0, "670.0000", "-1.000"])
def test_balances_have_three_decimals_and_no_sign_unless_allowed(balance: object) -> None:
    assert expectations.balance_problems(balance, "pointsAvailable", allow_negative=False)


def test_a_currency_deduction_answers_value_available_and_its_name() -> None:
    body = {
        "status": "success",
        "valueAvailable": "1.500",
        "message": "coins deducted successfully for the user ",
        "warnings": [],
    }
    assert expectations.success_problems(body, currency="coins", allow_negative=False) == []
    assert expectations.success_problems(body, currency=None, allow_negative=False)

"""The business rules, as a pure function: one test per row of the rules table."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from mock_server.auth import ACCESS_ROW, CREDENTIALS_ROW
from mock_server.errors import ApiError, Code, RuleError
from mock_server.lanes.validation import SHAPE_ROWS
from mock_server.model import CURRENCY, POINTS, Award, Bucket, Customer, Program, Promotion, World
from mock_server.rules.deduct import ROWS, Deducted, Deduction, deduct
from mock_server.rules.money import balance_text, decimal_places

NOW = datetime(2026, 1, 1, tzinfo=UTC)
USER = 388034468


def world(**changes: object) -> World:
    programs = {
        973: Program(973, "DocLoyalty", True, 2, frozenset({"coins"})),
        974: Program(974, "NoDecimals", False, 0, frozenset()),
        975: Program(975, "Other", False, 3, frozenset()),
    }
    promotions = {
        79555: Promotion(79555, "b86ca53f", 973),
        79556: Promotion(79556, "p-974", 974),
    }
    opening = {
        Bucket(973, POINTS, "REGULAR"): Decimal("680"),
        Bucket(973, POINTS, "PROMISED"): Decimal("5"),
        Bucket(973, CURRENCY, "coins"): Decimal("80155.5"),
        Bucket(974, POINTS, "REGULAR"): Decimal("50"),
    }
    customers = {
        USER: Customer(USER, frozenset({"INSTORE"}), frozenset({973, 974}), opening),
        2: Customer(2, frozenset({"WECHAT"}), frozenset({973}), {}),
    }
    awards = {
        38768508: Award(38768508, USER, 973, "bill_regular", Decimal(100)),
        38768509: Award(38768509, 2, 973, "bill_regular", Decimal(100)),
    }
    base = World(
        allow_negative_balance=False,
        error_status={},
        token_ttl_seconds=300,
        users={},
        oauth_clients={},
        programs=programs,
        promotions=promotions,
        promotions_by_identifier={p.identifier: p for p in promotions.values()},
        awards=awards,
        customers=customers,
        document={},
    )
    return replace(base, **changes)


def ask(amount: str = "10", balances: dict | None = None, w: World | None = None, **fields):
    w = w or world()
    request = Deduction(
        user_id=fields.pop("user_id", USER),
        source=fields.pop("source", "INSTORE"),
        reason="Extra points were issued",
        amount=Decimal(amount),
        **fields,
    )
    customer = w.customers.get(request.user_id)
    if balances is None:
        balances = dict(customer.opening) if customer else {}
    return deduct(w, request, balances, NOW)


def code_of(outcome: Deducted | ApiError) -> int:
    assert isinstance(outcome, ApiError), f"expected a refusal, got {outcome}"
    return outcome.code


def test_deducts_regular_points_of_the_default_program():
    outcome = ask("10")
    assert isinstance(outcome, Deducted)
    assert outcome.bucket == Bucket(973, POINTS, "REGULAR")
    assert balance_text(outcome.balance) == "670.000"
    assert outcome.message == "points deducted successfully for the user "
    assert outcome.entry.amount == Decimal("10") and outcome.entry.source == "INSTORE"


def test_deducts_an_alternate_currency_exactly():
    outcome = ask("10", currency="coins")
    assert isinstance(outcome, Deducted)
    assert balance_text(outcome.balance) == "80145.500"
    assert outcome.message == "coins deducted successfully for the user "


def test_category_decides_the_bucket():
    outcome = ask("5", category="PROMISED")
    assert isinstance(outcome, Deducted)
    assert outcome.bucket == Bucket(973, POINTS, "PROMISED") and outcome.balance == 0


def test_zero_amount_is_8888():
    assert code_of(ask("0")) == Code.AMOUNT_ZERO
    assert code_of(ask("0.000")) == Code.AMOUNT_ZERO


def test_amount_above_the_limit_is_9106():
    assert code_of(ask("1000000000000.01")) == Code.AMOUNT_TOO_LARGE


def test_promotion_id_and_identifier_together_are_refused():
    assert code_of(ask(promotion_id=79555, promotion_identifier="b86ca53f", program_id=973)) == (
        Code.PROMOTION_ID_AND_IDENTIFIER
    )


def test_promotion_identifier_needs_program_id_8887():
    assert code_of(ask(promotion_identifier="b86ca53f")) == Code.PROGRAM_ID_REQUIRED


def test_unknown_customer_is_8015():
    assert code_of(ask(user_id=999)) == Code.CUSTOMER_NOT_FOUND


def test_customer_in_another_source_is_8015_but_all_matches():
    assert code_of(ask(user_id=2, source="INSTORE")) == Code.CUSTOMER_NOT_FOUND
    assert code_of(ask(user_id=2, source="WECHAT", balances={})) == Code.INSUFFICIENT_BALANCE
    assert code_of(ask(user_id=2, source="ALL", balances={})) == Code.INSUFFICIENT_BALANCE


@pytest.mark.parametrize(
    "fields",
    [
        {"promotion_id": 1},
        {"promotion_identifier": "nope", "program_id": 973},
        {"promotion_id": 79556, "program_id": 973},
    ],
    ids=["unknown-id", "unknown-identifier", "promotion-of-another-program"],
)
def test_invalid_promotion_is_8874(fields):
    assert code_of(ask(**fields)) == Code.INVALID_PROMOTION


def test_promotion_implies_its_program():
    outcome = ask("1", promotion_id=79556)
    assert isinstance(outcome, Deducted) and outcome.bucket.program_id == 974


@pytest.mark.parametrize(
    "fields",
    [
        {"award_id": 1, "award_ref_type": "bill_regular"},
        {"award_id": 38768509, "award_ref_type": "bill_regular"},
        {"award_id": 38768508, "award_ref_type": "bill_regular", "program_id": 974},
    ],
    ids=["unknown", "another-customers", "another-program"],
)
def test_invalid_award_is_8877(fields):
    assert code_of(ask(**fields)) == Code.INVALID_AWARD


@pytest.mark.parametrize("ref_type", [None, "bill_promotions"])
def test_award_ref_type_missing_or_wrong_is_9975(ref_type):
    assert code_of(ask(award_id=38768508, award_ref_type=ref_type)) == Code.INVALID_REF_TYPE


def test_valid_award_deducts_from_its_program():
    outcome = ask("1", award_id=38768508, award_ref_type="bill_regular")
    assert isinstance(outcome, Deducted) and outcome.bucket.program_id == 973


def test_not_enrolled_or_unknown_program_is_1218_with_the_id():
    refusal = ask(program_id=975)
    assert code_of(refusal) == Code.NOT_ENROLLED
    assert refusal.message.endswith("customer not found for programId 975")
    assert ask(program_id=12345).message.endswith("programId 12345")


def test_no_program_named_and_no_default_is_1218():
    w = world(programs={k: replace(p, default=False) for k, p in world().programs.items()})
    refusal = ask(w=w)
    assert code_of(refusal) == Code.NOT_ENROLLED and refusal.message.endswith("programId null")


def test_unknown_currency_is_8911_with_its_name():
    refusal = ask(currency="DocCoin")
    assert code_of(refusal) == Code.UNKNOWN_CURRENCY
    assert refusal.message == "No alternate currency with name DocCoin found for programId in org"


@pytest.mark.parametrize(
    ("amount", "program_id", "places", "decimals"),
    [("1.001", 973, 3, 2), ("1.5", 974, 1, 0), ("1.00", 974, 2, 0)],
)
def test_more_decimals_than_the_program_allows_is_8906(amount, program_id, places, decimals):
    refusal = ask(amount, program_id=program_id)
    assert code_of(refusal) == Code.TOO_MANY_DECIMALS
    assert refusal.message == (
        f"decimal places passed: {places} is greater than the configured round decimals: "
        f"{decimals} for programId: {program_id}"
    )


def test_decimals_are_counted_as_sent():
    assert decimal_places(Decimal("100.00")) == 2
    assert decimal_places(Decimal("1E+2")) == 0
    assert decimal_places(Decimal("0.15")) == 2
    assert isinstance(ask("1.10"), Deducted)


def test_overdraft_is_8907_with_the_amount_as_sent():
    refusal = ask("680.01")
    assert code_of(refusal) == Code.INSUFFICIENT_BALANCE
    assert refusal.message.startswith("points to be deducted 680.01 is greater than")


def test_the_whole_balance_may_be_deducted():
    outcome = ask("680")
    assert isinstance(outcome, Deducted) and balance_text(outcome.balance) == "0.000"


def test_overdraft_allowed_goes_below_zero():
    outcome = ask("700.5", w=world(allow_negative_balance=True))
    assert isinstance(outcome, Deducted) and balance_text(outcome.balance) == "-20.500"


def test_currency_overdraft_is_8907():
    assert code_of(ask("80155.51", currency="coins")) == Code.INSUFFICIENT_BALANCE


def test_balances_are_exact_decimals():
    balances = {Bucket(973, POINTS, "REGULAR"): Decimal("0.3")}
    outcome = ask("0.1", balances=balances)
    assert isinstance(outcome, Deducted) and outcome.balance == Decimal("0.2")


def explain(outcome: Deducted | ApiError) -> str:
    assert isinstance(outcome, RuleError | Deducted), f"no explanation on {outcome!r}"
    return outcome.explain()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"amount": "0"}, "rule 16 (8888): the amount is zero"),
        (
            {"amount": "10000000000001"},
            "rule 12 (9106): pointsToBeAdjusted 10000000000001 is above 1000000000000",
        ),
        (
            {"promotion_id": 79555, "promotion_identifier": "b86ca53f", "program_id": 973},
            "rule 17 (9109): the request names both promotionId 79555 and promotionIdentifier "
            "'b86ca53f'",
        ),
        (
            {"promotion_identifier": "b86ca53f"},
            "rule 18 (8887): promotionIdentifier 'b86ca53f' is given without programId",
        ),
        ({"user_id": 99}, "rule 19 (8015): no customer has userId 99"),
        (
            {"source": "ECOMMERCE"},
            f"rule 19 (8015): customer {USER} is registered in [INSTORE]; the request's "
            "source is ECOMMERCE",
        ),
        ({"promotion_id": 1}, "rule 20 (8874): no promotion has promotionId 1"),
        (
            {"promotion_id": 79555, "program_id": 974},
            "rule 20 (8874): promotion 79555 is of program 973; the request names program 974",
        ),
        ({"award_id": 1}, "rule 21 (8877): no award has pointsAwardedId 1"),
        (
            {"award_id": 38768509, "award_ref_type": "bill_regular"},
            f"rule 21 (8877): award 38768509 belongs to customer 2, not {USER}",
        ),
        (
            {"award_id": 38768508, "award_ref_type": "bill_regular", "program_id": 974},
            "rule 21 (8877): award 38768508 is of program 973; the request's program is 974",
        ),
        (
            {"award_id": 38768508},
            "rule 22 (9975): award 38768508 has the refType 'bill_regular'; the request gives none",
        ),
        ({"program_id": 976}, "rule 23 (1218): program 976 does not exist"),
        (
            {"program_id": 975},
            f"rule 23 (1218): customer {USER} is enrolled in [973, 974], not in 975",
        ),
        (
            {"currency": "gems"},
            "rule 24 (8911): program 973 has the currencies [coins], not 'gems'",
        ),
        (
            {"amount": "10.555"},
            "rule 25 (8906): the amount 10.555 has 3 decimal places; program 973 allows 2",
        ),
        (
            {"amount": "681"},
            "rule 26 (8907): REGULAR balance of program 973 is 680.000; asked 681, and the "
            "org does not allow negative balances",
        ),
        (
            {"amount": "10.5"},
            "success: REGULAR balance of program 973 was 680.000; 10.5 deducted; now 669.500",
        ),
    ],
)
def test_every_decision_says_why_in_terms_of_the_fixtures(fields, expected):
    assert explain(ask(**fields)) == expected


def test_the_rules_table_names_the_rows_the_rules_answer_with():
    """The documented table and ``ROWS`` agree: row N of the table carries the code that
    the rules report as row N, so an explanation points at the right line."""
    root = Path(__file__).resolve().parents[1]
    documents = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    heading = "## The rules, in the order they are checked"
    text = next(
        text
        for text in (document.read_text(encoding="utf-8") for document in documents)
        if heading in text
    )
    table = text.split(heading, 1)[1].split("\n## ", 1)[0]
    rows = {
        int(match[1]): match[2]
        for match in re.finditer(r"^\| (\d+) \|[^|]*\| ([^|]*) \|", table, re.MULTILINE)
    }
    decided_by = [*ROWS.items(), *SHAPE_ROWS.items()]
    decided_by += [
        (Code.AUTHENTICATION_FAILED, CREDENTIALS_ROW),
        (Code.TOKEN_INVALID, CREDENTIALS_ROW),
    ]
    decided_by += [(Code.ACCESS_DENIED, ACCESS_ROW)]
    for code, row in decided_by:
        assert str(int(code)) in rows[row], f"row {row} of the table does not show {int(code)}"

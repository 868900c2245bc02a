"""One item of manualCurrencyAllocate (``rules.allocate``), as a pure function on the
default world: one test per row of its rules table, and what is issued."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from mock_server.data import DEFAULT_FIXTURES
from mock_server.errors import RuleError
from mock_server.fixtures import load_fixtures
from mock_server.model import CURRENCY, POINTS, UNIQUE, AwardStrategy, Bucket
from mock_server.rules.allocate import Allocation, Credited, allocate
from mock_server.rules.change import CREDIT
from mock_server.rules.lookup import Identifier, located

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SEED = 388034468
WORLD = replace(
    load_fixtures(DEFAULT_FIXTURES),
    award_strategies={
        **load_fixtures(DEFAULT_FIXTURES).award_strategies,
        1: AwardStrategy(1, 973, per_unit=Decimal("1.5")),
        2: AwardStrategy(2, 973, points=Decimal("2.675")),
        3: AwardStrategy(3, 974, points=Decimal(1)),
        4: AwardStrategy(4, 973, per_unit=Decimal(10) ** 12),
    },
)


def item(name: str = "id", value: str = str(SEED), source: str = "INSTORE", **fields: object):
    identifier = Identifier.of("bulkManualCurrencyAllocation", source, name, value)
    base: dict[str, object] = {
        "user_id": located(WORLD, identifier),
        "identifier": identifier,
        "org_id": 100737,
        "program_id": 973,
        "award_strategy_id": 13167,
        "expiry_strategy_id": 11833,
        "source_value": Decimal(-1),
        "event_name": "TransactionAdd",
        "event_source_id": "888812915",
    }
    return Allocation(**{**base, **fields})  # type: ignore[arg-type]


def decide(allocation: Allocation, balances: dict | None = None):
    customer = WORLD.customers.get(allocation.user_id)
    if balances is None:
        balances = dict(customer.opening) if customer else {}
    return allocate(WORLD, allocation, balances, NOW)


def credited(outcome: object) -> Credited:
    assert isinstance(outcome, Credited), outcome
    return outcome


def test_a_fixed_award_goes_to_regular_points() -> None:
    outcome = credited(decide(item()))
    assert outcome.bucket == Bucket(973, POINTS, "REGULAR")
    assert (outcome.entry.amount, outcome.raw, outcome.balance) == (500, 500, 1180)
    assert outcome.entry.direction == CREDIT and outcome.entry.reason == "TransactionAdd 888812915"
    assert outcome.marker is None
    assert outcome.explain() == (
        "success: REGULAR balance of program 973 was 680.000; 500 issued; now 1180.000"
    )


def test_promised_points_and_currencies_go_to_their_buckets() -> None:
    assert credited(decide(item(currency_type="PROMISED"))).bucket == Bucket(
        973, POINTS, "PROMISED"
    )
    currency = credited(decide(item(currency_identifier="9DxGBP")))
    assert currency.bucket == Bucket(973, CURRENCY, "DocCoin")
    assert currency.balance == Decimal("80655.5")


def test_an_award_per_unit_is_rounded_as_the_item_says() -> None:
    def award(value: str, **rounding: str) -> tuple[Decimal, Decimal | None]:
        outcome = credited(
            decide(item(award_strategy_id=1, source_value=Decimal(value), **rounding))
        )
        return outcome.entry.amount, outcome.raw

    assert award("100") == (150, Decimal("150.0"))
    assert award("10.9") == (15, Decimal("15.0"))  # sourceValue floored first: 10 x 1.5
    assert award("10.9", source_value_rounding="ROUND") == (16, Decimal("16.5"))
    assert award("10.9", source_value_rounding="ACTUAL") == (16, Decimal("16.35"))
    assert award("10.9", source_value_rounding="ACTUAL", points_rounding="ROUND") == (
        16,
        Decimal("16.35"),
    )
    assert award("10.9", source_value_rounding="ACTUAL", points_rounding="ACTUAL") == (
        Decimal("16.35"),
        Decimal("16.35"),
    )
    assert award("0") == (0, Decimal("0.0"))


def test_actual_keeps_the_programs_decimals() -> None:
    outcome = credited(decide(item(award_strategy_id=2, points_rounding="ACTUAL")))
    assert outcome.entry.amount == Decimal("2.67")  # program 973 rounds to 2 decimals
    assert credited(decide(item(award_strategy_id=2))).entry.amount == 2


def test_a_unique_id_is_marked_and_refused_the_second_time() -> None:
    first = credited(decide(item(unique_id="a3fd1a63")))
    assert first.marker == Bucket(0, UNIQUE, "a3fd1a63")
    seen = {**WORLD.customers[SEED].opening, first.marker: Decimal(1)}
    again = decide(item(unique_id="a3fd1a63"), seen)
    assert isinstance(again, RuleError) and (again.rule, int(again.code)) == (19, 6006)
    assert again.status() == 409
    assert isinstance(decide(item(unique_id="another"), seen), Credited)


@pytest.mark.parametrize(
    ("fields", "row", "code", "message"),
    [
        ({"org_id": 51186}, 7, 9152, "orgId 51186 is not this org (100737)"),
        (
            {"entity_type": "USERGROUP2"},
            8,
            9151,
            "capmock does not support allocations to a USERGROUP2",
        ),
        ({"value": "42"}, 10, 8015, "Customer not found for the given identifiers"),
        ({"program_id": 1}, 11, 8136, "Program with id not found"),
        (
            {"value": "388034469"},
            12,
            1218,
            "Customer not enrolled in loyalty program : customer not found for programId 973",
        ),
        ({"award_strategy_id": 99}, 13, 8136, "Award Strategy not found with id : 99"),
        ({"award_strategy_id": 3}, 13, 8136, "Award Strategy not found with id : 3"),
        ({"expiry_strategy_id": 99}, 14, 8136, "Expiry strategy not found with id :  : 99"),
        (
            {"event_name": "Birthday"},
            15,
            8136,
            "Event not supported for Manual currency allocation, Supported events are "
            "[TransactionAdd, TargetCompleted, Behavioural events]",
        ),
        (
            {"currency_identifier": "nope"},
            16,
            8136,
            "Alternate currency not found with provided identifier : nope",
        ),
        (
            {"award_strategy_id": 1},
            17,
            9154,
            "sourceValue must be 0 or more with award strategy 1, which awards per unit; got -1",
        ),
        (
            {"award_strategy_id": 4, "source_value": Decimal(2)},
            18,
            9106,
            "awardedPoints must be at most 1000000000000, got 2000000000000",
        ),
    ],
)
def test_each_row_refuses_with_its_code_and_message(
    fields: dict[str, object], row: int, code: int, message: str
) -> None:
    lookup = {key: fields.pop(key) for key in ("name", "value", "source") if key in fields}
    outcome = decide(item(**lookup, **fields))
    assert isinstance(outcome, RuleError), outcome
    assert (outcome.rule, int(outcome.code), outcome.message) == (row, code, message)


def test_an_identifier_the_org_does_not_accept_is_8013() -> None:
    narrowed = replace(
        WORLD, identifier_names={"bulkManualCurrencyAllocation": frozenset({"mobile"})}
    )
    outcome = allocate(narrowed, item(), dict(WORLD.customers[SEED].opening), NOW)
    assert isinstance(outcome, RuleError) and (outcome.rule, int(outcome.code)) == (9, 8013)
    by_mobile = item("mobile", "9876543210")
    assert isinstance(allocate(narrowed, by_mobile, {}, NOW), Credited)

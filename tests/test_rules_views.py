"""The read views as pure functions: the points balance (``rules.balance``) and the points
ledger (``rules.ledger``), on the default world and hand-made ledger entries."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from mock_server.data import DEFAULT_FIXTURES
from mock_server.errors import RuleError
from mock_server.fixtures import load_fixtures
from mock_server.model import CURRENCY, POINTS, Bucket
from mock_server.rules import balance, ledger
from mock_server.rules.change import CREDIT, DEBIT, LedgerEntry
from mock_server.rules.lookup import Identifier

WORLD = load_fixtures(DEFAULT_FIXTURES)
SEVERAL = 388034472  # 5 REGULAR, 7.5 PROMISED, 12.25 EXTERNAL_TRIGGER_BASED, 3 coins, 1.5 DocCoin
SEED = 388034468
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def by_id(operation: str, user_id: int) -> Identifier:
    return Identifier.of(operation, "ALL", "id", str(user_id))


def points(user_id: int, balances: dict | None = None, **fields: object) -> object:
    query = balance.BalanceQuery(by_id("getPointsBalance", user_id), **fields)  # type: ignore[arg-type]
    customer = balance.customer(WORLD, query)
    if isinstance(customer, RuleError):
        return customer
    opening = dict(customer.opening) if balances is None else balances
    return balance.points_balance(WORLD, query, customer, opening)


def test_the_balance_is_per_category_of_the_default_program() -> None:
    shown = points(SEVERAL)
    assert isinstance(shown, balance.PointsBalance)
    assert (shown.main, shown.delayed_accrual, shown.external_trigger) == (5, Decimal("7.5"), 12.25)
    assert (shown.promised, shown.total) == (Decimal("19.75"), Decimal("24.75"))


def test_all_programs_are_summed_and_one_program_is_its_own() -> None:
    customer = WORLD.customers[SEED]
    balances = {**customer.opening, Bucket(974, POINTS, "REGULAR"): Decimal("0.5")}
    enrolled = replace(customer, programs=frozenset({973, 974}))
    world = replace(WORLD, customers={**WORLD.customers, SEED: enrolled})
    query = balance.BalanceQuery(by_id("getPointsBalance", SEED), all_programs=True)
    assert balance.points_balance(world, query, enrolled, balances).main == Decimal("680.5")
    only = balance.BalanceQuery(by_id("getPointsBalance", SEED), program_id=974)
    assert balance.points_balance(world, only, enrolled, balances).main == Decimal("0.5")


@pytest.mark.parametrize(
    ("user_id", "fields", "row", "code"),
    [
        (SEED, {"entity_type": "FLEET"}, 8, 9151),
        (42, {}, 10, 8015),
        (SEED, {"program_id": 974}, 11, 1218),
        (SEED, {"program_id": 999}, 11, 1218),
        (388034469, {}, 11, 1218),  # not in the default program
    ],
)
def test_the_balance_refuses_by_its_rows(
    user_id: int, fields: dict[str, object], row: int, code: int
) -> None:
    outcome = points(user_id, **fields)
    assert isinstance(outcome, RuleError) and (outcome.rule, int(outcome.code)) == (row, code)


def test_all_programs_is_never_1218() -> None:
    shown = points(388034469, all_programs=True)
    assert isinstance(shown, balance.PointsBalance) and shown.main == 500


def entry(direction: str, bucket: Bucket, amount: str, after: str, event: int, minutes: int):
    return LedgerEntry(
        T0 + timedelta(minutes=minutes),
        "INSTORE",
        "r",
        bucket,
        Decimal(amount),
        Decimal(after),
        direction,
        event,
    )


REGULAR = Bucket(973, POINTS, "REGULAR")
COINS = Bucket(973, CURRENCY, "coins")
ENTRIES = [
    entry(DEBIT, REGULAR, "10", "670", 1, 1),
    entry(CREDIT, REGULAR, "500", "1170", 2, 2),
    entry(DEBIT, COINS, "0.5", "80155", 3, 3),
]


def page(user_id: int = SEED, entries: list = ENTRIES, **fields: object) -> object:
    query = ledger.LedgerQuery(by_id("getCustomerLedgerInfo", user_id), **fields)  # type: ignore[arg-type]
    customer = ledger.customer(WORLD, query)
    if isinstance(customer, RuleError):
        return customer
    return ledger.ledger_page(WORLD, query, customer, entries)


def shown(outcome: object) -> ledger.LedgerPage:
    assert isinstance(outcome, ledger.LedgerPage), outcome
    return outcome


def test_the_ledger_is_the_opening_balances_then_every_change_newest_first() -> None:
    result = shown(page())
    assert [(e.event_id, e.name) for e in result.events] == [
        (2, "BulkAllocatePoints"),
        (1, "ManualPointsAdjustment"),
        (0, "CustomerRegistration"),
    ]  # the coins debit has no points row: not shown without currencies
    opening = result.events[-1]
    assert opening.time == ledger.OPENING_TIME and opening.net_points == 680
    assert {(r.bucket.name, r.amount) for r in opening.rows} == {
        ("REGULAR", 680),
        ("PROMISED", 0),
        ("EXTERNAL_TRIGGER_BASED", 0),
    }
    assert [e.net_points for e in result.events[:2]] == [500, -10]
    assert (result.total, result.pages, result.page, result.size) == (3, 1, 0, 10)


def test_opening_rows_plus_credits_minus_debits_are_the_balance() -> None:
    result = shown(page(include_currencies=True))
    totals: dict[Bucket, Decimal] = {}
    for event in result.events:
        for row in event.rows:
            totals[row.bucket] = totals.get(row.bucket, Decimal(0)) + row.signed
    assert totals[REGULAR] == 1170 and totals[COINS] == 80155
    assert totals[Bucket(973, CURRENCY, "DocCoin")] == Decimal("80155.5")


def test_currencies_only_when_asked_and_only_those_named() -> None:
    named = shown(page(currency_names=("coins",)))
    names = {r.bucket.name for e in named.events for r in e.rows if r.bucket.kind == CURRENCY}
    assert names == {"coins"}
    assert named.events[0].net_currencies == {"coins": Decimal("-0.5")}
    only = shown(page(include_currencies=True, exclude_points=True))
    assert all(r.bucket.kind == CURRENCY for e in only.events for r in e.rows)
    assert [e.event_id for e in only.events] == [3, 0]


def test_filters_keep_only_their_rows() -> None:
    debits = shown(page(entry_type="DEBIT"))
    assert [e.event_id for e in debits.events] == [1]
    opening = shown(page(entry_type="OPENING_BALANCE", category="PROMISED"))
    assert [[r.bucket.name for r in e.rows] for e in opening.events] == [["PROMISED"]]
    other = shown(page(program_id=974, user_id=388034469, entries=[]))
    assert [r.bucket.program_id for r in other.events[0].rows] == [974]


def test_pages_count_from_zero_and_order_asc_is_oldest_first() -> None:
    first = shown(page(limit=2, ascending=True))
    assert [e.event_id for e in first.events] == [0, 1] and first.pages == 2
    second = shown(page(limit=2, offset=1, ascending=True))
    assert [e.event_id for e in second.events] == [2]


def test_dates_bound_the_events() -> None:
    after = shown(page(start=T0))
    assert [e.event_id for e in after.events] == [2, 1]
    until = shown(page(end=T0 + timedelta(minutes=1, seconds=30)))
    assert [e.event_id for e in until.events] == [1]
    ignored = shown(page(start=T0, filter_by_date=False))
    assert len(ignored.events) == 3


@pytest.mark.parametrize(
    ("fields", "row", "code"),
    [
        ({"entity_type": "FLEET"}, 8, 9151),
        ({"limit": 101}, 9, 11029),
        ({"start": T0, "end": T0 - timedelta(seconds=1)}, 10, 9153),
        ({"start": T0, "end": T0 + timedelta(days=91)}, 10, 9153),
        ({"user_id": 42}, 12, 8015),
        ({"offset": 1}, 13, 11003),
        ({"entry_type": "CREDIT", "program_id": 974}, 13, 11003),
    ],
)
def test_the_ledger_refuses_by_its_rows(fields: dict[str, object], row: int, code: int) -> None:
    outcome = page(**fields)
    assert isinstance(outcome, RuleError) and (outcome.rule, int(outcome.code)) == (row, code)


def test_a_year_of_data_widens_the_window() -> None:
    assert isinstance(
        page(start=T0, end=T0 + timedelta(days=300), last_year=True), ledger.LedgerPage
    )

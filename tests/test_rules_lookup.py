"""Finding a customer by identifier (``rules.lookup``), and the lookup deduct, which shares
every rule of the userId form but the lookup: pure functions on the default world."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from mock_server.data import DEFAULT_FIXTURES
from mock_server.errors import Code, RuleError
from mock_server.fixtures import load_fixtures
from mock_server.model import Customer, World
from mock_server.rules.deduct import Deducted, Deduction, deduct
from mock_server.rules.lookup import NO_CUSTOMER, Identifier, find, located

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ROWS = {Code.INVALID_IDENTIFIER: 1, Code.CUSTOMER_NOT_FOUND: 2}
SEED = 388034468
WORLD = load_fixtures(DEFAULT_FIXTURES)


def look(name: str, value: str, source: str = "INSTORE", w: World = WORLD, **kw: object) -> object:
    return find(w, Identifier("deductPointsByLookup", source, (name,), (value,), **kw), ROWS)


def user_of(outcome: object) -> int:
    assert isinstance(outcome, Customer), outcome
    return outcome.user_id


def refusal(outcome: object) -> tuple[int, int, str]:
    assert isinstance(outcome, RuleError), outcome
    return int(outcome.code), outcome.rule, outcome.reason


@pytest.mark.parametrize(
    ("name", "value", "source", "user"),
    [
        ("mobile", "9876543210", "INSTORE", SEED),
        ("email", "tomswayer@capillarytech1.com", "INSTORE", SEED),
        ("externalId", "696969", "INSTORE", SEED),
        ("id", "388034468", "INSTORE", SEED),
        ("mobile", "9876543212", "WECHAT", 388034470),
        ("mobile", "9876543212", "ALL", 388034470),
        ("externalId", "wx-388034472", "ALL", 388034472),
        ("id", "388034470", "ALL", 388034470),
    ],
)
def test_an_identifier_finds_its_customer(name: str, value: str, source: str, user: int) -> None:
    assert user_of(look(name, value, source)) == user


@pytest.mark.parametrize(
    ("name", "value", "source", "reason"),
    [
        (
            "mobile",
            "919876543210",
            "INSTORE",
            "no customer has the mobile '919876543210' in INSTORE",
        ),
        ("email", "TomSwayer@capillarytech1.com", "INSTORE", "no customer has the email"),
        ("mobile", "9876543212", "INSTORE", "no customer has the mobile '9876543212' in INSTORE"),
        ("mobile", "9876543210", "WECHAT", "in WECHAT"),
        ("id", "388034470", "INSTORE", "registered in [WECHAT]; the request's source is INSTORE"),
        ("id", "42", "INSTORE", "no customer has userId '42'"),
        ("id", "not-a-number", "INSTORE", "no customer has userId 'not-a-number'"),
        ("id", "٣٨٨٠٣٤٤٦٨", "INSTORE", "no customer has userId"),
        ("mobile", "1", "ALL", "no customer has the mobile '1' in any source"),
    ],
)
def test_no_customer_with_the_identifier_in_the_source_is_8015(
    name: str, value: str, source: str, reason: str
) -> None:
    code, row, why = refusal(look(name, value, source))
    assert (code, row) == (8015, 2) and reason in why


def test_a_value_two_customers_have_in_different_sources_needs_a_source() -> None:
    wechat = replace(WORLD.customers[388034470], identifiers={"WECHAT": {"mobile": "9876543210"}})
    world = replace(WORLD, customers={**WORLD.customers, 388034470: wechat})
    assert user_of(look("mobile", "9876543210", "INSTORE", world)) == SEED
    assert user_of(look("mobile", "9876543210", "WECHAT", world)) == 388034470
    code, _, why = refusal(look("mobile", "9876543210", "ALL", world))
    assert code == 8015 and "names customers 388034468, 388034470 in different sources" in why


def test_a_name_the_org_does_not_accept_for_the_operation_is_8013() -> None:
    narrowed = replace(WORLD, identifier_names={"deductPointsByLookup": frozenset({"mobile"})})
    assert user_of(look("mobile", "9876543210", w=narrowed)) == SEED
    code, row, why = refusal(look("id", "388034468", w=narrowed))
    assert (code, row) == (8013, 1)
    assert why == "deductPointsByLookup takes identifierName mobile in this org, not 'id'"
    assert user_of(look("id", "388034468")) == SEED  # the default accepts every name


def dual(names: str, values: str, w: World = WORLD) -> object:
    identifier = Identifier(
        "getPointsBalance", "INSTORE", tuple(names.split(",")), tuple(values.split(",")), True
    )
    return find(w, identifier, ROWS)


def test_dual_eligibility_looks_up_by_the_primary_identifier_and_ignores_the_others() -> None:
    assert user_of(dual("email,mobile", "tomswayer@capillarytech1.com,9876543210")) == SEED
    # the email is not checked: the primary found the customer
    assert user_of(dual("email,mobile", "nobody@example.com,9876543210")) == SEED
    assert user_of(dual("mobile", "9876543210")) == SEED
    assert user_of(dual("email,id", "nobody@example.com,388034468")) == SEED


def test_dual_eligibility_without_the_primary_identifier_is_8015() -> None:
    code, row, why = refusal(dual("email", "tomswayer@capillarytech1.com"))
    assert (code, row) == (8015, 2)
    assert why == "dual eligibility: the org's primary identifier mobile is not among email"
    by_email = replace(WORLD, primary_identifier="email")
    assert user_of(dual("email", "tomswayer@capillarytech1.com", by_email)) == SEED


def test_lists_of_different_lengths_are_8013() -> None:
    code, _, why = refusal(dual("email,mobile", "9876543210"))
    assert code == 8013 and "2 identifierName(s) but 1 identifierValue(s)" in why


def test_located_is_the_customer_or_nobody() -> None:
    found = Identifier.of("deductPointsByLookup", "INSTORE", "mobile", "9876543210")
    missing = Identifier.of("deductPointsByLookup", "INSTORE", "mobile", "1")
    assert located(WORLD, found) == SEED
    assert located(WORLD, missing) == NO_CUSTOMER


def ask(identifier: Identifier, amount: str = "10", w: World = WORLD, **fields: object) -> object:
    request = Deduction(
        user_id=located(w, identifier),
        source=identifier.source,
        reason="by mobile",
        amount=Decimal(amount),
        identifier=identifier,
        **fields,
    )
    customer = w.customers.get(request.user_id)
    return deduct(w, request, dict(customer.opening) if customer else {}, NOW)


BY_MOBILE = Identifier.of("deductPointsByLookup", "INSTORE", "mobile", "9876543210")


def test_a_deduction_by_mobile_is_the_userid_forms_deduction() -> None:
    outcome = ask(BY_MOBILE)
    assert isinstance(outcome, Deducted)
    assert (outcome.bucket.program_id, outcome.bucket.name) == (973, "REGULAR")
    assert outcome.balance == Decimal("670") and outcome.entry.source == "INSTORE"


@pytest.mark.parametrize(
    ("fields", "code", "row"),
    [
        ({"amount": "0"}, 8888, 16),
        ({"promotion_identifier": "b86ca53f-4c5e-46d3-8d33-b61c4f49392c"}, 8887, 18),
        ({"program_id": 974}, 1218, 23),
        ({"currency": "gems"}, 8911, 24),
        ({"amount": "10.555"}, 8906, 25),
        ({"amount": "681"}, 8907, 26),
    ],
)
def test_the_lookup_form_refuses_with_the_userid_forms_rows(
    fields: dict[str, object], code: int, row: int
) -> None:
    assert refusal(ask(BY_MOBILE, **fields))[:2] == (code, row)


def test_rules_that_need_no_customer_come_before_the_lookup() -> None:
    missing = Identifier.of("deductPointsByLookup", "INSTORE", "mobile", "1")
    assert refusal(ask(missing, amount="0"))[:2] == (8888, 16)
    assert refusal(ask(missing))[:2] == (8015, 19)
    narrowed = replace(WORLD, identifier_names={"deductPointsByLookup": frozenset({"email"})})
    assert refusal(ask(BY_MOBILE, w=narrowed))[:2] == (8013, 19)


def test_a_world_replaced_between_the_lookup_and_the_decision_is_refused() -> None:
    request = Deduction(
        user_id=388034469,
        source="INSTORE",
        reason="r",
        amount=Decimal(1),
        identifier=BY_MOBILE,
    )
    code, row, why = refusal(deduct(WORLD, request, {}, NOW))
    assert (code, row) == (8015, 19) and "now names customer 388034468" in why

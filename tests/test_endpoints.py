"""The lookup deduct, the balance, the ledger and manualCurrencyAllocate over HTTP, on
every store and lane (see conftest): one world, so that what one endpoint changes the
others show, to the last decimal."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from support import (
    ALLOCATE,
    BALANCE,
    LEDGER,
    LOOKUP_DEDUCT,
    MOBILE,
    SEED_USER,
    LiveMock,
    allocation,
)

from contract_tests import spec

REASON = "Extra points were issued"
POINTS = {"pointsToBeAdjusted": "10", "reasonOfReturn": REASON}
SEVERAL = 388034472


def exact(response: httpx.Response) -> Any:
    """The JSON answer with every number read as an exact decimal."""
    return json.loads(response.text, parse_float=Decimal)


def code(response: httpx.Response) -> int:
    return response.json()["errors"][0]["code"]


def balance(mock: LiveMock, **params: object) -> Any:
    response = mock.call("GET", BALANCE, {**MOBILE, **params})
    assert response.status_code == 200, response.text
    return exact(response)


def ledger(mock: LiveMock, **params: object) -> Any:
    response = mock.call("GET", LEDGER, {**MOBILE, **params})
    assert response.status_code == 200, response.text
    return exact(response)


def test_a_deduction_by_mobile_shows_in_the_balance_and_the_ledger(mock: LiveMock) -> None:
    response = mock.call("POST", LOOKUP_DEDUCT, MOBILE, POINTS)
    assert response.status_code == 200
    assert response.json() == {
        "status": "success",
        "pointsAvailable": "670.000",
        "message": "points deducted successfully for the user ",
        "warnings": [],
    }
    assert '"mainPoints": 670.000' in mock.call("GET", BALANCE, MOBILE).text
    shown = balance(mock)
    assert (shown["entityId"], shown["totalPoints"], shown["mainPoints"]) == (
        SEED_USER,
        Decimal("670.000"),
        Decimal("670.000"),
    )
    newest = ledger(mock)["ledgerEntries"][0]
    assert newest["eventName"] == "ManualPointsAdjustment"
    assert newest["entryDetails"] == [
        {
            "ledgerEntryType": "DEBIT",
            "points": "10.000",
            "pointsCategory": "Main",
            "programName": "DocLoyalty",
            "programId": 973,
        }
    ]
    assert newest["netPointsOnEvent"] == "-10.000"
    view = mock.client.get(f"/__admin/customers/{SEED_USER}").json()
    assert view["ledger"][0]["eventLogId"] == newest["eventLogId"]
    assert view["identifiers"]["INSTORE"]["mobile"] == "9876543210"


@pytest.mark.parametrize(
    ("name", "value", "source", "user_id"),
    [
        ("email", "tomswayer@capillarytech1.com", "INSTORE", SEED_USER),
        ("externalId", "696969", "INSTORE", SEED_USER),
        ("id", str(SEED_USER), "INSTORE", SEED_USER),
        ("mobile", "9876543212", "WECHAT", 388034470),
        ("mobile", "9876543212", "ALL", 388034470),
    ],
)
def test_every_identifier_deducts_from_its_customer(
    mock: LiveMock, name: str, value: str, source: str, user_id: int
) -> None:
    params = {"identifierName": name, "identifierValue": value, "source": source}
    response = mock.call("POST", LOOKUP_DEDUCT, params, {**POINTS, "pointsToBeAdjusted": "1.5"})
    assert response.status_code == 200, response.text
    view = mock.client.get(f"/__admin/customers/{user_id}").json()
    assert [(e["amount"], e["source"]) for e in view["ledger"]] == [("1.5", source)]


@pytest.mark.parametrize(
    ("params", "body", "status", "expected"),
    [
        ({**MOBILE, "identifierName": "userId"}, POINTS, 400, 8013),
        ({"identifierValue": "9876543210", "source": "INSTORE"}, POINTS, 400, 8013),
        ({**MOBILE, "identifierValue": ""}, POINTS, 400, 8015),
        ({**MOBILE, "identifierValue": "919876543210"}, POINTS, 400, 8015),
        ({**MOBILE, "source": "WECHAT"}, POINTS, 400, 8015),
        ({**MOBILE, "source": "NOWHERE"}, POINTS, 400, 8003),
        (MOBILE, {**POINTS, "pointsToBeAdjusted": "0"}, 400, 8888),
        (MOBILE, {**POINTS, "pointsToBeAdjusted": "681"}, 400, 8907),
        (MOBILE, {"pointsToBeAdjusted": "1"}, 400, 8882),
        ({**MOBILE, "identifierValue": "9876543211"}, POINTS, 400, 1218),
    ],
)
def test_the_lookup_deduct_refuses_with_the_documented_codes(
    mock: LiveMock, params: dict, body: dict, status: int, expected: int
) -> None:
    response = mock.call("POST", LOOKUP_DEDUCT, params, body)
    assert (response.status_code, code(response)) == (status, expected), response.text
    assert mock.client.get(f"/__admin/customers/{SEED_USER}").json()["ledger"] == []


def test_the_balance_lookup_of_the_documentation_works(mock: LiveMock) -> None:
    params = spec.parameter_examples(spec.BALANCE_PATH)
    response = mock.call("GET", BALANCE, params)
    assert response.status_code == 200, response.text
    assert exact(response) == {
        "entityId": SEED_USER,
        "entityType": "CUSTOMER",
        "totalPoints": Decimal("680.000"),
        "mainPoints": Decimal("680.000"),
        "promisedPoints": Decimal("0.000"),
        "promisedPointsBreakup": {
            "delayedAccrualPoints": Decimal("0.000"),
            "externalTriggerBasedPoints": Decimal("0.000"),
        },
        "warnings": [],
    }


def test_the_balance_sums_categories_and_programs(mock: LiveMock) -> None:
    params = {"identifierName": "id", "identifierValue": str(SEVERAL), "source": "ALL"}
    shown = exact(mock.call("GET", BALANCE, params))
    assert (shown["mainPoints"], shown["promisedPoints"], shown["totalPoints"]) == (
        Decimal("5.000"),
        Decimal("19.750"),
        Decimal("24.750"),
    )
    assert shown["promisedPointsBreakup"] == {
        "delayedAccrualPoints": Decimal("7.500"),
        "externalTriggerBasedPoints": Decimal("12.250"),
    }
    other = {"identifierName": "mobile", "identifierValue": "9876543211", "source": "INSTORE"}
    assert code(mock.call("GET", BALANCE, other)) == 1218
    every = exact(mock.call("GET", BALANCE, {**other, "fetchDataForAllPrograms": "true"}))
    assert every["mainPoints"] == Decimal("500.000")
    assert exact(mock.call("GET", BALANCE, {**other, "programId": 974}))["mainPoints"] == 500


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"identifierName": "email", "identifierValue": "tomswayer@capillarytech1.com"}, 8015),
        ({"identifierName": "email,mobile", "identifierValue": "a@b.c"}, 8013),
        ({"identifierName": "userId"}, 8013),
        ({"identifierName": "mobile,"}, 8013),
        ({"entityType": "GROUP"}, 1212),
        ({"entityType": "FLEET"}, 9151),
        ({"programId": 974}, 1218),
        ({"programId": "abc"}, 9110),
        ({"source": "ELSEWHERE"}, 8003),
        ({"identifierValue": ""}, 8015),
    ],
)
def test_the_balance_refuses_with_the_documented_codes(
    mock: LiveMock, params: dict, expected: int
) -> None:
    response = mock.call("GET", BALANCE, {**MOBILE, **params})
    assert (response.status_code, code(response)) == (400, expected), response.text


def test_the_ledger_of_the_documentation_works(mock: LiveMock) -> None:
    params = spec.parameter_examples(spec.LEDGER_PATH)
    shown = exact(mock.call("GET", LEDGER, params))
    assert shown["customerDetails"] == {
        "firstName": "Tom",
        "lastName": "Sawyer",
        "userId": SEED_USER,
        "externalId": "696969",
        "entityType": "CUSTOMER",
    }
    assert shown["ledgerDetails"] == {
        "pageNumber": 0,
        "pageSize": 5,
        "totalEntries": 1,
        "pageCount": 1,
    }
    (opening,) = shown["ledgerEntries"]
    assert (opening["eventLogId"], opening["eventName"]) == (0, "CustomerRegistration")
    assert opening["netAlternateCurrenciesOnEvent"] == {"DocCoin": "80155.500"}
    assert {row.get("alternateCurrencyName") for row in opening["entryDetails"]} == {
        None,
        "DocCoin",
    }


def test_the_allocations_of_the_documentation_work(mock: LiveMock) -> None:
    examples = spec.request_examples(spec.ALLOCATE_PATH)
    issued = {}
    for name, body in examples.items():
        mock.reset()
        response = mock.call("POST", ALLOCATE, body=body)
        assert response.status_code == 200, (name, response.text)
        answer = exact(response)
        assert (answer["total"], answer["success"], answer["failures"]) == (len(body), len(body), 0)
        issued[name] = [item["sideEffects"][0] for item in answer["data"]]
    assert issued["regular-points"] == [
        {
            "entityType": "USER",
            "customerId": SEED_USER,
            "rawAwardedPoints": Decimal("500.000"),
            "awardedPoints": 500,
            "type": "points",
        }
    ]
    assert issued["regular-alternate-currency"][0]["alternateCurrencyName"] == "DocCoin"
    assert issued["regular-alternate-currency"][0]["awardedValue"] == 500
    assert [effect["awardedValue"] for effect in issued["bulk"]] == [100, 100]


def test_an_allocation_tops_up_the_balance_and_is_in_the_ledger(mock: LiveMock) -> None:
    answer = exact(mock.call("POST", ALLOCATE, body=[allocation("9876543210", "mobile")]))
    (result,) = answer["data"]
    assert (result["status"], result["entityId"], result["httpStatus"]) == (
        "SUCCESS",
        SEED_USER,
        200,
    )
    assert balance(mock)["mainPoints"] == Decimal("1180.000")
    newest = ledger(mock)["ledgerEntries"][0]
    assert (newest["eventLogId"], newest["eventName"]) == (
        result["eventLogId"],
        "BulkAllocatePoints",
    )
    assert newest["entryDetails"][0]["ledgerEntryType"] == "CREDIT"
    assert newest["netPointsOnEvent"] == "500.000"
    admin = mock.client.get(f"/__admin/customers/{SEED_USER}").json()["ledger"]
    assert [(e["direction"], e["amount"], e["balanceAfter"]) for e in admin] == [
        ("CREDIT", "500", "1180.000")
    ]


def test_a_partly_refused_call_is_207_item_by_item(mock: LiveMock) -> None:
    body = [
        allocation(uniqueId="retry-1"),
        allocation(uniqueId="retry-1"),
        allocation("42"),
        allocation(awardStrategyId=99),
        allocation(str(SEVERAL), currencyType="PROMISED"),
    ]
    response = mock.call("POST", ALLOCATE, body=body)
    assert response.status_code == 207
    answer = exact(response)
    assert (answer["total"], answer["success"], answer["failures"]) == (5, 2, 3)
    outcome = [
        (item["status"], item["httpStatus"], [e["code"] for e in item.get("errors", [])])
        for item in answer["data"]
    ]
    assert outcome == [
        ("SUCCESS", 200, []),
        ("FAILURE", 409, [6006]),
        ("FAILURE", 400, [8015]),
        ("FAILURE", 400, [8136]),
        ("SUCCESS", 200, []),
    ]
    assert [item["entityId"] for item in answer["data"]][1:3] == [SEED_USER, -1]
    assert answer["data"][3]["errors"][0]["message"] == "Award Strategy not found with id : 99"
    assert balance(mock)["mainPoints"] == Decimal("1180.000")  # once, not twice
    several = {"identifierName": "id", "identifierValue": str(SEVERAL), "source": "INSTORE"}
    assert exact(mock.call("GET", BALANCE, several))["promisedPointsBreakup"][
        "delayedAccrualPoints"
    ] == Decimal("507.500")
    none = mock.call("POST", ALLOCATE, body=[allocation("42")])
    assert none.status_code == 207 and none.json()["success"] == 0


@pytest.mark.parametrize(
    ("body", "expected", "message"),
    [
        ([allocation()] * 11, 9150, "manualCurrencyAllocate takes 1 to 10 items, got 11"),
        ([], 9150, "manualCurrencyAllocate takes 1 to 10 items, got 0"),
        ({"items": []}, 9110, "Input is invalid: the body must be a JSON array, got an object"),
        (
            [allocation(), {**allocation(), "programId": "973"}],
            9110,
            "Input is invalid: [1].programId: '973' is not of type 'integer'",
        ),
    ],
)
def test_a_call_of_the_wrong_shape_issues_nothing(
    mock: LiveMock, body: Any, expected: int, message: str
) -> None:
    response = mock.call("POST", ALLOCATE, body=body)
    assert (response.status_code, code(response)) == (400, expected)
    assert response.json()["errors"][0]["message"] == message
    assert mock.client.get(f"/__admin/customers/{SEED_USER}").json()["ledger"] == []


def test_the_balance_and_the_ledger_agree_after_every_kind_of_change(mock: LiveMock) -> None:
    assert mock.deduct({**POINTS, "pointsToBeAdjusted": "0.25"}).status_code == 200
    assert mock.call("POST", LOOKUP_DEDUCT, MOBILE, {**POINTS, "pointsToBeAdjusted": "7.5"})
    assert mock.call("POST", ALLOCATE, body=[allocation(), allocation(currencyType="PROMISED")])
    coins = {"alternateCurrencyName": "coins", "valueToBeAdjusted": "0.5", "reasonOfReturn": "r"}
    assert mock.call("POST", LOOKUP_DEDUCT, MOBILE, coins).status_code == 200
    shown = balance(mock)
    assert shown["mainPoints"] == Decimal("1172.250")  # 680 - 0.25 - 7.5 + 500
    assert shown["promisedPoints"] == Decimal("500.000")
    entries = ledger(mock, limit=100, includeAlternateCurrencies="true")["ledgerEntries"]
    totals: dict[tuple[str, str], Decimal] = {}
    for event in entries:
        for row in event["entryDetails"]:
            sign = -1 if row["ledgerEntryType"] == "DEBIT" else 1
            key = (row.get("alternateCurrencyName", "points"), row["pointsCategory"])
            totals[key] = totals.get(key, Decimal(0)) + sign * Decimal(row["points"])
    assert totals[("points", "Main")] == shown["mainPoints"]
    assert totals[("points", "DelayedAccrualPointCategory")] == shown["promisedPoints"]
    assert totals[("coins", "Main")] == Decimal("80155.000")
    ids = [event["eventLogId"] for event in entries]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids) == 6


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"limit": 101}, 11029),
        ({"limit": 0}, 9110),
        ({"offset": 1}, 11003),
        ({"ledgerEntryType": "REFUND"}, 11007),
        ({"pointCategoryType": "MAIN"}, 11008),
        ({"type": "FLEET"}, 9151),
        ({"startDate": "2026-01-01T00:00:00", "endDate": "2025-01-01T00:00:00"}, 9153),
        ({"startDate": "2026-02-30T00:00:00"}, 9110),
        ({"identifierName": "userId"}, 8013),
        ({"identifierValue": "1"}, 8015),
    ],
)
def test_the_ledger_refuses_with_the_documented_codes(
    mock: LiveMock, params: dict, expected: int
) -> None:
    response = mock.call("GET", LEDGER, {**MOBILE, **params})
    assert (response.status_code, code(response)) == (400, expected), response.text

"""The mock's behaviour over HTTP, the same on every store (memory, sqlite, redis).

``mock`` is served once per kind of store (see conftest), so each test here runs on
each; every test starts from the default fixtures with no deduction made.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import yaml
from support import SEED_USER, LiveMock

from mock_server.data import DEFAULT_FIXTURES

REASON = "Extra points were issued"
SEVERAL = 388034472  # 5 REGULAR, 7.5 PROMISED, 12.25 EXTERNAL_TRIGGER_BASED, 3 coins, 1.5 DocCoin


def view(mock: LiveMock, user_id: int = SEED_USER) -> dict[str, Any]:
    response = mock.client.get(f"/__admin/customers/{user_id}")
    assert response.status_code == 200, response.text
    return response.json()


def balance(mock: LiveMock, name: str, user_id: int = SEED_USER, program_id: int = 973) -> str:
    return next(
        row["balance"]
        for row in view(mock, user_id)["balances"]
        if row["name"] == name and row["programId"] == program_id
    )


def code(response: httpx.Response) -> int:
    return response.json()["errors"][0]["code"]


def put_fixtures(mock: LiveMock, text: str, content_type: str) -> httpx.Response:
    return mock.client.put(
        "/__admin/fixtures", content=text, headers={"Content-Type": content_type}
    )


def test_health_names_the_store(mock: LiveMock, store_url: str) -> None:
    health = mock.client.get("/__admin/health").json()
    assert health == {"status": "ok", "customers": 5, "store": store_url.split(":")[0]}


def test_a_deduction_answers_the_new_balance_and_is_in_the_ledger(mock: LiveMock) -> None:
    response = mock.deduct({"pointsToBeAdjusted": "10", "reasonOfReturn": REASON})
    assert response.status_code == 200
    assert response.json() == {
        "status": "success",
        "pointsAvailable": "670.000",
        "message": "points deducted successfully for the user ",
        "warnings": [],
    }
    customer = view(mock)
    assert balance(mock, "REGULAR") == "670.000"
    [entry] = customer["ledger"]
    assert entry.pop("time").endswith("+00:00")
    assert isinstance(entry.pop("eventLogId"), int)
    assert entry == {
        "direction": "DEBIT",
        "source": "INSTORE",
        "reason": REASON,
        "programId": 973,
        "kind": "points",
        "name": "REGULAR",
        "amount": "10",
        "balanceAfter": "670.000",
    }


def test_deductions_add_up_exactly_and_the_ledger_is_oldest_first(mock: LiveMock) -> None:
    for amount in ("0.1", "0.2", "100.00"):
        assert mock.deduct({"pointsToBeAdjusted": amount, "reasonOfReturn": REASON}).is_success
    ledger = view(mock)["ledger"]
    assert [(row["amount"], row["balanceAfter"]) for row in ledger] == [
        ("0.1", "679.900"),
        ("0.2", "679.700"),
        ("100.00", "579.700"),
    ]
    assert [row["time"] for row in ledger] == sorted(row["time"] for row in ledger)


def test_overdraft_is_8907_and_deducts_nothing(mock: LiveMock) -> None:
    response = mock.deduct({"pointsToBeAdjusted": "680.01", "reasonOfReturn": REASON})
    assert response.status_code == 400 and code(response) == 8907
    assert balance(mock, "REGULAR") == "680.000" and view(mock)["ledger"] == []
    assert mock.deduct({"pointsToBeAdjusted": 680, "reasonOfReturn": REASON}).is_success
    assert code(mock.deduct({"pointsToBeAdjusted": 1, "reasonOfReturn": REASON})) == 8907
    assert balance(mock, "REGULAR") == "0.000"


def test_too_many_decimals_is_8906(mock: LiveMock) -> None:
    response = mock.deduct({"pointsToBeAdjusted": "1.001", "reasonOfReturn": REASON})
    assert response.status_code == 400 and code(response) == 8906
    assert response.json()["errors"][0]["message"] == (
        "decimal places passed: 3 is greater than the configured round decimals: 2 "
        "for programId: 973"
    )
    assert view(mock)["ledger"] == []


def test_a_currency_deduction_touches_only_that_currency(mock: LiveMock) -> None:
    body = {"alternateCurrencyName": "coins", "valueToBeAdjusted": "0.5", "reasonOfReturn": REASON}
    response = mock.deduct(body, user_id=SEVERAL)
    assert response.status_code == 200
    assert response.json()["valueAvailable"] == "2.500"
    assert response.json()["message"] == "coins deducted successfully for the user "
    balances = {row["name"]: row["balance"] for row in view(mock, SEVERAL)["balances"]}
    assert balances == {
        "REGULAR": "5.000",
        "PROMISED": "7.500",
        "EXTERNAL_TRIGGER_BASED": "12.250",
        "coins": "2.500",
        "DocCoin": "1.500",
    }
    assert code(mock.deduct({**body, "valueToBeAdjusted": "2.51"}, user_id=SEVERAL)) == 8907


def test_refusals_keep_their_codes(mock: LiveMock) -> None:
    body = {"pointsToBeAdjusted": "1", "reasonOfReturn": REASON}
    assert code(mock.deduct(body, user_id=388034470)) == 8015
    assert code(mock.deduct(body, user_id=388034469)) == 1218
    assert code(mock.deduct({**body, "pointsToBeAdjusted": "0"})) == 8888
    assert code(mock.deduct({**body, "alternateCurrencyName": "gems", "valueToBeAdjusted": 1})) == (
        8911
    )
    assert mock.deduct(body, user_id=388034470, source="ALL").is_success


def test_reset_forgets_every_deduction(mock: LiveMock) -> None:
    assert mock.deduct({"pointsToBeAdjusted": "10", "reasonOfReturn": REASON}).is_success
    assert mock.deduct({"pointsToBeAdjusted": "1", "reasonOfReturn": REASON}, SEVERAL).is_success
    response = mock.client.post("/__admin/reset")
    assert response.json() == {"status": "reset", "customers": 5}
    assert balance(mock, "REGULAR") == "680.000" and view(mock)["ledger"] == []
    assert balance(mock, "REGULAR", SEVERAL) == "5.000" and view(mock, SEVERAL)["ledger"] == []


def one_customer_json(regular: str) -> str:
    """The default fixtures as JSON text, with one customer who has ``regular`` points
    (written as a JSON number, exactly as given)."""
    document = yaml.safe_load(DEFAULT_FIXTURES.read_text(encoding="utf-8"))
    document["customers"] = [
        {
            "userId": 42,
            "sources": ["INSTORE"],
            "enrollments": [{"programId": 973, "points": {"REGULAR": "REGULAR_POINTS"}}],
        }
    ]
    document["pointsAwards"] = []
    return json.dumps(document, indent=2).replace('"REGULAR_POINTS"', regular)


def test_replacing_the_fixtures_with_json_keeps_amounts_exact(mock: LiveMock) -> None:
    assert mock.deduct({"pointsToBeAdjusted": "10", "reasonOfReturn": REASON}).is_success
    response = put_fixtures(mock, one_customer_json("0.3"), "application/json")
    assert response.json() == {"status": "replaced", "customers": 1}
    assert mock.client.get(f"/__admin/customers/{SEED_USER}").status_code == 404
    assert code(mock.deduct({"pointsToBeAdjusted": "1", "reasonOfReturn": REASON})) == 8015
    response = mock.deduct({"pointsToBeAdjusted": "0.1", "reasonOfReturn": REASON}, user_id=42)
    assert response.json()["pointsAvailable"] == "0.200"
    assert balance(mock, "REGULAR", 42) == "0.200"


def test_replacing_the_fixtures_with_yaml_resets_the_state(mock: LiveMock) -> None:
    assert mock.deduct({"pointsToBeAdjusted": "10", "reasonOfReturn": REASON}).is_success
    text = DEFAULT_FIXTURES.read_text(encoding="utf-8").replace("REGULAR: 680,", "REGULAR: 90,")
    assert put_fixtures(mock, text, "application/yaml").status_code == 200
    assert balance(mock, "REGULAR") == "90.000" and view(mock)["ledger"] == []
    response = mock.deduct({"pointsToBeAdjusted": "10", "reasonOfReturn": REASON})
    assert response.json()["pointsAvailable"] == "80.000"


def test_a_refused_fixture_changes_nothing(mock: LiveMock) -> None:
    assert mock.deduct({"pointsToBeAdjusted": "10", "reasonOfReturn": REASON}).is_success
    text = DEFAULT_FIXTURES.read_text(encoding="utf-8").replace(
        "roundDecimals: 2", "roundDecimals: 7"
    )
    response = put_fixtures(mock, text, "application/yaml")
    assert response.status_code == 400 and code(response) == 9118
    assert balance(mock, "REGULAR") == "670.000" and len(view(mock)["ledger"]) == 1


def test_oauth_tokens_and_users_come_from_the_world_in_force(mock: LiveMock) -> None:
    token = mock.client.post(
        "/v3/oauth/token/generate", json={"key": "doc-client", "secret": "doc-secret"}
    ).json()["data"]["accessToken"]
    body = {"pointsToBeAdjusted": "1", "reasonOfReturn": REASON}
    response = mock.deduct(body, auth=None, headers={"X-CAP-API-OAUTH-TOKEN": token})
    assert response.json()["pointsAvailable"] == "679.000"
    text = DEFAULT_FIXTURES.read_text(encoding="utf-8").replace("server123", "changed456")
    assert put_fixtures(mock, text, "application/yaml").status_code == 200
    assert mock.deduct(body).status_code == 401
    assert mock.deduct(body, auth=("store.server", "changed456")).is_success


def test_a_token_expires_by_the_mocks_clock(mock: LiveMock) -> None:
    token = mock.client.post(
        "/v3/oauth/token/generate", json={"key": "doc-client", "secret": "doc-secret"}
    ).json()["data"]["accessToken"]
    body = {"pointsToBeAdjusted": "1", "reasonOfReturn": REASON}
    mock.clock.now += 300
    try:
        response = mock.deduct(body, auth=None, headers={"X-CAP-API-OAUTH-TOKEN": token})
    finally:
        mock.clock.now -= 300
    assert response.status_code == 401 and code(response) == 9115


@pytest.mark.parametrize("user_id", [1, 2**63 - 1])
def test_the_admin_view_of_an_unknown_customer_is_404(mock: LiveMock, user_id: int) -> None:
    response = mock.client.get(f"/__admin/customers/{user_id}")
    assert response.status_code == 404 and code(response) == 9111

"""The admin API: reset, inspect, replace the world, health, and its token."""

from __future__ import annotations

import json

import httpx
import pytest
from support import SEED_USER, LiveMock

from mock_server.app import create_app
from mock_server.data import DEFAULT_FIXTURES
from mock_server.fixtures import load_fixtures

BODY = {"pointsToBeAdjusted": "10", "reasonOfReturn": "Extra points were issued"}


def test_health(mock: LiveMock):
    health = mock.client.get("/__admin/health").json()
    assert (health["status"], health["customers"]) == ("ok", 5)


def test_customer_view_shows_every_balance_and_the_ledger(mock: LiveMock):
    mock.deduct(BODY)
    view = mock.client.get(f"/__admin/customers/{SEED_USER}").json()
    assert view["userId"] == SEED_USER and view["sources"] == ["INSTORE"]
    balances = {(b["programId"], b["kind"], b["name"]): b["balance"] for b in view["balances"]}
    assert balances == {
        (973, "points", "REGULAR"): "670.000",
        (973, "points", "PROMISED"): "0.000",
        (973, "points", "EXTERNAL_TRIGGER_BASED"): "0.000",
        (973, "currency", "coins"): "80155.500",
        (973, "currency", "DocCoin"): "80155.500",
    }
    (entry,) = view["ledger"]
    assert entry["reason"] == "Extra points were issued" and entry["source"] == "INSTORE"
    assert (entry["programId"], entry["kind"], entry["name"]) == (973, "points", "REGULAR")
    assert (entry["amount"], entry["balanceAfter"]) == ("10", "670.000")
    assert entry["time"].startswith("2027-01-15T")


def test_unknown_customer_view_is_404_in_the_envelope(mock: LiveMock):
    response = mock.client.get("/__admin/customers/42")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == 9111


def test_reset_restores_balances_and_clears_the_ledger(mock: LiveMock):
    assert mock.deduct(BODY).json()["pointsAvailable"] == "670.000"
    assert mock.client.post("/__admin/reset").json() == {"status": "reset", "customers": 5}
    assert mock.deduct(BODY).json()["pointsAvailable"] == "670.000"
    view = mock.client.get(f"/__admin/customers/{SEED_USER}").json()
    assert len(view["ledger"]) == 1


def test_replace_fixtures_with_json(mock: LiveMock, world_text):
    document = load_fixtures(DEFAULT_FIXTURES).document
    document["customers"] = document["customers"][:1]
    document["pointsAwards"] = [a for a in document["pointsAwards"] if a["userId"] == SEED_USER]
    body = json.dumps(document, default=float)
    response = mock.client.put(
        "/__admin/fixtures", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.json() == {"status": "replaced", "customers": 1}
    assert mock.deduct(BODY, user_id=388034470, source="ALL").json()["errors"][0]["code"] == 8015


def test_replace_fixtures_resets_balances(mock: LiveMock, world_text):
    mock.deduct(BODY)
    mock.put_fixtures(world_text)
    assert mock.deduct(BODY).json()["pointsAvailable"] == "670.000"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("programs: [", "invalid YAML"),
        ("[]", "top level"),
        ("programs: []\ncustomers: []\nbogus: 1", "bogus"),
    ],
)
def test_a_bad_world_is_refused_and_nothing_changes(mock: LiveMock, text, problem):
    mock.deduct(BODY)
    response = mock.client.put(
        "/__admin/fixtures", content=text, headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["code"] == 9118 and problem in error["message"]
    assert error["message"].startswith("Fixtures refused: PUT /__admin/fixtures")
    assert mock.deduct(BODY).json()["pointsAvailable"] == "660.000"


def test_a_json_body_that_is_not_an_object_is_refused(mock: LiveMock):
    response = mock.client.put("/__admin/fixtures", json=[1, 2])
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == 9101


def test_admin_token_is_demanded_when_configured(served):
    url = served(create_app(load_fixtures(DEFAULT_FIXTURES), admin_token="s3cret"))
    with httpx.Client(base_url=url) as client:
        for method, path in [
            ("POST", "/__admin/reset"),
            ("GET", f"/__admin/customers/{SEED_USER}"),
            ("GET", "/__admin/fixtures"),
            ("PUT", "/__admin/fixtures"),
        ]:
            response = client.request(method, path, json={})
            assert response.status_code == 401, path
            assert response.json()["errors"][0]["code"] == 9117
            wrong = client.request(method, path, json={}, headers={"X-CAPMOCK-ADMIN-TOKEN": "nope"})
            assert wrong.status_code == 401
        ok = client.post("/__admin/reset", headers={"X-CAPMOCK-ADMIN-TOKEN": "s3cret"})
        assert ok.status_code == 200
        assert client.get("/__admin/health").status_code == 200

"""Sessions: one mock, many isolated tests, on every store. A request naming a session
sees only its world, balances, ledger and journal; an unknown one is refused, never
served from the default world; the 200-way race is exact inside a session."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from decimal import Decimal
from pathlib import Path

import httpx
import yaml
from support import (
    ALLOCATE,
    BALANCE,
    DEDUCT,
    ISSUE,
    LEDGER,
    LOOKUP_DEDUCT,
    MOBILE,
    SEED_USER,
    LiveMock,
    basic_header,
)

from mock_server.app import create_app
from mock_server.data import DEFAULT_FIXTURES
from mock_server.fixtures import load_fixtures
from mock_server.stores.open import open_store

HUNDRED = Path(__file__).parent / "data" / "hundred.yaml"
BODY = {"pointsToBeAdjusted": "10", "reasonOfReturn": "Extra points were issued"}
HEADER = "X-Capmock-Session"


def open_session(client: httpx.Client, **body: object) -> str:
    response = client.post("/__admin/sessions", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def regular(client: httpx.Client, session: str | None, user_id: int = SEED_USER) -> str:
    headers = {HEADER: session} if session else {}
    view = client.get(f"/__admin/customers/{user_id}", headers=headers)
    assert view.status_code == 200, view.text
    return next(b["balance"] for b in view.json()["balances"] if b["name"] == "REGULAR")


def test_a_session_sees_only_its_own_state(mock: LiveMock) -> None:
    first, second = open_session(mock.client), open_session(mock.client)
    assert mock.deduct(BODY, headers={HEADER: first}).json()["pointsAvailable"] == "670.000"
    assert mock.deduct(BODY, headers={HEADER: first}).json()["pointsAvailable"] == "660.000"
    assert mock.deduct(BODY, headers={HEADER: second}).json()["pointsAvailable"] == "670.000"
    assert mock.deduct(BODY).json()["pointsAvailable"] == "670.000"
    assert (regular(mock.client, first), regular(mock.client, second)) == ("660.000", "670.000")
    assert regular(mock.client, None) == "670.000"
    ledger = mock.client.get(f"/__admin/customers/{SEED_USER}", headers={HEADER: first})
    assert [e["balanceAfter"] for e in ledger.json()["ledger"]] == ["670.000", "660.000"]
    journal = mock.client.get("/__admin/requests", params={"session": first}).json()
    assert [e["session"] for e in journal["requests"]] == [first, first]


def main_points(mock: LiveMock, session: str | None) -> str:
    headers = {HEADER: session} if session else {}
    response = mock.call("GET", BALANCE, MOBILE, headers=headers)
    assert response.status_code == 200, response.text
    found = re.search(r'"mainPoints": ([0-9.]+)', response.text)
    assert found, response.text
    return found[1]


def test_every_endpoint_serves_the_sessions_world(mock: LiveMock) -> None:
    """An allocation, a deduction by mobile, the balance and the ledger in a session: the
    session's changes show only in it, the default world's only outside it."""
    session = open_session(mock.client)
    inside = {HEADER: session}
    issued = mock.call("POST", ALLOCATE, body=[ISSUE], headers=inside)
    assert issued.status_code == 200, issued.text
    deducted = mock.call("POST", LOOKUP_DEDUCT, MOBILE, BODY, headers=inside)
    assert deducted.json()["pointsAvailable"] == "1170.000"
    assert mock.call("POST", LOOKUP_DEDUCT, MOBILE, BODY).json()["pointsAvailable"] == "670.000"
    assert (main_points(mock, session), main_points(mock, None)) == ("1170.000", "670.000")
    events = mock.call("GET", LEDGER, MOBILE, headers=inside).json()["ledgerEntries"]
    assert [(e["eventName"], e["netPointsOnEvent"]) for e in events] == [
        ("ManualPointsAdjustment", "-10.000"),
        ("BulkAllocatePoints", "500.000"),
        ("CustomerRegistration", "680.000"),
    ]
    outside = mock.call("GET", LEDGER, MOBILE).json()["ledgerEntries"]
    assert [e["eventName"] for e in outside] == ["ManualPointsAdjustment", "CustomerRegistration"]


def test_every_endpoint_refuses_an_unknown_session(mock: LiveMock) -> None:
    named = {HEADER: "never-made"}
    for method, path, params, body in (
        ("POST", LOOKUP_DEDUCT, MOBILE, BODY),
        ("GET", BALANCE, MOBILE, None),
        ("GET", LEDGER, MOBILE, None),
        ("POST", ALLOCATE, None, [ISSUE]),
    ):
        response = mock.call(method, path, params, body, headers=named)
        assert (response.status_code, response.json()["errors"][0]["code"]) == (400, 9140), path
    assert main_points(mock, None) == "680.000"


def test_an_unknown_session_is_refused_never_the_default_world(mock: LiveMock) -> None:
    session = open_session(mock.client)
    assert mock.client.delete(f"/__admin/sessions/{session}").status_code == 200
    for name in (session, "never-made"):
        response = mock.deduct(BODY, headers={HEADER: name})
        assert response.status_code == 400
        assert response.json()["errors"][0] == {
            "status": False,
            "code": 9140,
            "message": f"No session {name}: it expired, was deleted or never existed",
        }
        view = mock.client.get(f"/__admin/customers/{SEED_USER}", headers={HEADER: name})
        assert view.status_code == 400 and view.json()["errors"][0]["code"] == 9140
    assert regular(mock.client, None) == "680.000"
    assert mock.client.delete(f"/__admin/sessions/{session}").status_code == 404
    assert mock.client.post(f"/__admin/sessions/{session}/reset").status_code == 404


def test_a_session_with_fixtures_of_its_own(mock: LiveMock) -> None:
    document = yaml.safe_load(HUNDRED.read_text(encoding="utf-8"))
    session = open_session(mock.client, fixtures=document, ttl=600)
    load = {"Authorization": basic_header("load.tester", "load123"), HEADER: session}
    body = {"pointsToBeAdjusted": 1, "reasonOfReturn": "own world"}
    answered = mock.client.post(
        DEDUCT.format(user_id=1001), params={"source": "INSTORE"}, json=body, headers=load
    )
    assert answered.json()["pointsAvailable"] == "99.000"
    # its users and customers are not the default world's, and the other way round
    assert mock.deduct(body, user_id=1001, auth=("load.tester", "load123")).status_code == 401
    assert mock.deduct(body, headers={HEADER: session}).status_code == 401
    token = mock.client.post(
        "/v3/oauth/token/generate",
        json={"key": "doc-client", "secret": "doc-secret"},
        headers={HEADER: session},
    )
    assert token.status_code == 401
    assert regular(mock.client, session, 1001) == "99.000"
    reset = mock.client.post(f"/__admin/sessions/{session}/reset")
    assert reset.json() == {"status": "reset", "id": session, "customers": 1}
    assert regular(mock.client, session, 1001) == "100.000"
    journal = mock.client.get("/__admin/requests", params={"session": session}).json()
    assert journal["requests"] == []


def test_bad_fixtures_for_a_session_are_refused(mock: LiveMock) -> None:
    response = mock.client.post("/__admin/sessions", json={"fixtures": {"programs": []}})
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == 9118


def test_the_admin_reset_takes_a_session(mock: LiveMock) -> None:
    session = open_session(mock.client)
    mock.deduct(BODY, headers={HEADER: session})
    mock.deduct(BODY)
    assert mock.client.post("/__admin/reset", headers={HEADER: session}).status_code == 200
    assert (regular(mock.client, session), regular(mock.client, None)) == ("680.000", "670.000")


def test_a_session_expires(mock: LiveMock) -> None:
    session = open_session(mock.client, ttl=1)
    assert mock.deduct(BODY, headers={HEADER: session}).status_code == 200
    time.sleep(1.2)
    assert mock.deduct(BODY, headers={HEADER: session}).json()["errors"][0]["code"] == 9140


def test_max_sessions_caps_them_with_429(fresh_store_url: str, served) -> None:
    store = open_store(fresh_store_url, load_fixtures(DEFAULT_FIXTURES))
    url = served(create_app(store=store, max_sessions=2))
    with httpx.Client(base_url=url) as client:
        first = open_session(client)
        open_session(client)
        refused = client.post("/__admin/sessions", json={})
        assert refused.status_code == 429
        assert refused.json()["errors"][0] == {
            "status": False,
            "code": 9141,
            "message": "Too many sessions: 2 are open, the most this mock keeps",
        }
        assert client.delete(f"/__admin/sessions/{first}").status_code == 200
        open_session(client)


async def _race(url: str, session: str) -> list[httpx.Response]:
    headers = {"Authorization": basic_header("load.tester", "load123"), HEADER: session}
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        return await asyncio.gather(
            *(
                client.post(
                    DEDUCT.format(user_id=1001),
                    params={"source": "INSTORE"},
                    json={"pointsToBeAdjusted": 1, "reasonOfReturn": f"race {n}"},
                    headers=headers,
                )
                for n in range(200)
            )
        )


def test_the_race_is_exact_inside_a_session_and_others_are_unaffected(
    fresh_store_url: str, served
) -> None:
    store = open_store(fresh_store_url, load_fixtures(HUNDRED))
    url = served(create_app(store=store))
    with httpx.Client(base_url=url) as client:
        racing, bystander = open_session(client), open_session(client)
        responses = asyncio.run(_race(url, racing))
        succeeded = [r.json()["pointsAvailable"] for r in responses if r.status_code == 200]
        refused = [r.json()["errors"][0]["code"] for r in responses if r.status_code != 200]
        assert sorted(succeeded, key=Decimal) == [f"{n}.000" for n in range(100)]
        assert refused == [8907] * 100
        assert regular(client, racing, 1001) == "0.000"
        assert regular(client, bystander, 1001) == "100.000"
        assert regular(client, None, 1001) == "100.000"
        count = client.post(
            "/__admin/requests/count", json={"match": {"session": racing, "status": 200}}
        )
        assert count.json() == {"count": 100}


def test_a_sqlite_file_from_before_sessions_keeps_its_state(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    text = HUNDRED.read_text(encoding="utf-8")
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            CREATE TABLE fixture (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER
                NOT NULL, text TEXT NOT NULL) STRICT;
            CREATE TABLE balance (user_id INTEGER NOT NULL, program_id INTEGER NOT NULL,
                kind TEXT NOT NULL, name TEXT NOT NULL, amount TEXT NOT NULL,
                PRIMARY KEY (user_id, program_id, kind, name)) STRICT, WITHOUT ROWID;
            CREATE TABLE ledger (seq INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, time TEXT
                NOT NULL, source TEXT NOT NULL, reason TEXT NOT NULL, program_id INTEGER NOT
                NULL, kind TEXT NOT NULL, name TEXT NOT NULL, amount TEXT NOT NULL,
                balance_after TEXT NOT NULL) STRICT;
            CREATE INDEX ledger_by_user ON ledger (user_id, seq);
            INSERT INTO balance VALUES (1001, 1, 'points', 'REGULAR', '58');
            INSERT INTO ledger VALUES (1, 1001, '2026-01-01T00:00:00+00:00', 'INSTORE', 'old',
                1, 'points', 'REGULAR', '42', '58');
            PRAGMA user_version = 1;
            """
        )
        db.execute("INSERT INTO fixture VALUES (1, 1, ?)", (text,))
    store = open_store(f"sqlite:///{path}", load_fixtures(HUNDRED))
    try:
        assert store.resumed
        balances = asyncio.run(store.balances(1001))
        assert [str(amount) for amount in balances.values()] == ["58"]
        assert [entry.reason for entry in asyncio.run(store.ledger(1001))] == ["old"]
    finally:
        asyncio.run(store.close())

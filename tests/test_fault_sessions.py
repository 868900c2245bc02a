"""Faults and sessions, faults and the journal, on every store: a session's fault acts on
its calls only and goes with it; the rate limit counts each session apart; every call a
fault acted on is in the journal with the fault's id, an unanswered one too."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from support import DEDUCT, SEED_USER, LiveMock, basic_header

from capmock.testing import CapmockServer

HEADER = "X-Capmock-Session"
BODY = {"pointsToBeAdjusted": "10", "reasonOfReturn": "Extra points were issued"}
AUTH = {"Authorization": basic_header("store.server", "server123")}


@pytest.fixture
def faulty(mock: LiveMock) -> Iterator[LiveMock]:
    yield mock
    for path in ("/__admin/faults", "/__admin/rate-limit"):
        mock.client.delete(path).raise_for_status()


def open_session(mock: LiveMock) -> str:
    response = mock.client.post("/__admin/sessions", json={})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def send(mock: LiveMock, session: str | None, timeout: float = 10) -> httpx.Response:
    """One deduction on a connection of its own: a fault may break it."""
    headers = {**AUTH, **({HEADER: session} if session else {})}
    with httpx.Client(base_url=mock.url, timeout=timeout) as client:
        return client.post(
            DEDUCT.format(user_id=SEED_USER),
            params={"source": "INSTORE"},
            json=BODY,
            headers=headers,
        )


def journal(mock: LiveMock, **filters: str) -> list[dict]:
    """The journal's entries, oldest first."""
    answer = mock.client.get("/__admin/requests", params=filters)
    assert answer.status_code == 200, answer.text
    return list(reversed(answer.json()["requests"]))


def error_of(response: httpx.Response) -> dict:
    return response.json()["errors"][0]


def test_a_sessions_fault_acts_on_its_calls_only(faulty: LiveMock):
    first, second = open_session(faulty), open_session(faulty)
    fault = {"action": {"type": "code", "code": 8907}}
    added = faulty.client.post("/__admin/faults", json=fault, headers={HEADER: first})
    assert added.status_code == 201, added.text
    assert added.json()["match"] == {"session": first}
    refused = send(faulty, first)
    assert (refused.status_code, error_of(refused)["code"]) == (400, 8907)
    assert send(faulty, second).json()["pointsAvailable"] == "670.000"
    assert send(faulty, None).json()["pointsAvailable"] == "670.000"
    shown = faulty.client.get("/__admin/faults", headers={HEADER: second}).json()["faults"]
    assert shown == []
    (mine,) = faulty.client.get("/__admin/faults", headers={HEADER: first}).json()["faults"]
    assert (mine["id"], mine["matched"]) == (added.json()["id"], 1)


def test_a_session_takes_its_faults_with_it(faulty: LiveMock):
    session, other = open_session(faulty), open_session(faulty)
    everyone = faulty.client.post("/__admin/faults", json={"action": {"type": "empty"}}).json()
    for name in (session, session, other):
        added = faulty.client.post(
            "/__admin/faults", json={"action": {"type": "reset"}}, headers={HEADER: name}
        )
        assert added.status_code == 201, added.text
    cleared = faulty.client.delete("/__admin/faults", headers={HEADER: other})
    assert cleared.json() == {"removed": 1}
    assert faulty.client.delete(f"/__admin/sessions/{session}").status_code == 200
    (left,) = faulty.client.get("/__admin/faults").json()["faults"]
    assert left["id"] == everyone["id"]


def test_the_faults_api_refuses_an_unknown_session_or_another_one(faulty: LiveMock):
    fault = {"action": {"type": "reset"}}
    for method in ("GET", "POST", "DELETE"):
        refused = faulty.client.request(
            method,
            "/__admin/faults",
            json=fault if method == "POST" else None,
            headers={HEADER: "never-made"},
        )
        assert refused.status_code == 400
        assert error_of(refused) == {
            "status": False,
            "code": 9140,
            "message": "No session never-made: it expired, was deleted or never existed",
        }
    session = open_session(faulty)
    other = {**fault, "match": {"session": "someone-else"}}
    refused = faulty.client.post("/__admin/faults", json=other, headers={HEADER: session})
    assert refused.status_code == 400
    assert error_of(refused)["code"] == 9110
    assert "match.session 'someone-else' is not the session" in error_of(refused)["message"]
    assert faulty.client.get("/__admin/faults").json()["faults"] == []


def test_a_call_a_fault_dropped_after_the_commit_is_in_the_journal(faulty: LiveMock):
    """The double deduction, as the journal tells it: the first call was applied, then its
    connection was reset (no answer, marked with the fault); the retry was applied too."""
    session = open_session(faulty)
    fault = {"action": {"type": "reset"}, "phase": "after_commit", "times": 1}
    added = faulty.client.post("/__admin/faults", json=fault, headers={HEADER: session}).json()
    with pytest.raises(httpx.TransportError):
        send(faulty, session)
    assert send(faulty, session).json()["pointsAvailable"] == "660.000"
    dropped, retried = journal(faulty, session=session)
    assert (dropped["fault"], dropped["status"], dropped["outcome"]) == (
        added["id"],
        None,
        "faulted",
    )
    assert dropped["response"] == ""
    assert dropped["explanation"].startswith("success: ")
    assert dropped["explanation"].endswith(
        f"; then fault {added['id']} (reset, after_commit) replaced the answer: what was "
        "applied stays applied"
    )
    assert (retried["fault"], retried["status"], retried["outcome"]) == (None, 200, "success")
    assert [e["id"] for e in journal(faulty, fault=added["id"])] == [dropped["id"]]


def test_a_call_a_fault_answered_before_the_rules_is_in_the_journal(faulty: LiveMock):
    session = open_session(faulty)
    fault = {"action": {"type": "code", "code": 8907}, "times": 1}
    added = faulty.client.post("/__admin/faults", json=fault, headers={HEADER: session}).json()
    refused = send(faulty, session)
    (entry,) = journal(faulty, session=session)
    assert entry["id"] == refused.headers["x-capmock-request-id"]
    assert (entry["status"], entry["code"], entry["outcome"]) == (400, 8907, "faulted")
    assert entry["response"] == refused.text
    assert entry["explanation"] == (
        f"fault {added['id']} (code 8907, before) acted before the rules: nothing was applied"
    )
    assert entry["fault"] == added["id"]


def test_a_rate_limit_counts_each_session_apart(faulty: LiveMock):
    faulty.client.put("/__admin/rate-limit", json={"requests": 1, "seconds": 60})
    first, second = open_session(faulty), open_session(faulty)
    assert [send(faulty, first).status_code for _ in range(2)] == [200, 429]
    assert [send(faulty, second).status_code for _ in range(2)] == [200, 429]
    assert [send(faulty, None).status_code for _ in range(2)] == [200, 429]
    (_, limited) = journal(faulty, session=first)
    assert (limited["status"], limited["code"], limited["outcome"]) == (429, 9193, "refused")
    assert limited["explanation"] == (
        f"rate limit 1 per minute per API key: used up by user:store.server in session {first}"
    )


def test_the_plugins_session_adds_a_fault_of_its_own(faulty: LiveMock):
    server = CapmockServer(faulty.url)
    try:
        with server.session() as session:
            added = session.fault("reset", phase="after_commit", times=1)
            assert added["match"] == {"session": session.id}
            with pytest.raises(httpx.TransportError):
                send(faulty, session.id)
            assert send(faulty, session.id).json()["pointsAvailable"] == "660.000"
            forced = session.fault({"type": "status", "status": 503}, times=1)
            assert send(faulty, session.id).status_code == 503
            assert session.count(operation="deductPoints") == 3
            assert forced["id"] != added["id"]
            session.fault("empty")
        assert faulty.client.get("/__admin/faults").json()["faults"] == []
    finally:
        server.close()

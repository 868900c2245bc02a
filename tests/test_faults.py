"""Faults: every action on real sockets, on every store and both lanes; the double
deduction a naive retry makes; forced codes byte for byte; the admin API untouched."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
import uvicorn
from support import DEDUCT, SEED_USER, LiveMock, basic_header, start_server

from mock_server.app import create_app
from mock_server.data import DEFAULT_FIXTURES
from mock_server.errors import Code
from mock_server.fixtures import load_fixtures

BODY = {"pointsToBeAdjusted": "10", "reasonOfReturn": "Extra points were issued"}
OPENING = Decimal("680")
AUTH = {"Authorization": basic_header("store.server", "server123")}


@pytest.fixture
def faulty(mock: LiveMock) -> Iterator[LiveMock]:
    """The session's mock, with no fault, latency or rate limit left behind."""
    started = mock.clock.now
    yield mock
    mock.clock.now = started
    for path in ("/__admin/faults", "/__admin/latency", "/__admin/rate-limit"):
        mock.client.delete(path).raise_for_status()


def add(mock: LiveMock, fault: dict) -> dict:
    response = mock.client.post("/__admin/faults", json=fault)
    assert response.status_code == 201, response.text
    return response.json()


def faults(mock: LiveMock) -> list[dict]:
    response = mock.client.get("/__admin/faults")
    assert response.status_code == 200, response.text
    return response.json()["faults"]


def ledger(mock: LiveMock, user_id: int = SEED_USER) -> list[dict]:
    return mock.client.get(f"/__admin/customers/{user_id}").json()["ledger"]


def balance(mock: LiveMock, user_id: int = SEED_USER) -> Decimal:
    view = mock.client.get(f"/__admin/customers/{user_id}").json()
    (regular,) = (b for b in view["balances"] if b["name"] == "REGULAR" and b["programId"] == 973)
    return Decimal(regular["balance"])


def send(mock: LiveMock, timeout: float = 10, **kwargs) -> httpx.Response:
    """One deduction on a connection of its own: a fault may break it."""
    kwargs.setdefault("json", BODY)
    user_id = kwargs.pop("user_id", SEED_USER)
    headers = {**AUTH, **kwargs.pop("headers", {})}
    params = kwargs.pop("params", {"source": "INSTORE"})
    with httpx.Client(base_url=mock.url, timeout=timeout) as client:
        return client.post(DEDUCT.format(user_id=user_id), params=params, headers=headers, **kwargs)


# --- the reason to test retries ----------------------------------------------------------


def naive_deduct(url: str, timeout: float, attempts: int = 3) -> tuple[httpx.Response, int]:
    """What many clients do: send again when the call failed or timed out. The answer,
    and how many times it was sent."""
    for attempt in range(1, attempts + 1):
        try:
            with httpx.Client(base_url=url, timeout=timeout) as client:
                response = client.post(
                    DEDUCT.format(user_id=SEED_USER),
                    params={"source": "INSTORE"},
                    json=BODY,
                    headers=AUTH,
                )
            return response, attempt
        except httpx.TransportError:
            continue
    raise AssertionError(f"no answer in {attempts} attempts")


@pytest.mark.parametrize(
    ("action", "timeout"),
    [({"type": "reset"}, 10), ({"type": "timeout", "ms": 20000}, 3)],
    ids=["reset", "timeout"],
)
def test_a_naive_retry_after_a_failure_after_the_commit_deducts_twice(
    faulty: LiveMock, action: dict, timeout: float
):
    add(faulty, {"action": action, "phase": "after_commit", "times": 1})
    response, sent = naive_deduct(faulty.url, timeout)
    assert (response.status_code, sent) == (200, 2)
    assert response.json()["pointsAvailable"] == "660.000"  # 10 asked, 20 taken
    entries = ledger(faulty)
    assert [(e["amount"], e["balanceAfter"]) for e in entries] == [
        ("10", "670.000"),
        ("10", "660.000"),
    ]
    assert balance(faulty) == OPENING - 20


def test_a_failure_before_the_commit_deducts_once_whatever_the_retries(faulty: LiveMock):
    add(faulty, {"action": {"type": "reset"}, "phase": "before", "times": 1})
    response, sent = naive_deduct(faulty.url, 10)
    assert (response.status_code, sent) == (200, 2)
    assert [e["amount"] for e in ledger(faulty)] == ["10"]


# --- every action, and the end of every fault --------------------------------------------


def test_code_answers_the_documented_code_with_its_status(faulty: LiveMock):
    add(faulty, {"action": {"type": "code", "code": 9190}, "times": 1})
    refused = send(faulty)
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert refused.json() == {
        "errors": [
            {
                "status": False,
                "code": 9190,
                "message": "The mock's store is unavailable and nothing was changed: forced "
                "by capmock fault " + faults_added_last(faulty),
            }
        ],
        "warnings": [],
    }
    assert send(faulty).status_code == 200
    assert len(ledger(faulty)) == 1


def faults_added_last(mock: LiveMock) -> str:
    """The id the last fault added had (the next one is one more)."""
    probe = add(mock, {"action": {"type": "reset"}, "match": {"userId": 1}})
    mock.client.delete(f"/__admin/faults/{probe['id']}").raise_for_status()
    return f"f{int(probe['id'][1:]) - 1}"


def test_code_honours_the_fixtures_error_status(faulty: LiveMock, world_text: str):
    faulty.put_fixtures(world_text.replace("errorStatus: {}", "errorStatus: {8907: 409}"))
    add(faulty, {"action": {"type": "code", "code": 8907}, "times": 1})
    refused = send(faulty)
    assert (refused.status_code, refused.json()["errors"][0]["code"]) == (409, 8907)


@pytest.mark.parametrize(
    ("action", "status", "body", "content_type"),
    [
        ({"type": "status", "status": 502}, 502, b"", None),
        (
            {"type": "status", "status": 503, "body": {"error": "maintenance"}},
            503,
            b'{"error": "maintenance"}',
            "application/json",
        ),
        (
            {"type": "status", "status": 204, "body": {"ignored": True}},
            204,
            b"",
            "application/json",
        ),
        (
            {"type": "malformed"},
            200,
            b'{"status": "succes',
            "application/json",
        ),
        (
            {"type": "malformed", "kind": "html", "status": 502},
            502,
            b"<html><body><h1>502 Bad Gateway</h1></body></html>\n",
            "application/json",
        ),
    ],
    ids=["status-502", "status-503-body", "status-204", "truncated", "html"],
)
def test_answers_in_phase_before_deduct_nothing_and_end_after_times(
    faulty: LiveMock, action: dict, status: int, body: bytes, content_type: str | None
):
    add(faulty, {"action": action, "times": 2})
    for _ in range(2):
        answer = send(faulty)
        assert (answer.status_code, answer.content) == (status, body)
        assert answer.headers.get("content-type") == content_type
    assert ledger(faulty) == []
    assert faults(faulty) == []
    assert send(faulty).status_code == 200
    assert len(ledger(faulty)) == 1


def test_malformed_after_the_commit_cuts_the_real_answer(faulty: LiveMock):
    add(faulty, {"action": {"type": "malformed"}, "phase": "after_commit", "times": 1})
    cut = send(faulty)
    whole = b'{"status": "success", "pointsAvailable": "670.000", "message": "points deducted '
    whole += b'successfully for the user ", "warnings": []}'
    assert (cut.status_code, cut.content) == (200, whole[: len(whole) // 2])
    assert cut.headers["content-type"] == "application/json"
    assert balance(faulty) == OPENING - 10


@pytest.mark.parametrize(
    ("action", "error"),
    [
        ({"type": "reset"}, httpx.ReadError),
        ({"type": "empty"}, httpx.RemoteProtocolError),
        ({"type": "timeout", "ms": 300}, httpx.RemoteProtocolError),
    ],
    ids=["reset", "empty", "timeout-capped"],
)
@pytest.mark.parametrize("phase", ["before", "after_commit"])
def test_connection_faults_fail_the_call_and_deduct_as_their_phase_says(
    faulty: LiveMock, action: dict, error: type[Exception], phase: str
):
    add(faulty, {"action": action, "phase": phase, "times": 1})
    with pytest.raises(error):
        send(faulty)
    assert len(ledger(faulty)) == (1 if phase == "after_commit" else 0)
    assert send(faulty).status_code == 200
    assert faults(faulty) == []


def test_reset_is_a_connection_reset(faulty: LiveMock):
    """RST, not FIN: the client's read fails with ECONNRESET."""
    add(faulty, {"action": {"type": "reset"}, "times": 1})
    with pytest.raises(httpx.ReadError) as failed:
        send(faulty)
    assert isinstance(failed.value.__context__.__context__, ConnectionResetError) or (
        "reset" in str(failed.value).lower()
    )


def test_timeout_holds_until_the_client_gives_up(faulty: LiveMock):
    add(faulty, {"action": {"type": "timeout"}, "times": 1})  # held for 60 s at most
    with pytest.raises(httpx.ReadTimeout):
        send(faulty, timeout=0.3)
    assert send(faulty).status_code == 200  # the held request let go of the store


@pytest.mark.parametrize("phase", ["before", "after_commit"])
def test_delay_waits_then_answers_as_usual(faulty: LiveMock, phase: str):
    add(faulty, {"action": {"type": "delay", "ms": 300}, "phase": phase, "times": 1})
    answer = send(faulty)
    assert answer.status_code == 200
    assert answer.json()["pointsAvailable"] == "670.000"
    assert answer.elapsed.total_seconds() >= 0.3
    assert send(faulty).status_code == 200


def test_a_fault_ends_with_its_ttl(faulty: LiveMock):
    added = add(faulty, {"action": {"type": "status", "status": 503}, "ttl": 30})
    assert added["expiresAt"]
    assert [send(faulty).status_code for _ in range(3)] == [503, 503, 503]
    faulty.clock.now += 30
    assert send(faulty).status_code == 200
    assert faults(faulty) == []


def test_times_counts_the_matching_calls(faulty: LiveMock):
    added = add(
        faulty,
        {"match": {"userId": SEED_USER}, "action": {"type": "code", "code": 8907}, "times": 3},
    )
    assert send(faulty).status_code == 400
    assert send(faulty, user_id=388034470).status_code == 400  # another customer: 8015
    assert faults(faulty) == [{**added, "matched": 1}]
    assert [send(faulty).status_code for _ in range(3)] == [400, 400, 200]


def test_after_commit_acts_only_on_calls_that_succeeded(faulty: LiveMock):
    add(faulty, {"action": {"type": "status", "status": 502}, "phase": "after_commit", "times": 1})
    refused = send(faulty, json={**BODY, "pointsToBeAdjusted": "100000"})
    assert refused.json()["errors"][0]["code"] == 8907  # nothing applied: no fault
    assert faults(faulty)[0]["matched"] == 0
    assert send(faulty).status_code == 502
    assert balance(faulty) == OPENING - 10


# --- what a fault matches ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("match", "hit", "missed"),
    [
        ({"userId": SEED_USER}, {}, {"user_id": 388034472}),
        ({"source": "WECHAT"}, {"user_id": 388034472, "params": {"source": "WECHAT"}}, {}),
        ({"operation": "deductPoints"}, {}, None),
        (
            {"body": {"reasonOfReturn": "Refund", "pointsToBeAdjusted": 10.0}},
            {"json": {"reasonOfReturn": "Refund", "pointsToBeAdjusted": 10}},
            {"json": {"reasonOfReturn": "Refund", "pointsToBeAdjusted": "10"}},
        ),
        ({"session": "s-1"}, {"headers": {"X-Capmock-Session": "s-1"}}, {}),
    ],
    ids=["userId", "source", "operation", "body", "session"],
)
def test_a_fault_acts_only_on_the_calls_it_matches(
    faulty: LiveMock, match: dict, hit: dict, missed: dict | None
):
    add(faulty, {"match": match, "action": {"type": "status", "status": 599}})
    assert send(faulty, **hit).status_code == 599
    if missed is not None:
        assert send(faulty, **missed).status_code != 599
    token = faulty.client.post(
        "/v3/oauth/token/generate", json={"key": "doc-client", "secret": "doc-secret"}
    )
    assert token.status_code == (599 if match == {} else 200)


def test_an_empty_match_takes_every_capillary_operation(faulty: LiveMock):
    add(faulty, {"action": {"type": "status", "status": 599}})
    token = faulty.client.post(
        "/v3/oauth/token/generate", json={"key": "doc-client", "secret": "doc-secret"}
    )
    assert token.status_code == 599
    assert send(faulty).status_code == 599


def test_the_oldest_fault_that_fires_acts_alone(faulty: LiveMock):
    first = add(faulty, {"action": {"type": "status", "status": 501}, "times": 1})
    second = add(faulty, {"action": {"type": "status", "status": 502}, "times": 1})
    assert [send(faulty).status_code for _ in range(3)] == [501, 502, 200]
    assert first["id"] != second["id"]


# --- probability, reproducibly -----------------------------------------------------------


def failures_of(mock: LiveMock, fault: dict, calls: int) -> list[int]:
    """Which of ``calls`` calls the fault made fail (the mock reset after)."""
    added = add(mock, fault)
    failed = [
        n
        for n in range(calls)
        if send(mock, json={**BODY, "pointsToBeAdjusted": "1"}).status_code == 599
    ]
    mock.client.delete(f"/__admin/faults/{added['id']}")
    mock.reset()
    return failed


def test_a_probability_fails_the_same_calls_in_the_same_order(faulty: LiveMock):
    fault = {"action": {"type": "status", "status": 599}, "probability": 0.3, "seed": 11}
    first = failures_of(faulty, fault, 40)
    assert 3 <= len(first) <= 25  # a draw of 0.3, not all or nothing
    assert failures_of(faulty, fault, 40) == first  # a new fault, the same seed
    other = failures_of(faulty, {**fault, "seed": 12}, 40)
    assert other != first


def test_probabilities_zero_and_one(faulty: LiveMock):
    add(faulty, {"action": {"type": "status", "status": 599}, "probability": 0, "times": 5})
    assert [send(faulty).status_code for _ in range(5)] == [200] * 5
    assert faults(faulty) == []  # five matches: it ended


# --- forced codes are the real refusals --------------------------------------------------

WRONG_TOKEN = {"Authorization": "", "X-CAP-API-OAUTH-TOKEN": "not-a-token"}
PROVOKED = {
    Code.INVALID_SOURCE: {"params": {"source": "NOPE"}},
    Code.INVALID_IDENTIFIER: {"user_id": "abc"},
    Code.CUSTOMER_NOT_FOUND: {"user_id": 999},
    Code.INVALID_PROMOTION: {"json": {**BODY, "promotionId": 1}},
    Code.INVALID_AWARD: {"json": {**BODY, "pointsAwardedId": 1}},
    Code.REASON_MISSING: {"json": {**BODY, "reasonOfReturn": " "}},
    Code.PROGRAM_ID_REQUIRED: {"json": {**BODY, "promotionIdentifier": "x"}},
    Code.AMOUNT_ZERO: {"json": {**BODY, "pointsToBeAdjusted": "0"}},
    Code.TOO_MANY_DECIMALS: {
        "user_id": 388034469,
        "json": {**BODY, "pointsToBeAdjusted": "10.5", "programId": 974},
    },
    Code.INSUFFICIENT_BALANCE: {"json": {**BODY, "pointsToBeAdjusted": "681.25"}},
    Code.UNKNOWN_CURRENCY: {
        "json": {"alternateCurrencyName": "gems", "valueToBeAdjusted": "1", "reasonOfReturn": "x"}
    },
    Code.INVALID_REF_TYPE: {
        "json": {**BODY, "pointsAwardedId": 38768508, "pointsAwardedRefType": "bill_promised"}
    },
    Code.NOT_ENROLLED: {"user_id": 388034469},
    Code.BODY_NOT_OBJECT: {"json": [1]},
    Code.UNSUPPORTED_MEDIA_TYPE: {"content": b"x", "headers": {"Content-Type": "text/plain"}},
    Code.AMOUNT_MISSING: {"json": {"reasonOfReturn": "x"}},
    Code.AMOUNT_NOT_A_NUMBER: {"json": {**BODY, "pointsToBeAdjusted": "ten"}},
    Code.AMOUNT_NEGATIVE: {"json": {**BODY, "pointsToBeAdjusted": -5}},
    Code.AMOUNT_TOO_LARGE: {"json": {**BODY, "pointsToBeAdjusted": 2000000000000}},
    Code.REASON_TOO_LONG: {"json": {**BODY, "reasonOfReturn": "r" * 51}},
    Code.INVALID_CATEGORY: {"json": {**BODY, "pointCategoryTypes": "GOLD"}},
    Code.PROMOTION_ID_AND_IDENTIFIER: {
        "json": {**BODY, "promotionId": 79555, "promotionIdentifier": "x"}
    },
    Code.AUTHENTICATION_FAILED: {"headers": {"Authorization": basic_header("store.server", "x")}},
    Code.ACCESS_DENIED: {
        "headers": {"Authorization": basic_header("store.noaccess", "noaccess123")}
    },
    Code.TOKEN_INVALID: {"headers": WRONG_TOKEN},
}
"""A call that gets each code for real; a fault forcing the code on it must answer the same."""


@pytest.mark.parametrize("code", list(PROVOKED), ids=[str(int(c)) for c in PROVOKED])
def test_a_forced_code_is_byte_for_byte_the_real_refusal(
    faulty: LiveMock, caplog: pytest.LogCaptureFixture, code: Code
):
    call = PROVOKED[code]
    real = send(faulty, **call)
    assert real.json()["errors"][0]["code"] == code, real.text
    added = add(
        faulty,
        {
            "match": {"operation": "deductPoints"},
            "action": {"type": "code", "code": int(code)},
            "times": 1,
        },
    )
    with caplog.at_level(logging.INFO, logger="capmock"):
        forced = send(faulty, **call)
    assert f"fault {added['id']} (code {int(code)}, before) acted" in caplog.text
    assert forced.status_code == real.status_code
    assert forced.headers["content-type"] == real.headers["content-type"]
    assert forced.headers.get("www-authenticate") == real.headers.get("www-authenticate")
    assert forced.content == real.content


@pytest.mark.parametrize("amount", ["2000000000000", 2000000000000], ids=["string", "number"])
def test_a_forced_9106_shows_the_amount_as_it_was_sent(faulty: LiveMock, amount: object):
    call = {"json": {**BODY, "pointsToBeAdjusted": amount}}
    real = send(faulty, **call)
    add(faulty, {"action": {"type": "code", "code": 9106}, "times": 1})
    forced = send(faulty, **call)
    assert real.json()["errors"][0]["code"] == 9106
    assert (forced.status_code, forced.content) == (real.status_code, real.content)
    assert faults(faulty) == []


def test_a_forced_code_on_a_call_that_would_succeed_names_its_values(faulty: LiveMock):
    """8907 forced on a deduction the balance covers reads exactly as the real 8907 of the
    same amount from a customer it does not cover; 1218 alike."""
    real = send(faulty, user_id=388034471)  # balance 0
    add(faulty, {"match": {"userId": SEED_USER}, "action": {"type": "code", "code": 8907}})
    forced = send(faulty)
    assert (forced.status_code, forced.content) == (real.status_code, real.content)
    faulty.client.delete("/__admin/faults").raise_for_status()
    real = send(faulty, user_id=388034469)  # not enrolled in the default program
    add(faulty, {"match": {"userId": SEED_USER}, "action": {"type": "code", "code": 1218}})
    forced = send(faulty)
    assert (forced.status_code, forced.content) == (real.status_code, real.content)
    assert ledger(faulty) == []


def test_a_forced_9116_is_the_token_endpoints_refusal(faulty: LiveMock):
    real = faulty.client.post("/v3/oauth/token/generate", json={"key": "doc-client", "secret": "x"})
    add(faulty, {"match": {"operation": "generateToken"}, "action": {"type": "code", "code": 9116}})
    forced = faulty.client.post(
        "/v3/oauth/token/generate", json={"key": "doc-client", "secret": "doc-secret"}
    )
    assert (forced.status_code, forced.content) == (real.status_code, real.content)


def test_a_forced_rate_limit_is_the_real_429(faulty: LiveMock):
    faulty.client.put("/__admin/rate-limit", json={"requests": 1, "seconds": 60})
    assert send(faulty).status_code == 200
    real = send(faulty)
    faulty.client.delete("/__admin/rate-limit").raise_for_status()
    add(faulty, {"action": {"type": "code", "code": 9193}, "times": 1})
    forced = send(faulty)
    assert (forced.status_code, forced.content) == (429, real.content)
    assert forced.headers["retry-after"] == "1"


# --- the admin API is never broken --------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        {"type": "reset"},
        {"type": "empty"},
        {"type": "timeout", "ms": 60000},
        {"type": "code", "code": 9199},
        {"type": "status", "status": 500},
        {"type": "malformed", "kind": "html"},
    ],
    ids=lambda action: action["type"],
)
def test_faults_never_touch_the_admin_api_and_an_admin_call_removes_them(
    faulty: LiveMock, action: dict, world_text: str
):
    for phase in ("before", "after_commit"):
        add(faulty, {"action": action, "phase": phase})
    client = faulty.client
    assert client.get("/__admin/health").status_code == 200
    assert client.get(f"/__admin/customers/{SEED_USER}").status_code == 200
    assert client.get("/__admin/fixtures").status_code == 200
    faulty.put_fixtures(world_text)
    assert client.post("/__admin/reset").status_code == 200
    assert client.get("/__admin/ui/").status_code == 200
    assert client.get("/__admin/openapi.json").status_code == 200
    assert len(faults(faulty)) == 2
    assert client.delete("/__admin/faults").json() == {"removed": 2}
    assert send(faulty).status_code == 200


def test_bad_fault_documents_are_refused_naming_the_problem(faulty: LiveMock):
    cases = {
        "action.code: 99 is not one of the values allowed": {
            "action": {"type": "code", "code": 99}
        },
        "action.status: 99 is less than the minimum of 200": {
            "action": {"type": "status", "status": 99}
        },
        "probability: 2 is greater than the maximum of 1": {
            "action": {"type": "reset"},
            "probability": 2,
        },
        "action.ms.1: 90000 is greater than the maximum of 60000": {
            "action": {"type": "delay", "ms": [1, 90000]}
        },
        'match: "usr" is not a field of this object': {
            "action": {"type": "reset"},
            "match": {"usr": 388034468},
        },
    }
    for message, document in cases.items():
        refused = faulty.client.post("/__admin/faults", json=document)
        assert refused.status_code == 400
        assert refused.json()["errors"][0] == {
            "status": False,
            "code": 9110,
            "message": f"Input is invalid: {message}",
        }
    assert faults(faulty) == []


def test_one_fault_is_shown_and_removed_by_its_id(faulty: LiveMock):
    added = add(faulty, {"action": {"type": "reset"}, "match": {"userId": 1}, "seed": 3})
    assert faulty.client.get(f"/__admin/faults/{added['id']}").json() == added
    assert faulty.client.delete(f"/__admin/faults/{added['id']}").json() == {"removed": 1}
    missing = faulty.client.delete(f"/__admin/faults/{added['id']}")
    assert missing.status_code == 404
    assert missing.json()["errors"][0] == {
        "status": False,
        "code": 9111,
        "message": f"No such resource: DELETE /__admin/faults/{added['id']}",
    }
    assert faulty.client.get("/__admin/faults/nope").status_code == 404


# --- latency -----------------------------------------------------------------------------


def test_latency_is_set_shown_and_removed_at_run_time(faulty: LiveMock):
    client = faulty.client
    assert client.get("/__admin/latency").json() == {}
    assert client.put("/__admin/latency", json={"ms": [300, 320]}).json() == {
        "latency": {"ms": [300, 320]}
    }
    assert client.get("/__admin/latency").json() == {"latency": {"ms": [300, 320]}}
    slow = send(faulty)
    assert slow.status_code == 200 and slow.elapsed.total_seconds() >= 0.3
    assert client.put("/__admin/latency", json={"median": 80, "sigma": 0.5}).status_code == 200
    assert client.delete("/__admin/latency").json() == {}
    assert client.get("/__admin/latency").json() == {}


# --- the connection under the app ----------------------------------------------------------


def test_a_held_call_lets_go_when_the_server_stops():
    """A timeout fault holds for 60 s, but a stopping server does not wait for it."""
    server, thread, url = start_server(create_app(load_fixtures(DEFAULT_FIXTURES)))
    httpx.post(f"{url}/__admin/faults", json={"action": {"type": "timeout"}}).raise_for_status()
    outcome: list[object] = []

    def held() -> None:
        try:
            outcome.append(send_to(url, timeout=120))
        except httpx.TransportError as error:
            outcome.append(error)

    caller = threading.Thread(target=held)
    caller.start()
    for _ in range(1000):  # until the fault holds the call, 10 s at most
        if httpx.get(f"{url}/__admin/faults").json()["faults"][0]["matched"] == 1:
            break
        caller.join(0.01)
    assert caller.is_alive()
    server.should_exit = True
    thread.join(15)
    caller.join(15)
    assert not thread.is_alive() and not caller.is_alive()
    assert isinstance(outcome[0], httpx.RemoteProtocolError)  # closed unanswered


def test_under_uvicorns_own_protocols_a_connection_fault_says_it_cannot_act():
    config = uvicorn.Config(
        create_app(load_fixtures(DEFAULT_FIXTURES)), port=0, http="h11", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(1000):
        if server.started:
            break
        thread.join(0.01)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    try:
        httpx.post(f"{url}/__admin/faults", json={"action": {"type": "reset"}}).raise_for_status()
        refused = send_to(url)
        assert refused.status_code == 500
        assert refused.json()["errors"][0] == {
            "status": False,
            "code": 9199,
            "message": "Internal error in the mock: the reset fault needs capmock serve's HTTP "
            "protocols (mock_server.halfclose) to act on the connection",
        }
    finally:
        server.should_exit = True
        thread.join(10)


def send_to(url: str, timeout: float = 10) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=timeout) as client:
        return client.post(
            DEDUCT.format(user_id=SEED_USER), params={"source": "INSTORE"}, json=BODY, headers=AUTH
        )

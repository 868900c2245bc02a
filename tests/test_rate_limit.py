"""The rate limit per API key: its answers and headers on every store and lane, and its
exactness under concurrent calls from one key, in one process and across workers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from support import DEDUCT, SEED_USER, LiveMock, ServedMock, basic_header

BODY = {"pointsToBeAdjusted": "1", "reasonOfReturn": "Rate limit test"}
SERVER = {"Authorization": basic_header("store.server", "server123")}


@pytest.fixture
def limited(mock: LiveMock) -> Iterator[LiveMock]:
    started = mock.clock.now
    response = mock.client.put("/__admin/rate-limit", json={"requests": 3, "seconds": 60})
    assert response.json() == {"rateLimit": {"requests": 3, "seconds": 60}}
    yield mock
    mock.clock.now = started
    mock.client.delete("/__admin/rate-limit").raise_for_status()


def deduct(client: httpx.Client, headers: dict[str, str] = SERVER) -> httpx.Response:
    return client.post(
        DEDUCT.format(user_id=SEED_USER), params={"source": "INSTORE"}, json=BODY, headers=headers
    )


def test_past_the_limit_a_key_gets_429_in_the_envelope(limited: LiveMock):
    reset_at = int(limited.clock.now) + 60
    answers = [deduct(limited.client) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    for left, answer in zip([2, 1, 0, 0], answers, strict=True):
        assert answer.headers["x-ratelimit-limit"] == "3"
        assert answer.headers["x-ratelimit-remaining"] == str(left)
        assert answer.headers["x-ratelimit-reset"] == str(reset_at)
    refused = answers[-1]
    assert refused.headers["retry-after"] == "60"
    assert refused.headers.get_list("retry-after") == ["60"]
    assert refused.json() == {
        "errors": [
            {
                "status": False,
                "code": 9193,
                "message": "Too many requests: this API key has used up its rate limit. "
                "Retry after the seconds Retry-After gives",
            }
        ],
        "warnings": [],
    }
    ledger = limited.client.get(f"/__admin/customers/{SEED_USER}").json()["ledger"]
    assert len(ledger) == 3


def test_each_key_has_its_own_window_which_closes(limited: LiveMock):
    for _ in range(3):
        deduct(limited.client)
    assert deduct(limited.client).status_code == 429
    token = limited.client.post(
        "/v3/oauth/token/generate", json={"key": "doc-client", "secret": "doc-secret"}
    ).json()["data"]["accessToken"]
    by_token = deduct(limited.client, {"X-CAP-API-OAUTH-TOKEN": token})
    assert (by_token.status_code, by_token.headers["x-ratelimit-remaining"]) == (200, "2")
    limited.clock.now += 59
    assert deduct(limited.client).headers["retry-after"] == "1"
    limited.clock.now += 1
    reopened = deduct(limited.client)
    assert (reopened.status_code, reopened.headers["x-ratelimit-remaining"]) == (200, "2")


def test_callers_the_fixtures_do_not_know_are_not_counted(limited: LiveMock):
    for _ in range(5):
        stranger = deduct(limited.client, {"Authorization": basic_header("nobody", "x")})
        assert stranger.status_code == 401
        assert "x-ratelimit-limit" not in stranger.headers
    assert deduct(limited.client).headers["x-ratelimit-remaining"] == "2"


def test_a_wrong_password_still_counts_against_its_key(limited: LiveMock):
    wrong = deduct(limited.client, {"Authorization": basic_header("store.server", "wrong")})
    assert (wrong.status_code, wrong.headers["x-ratelimit-remaining"]) == (401, "2")


def test_the_admin_api_is_never_limited(limited: LiveMock):
    for _ in range(3):
        deduct(limited.client)
    assert deduct(limited.client).status_code == 429
    for _ in range(10):
        health = limited.client.get("/__admin/health", headers=SERVER)
        assert health.status_code == 200 and "x-ratelimit-limit" not in health.headers


# --- exactly the limit, under concurrent calls -------------------------------------------


def flood(url: str, calls: int, threads: int = 12) -> list[int]:
    """``calls`` deductions from one key, sent by ``threads`` clients at once."""

    def one(_: int) -> int:
        with httpx.Client(base_url=url, timeout=60) as client:
            return deduct(client).status_code

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(calls)))


def assert_exactly_100_of_150(url: str) -> None:
    statuses = flood(url, 150)
    assert statuses.count(429) == 50
    assert statuses.count(200) == 100
    ledger = httpx.get(f"{url}/__admin/customers/{SEED_USER}").json()["ledger"]
    assert len(ledger) == 100


def test_150_calls_from_one_key_get_exactly_100_answers(
    mock: LiveMock, request: pytest.FixtureRequest
):
    mock.client.put("/__admin/rate-limit", json={"requests": 100, "seconds": 60})
    request.addfinalizer(lambda: mock.client.delete("/__admin/rate-limit"))
    assert_exactly_100_of_150(mock.url)


def test_150_calls_over_two_workers_get_exactly_100_answers(
    shared_store_url: str, serve: Callable[..., ServedMock]
):
    served = serve("--store", shared_store_url, "--workers", "2", "--rate-limit", "100/min")
    assert "Rate limit 100 per minute per API key" in served.output()
    assert_exactly_100_of_150(served.url)

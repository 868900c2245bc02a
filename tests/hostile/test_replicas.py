"""Several mocks on one store: after Redis loses its data they still serve one world,
and an OAuth token issued by any of them works on all, with no configuration.

Every mock here is ``capmock serve`` in a process of its own, on a real redis-server
(started, killed and restarted empty by the test) or a SQLite file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from redisproc import RedisProcess
from support import DEDUCT, SEED_USER, ServedMock, basic_header

from mock_server.data import DEFAULT_FIXTURES

Serve = Callable[..., ServedMock]
SMALL = DEFAULT_FIXTURES.read_text(encoding="utf-8").replace("REGULAR: 680,", "REGULAR: 7.5,")


def deduct(url: str, amount: str, **headers: str) -> httpx.Response:
    return httpx.post(
        url + DEDUCT.format(user_id=SEED_USER),
        params={"source": "INSTORE"},
        json={"pointsToBeAdjusted": amount, "reasonOfReturn": "replica"},
        headers=headers or {"Authorization": basic_header("store.server", "server123")},
        timeout=30,
    )


def regular(url: str) -> tuple[str, int]:
    """The seed customer's REGULAR balance and ledger length, as one replica sees them."""
    customer = httpx.get(f"{url}/__admin/customers/{SEED_USER}", timeout=30).json()
    balance = next(
        row["balance"]
        for row in customer["balances"]
        if (row["programId"], row["name"]) == (973, "REGULAR")
    )
    return balance, len(customer["ledger"])


def put_fixtures(url: str, text: str) -> None:
    response = httpx.put(
        f"{url}/__admin/fixtures",
        content=text.encode(),
        headers={"Content-Type": "application/yaml"},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def token(url: str, secret: str = "doc-secret") -> httpx.Response:
    return httpx.post(
        f"{url}/v3/oauth/token/generate",
        json={"key": "doc-client", "secret": secret},
        timeout=30,
    )


def code(response: httpx.Response) -> tuple[int, int | None]:
    errors = response.json().get("errors") or [{}]
    return response.status_code, errors[0].get("code")


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    process = RedisProcess(tmp_path / "redis")
    process.workdir.mkdir()
    process.start()
    yield process
    process.stop()


def restart_empty(redis_process: RedisProcess) -> None:
    redis_process.kill()
    redis_process.start()


# --- one world ---------------------------------------------------------------------------


def test_fixtures_put_after_redis_came_back_empty_are_served_by_every_replica(
    redis_process: RedisProcess, serve: Serve
) -> None:
    one = serve("--store", redis_process.url).url
    other = serve("--store", redis_process.url).url
    assert deduct(one, "1").status_code == deduct(other, "1").status_code == 200
    restart_empty(redis_process)

    # Before epochs, this PUT got version 1 again, which ``other`` had cached: it went
    # on serving the old world while ``one`` served the new one.
    put_fixtures(one, SMALL)
    assert regular(other) == regular(one) == ("7.500", 0)
    assert deduct(other, "5").json()["pointsAvailable"] == "2.500"
    assert code(deduct(one, "5")) == (400, 8907)
    assert regular(one) == regular(other) == ("2.500", 1)


def test_replicas_that_cached_different_worlds_agree_after_redis_came_back_empty(
    redis_process: RedisProcess, serve: Serve
) -> None:
    one = serve("--store", redis_process.url).url
    other = serve("--store", redis_process.url).url
    assert deduct(other, "1").status_code == 200  # ``other`` has the default world cached
    put_fixtures(one, SMALL)  # ``one`` now has the small one; ``other`` has not looked
    restart_empty(redis_process)

    # The first to notice stores again the world it served: here ``other``'s.
    assert deduct(other, "1").json()["pointsAvailable"] == "679.000"
    assert deduct(one, "1").json()["pointsAvailable"] == "678.000"
    assert regular(one) == regular(other) == ("678.000", 2)


# --- OAuth ---------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_a_token_from_one_replica_works_on_another_with_no_configuration(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, serve: Serve
) -> None:
    if backend == "redis":
        url = request.getfixturevalue("redis_process").url
    else:
        url = f"sqlite:///{tmp_path / 'state.db'}"
    one = serve("--store", url).url
    other = serve("--store", url).url
    issued = token(one).json()["data"]["accessToken"]
    assert deduct(other, "1", **{"X-CAP-API-OAUTH-TOKEN": issued}).status_code == 200
    assert deduct(one, "1", **{"X-CAP-API-OAUTH-TOKEN": issued}).status_code == 200
    assert regular(other) == ("678.000", 2)


def test_every_worker_accepts_a_token_any_worker_issued(tmp_path: Path, serve: Serve) -> None:
    served = serve("--store", f"sqlite:///{tmp_path / 'state.db'}", "--workers", "2")
    issued = {token(served.url).json()["data"]["accessToken"] for _ in range(6)}
    # each request on a new connection, so that both workers answer some of them
    answers = [
        deduct(served.url, "1", **{"X-CAP-API-OAUTH-TOKEN": one}).status_code
        for one in issued
        for _ in range(4)
    ]
    assert answers == [200] * len(answers)
    assert regular(served.url) == (f"{680 - len(answers)}.000", len(answers))


def test_capmock_token_secret_is_honoured(serve: Serve, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPMOCK_TOKEN_SECRET", "one secret for every replica")
    one = serve().url
    other = serve().url
    stranger = serve("--token-secret", "another secret").url
    issued = token(one).json()["data"]["accessToken"]
    assert deduct(other, "1", **{"X-CAP-API-OAUTH-TOKEN": issued}).status_code == 200
    assert code(deduct(stranger, "1", **{"X-CAP-API-OAUTH-TOKEN": issued})) == (401, 9115)


def test_rotating_a_clients_secret_invalidates_its_tokens_on_every_replica(
    redis_process: RedisProcess, serve: Serve
) -> None:
    one = serve("--store", redis_process.url).url
    other = serve("--store", redis_process.url).url
    old = token(one).json()["data"]["accessToken"]
    assert deduct(other, "1", **{"X-CAP-API-OAUTH-TOKEN": old}).status_code == 200

    rotated = DEFAULT_FIXTURES.read_text(encoding="utf-8").replace(
        "secret: doc-secret", "secret: doc-secret-2"
    )
    put_fixtures(one, rotated)
    assert code(deduct(other, "1", **{"X-CAP-API-OAUTH-TOKEN": old})) == (401, 9115)
    assert code(deduct(one, "1", **{"X-CAP-API-OAUTH-TOKEN": old})) == (401, 9115)
    assert code(token(other)) == (401, 9116)
    new = token(other, "doc-secret-2").json()["data"]["accessToken"]
    answered = deduct(one, "1", **{"X-CAP-API-OAUTH-TOKEN": new})
    assert answered.json()["pointsAvailable"] == "679.000"
    assert regular(other) == ("679.000", 1)
    assert Decimal(regular(one)[0]) == Decimal(680) - 1

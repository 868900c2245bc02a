"""The two request lanes are one: the fast lane and the Connexion lane answer the same
requests with the same bytes (status, headers and body), valid or refused, so that a
client cannot tell which lane served it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.types import Send
from support import DEDUCT, SEED_USER

from contract_tests.target import basic_header
from mock_server.app import create_app
from mock_server.data import DEFAULT_FIXTURES
from mock_server.fixtures import load_fixtures
from mock_server.lanes import fast as fast_lane
from mock_server.lanes import validation

AUTH = {"Authorization": basic_header("store.server", "server123")}
JSON = {**AUTH, "Content-Type": "application/json"}
POINTS = '{"pointsToBeAdjusted": "10", "reasonOfReturn": "Returned items"}'
COINS = (
    '{"valueToBeAdjusted": 10.5, "alternateCurrencyName": "coins", '
    '"reasonOfReturn": "Returned items"}'
)
VARYING = {"x-capmock-request-id", "date", "server"}
"""Headers that differ between any two answers, whichever lane served them."""

REQUESTS: list[tuple[str, int, str, dict[str, str], str]] = [
    ("points", SEED_USER, "INSTORE", JSON, POINTS),
    ("coins", SEED_USER, "INSTORE", JSON, COINS),
    (
        "exact decimals",
        388034472,
        "WECHAT",
        JSON,
        '{"pointsToBeAdjusted": 0.25, "reasonOfReturn": "r", "pointCategoryTypes": "PROMISED"}',
    ),
    (
        "too many decimals (8906)",
        388034472,
        "WECHAT",
        JSON,
        '{"pointsToBeAdjusted": 0.125, "reasonOfReturn": "r", "pointCategoryTypes": "PROMISED"}',
    ),
    ("unknown customer (8015)", 999999999, "INSTORE", JSON, POINTS),
    ("wrong source (8015)", 388034470, "INSTORE", JSON, POINTS),
    ("not enough points (8907)", 388034471, "INSTORE", JSON, POINTS),
    ("not enrolled (1218)", 388034469, "INSTORE", JSON, POINTS),
    ("no such currency (8911)", 388034469, "INSTORE", JSON, COINS),
    ("no reason (9105)", SEED_USER, "INSTORE", JSON, '{"pointsToBeAdjusted": 1}'),
    (
        "negative amount",
        SEED_USER,
        "INSTORE",
        JSON,
        '{"pointsToBeAdjusted": -1, "reasonOfReturn": "r"}',
    ),
    ("not JSON (9100)", SEED_USER, "INSTORE", JSON, "{"),
    ("bad source (8003)", SEED_USER, "NOWHERE", JSON, POINTS),
    ("no credentials (9113)", SEED_USER, "INSTORE", {"Content-Type": "application/json"}, POINTS),
    (
        "no points group (9114)",
        SEED_USER,
        "INSTORE",
        {
            "Authorization": basic_header("store.noaccess", "noaccess123"),
            "Content-Type": "application/json",
        },
        POINTS,
    ),
    ("text body (9101)", SEED_USER, "INSTORE", {**AUTH, "Content-Type": "text/plain"}, POINTS),
    (
        "charset spelled out",
        SEED_USER,
        "INSTORE",
        {**AUTH, "Content-Type": "application/json; charset=utf-8"},
        POINTS,
    ),
]


@pytest.fixture
def lanes(served: Callable[[object], str]) -> tuple[str, str]:
    """Two mocks over the same fixtures: one with the fast lane, one Connexion only."""
    fast = served(create_app(load_fixtures(DEFAULT_FIXTURES), fast_lane=True))
    slow = served(create_app(load_fixtures(DEFAULT_FIXTURES), fast_lane=False))
    return fast, slow


def _answer(
    url: str, user_id: int, source: str, headers: dict[str, str], body: str
) -> tuple[int, dict[str, str], bytes]:
    response = httpx.post(
        url + DEDUCT.format(user_id=user_id),
        params={"source": source},
        headers=headers,
        content=body.encode(),
    )
    kept = {name: value for name, value in response.headers.items() if name not in VARYING}
    return response.status_code, kept, response.content


def test_both_lanes_answer_the_same_bytes(lanes: tuple[str, str]) -> None:
    fast, slow = lanes
    for name, user_id, source, headers, body in REQUESTS:
        assert _answer(fast, user_id, source, headers, body) == _answer(
            slow, user_id, source, headers, body
        ), name


def test_the_fast_lane_serves_the_valid_deductions(
    lanes: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a tautology: the fast lane answers the valid deductions itself, so the
    comparison above compared the two lanes, not Connexion twice."""
    answered: list[int] = []
    respond = fast_lane.respond

    async def counted(send: Send, status: int, *args: Any) -> None:
        answered.append(status)
        await respond(send, status, *args)

    monkeypatch.setattr(fast_lane, "respond", counted)
    fast, _ = lanes
    for name, user_id, source, headers, body in REQUESTS[:3]:
        assert _answer(fast, user_id, source, headers, body)[0] == 200, name
    assert answered == [200, 200, 200]


def test_both_lanes_share_one_compiled_body_schema(lanes: tuple[str, str]) -> None:
    _, slow = lanes
    assert _answer(slow, SEED_USER, "INSTORE", JSON, POINTS)[0] == 200  # Connexion validated
    ours = validation.body_schema(fast_lane.OPERATION, "post")
    decider, _ = validation.validators(ours)
    same = [entry for entry in validation._seen.values() if entry[0] == ours]
    assert len({id(schema) for schema, _, _ in same}) >= 2  # Connexion's copy and ours
    assert all(fast is decider for _, fast, _ in same)

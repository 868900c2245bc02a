"""The fast lane answers only what Connexion would hand to the handler, and passes
everything else on with the body it read replayed byte for byte."""

from __future__ import annotations

import httpx
import pytest
from support import SEED_USER, basic_header

from mock_server.auth import Authenticator
from mock_server.data import DEFAULT_FIXTURES
from mock_server.fixtures import load_fixtures
from mock_server.lanes.fast import FastLane
from mock_server.operations.api import CapillaryApi
from mock_server.runtime import Runtime
from mock_server.stores.memory import MemoryStore

pytestmark = pytest.mark.anyio

PATH = f"/v2/customers/{SEED_USER}/negativePointsAdjustment"
GOOD = b'{"pointsToBeAdjusted": "10", "reasonOfReturn": "Extra points were issued"}'
AUTH = {"Authorization": basic_header("store.server", "server123")}


class Behind:
    """Stands in for Connexion: records what reached it, with the body it could read."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bytes]] = []

    async def __call__(self, scope, receive, send) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.seen.append((scope["path"], body))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def lane() -> tuple[Behind, httpx.AsyncClient]:
    world = load_fixtures(DEFAULT_FIXTURES)
    store = MemoryStore(world)
    api = CapillaryApi(Runtime(store=store, auth=Authenticator(store.world, "secret")))
    behind = Behind()
    transport = httpx.ASGITransport(app=FastLane(behind, api))
    return behind, httpx.AsyncClient(transport=transport, base_url="http://mock")


async def test_a_valid_deduction_is_answered_by_the_lane(lane):
    behind, client = lane
    response = await client.post(f"{PATH}?source=INSTORE", content=GOOD, headers=AUTH)
    assert response.status_code == 200 and response.json()["pointsAvailable"] == "670.000"
    assert behind.seen == []


async def test_a_rules_refusal_is_answered_by_the_lane_in_the_envelope(lane):
    behind, client = lane
    body = GOOD.replace(b'"10"', b'"680.01"')
    response = await client.post(f"{PATH}?source=INSTORE", content=body, headers=AUTH)
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == 8907
    assert behind.seen == []


async def test_a_repeated_header_is_read_as_connexion_reads_it(lane):
    behind, client = lane
    wrong = ("Authorization", basic_header("store.server", "wrong"))
    right = ("Authorization", AUTH["Authorization"])
    headers = httpx.Headers([wrong, right])
    response = await client.post(f"{PATH}?source=INSTORE", content=GOOD, headers=headers)
    assert response.status_code == 299  # the first header fails: Connexion answers
    assert len(behind.seen) == 1


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        (f"{PATH}?source=FOO", GOOD, AUTH),
        (f"{PATH}?source=INSTORE&extra=1", GOOD, AUTH),
        ("/v2/customers/0/negativePointsAdjustment?source=INSTORE", GOOD, AUTH),
        (f"{PATH}?source=INSTORE", GOOD, {}),
        (f"{PATH}?source=INSTORE", GOOD, {"Authorization": basic_header("store.server", "x")}),
        (
            f"{PATH}?source=INSTORE",
            GOOD,
            {"Authorization": basic_header("store.noaccess", "noaccess123")},
        ),
        (f"{PATH}?source=INSTORE", GOOD, {**AUTH, "Content-Type": "text/plain"}),
        (f"{PATH}?source=INSTORE", b'{"pointsToBeAdjusted": "10"}', AUTH),
        (f"{PATH}?source=INSTORE", b"\xff\xfe not json", AUTH),
        (f"{PATH}?source=INSTORE", b"[]", AUTH),
        ("/__admin/health", b"", {}),
    ],
    ids=[
        "bad-source",
        "extra-query",
        "user-id-zero",
        "no-credentials",
        "wrong-password",
        "no-points-group",
        "content-type",
        "schema-refuses",
        "not-json",
        "not-an-object",
        "other-route",
    ],
)
async def test_everything_else_reaches_connexion_with_its_body(lane, path, body, headers):
    behind, client = lane
    response = await client.post(path, content=body, headers=headers)
    assert response.status_code == 299
    assert behind.seen == [(path.split("?")[0], body)]

"""Odd input on both lanes: each gets a 4xx in the envelope with a message in JSON terms,
or is simply served; nothing answers 500, and no deduction is made that was not
answered 200."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from support import SEED_USER
from witness import AUTH, DEDUCT, Ledger, envelope

from mock_server.app import create_app
from mock_server.data import DEFAULT_FIXTURES
from mock_server.fixtures import load_fixtures

ADMIN_TOKEN = "hostile-admin"


@pytest.fixture(params=["fast-lane", "connexion-only"])
def lane(request: pytest.FixtureRequest, served: Callable[[object], str]) -> Iterator[Ledger]:
    fast = request.param == "fast-lane"
    url = served(create_app(load_fixtures(DEFAULT_FIXTURES), fast_lane=fast))
    ledger = Ledger(url)
    yield ledger
    ledger.check()


def post(
    ledger: Ledger, body: bytes | str, content_type: str = "application/json"
) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    response = httpx.post(
        ledger.url + DEDUCT, content=content, headers={**AUTH, "Content-Type": content_type}
    )
    if response.status_code == 200:
        ledger.answered += 1
    return response


@pytest.mark.parametrize(
    "body",
    [
        r'{"pointsToBeAdjusted": "1", "reasonOfReturn": "\ud800"}',
        r'{"pointsToBeAdjusted": "\udfff", "reasonOfReturn": "x"}',
        r'{"pointsToBeAdjusted": "1", "reasonOfReturn": "x", "pointCategoryTypes": "\ud800"}',
        r'{"pointsToBeAdjusted": "1", "reasonOfReturn": "x", "\ud800": 1}',
    ],
)
def test_a_lone_surrogate_is_9100(lane: Ledger, body: str) -> None:
    assert envelope(post(lane, body)) == (
        400,
        9100,
        "Request body is not valid JSON: \\ud800 is half a character (a lone surrogate)"
        if "ud800" in body
        else "Request body is not valid JSON: \\udfff is half a character (a lone surrogate)",
    )


def test_a_surrogate_pair_is_one_character(lane: Ledger) -> None:
    response = post(lane, r'{"pointsToBeAdjusted": "1", "reasonOfReturn": "\ud83d\ude00"}')
    assert response.status_code == 200
    assert lane.view()["ledger"][-1]["reason"] == "\U0001f600"


@pytest.mark.parametrize(
    "content_type",
    ["APPLICATION/JSON", "Application/Json", "application/json ; charset=utf-8",
     "application/JSON;Charset=UTF-8"],
)  # fmt: skip
def test_media_types_are_case_insensitive(lane: Ledger, content_type: str) -> None:
    body = '{"pointsToBeAdjusted": "1", "reasonOfReturn": "x"}'
    assert post(lane, body, content_type).status_code == 200
    token = httpx.post(
        lane.url + "/v3/oauth/token/generate",
        content=b'{"key": "doc-client", "secret": "doc-secret"}',
        headers={"Content-Type": content_type},
    )
    assert token.status_code == 200 and token.json()["data"]["accessToken"]


def test_a_5000_digit_user_id_on_the_admin_api_is_8013(lane: Ledger) -> None:
    response = httpx.get(f"{lane.url}/__admin/customers/{'9' * 5000}")
    assert envelope(response) == (400, 8013, "Lookup,Invalid identifier passed")


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ('{"pointsToBeAdjusted": "10\\n", "reasonOfReturn": "x"}', 9104,
         'pointsToBeAdjusted must be a number, got "10\\n"'),
        ('{"pointsToBeAdjusted": "1", "reasonOfReturn": "\\ufeff"}', 8882,
         "Reason for adjustment cannot be null"),
        ('{"pointsToBeAdjusted": "1", "reasonOfReturn": "x", "programId": 9.73e2}', 9110,
         'Input is invalid: programId: 9.73e+2 is not of type "integer"'),
        ('{"pointsToBeAdjusted": "1", "reasonOfReturn": "x", "programId": 973.0}', 9110,
         'Input is invalid: programId: 973.0 is not of type "integer"'),
        ('{"pointsToBeAdjusted": "1", "reasonOfReturn": "x", "programId": null}', 9110,
         'Input is invalid: programId: null is not of type "integer"'),
        ('{"pointsToBeAdjusted": "1", "reasonOfReturn": "x", "promotionId": true}', 9110,
         'Input is invalid: promotionId: true is not of type "integer"'),
        ('{"pointsToBeAdjusted": "9999999999999", "reasonOfReturn": "x"}', 9106,
         'pointsToBeAdjusted must be at most 1000000000000, got "9999999999999"'),
        ('{"pointsToBeAdjusted": 1' + "0" * 5000 + ', "reasonOfReturn": "x"}', 9100,
         "Request body is not valid JSON: an integer of 5,001 digits is too long"),
        ('{"pointsToBeAdjusted": "1", "reasonOfReturn": "x", "pointCategoryTypes": 973.0}', 9108,
         "pointCategoryTypes must be one of REGULAR, PROMISED, EXTERNAL_TRIGGER_BASED, got 973.0"),
    ],
)  # fmt: skip
def test_odd_values_get_their_code_and_the_json_sent(
    lane: Ledger, body: str, code: int, message: str
) -> None:
    assert envelope(post(lane, body)) == (400, code, message)


def test_no_message_shows_python(lane: Ledger) -> None:
    for value in ("null", "true", "false", "973.0", "[1.5]", '{"a": null}'):
        body = f'{{"pointsToBeAdjusted": "1", "reasonOfReturn": "x", "programId": {value}}}'
        message = envelope(post(lane, body))[2]
        for python in ("None", "True", "False", "Decimal(", "sys.", "'"):
            assert python not in message, message


def test_every_401_says_how_to_authenticate(lane: Ledger) -> None:
    body = b'{"pointsToBeAdjusted": "1", "reasonOfReturn": "x"}'
    json = {"Content-Type": "application/json"}
    token = {**json, "X-CAP-API-OAUTH-TOKEN": "x"}
    wrong_client = b'{"key": "k", "secret": "s"}'
    refusals = [
        httpx.post(lane.url + DEDUCT, content=body, headers=json),
        httpx.post(lane.url + DEDUCT, content=body, headers=token),
        httpx.post(lane.url + "/v3/oauth/token/generate", content=wrong_client, headers=json),
        httpx.get(f"{lane.url}/__admin/fixtures", params={"secrets": "true"}),
    ]
    challenges = [response.headers.get("www-authenticate") for response in refusals]
    assert [response.status_code for response in refusals] == [401, 401, 401, 401]
    assert challenges == [
        'Basic realm="capmock", ApiKey realm="capmock", header="X-CAP-API-OAUTH-TOKEN"',
        'Basic realm="capmock", ApiKey realm="capmock", header="X-CAP-API-OAUTH-TOKEN"',
        'KeySecret realm="capmock"',
        'ApiKey realm="capmock admin", header="X-CAPMOCK-ADMIN-TOKEN"',
    ]


def test_a_405_allows_every_method_of_the_path(lane: Ledger) -> None:
    response = httpx.delete(f"{lane.url}/__admin/fixtures")
    assert envelope(response)[:2] == (405, 9112)
    assert response.headers["allow"] == "GET, HEAD, PUT"
    literal = httpx.delete(f"{lane.url}/__admin/requests/count")  # not /requests/{requestId}
    assert envelope(literal)[:2] == (405, 9112)
    assert literal.headers["allow"] == "POST"


def test_a_redirect_never_names_the_clients_host(lane: Ledger) -> None:
    response = httpx.get(f"{lane.url}/__admin/health/", headers={"Host": "evil.example"})
    assert response.status_code == 307
    assert response.headers["location"] == "/__admin/health"
    double = httpx.get(f"{lane.url}//evil.example/__admin/health/")
    assert not double.headers.get("location", "/").startswith("//")


def test_secrets_are_redacted_without_the_admin_token(lane: Ledger) -> None:
    shown = httpx.get(f"{lane.url}/__admin/fixtures").json()
    assert {user["password"] for user in shown["users"]} == {"<redacted>"}
    assert {client["secret"] for client in shown["oauthClients"]} == {"<redacted>"}
    assert "server123" not in httpx.get(f"{lane.url}/__admin/fixtures").text
    refused = httpx.get(f"{lane.url}/__admin/fixtures", params={"secrets": "true"})
    assert envelope(refused)[:2] == (401, 9117)


def test_secrets_are_shown_to_the_admin_token(served: Callable[[object], str]) -> None:
    url = served(create_app(load_fixtures(DEFAULT_FIXTURES), admin_token=ADMIN_TOKEN))
    token = {"X-CAPMOCK-ADMIN-TOKEN": ADMIN_TOKEN}
    ledger = Ledger(url, token)
    plain = httpx.get(f"{url}/__admin/fixtures", headers=token).json()
    assert plain["users"][0]["password"] == "<redacted>"
    shown = httpx.get(f"{url}/__admin/fixtures", params={"secrets": "true"}, headers=token)
    assert shown.json()["users"][0]["password"] == "server123"
    guess = {"X-CAPMOCK-ADMIN-TOKEN": "guess"}
    wrong = httpx.get(f"{url}/__admin/fixtures", params={"secrets": "true"}, headers=guess)
    assert envelope(wrong)[:2] == (401, 9117)
    assert SEED_USER in {c["userId"] for c in shown.json()["customers"]}
    ledger.check()

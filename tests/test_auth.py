"""Who may deduct: Capillary-style Basic auth, OAuth tokens that expire, the Points group."""

from __future__ import annotations

import base64
import logging

import pytest
from support import LiveMock, basic_header

pytestmark = pytest.mark.usefixtures("mock")

BODY = {"pointsToBeAdjusted": "1", "reasonOfReturn": "auth test"}
AUTH_FAILED = (401, 9113, "Authentication failed. Please check username and password.")


def refusal(response) -> tuple[int, int, str]:
    (error,) = response.json()["errors"]
    return response.status_code, error["code"], error["message"]


def token_for(mock: LiveMock, key: str = "doc-client", secret: str = "doc-secret") -> str:
    response = mock.client.post("/v3/oauth/token/generate", json={"key": key, "secret": secret})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["errors"] is None and body["data"]["ttlSeconds"] == 300
    return body["data"]["accessToken"]


def test_the_docs_worked_example_header_is_accepted(mock: LiveMock):
    header = "Basic c3RvcmUuc2VydmVyOjhhMTZhNmI3MDUwNWViMWYxZmY3Y2RjMGNkNTU1OWE3"
    assert basic_header("store.server", "server123") == header
    response = mock.deduct(BODY, auth=None, headers={"Authorization": header})
    assert response.status_code == 200


def test_no_credentials_is_401(mock: LiveMock):
    assert refusal(mock.deduct(BODY, auth=None)) == AUTH_FAILED


def test_wrong_password_is_401(mock: LiveMock):
    assert refusal(mock.deduct(BODY, auth=("store.server", "server124"))) == AUTH_FAILED


def clear_basic(username: str, password: str) -> dict[str, str]:
    """Basic auth as a newcomer first sends it: the password itself, not its MD5."""
    return {
        "Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    }


def test_clear_password_instead_of_its_md5_is_401_with_a_hint(
    mock: LiveMock, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.WARNING, logger="capmock"):
        response = mock.deduct(BODY, auth=None, headers=clear_basic("store.server", "server123"))
    assert refusal(response) == AUTH_FAILED
    assert response.headers["X-Capmock-Hint"] == "the password must be sent as md5hex(password)"
    (logged,) = [r.getMessage() for r in caplog.records if r.name == "capmock"]
    assert "store.server" in logged and "md5hex(password)" in logged and "md5sum" in logged


@pytest.mark.parametrize(
    "credentials",
    [
        ("store.server", "server124"),  # a wrong password
        ("store.noaccess", "server123"),  # another user's clear password
        ("nobody", "server123"),  # no such user
    ],
)
def test_no_hint_for_other_wrong_credentials(
    mock: LiveMock, credentials: tuple[str, str], caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.WARNING, logger="capmock"):
        response = mock.deduct(BODY, auth=None, headers=clear_basic(*credentials))
    assert refusal(response) == AUTH_FAILED
    assert "X-Capmock-Hint" not in response.headers
    assert not [r for r in caplog.records if r.name == "capmock"]


def test_the_md5_of_the_password_gets_no_hint(mock: LiveMock):
    response = mock.deduct(BODY)
    assert response.status_code == 200 and "X-Capmock-Hint" not in response.headers


def test_unknown_user_is_401(mock: LiveMock):
    assert refusal(mock.deduct(BODY, auth=("nobody", "server123"))) == AUTH_FAILED


@pytest.mark.parametrize(
    "header",
    [
        "Basic",
        "Basic !!!notbase64",
        "Bearer abc",
        ("Basic " + "é" * 3).encode("latin-1"),
        "garbage",
    ],
)
def test_malformed_authorization_is_401_in_the_envelope(mock: LiveMock, header):
    response = mock.deduct(BODY, auth=None, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert refusal(response)[1] == 9113


def test_user_without_points_group_is_403(mock: LiveMock):
    response = mock.deduct(BODY, auth=("store.noaccess", "noaccess123"))
    assert refusal(response) == (
        403,
        9114,
        "Access denied: store.noaccess is not in the Points access group",
    )


def test_auth_comes_before_validation(mock: LiveMock):
    assert refusal(mock.deduct({}, source="FOO", auth=None))[0] == 401


def test_oauth_token_deducts(mock: LiveMock):
    token = token_for(mock)
    response = mock.deduct(BODY, auth=None, headers={"X-CAP-API-OAUTH-TOKEN": token})
    assert response.json()["pointsAvailable"] == "679.000"


def test_oauth_token_expires_after_its_ttl(mock: LiveMock):
    token = token_for(mock)
    mock.clock.now += 299
    headers = {"X-CAP-API-OAUTH-TOKEN": token}
    assert mock.deduct(BODY, auth=None, headers=headers).status_code == 200
    mock.clock.now += 1
    assert refusal(mock.deduct(BODY, auth=None, headers=headers)) == (
        401,
        9115,
        "Authentication failed. The OAuth token is invalid or has expired.",
    )


@pytest.mark.parametrize("token", ["garbage", "a.b.c", ""])
def test_forged_or_garbage_token_is_401(mock: LiveMock, token):
    response = mock.deduct(BODY, auth=None, headers={"X-CAP-API-OAUTH-TOKEN": token})
    assert response.status_code == 401


def test_token_signed_by_someone_else_is_401(mock: LiveMock):
    import jwt

    forged = jwt.encode(
        {"sub": "doc-client", "exp": 4_000_000_000}, "not-the-secret-of-this-mock-at-all", "HS256"
    )
    response = mock.deduct(BODY, auth=None, headers={"X-CAP-API-OAUTH-TOKEN": forged})
    assert refusal(response)[1] == 9115


def test_token_of_a_client_without_points_group_is_403(mock: LiveMock):
    token = token_for(mock, "doc-client-noaccess", "noaccess-secret")
    response = mock.deduct(BODY, auth=None, headers={"X-CAP-API-OAUTH-TOKEN": token})
    assert refusal(response)[:2] == (403, 9114)


def test_token_of_a_client_removed_by_new_fixtures_is_401(mock: LiveMock, world_text):
    token = token_for(mock)
    mock.put_fixtures(world_text.replace("key: doc-client\n", "key: other-client\n"))
    response = mock.deduct(BODY, auth=None, headers={"X-CAP-API-OAUTH-TOKEN": token})
    assert response.status_code == 401


def test_bad_key_or_secret_gets_no_token(mock: LiveMock):
    response = mock.client.post(
        "/v3/oauth/token/generate", json={"key": "doc-client", "secret": "nope"}
    )
    assert response.status_code == 401
    assert response.json() == {
        "data": None,
        "errors": [{"status": False, "code": 9116, "message": "Invalid key or secret"}],
    }


@pytest.mark.parametrize("body", [{}, {"key": "doc-client"}, {"key": "", "secret": "x"}, []])
def test_malformed_token_request_is_400(mock: LiveMock, body):
    response = mock.client.post("/v3/oauth/token/generate", json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] in (9101, 9110)


def test_the_ttl_comes_from_the_fixtures(mock: LiveMock, world_text):
    mock.put_fixtures(world_text.replace("oauthTokenTtlSeconds: 300", "oauthTokenTtlSeconds: 60"))
    response = mock.client.post(
        "/v3/oauth/token/generate", json={"key": "doc-client", "secret": "doc-secret"}
    )
    assert response.json()["data"]["ttlSeconds"] == 60

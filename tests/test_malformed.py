"""Whatever a client sends, the answer is a 4xx in the API's envelope: never a 500,
never problem+json."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import SEED_USER, LiveMock

pytestmark = pytest.mark.usefixtures("mock")

PATH = f"/v2/customers/{SEED_USER}/negativePointsAdjustment?source=INSTORE"


def post(mock: LiveMock, content: bytes, content_type: str | None = "application/json", path=PATH):
    headers = mock.auth_headers()
    if content_type is not None:
        headers["Content-Type"] = content_type
    return mock.client.post(path, content=content, headers=headers)


def envelope_code(response) -> int:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"errors", "warnings"}
    (error,) = body["errors"]
    assert error["status"] is False and isinstance(error["message"], str)
    return error["code"]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"\xff\xfe{\x00", 9100),
        (b'{"pointsToBeAdjusted": "10", "reasonOfReturn": "caf\xe9"}', 9100),
        (b"{", 9100),
        (b"{'single': 'quotes'}", 9100),
        (b'{"pointsToBeAdjusted": NaN, "reasonOfReturn": "x"}', 9100),
        (b'{"pointsToBeAdjusted": Infinity, "reasonOfReturn": "x"}', 9100),
        (b'{"pointsToBeAdjusted": -Infinity, "reasonOfReturn": "x"}', 9100),
        (b"[1, 2]", 9101),
        (b'"just a string"', 9101),
        (b"42", 9101),
        (b"null", 9101),
        (b"", 9101),
        (b'{"pointsToBeAdjusted": 1e400, "reasonOfReturn": "x"}', 9106),
        (b'{"pointsToBeAdjusted": 1e-400, "reasonOfReturn": "x"}', 8906),
        (b'{"pointsToBeAdjusted": ' + b"9" * 5000 + b', "reasonOfReturn": "x"}', 9100),
        (b"[" * 30_000 + b"]" * 30_000, 9100),
        (b"[" * 100_000 + b"]" * 100_000, 9130),
        (b'{"pointsToBeAdjusted": "10", "reasonOfReturn": 5}', 8882),
        (b'{"pointsToBeAdjusted": [1.5], "reasonOfReturn": "x"}', 9104),
        (b'{"pointsToBeAdjusted": {"a": 0.5}, "reasonOfReturn": "x"}', 9104),
        (b'{"pointsToBeAdjusted": "10", "reasonOfReturn": "' + b"x" * 60_000 + b'"}', 9107),
        (b'{"pointsToBeAdjusted": "10", "reasonOfReturn": "' + b"x" * 1_000_000 + b'"}', 9130),
        (b'{"pointsToBeAdjusted": "10", "reasonOfReturn": "x", "programId": 97.0}', 9110),
        (b'{"pointsToBeAdjusted": "10", "reasonOfReturn": "x", "programId": "973"}', 9110),
    ],
    ids=lambda value: value[:40].decode("latin-1") if isinstance(value, bytes) else str(value),
)
def test_malformed_bodies(mock: LiveMock, content, code):
    assert envelope_code(post(mock, content)) == code


@pytest.mark.parametrize(
    ("content_type", "code"),
    [
        ("text/plain", 9102),
        ("application/xml", 9102),
        ("multipart/form-data; boundary=x", 9102),
        ("application/json; charset=bogus", 9100),
        ("application/json;charset=bogus", 9100),
        ("application/json; charset=utf-16", 9100),
    ],
)
def test_wrong_content_types(mock: LiveMock, content_type, code):
    response = post(mock, b'{"pointsToBeAdjusted": "10", "reasonOfReturn": "x"}', content_type)
    assert envelope_code(response) == code


def test_a_quoted_charset_is_honoured(mock: LiveMock):
    body = '{"pointsToBeAdjusted": "10", "reasonOfReturn": "café"}'.encode("latin-1")
    assert post(mock, body, 'application/json; charset="latin-1"').status_code == 200
    assert envelope_code(post(mock, body, 'application/json; charset="ascii"')) == 9100


def test_415_status_for_a_wrong_content_type(mock: LiveMock):
    assert post(mock, b"x", "text/plain").status_code == 415


def test_a_body_without_content_type_is_read_as_json(mock: LiveMock):
    response = post(mock, b'{"pointsToBeAdjusted": "10", "reasonOfReturn": "x"}', None)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/v2/customers/%0A/negativePointsAdjustment?source=INSTORE", 8013),
        ("/v2/customers/1%0A/negativePointsAdjustment?source=INSTORE", 8013),
        ("/v2/customers/%00/negativePointsAdjustment?source=INSTORE", 8013),
        ("/v2/customers/%FF%FE/negativePointsAdjustment?source=INSTORE", 8013),
        (f"/v2/customers/{SEED_USER}/negativePointsAdjustment?source=%0A", 8003),
        (f"/v2/customers/{SEED_USER}/negativePointsAdjustment?source=INSTORE%00", 8003),
        (f"/v2/customers/{SEED_USER}/negativePointsAdjustment?source=%FF", 8003),
        (f"/v2/customers/{SEED_USER}/negativePointsAdjustment", 8003),
        ("/v2/customers/" + "9" * 5000 + "/negativePointsAdjustment?source=INSTORE", 8013),
        ("/v2/customers/1/2/negativePointsAdjustment?source=INSTORE", 9111),
        ("/nothing/here", 9111),
    ],
)
def test_odd_paths_and_queries(mock: LiveMock, path, code):
    response = post(mock, b'{"pointsToBeAdjusted": "10", "reasonOfReturn": "x"}', path=path)
    assert envelope_code(response) == code


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_405_in_the_envelope(mock: LiveMock, method):
    response = mock.client.request(method, PATH, headers=mock.auth_headers())
    assert response.status_code == 405 and envelope_code(response) == 9112
    assert response.headers["allow"] == "POST"


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=300))
def test_random_bytes_never_break_the_envelope(mock: LiveMock, content):
    response = post(mock, content)
    if response.status_code != 200:
        envelope_code(response)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
fields = st.sampled_from(
    [
        "pointsToBeAdjusted",
        "valueToBeAdjusted",
        "alternateCurrencyName",
        "reasonOfReturn",
        "pointCategoryTypes",
        "promotionId",
        "promotionIdentifier",
        "programId",
        "pointsAwardedId",
        "pointsAwardedRefType",
    ]
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.dictionaries(fields, json_values, max_size=6), source=st.text(max_size=10))
def test_random_json_bodies_get_200_or_an_envelope(mock: LiveMock, body, source):
    response = mock.client.post(
        f"/v2/customers/{SEED_USER}/negativePointsAdjustment",
        params={"source": source},
        json=body,
        headers=mock.auth_headers(),
    )
    if response.status_code == 200:
        assert response.json()["status"] == "success"
    else:
        envelope_code(response)

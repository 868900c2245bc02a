"""HTTP details of the mock that the contract tests rely on: 405 with Allow, the fixture view."""

from __future__ import annotations

from support import LiveMock

from mock_server.data import DEFAULT_FIXTURES
from mock_server.fixtures import load_document


def test_undeclared_method_is_405_with_allow_header_in_the_envelope(mock: LiveMock) -> None:
    response = mock.client.put(
        "/v2/customers/388034468/negativePointsAdjustment", params={"source": "INSTORE"}
    )
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]
    assert response.json()["errors"][0]["code"] == 9112


def test_fixture_view_round_trips_through_the_loader(mock: LiveMock) -> None:
    response = mock.client.get("/__admin/fixtures")
    assert response.status_code == 200
    shown = load_document(response.json(), "GET /__admin/fixtures")
    loaded = load_document(DEFAULT_FIXTURES.read_text(), str(DEFAULT_FIXTURES))
    assert shown.customers == loaded.customers
    assert shown.programs == loaded.programs
    assert shown.awards == loaded.awards

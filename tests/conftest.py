"""Shared fixtures: one real mock for the session, reset to the default world per test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from support import Clock, LiveMock, start_server

from capmock.paths import DEFAULT_FIXTURES
from mock_server.app import create_app
from mock_server.fixtures import load_fixtures


@pytest.fixture(scope="session", params=["fast-lane", "connexion-only"])
def live_mock(request: pytest.FixtureRequest) -> Iterator[LiveMock]:
    """One mock per lane for the session, on the default fixtures: every HTTP test runs
    once with the fast lane and once with Connexion alone, validating responses."""
    clock = Clock()
    fast = request.param == "fast-lane"
    app = create_app(
        load_fixtures(DEFAULT_FIXTURES), clock=clock, validate_responses=not fast, fast_lane=fast
    )
    server, thread, url = start_server(app)
    with httpx.Client(base_url=url, timeout=10) as client:
        yield LiveMock(url=url, clock=clock, client=client)
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def mock(live_mock: LiveMock) -> LiveMock:
    """The session's mock, back at its default fixtures and balances."""
    live_mock.put_fixtures(DEFAULT_FIXTURES.read_text())
    return live_mock


@pytest.fixture
def world_text() -> str:
    """The default fixture file's text, for tests that change one setting of it."""
    return DEFAULT_FIXTURES.read_text()

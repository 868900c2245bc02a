"""The contract suite on targets unlike the default: no false findings.

A world whose default program has no decimals, allows negative balances and answers
8015 with 404, with a profile derived from the mock itself; and OAuth credentials.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from support import start_server

from capmock.paths import DEFAULT_FIXTURES
from contract_tests import documented, schema_run
from contract_tests.derive import derive_profile
from contract_tests.findings import ContractBrokenError, Finding
from contract_tests.odd_inputs import odd_input_cases
from contract_tests.profile import DEFAULT_PROFILE, Credentials, Profile, load_profile
from contract_tests.stateful import run_model
from contract_tests.target import Target
from mock_server.app import create_app
from mock_server.fixtures import load_fixtures

WORLD = Path(__file__).parent / "data" / "contract_world.yaml"


@pytest.fixture
def serve() -> Iterator[Callable[[Path], str]]:
    servers = []

    def start(fixtures: Path) -> str:
        server, thread, url = start_server(create_app(load_fixtures(fixtures)))
        servers.append((server, thread))
        return url

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(5)


def findings_of(url: str, profile: Profile) -> list[Finding]:
    target = Target(url, profile, writes_allowed=True, admin=True)
    found: list[Finding] = []
    try:
        cases = documented.error_cases(profile) + documented.example_cases(profile)
        for case in cases + odd_input_cases(profile):
            target.reset()
            found += case.run(target)
        try:
            run_model(target, profile, max_examples=15, steps=15, seed=2)
        except ContractBrokenError as broken:
            found += broken.findings
        for phase in ("examples", "fuzzing"):
            found += schema_run.run_phase(target, phase, max_examples=30, seed=2)[0]
    finally:
        target.close()
    return found


def test_a_profile_derived_from_another_world_finds_nothing(serve: Callable[[Path], str]) -> None:
    url = serve(WORLD)
    profile = derive_profile(httpx.get(f"{url}/__admin/fixtures").json(), "test")
    assert (profile.program_id, profile.round_decimals) == (974, 0)
    assert profile.allow_negative_balance
    assert profile.error_status == {8015: 404}
    assert findings_of(url, profile) == []


def test_oauth_credentials_find_nothing(serve: Callable[[Path], str]) -> None:
    url = serve(DEFAULT_FIXTURES)
    profile = load_profile(DEFAULT_PROFILE).with_credentials(
        Credentials("oauth", "doc-client", "doc-secret")
    )
    assert findings_of(url, profile) == []

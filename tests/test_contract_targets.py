"""The contract suite on targets unlike the default: no false findings.

A world whose default program has no decimals, allows negative balances and answers
8015 with 404, with a profile derived from the mock itself; and OAuth credentials.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from contract_run import contract_findings

from contract_tests.derive import CannotDeriveError, derive_profile
from contract_tests.findings import Finding
from contract_tests.profile import DEFAULT_PROFILE, Credentials, Profile, load_profile
from contract_tests.target import ADMIN_HEADER
from mock_server.app import create_app
from mock_server.data import DEFAULT_FIXTURES
from mock_server.fixtures import load_fixtures

WORLD = Path(__file__).parent / "data" / "contract_world.yaml"


TOKEN = "admin-s3cret"


def findings_of(url: str, profile: Profile, admin_token: str | None = None) -> list[Finding]:
    return contract_findings(
        url, profile, ("examples", "fuzzing"), model_examples=15, seed=2, admin_token=admin_token
    )


def test_a_profile_derived_from_another_world_finds_nothing(
    served: Callable[[object], str],
) -> None:
    url = served(create_app(load_fixtures(WORLD), admin_token=TOKEN))
    fixtures = httpx.get(
        f"{url}/__admin/fixtures", params={"secrets": "true"}, headers={ADMIN_HEADER: TOKEN}
    ).json()
    profile = derive_profile(fixtures, "test")
    assert (profile.program_id, profile.round_decimals) == (974, 0)
    assert profile.allow_negative_balance
    assert profile.error_status == {8015: 404}
    assert findings_of(url, profile, TOKEN) == []


def test_without_the_token_the_profile_needs_credentials_given(
    served: Callable[[object], str],
) -> None:
    url = served(create_app(load_fixtures(WORLD)))
    redacted = httpx.get(f"{url}/__admin/fixtures").json()
    with pytest.raises(CannotDeriveError, match="CAPMOCK_ADMIN_TOKEN"):
        derive_profile(redacted, "test")
    given = Credentials("basic", "store.server", "server123")
    assert derive_profile(redacted, "test", given).credentials == given


def test_oauth_credentials_find_nothing(served: Callable[[object], str]) -> None:
    url = served(create_app(load_fixtures(DEFAULT_FIXTURES)))
    profile = load_profile(DEFAULT_PROFILE).with_credentials(
        Credentials("oauth", "doc-client", "doc-secret")
    )
    assert findings_of(url, profile) == []

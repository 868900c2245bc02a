"""The admin API against its own contract: Schemathesis generates requests from
``openapi/admin.yaml`` (examples, coverage, fuzzing) and checks every answer with all
its checks: documented statuses, schemas, content types, no server errors."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from mock_server.app import create_app
from mock_server.data import ADMIN_CONTRACT, DEFAULT_FIXTURES
from mock_server.fixtures import load_fixtures

REFUSALS = ["2xx", "400", "401", "404", "409", "429"]
"""What a schema-valid admin request may be answered: an unknown customer, request or
session, a pattern or fixtures the mock refuses, ``?secrets=true`` on a mock started
without an admin token (which never shows secrets), a verification that fails, the cap."""


@pytest.mark.parametrize("phase", ["examples", "coverage", "fuzzing"])
def test_the_admin_api_keeps_its_contract(served, phase: str) -> None:
    url = served(create_app(load_fixtures(DEFAULT_FIXTURES), max_sessions=20))
    config = SchemathesisConfig.from_dict(
        {
            "checks": {"positive_data_acceptance": {"expected-statuses": REFUSALS}},
            "phases": {
                name: {"enabled": name == phase}
                for name in ("examples", "coverage", "fuzzing", "stateful")
            },
            "generation": {"max-examples": 25, "mode": "all"},
            "seed": 7,
        }
    )
    schema = schemathesis.openapi.from_path(str(ADMIN_CONTRACT), config=config)
    schema.config.base_url = f"{url}/__admin"
    failures: list[str] = []
    cases = 0
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            cases += len(event.recorder.cases)
            failures += _failures(event.recorder)
        elif isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(f"{type(event).__name__}: {getattr(event, 'value', event)}")
    assert cases > 0
    assert failures == [], "\n\n".join(failures)


def _failures(recorder: Any) -> list[str]:
    found = []
    for checks in recorder.checks.values():
        for check in checks:
            info = check.failure_info
            if info is not None:
                found.append(f"{check.name}: {info.failure.title}\n{info.code_sample}")
    return found

"""The admin API against its own contract: Schemathesis generates requests from
``openapi/admin.yaml`` (examples, coverage, fuzzing) and checks every answer with all
its checks: documented statuses, schemas, content types, no server errors. The failure
instruments (faults, latency, rate limit) also in the stateful phase: whatever it adds,
the mock keeps answering the admin API, and an admin call removes it all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from mock_server.app import create_app
from mock_server.data import ADMIN_CONTRACT, DEFAULT_FIXTURES
from mock_server.fixtures import load_fixtures

REFUSALS = ["2xx", "400", "401", "404", "409", "429"]
"""What a schema-valid admin request may be answered: an unknown customer, request,
session or fault, a pattern or fixtures the mock refuses, ``?secrets=true`` on a mock
started without an admin token (which never shows secrets), a verification that fails,
the cap."""


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


@pytest.mark.parametrize("phase", ["examples", "coverage", "fuzzing", "stateful"])
def test_the_failure_instruments_of_the_admin_api_are_schemathesis_clean(
    served: Callable[[object], str], phase: str
):
    url = served(create_app(load_fixtures(DEFAULT_FIXTURES)))
    config = SchemathesisConfig.from_dict(
        {
            # a fault that is not there (any id, before it is added) is 404, a session
            # that is not there (any X-Capmock-Session) 400
            "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "404"]}},
            "phases": {
                name: {"enabled": name == phase}
                for name in ("examples", "coverage", "fuzzing", "stateful")
            },
            "generation": {"max-examples": 40, "mode": "all"},
            "seed": 11,
        }
    )
    schema = schemathesis.openapi.from_path(str(ADMIN_CONTRACT), config=config)
    schema.config.base_url = f"{url}/__admin"
    failures: list[str] = []
    cases = 0
    for event in from_schema(schema.include(tag="faults")).execute():
        if isinstance(event, events.ScenarioFinished):
            cases += len(event.recorder.cases)
            failures += _failures(event.recorder)
        elif isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(f"Schemathesis could not run: {event!r}")
    assert not failures, "\n\n".join(sorted(set(failures)))
    assert cases > 0
    assert httpx.get(f"{url}/__admin/health").status_code == 200
    httpx.delete(f"{url}/__admin/faults").raise_for_status()
    httpx.delete(f"{url}/__admin/latency").raise_for_status()
    httpx.delete(f"{url}/__admin/rate-limit").raise_for_status()
    deduction = httpx.post(
        f"{url}/v2/customers/388034468/negativePointsAdjustment?source=INSTORE",
        json={"pointsToBeAdjusted": "1", "reasonOfReturn": "After Schemathesis"},
        auth=("store.server", "8a16a6b70505eb1f1ff7cdc0cd5559a7"),
    )
    assert deduction.status_code == 200


def _failures(recorder: Any) -> list[str]:
    found = []
    for checks in recorder.checks.values():
        for check in checks:
            info = check.failure_info
            if info is not None:
                found.append(f"{check.name}: {info.failure.title}\n{info.code_sample}")
    return found

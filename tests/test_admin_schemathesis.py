"""Schemathesis against the admin API's failure instruments (faults, latency, rate
limit): every check, every phase, on a real mock. Whatever it adds, the mock keeps
answering the admin API, and an admin call removes it all."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from mock_server.app import create_app
from mock_server.data import ADMIN_CONTRACT, DEFAULT_FIXTURES
from mock_server.fixtures import load_fixtures


@pytest.mark.parametrize("phase", ["examples", "coverage", "fuzzing", "stateful"])
def test_the_failure_instruments_of_the_admin_api_are_schemathesis_clean(
    served: Callable[[object], str], phase: str
):
    url = served(create_app(load_fixtures(DEFAULT_FIXTURES)))
    config = SchemathesisConfig.from_dict(
        {
            # a fault or a window that is not there (any id, before it is added) is 404
            "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "404"]}},
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
            for checks in event.recorder.checks.values():
                failures += [
                    f"{check.name}: {check.failure_info.failure.title}\n"
                    f"{check.failure_info.code_sample}"
                    for check in checks
                    if check.failure_info is not None
                ]
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

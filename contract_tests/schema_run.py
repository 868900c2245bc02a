"""Schema conformance: one Schemathesis phase against the target, as findings.

Every built-in check runs, with the expected statuses of schema-valid requests set to
what the contract's business rules may answer (rather than dropping the check), plus
the custom checks of ``st_checks``. Schemathesis aims only at one customer: the
profile's test customer when the run may write, else the profile's unknown customer,
whose every request the contract says must be refused.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import CustomFailure
from schemathesis.engine import events, from_schema

from contract_tests import st_checks
from contract_tests.findings import Finding
from contract_tests.limits import BudgetExhaustedError
from contract_tests.target import Target, md5hex
from mock_server.data import CONTRACT

PHASES = ("examples", "coverage", "fuzzing", "stateful")
DEEP_PHASES = ("fuzzing", "stateful")
"""Phases that also pin ``source`` to the profile's, so that generated requests get past
the customer lookup to the business rules (1 in 12 random sources would); the coverage
phase keeps generating sources, invalid ones included."""


def config_for(
    target: Target, phase: str, *, max_examples: int, seed: int | None
) -> dict[str, Any]:
    """The Schemathesis configuration (the ``schemathesis.toml`` keys) for one phase."""
    profile = target.profile
    business = sorted({"400", *(str(status) for status in profile.error_status.values())})
    config: dict[str, Any] = {
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2xx", "401", *business]},
        },
        "phases": {name: {"enabled": name == phase} for name in PHASES},
        "generation": {"max-examples": max_examples, "mode": "all"},
        "parameters": {"userId": user_id_for(target)},
        "request-timeout": target.timeout,
        "auth": {"openapi": _auth(target)},
    }
    if phase in DEEP_PHASES:
        config["parameters"]["source"] = profile.source
    if phase == "stateful":
        config["phases"]["stateful"]["max-steps"] = 6
    if seed is not None:
        config["seed"] = seed
    return config


def user_id_for(target: Target) -> int:
    profile = target.profile
    return profile.user_id if target.writes_allowed else profile.unknown_customer_id


def _auth(target: Target) -> dict[str, Any]:
    credentials = target.profile.credentials
    if credentials.kind == "basic":
        return {"basicAuth": {"username": credentials.name, "password": md5hex(credentials.secret)}}
    token = target.auth_headers()["X-CAP-API-OAUTH-TOKEN"]
    return {"oauthToken": {"api_key": token}}


def run_phase(
    target: Target, phase: str, *, max_examples: int, seed: int | None
) -> tuple[list[Finding], int]:
    """Run one phase; the findings (one per distinct problem) and how many cases ran."""
    target.reset()
    config = SchemathesisConfig.from_dict(
        config_for(target, phase, max_examples=max_examples, seed=seed)
    )
    schema = schemathesis.openapi.from_path(str(CONTRACT), config=config)
    schema.config.base_url = target.base_url.rstrip("/")
    st_checks.ACTIVE = st_checks.ActiveRun(
        limits=target.limits,
        error_status=target.profile.error_status,
        allow_negative=target.profile.allow_negative_balance,
        user_id=user_id_for(target),
        traffic=target.traffic,
        reach=target.reach,
        source=target.profile.source if phase in DEEP_PHASES else None,
    )
    findings: dict[tuple[str, str], Finding] = {}
    cases = 0
    try:
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                cases += len(event.recorder.cases)
                for key, finding in _findings(event.recorder):
                    findings.setdefault(key, finding)
            elif isinstance(event, events.NonFatalError | events.FatalError):
                _raise_budget(event)
                problem = f"Schemathesis could not run the {phase} phase: {_error_text(event)}"
                findings.setdefault(("error", problem), Finding(problem, "", "", "a run"))
    finally:
        st_checks.ACTIVE = None
    return list(findings.values()), cases


def _findings(recorder: Any) -> list[tuple[tuple[str, str], Finding]]:
    found = []
    for case_id, checks in recorder.checks.items():
        for check in checks:
            info = check.failure_info
            if info is None:
                continue
            failure = info.failure
            interaction = recorder.interactions.get(failure.case_id or case_id)
            response = interaction.response if interaction else None
            shown = "no response"
            if response is not None:
                body = response.content.decode("utf-8", "backslashreplace")[:2000]
                shown = f"HTTP {response.status_code}\n{body}"
            detail = (failure.message or "").strip()
            custom = isinstance(failure, CustomFailure) and detail
            problem = f"{check.name}: {detail.splitlines()[0] if custom else failure.title}"
            expected = f"{check.name} holds" + (f"\n{detail}" if detail else "")
            found.append(
                ((check.name, failure.title), Finding(problem, info.code_sample, shown, expected))
            )
    return found


def _raise_budget(event: Any) -> None:
    """A spent request budget stops the test as not run, not as a finding."""
    error = getattr(event, "value", None) or getattr(event, "exception", None)
    while error is not None:
        if isinstance(error, BudgetExhaustedError):
            raise error
        error = error.__cause__ or error.__context__


def _error_text(event: Any) -> str:
    error = getattr(event, "value", None) or getattr(event, "exception", None)
    return f"{type(error).__name__}: {error}" if error is not None else repr(event)

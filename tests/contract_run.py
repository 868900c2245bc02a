"""Run the contract suite programmatically against a URL, for the project's own tests."""

from __future__ import annotations

import contextlib

from contract_tests import schema_run
from contract_tests.findings import ContractBrokenError, Finding, NotRunError
from contract_tests.plans.across import run_across
from contract_tests.plans.identifiers import identifier_cases
from contract_tests.plans.odd_inputs import odd_input_cases
from contract_tests.plans.races import run_race
from contract_tests.plans.sequences import run_model
from contract_tests.plans.suite import documented_cases
from contract_tests.profile import Profile
from contract_tests.target import Target

RACE = 10


def contract_findings(
    url: str,
    profile: Profile,
    phases: tuple[str, ...],
    *,
    model_examples: int,
    seed: int,
    admin_token: str | None = None,
) -> list[Finding]:
    """The documented cases, the odd inputs, the userId range, the model, the model across
    endpoints, the race and the given Schemathesis phases, as findings: an empty list
    means the server honours the contract."""
    target = Target(url, profile, writes_allowed=True, admin=True, admin_token=admin_token)
    findings: list[Finding] = []
    try:
        cases = documented_cases(profile, writes=True)
        cases += odd_input_cases(profile, writes=True) + identifier_cases(profile)
        for case in cases:
            target.reset()
            findings += case.run(target).findings
        target.reset()
        try:
            run_model(target, profile, max_examples=model_examples, steps=15, seed=seed)
        except ContractBrokenError as broken:
            findings += broken.findings
        target.reset()
        with contextlib.suppress(NotRunError):  # no allocation settings: others say why
            findings += run_across(target).findings
        target.reset()
        with contextlib.suppress(NotRunError):  # no balance to start from: others say why
            findings += run_race(target, RACE).findings
        for phase in phases:
            findings += schema_run.run_phase(target, phase, max_examples=30, seed=seed)[0]
    finally:
        target.close()
    return findings

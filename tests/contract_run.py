"""Run the contract suite programmatically against a URL, for the project's own tests."""

from __future__ import annotations

from contract_tests import documented, schema_run
from contract_tests.findings import ContractBrokenError, Finding
from contract_tests.odd_inputs import odd_input_cases
from contract_tests.profile import Profile
from contract_tests.stateful import run_model
from contract_tests.target import Target


def contract_findings(
    url: str,
    profile: Profile,
    phases: tuple[str, ...],
    *,
    model_examples: int,
    seed: int,
    admin_token: str | None = None,
) -> list[Finding]:
    """The documented cases, the odd inputs, the model and the given Schemathesis phases,
    as findings: an empty list means the server honours the contract."""
    target = Target(url, profile, writes_allowed=True, admin=True, admin_token=admin_token)
    findings: list[Finding] = []
    try:
        cases = documented.error_cases(profile) + documented.example_cases(profile)
        for case in cases + odd_input_cases(profile):
            target.reset()
            findings += case.run(target)
        try:
            run_model(target, profile, max_examples=model_examples, steps=15, seed=seed)
        except ContractBrokenError as broken:
            findings += broken.findings
        for phase in phases:
            findings += schema_run.run_phase(target, phase, max_examples=30, seed=seed)[0]
    finally:
        target.close()
    return findings

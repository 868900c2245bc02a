"""One test per documented error code and per seed example, built from the profile."""

from __future__ import annotations

import pytest

from contract_tests import documented
from contract_tests.findings import ContractBrokenError
from contract_tests.plugin import TARGET
from contract_tests.target import Target


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" not in metafunc.fixturenames:
        return
    profile = metafunc.config.stash[TARGET].profile
    cases = documented.error_cases(profile) + documented.example_cases(profile)
    metafunc.parametrize(
        "case",
        [
            pytest.param(case, id=case.name, marks=[pytest.mark.writes] if case.writes else [])
            for case in cases
        ],
    )


def test_documented(case: documented.Case, target: Target) -> None:
    findings = case.run(target)
    if findings:
        raise ContractBrokenError(findings)

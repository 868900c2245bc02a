"""One test per documented error code, per seed example and per odd input, built from the
profile."""

from __future__ import annotations

import pytest

from contract_tests import documented
from contract_tests.findings import ContractBrokenError
from contract_tests.odd_inputs import odd_input_cases
from contract_tests.plugin import TARGET
from contract_tests.target import Target


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    profile = metafunc.config.stash[TARGET].profile
    if "case" in metafunc.fixturenames:
        cases = documented.error_cases(profile) + documented.example_cases(profile)
    elif "odd" in metafunc.fixturenames:
        cases = odd_input_cases(profile)
    else:
        return
    metafunc.parametrize(
        "case" if "case" in metafunc.fixturenames else "odd",
        [
            pytest.param(case, id=case.name, marks=[pytest.mark.writes] if case.writes else [])
            for case in cases
        ],
    )


def test_documented(case: documented.Case, target: Target) -> None:
    findings = case.run(target)
    if findings:
        raise ContractBrokenError(findings)


def test_odd_input(odd: documented.Case, target: Target) -> None:
    findings = odd.run(target)
    if findings:
        raise ContractBrokenError(findings)

"""One test per documented error code, per seed example, per odd input and per userId
beyond 32 bits, built from the profile."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from contract_tests.findings import Verdict
from contract_tests.plans.listing import collected_cases
from contract_tests.plans.requests import Case
from contract_tests.plugin import SESSION
from contract_tests.target import Target

ARGUMENTS = {"test_documented": "case", "test_odd_input": "odd", "test_user_id_range": "wide"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    argument = ARGUMENTS.get(metafunc.function.__name__)
    if argument is None:
        return
    cases = collected_cases(metafunc.config.stash[SESSION].target)[metafunc.function.__name__]
    metafunc.parametrize(
        argument,
        [
            pytest.param(
                case, id=case.name, marks=[pytest.mark.writes] if case.needs_writes else []
            )
            for case in cases
        ],
    )


def test_documented(case: Case, target: Target, judged: Callable[[Verdict], None]) -> None:
    judged(case.run(target))


def test_odd_input(odd: Case, target: Target, judged: Callable[[Verdict], None]) -> None:
    judged(odd.run(target))


def test_user_id_range(wide: Case, target: Target, judged: Callable[[Verdict], None]) -> None:
    judged(wide.run(target))

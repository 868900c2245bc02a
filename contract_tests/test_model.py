"""Random sequences of deductions, each answer checked against the balance model; the
same model across endpoints (an allocation, a deduction by userId, one by identifier,
the balance and the ledger); and simultaneous deductions, which must neither lose nor
repeat one."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from contract_tests.findings import Verdict
from contract_tests.options import Options
from contract_tests.plans.across import run_across
from contract_tests.plans.races import run_race
from contract_tests.plans.sequences import STEPS, run_model
from contract_tests.target import Target


@pytest.mark.writes
def test_model(target: Target, run_options: Options) -> None:
    run_model(
        target,
        target.profile,
        max_examples=run_options.max_examples,
        steps=STEPS,
        seed=run_options.seed,
    )


@pytest.mark.writes
def test_across_endpoints(target: Target, judged: Callable[[Verdict], None]) -> None:
    judged(run_across(target))


@pytest.mark.writes
def test_race(target: Target, run_options: Options, judged: Callable[[Verdict], None]) -> None:
    judged(run_race(target, run_options.race))

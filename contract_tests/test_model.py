"""Random sequences of deductions, each answer checked against the balance model."""

from __future__ import annotations

import pytest

from contract_tests.options import Options
from contract_tests.plugin import STEPS
from contract_tests.stateful import run_model
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

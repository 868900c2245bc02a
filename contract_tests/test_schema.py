"""Schema conformance, property-based: every Schemathesis phase with every check."""

from __future__ import annotations

import pytest

from contract_tests.findings import ContractBrokenError
from contract_tests.options import Options
from contract_tests.schema_run import PHASES, run_phase
from contract_tests.target import Target


@pytest.mark.parametrize("phase", PHASES)
def test_schema(phase: str, target: Target, run_options: Options) -> None:
    findings, _cases = run_phase(
        target, phase, max_examples=run_options.max_examples, seed=run_options.seed
    )
    if findings:
        raise ContractBrokenError(findings)

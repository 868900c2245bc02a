"""Schema conformance, property-based: every Schemathesis phase with every check."""

from __future__ import annotations

import pytest

from contract_tests.findings import ContractBrokenError
from contract_tests.schema_run import PHASES
from contract_tests.session import Session


@pytest.mark.parametrize("phase", PHASES)
def test_schema(phase: str, session: Session) -> None:
    findings = session.schema_phase(phase)
    if findings:
        raise ContractBrokenError(findings)

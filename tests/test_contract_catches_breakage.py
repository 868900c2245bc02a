"""The contract suite passes against the real mock and fails, naming the problem,
against each deliberately broken server of ``broken_servers``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from broken_servers import BROKEN, Broken
from contract_run import contract_findings

from contract_tests import schema_run
from contract_tests.findings import ContractBrokenError, Finding
from contract_tests.profile import DEFAULT_PROFILE, load_profile
from contract_tests.stateful import run_model
from contract_tests.target import Target
from mock_server.app import create_app
from mock_server.data import DEFAULT_FIXTURES
from mock_server.fixtures import load_fixtures


def run_suite(url: str, phases: tuple[str, ...]) -> list[Finding]:
    return contract_findings(url, load_profile(DEFAULT_PROFILE), phases, model_examples=10, seed=1)


def test_the_real_mock_passes_every_phase(served: Callable[[object], str]) -> None:
    url = served(create_app(load_fixtures(DEFAULT_FIXTURES)))
    assert run_suite(url, schema_run.PHASES) == []


@pytest.mark.parametrize("broken", BROKEN, ids=[b.name.replace(" ", "-") for b in BROKEN])
def test_the_suite_names_what_is_broken(broken: Broken, served: Callable[[object], str]) -> None:
    with broken.patch():
        url = served(broken.app())
        findings = run_suite(url, broken.schema_phases)
    problems = [finding.problem for finding in findings]
    assert any(re.search(broken.expect, problem) for problem in problems), problems


def _model_findings(url: str, seed: int) -> list[str]:
    profile = load_profile(DEFAULT_PROFILE)
    target = Target(url, profile, writes_allowed=True, admin=True)
    try:
        run_model(target, profile, max_examples=10, steps=15, seed=seed)
    except ContractBrokenError as broken:
        return [finding.render() for finding in broken.findings]
    finally:
        target.close()
    return []


def test_a_seed_reproduces_a_run(served: Callable[[object], str]) -> None:
    double = next(b for b in BROKEN if b.name == "deducted twice")
    url = served(double.app())
    first = _model_findings(url, seed=5)
    assert first
    assert _model_findings(url, seed=5) == first


def test_capmock_test_exits_1_with_curl_response_and_expectation(
    served: Callable[[object], str],
) -> None:
    double = next(b for b in BROKEN if b.name == "deducted twice")
    url = served(double.app())
    result = subprocess.run(
        # the mock shows its credentials only to its admin token: given here instead
        [
            sys.executable,
            "-m",
            "capmock",
            "test",
            "--base-url",
            url,
            "--max-examples",
            "5",
            "--auth",
            "store.server:server123",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "curl -i -X POST" in result.stdout
    assert "the model's balance of" in result.stdout
    assert "expected:" in result.stdout
    assert "1 failed" in result.stdout

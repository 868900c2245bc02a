"""The contract suite passes against the real mock and fails, naming the problem,
against each deliberately broken server of ``broken_servers``."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from broken_servers import BROKEN, Broken
from contract_run import contract_findings

from contract_tests import schema_run
from contract_tests.findings import ContractBrokenError, Finding
from contract_tests.plans.sequences import run_model
from contract_tests.profile import DEFAULT_PROFILE, load_profile
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
    named = [
        finding.problem
        for finding in findings
        if re.search(broken.expect, finding.problem) and re.search(broken.request, finding.curl)
    ]
    assert named, [finding.render() for finding in findings]


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

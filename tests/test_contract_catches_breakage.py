"""The contract suite passes against the real mock and fails, naming the problem,
against each deliberately broken server of ``broken_servers``."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from broken_servers import BROKEN, Broken
from conftest import start_server

from capmock.paths import DEFAULT_FIXTURES
from contract_tests import documented, schema_run
from contract_tests.findings import ContractBrokenError, Finding
from contract_tests.profile import DEFAULT_PROFILE, load_profile
from contract_tests.stateful import run_model
from contract_tests.target import Target
from mock_server.app import create_app
from mock_server.fixtures import load_fixtures


def run_suite(url: str, phases: tuple[str, ...]) -> list[Finding]:
    """The documented cases, the model and the given Schemathesis phases, as findings."""
    profile = load_profile(DEFAULT_PROFILE)
    target = Target(url, profile, writes_allowed=True, admin=True)
    findings: list[Finding] = []
    try:
        for case in documented.error_cases(profile) + documented.example_cases(profile):
            target.reset()
            findings += case.run(target)
        try:
            run_model(target, profile, max_examples=10, steps=15, seed=1)
        except ContractBrokenError as broken:
            findings += broken.findings
        for phase in phases:
            findings += schema_run.run_phase(target, phase, max_examples=30, seed=1)[0]
    finally:
        target.close()
    return findings


@pytest.fixture
def served() -> Iterator[callable]:
    servers = []

    def serve(app: object) -> str:
        server, thread, url = start_server(app)
        servers.append((server, thread))
        return url

    yield serve
    for server, thread in servers:
        server.should_exit = True
        thread.join(5)


def test_the_real_mock_passes_every_phase(served: callable) -> None:
    url = served(create_app(load_fixtures(DEFAULT_FIXTURES)))
    assert run_suite(url, schema_run.PHASES) == []


@pytest.mark.parametrize("broken", BROKEN, ids=[b.name.replace(" ", "-") for b in BROKEN])
def test_the_suite_names_what_is_broken(broken: Broken, served: callable) -> None:
    with broken.patch():
        url = served(broken.app())
        findings = run_suite(url, broken.schema_phases)
    problems = [finding.problem for finding in findings]
    assert any(re.search(broken.expect, problem) for problem in problems), problems

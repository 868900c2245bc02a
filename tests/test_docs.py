"""The documentation keeps its word: what the README and docs/integrating.md show is
run, parsed or checked against the real command and a real mock."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import httpx
import pytest
import yaml
from contract_run import contract_findings
from support import ROOT, ServedMock

from capmock.cli import main
from contract_tests.derive import CannotDeriveError, derive_profile
from mock_server.app import create_app
from mock_server.data import DEFAULT_FIXTURES
from mock_server.fixtures import load_document

README = ROOT / "README.md"
INTEGRATING = ROOT / "docs" / "integrating.md"
CI_GATES = ROOT / "docs" / "ci-gates.md"
SHELL_OPERATORS = {"&", "&&", "||", ";", "|", ">", "2>&1", "<"}


def blocks(path: Path, language: str) -> list[tuple[str, str]]:
    """Each fenced block of ``language`` ("" for none): (the text before it, its content)."""
    found: list[tuple[str, str]] = []
    before: list[str] = []
    fence: tuple[str, list[str]] | None = None
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if fence is None and line.startswith("```"):
            fence = (line[3:].strip(), [])
        elif fence is not None and line.rstrip() == "```":
            if fence[0] == language:
                found.append(("".join(before), "".join(fence[1])))
            fence = None
        elif fence is not None:
            fence[1].append(line)
        else:
            before.append(line)
    return found


def block_after(path: Path, language: str, marker: str) -> str:
    """The first ``language`` block after the paragraph that contains ``marker``."""
    found = [body for before, body in blocks(path, language) if marker in before[-600:]]
    assert found, f"no {language} block after {marker!r} in {path.name}"
    return found[0]


def capmock_commands(script: str) -> list[list[str]]:
    """Every ``capmock ...`` invocation in shell text, as its words up to a shell operator."""
    commands = []
    for line in script.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        for i, word in enumerate(words):
            starts = i == 0 or words[i - 1] in SHELL_OPERATORS
            if starts and (word == "capmock" or word.endswith("/capmock")):
                rest = words[i + 1 :]
                end = next((j for j, w in enumerate(rest) if w in SHELL_OPERATORS), len(rest))
                commands.append(rest[:end])
    return commands


def assert_real_command(words: list[str]) -> None:
    """The subcommand exists and takes every option given (with a value where it needs one)."""
    assert words, "capmock without a subcommand"
    command = main.commands.get(words[0])
    assert isinstance(command, click.Command), f"no subcommand capmock {words[0]}"
    options = {
        name: param
        for param in command.params
        if isinstance(param, click.Option)
        for name in (*param.opts, *param.secondary_opts)
    }
    args = iter(words[1:])
    for word in args:
        if word.startswith("--"):
            name = word.split("=", 1)[0]
            assert name in options, f"capmock {words[0]} has no option {name}"
            if not options[name].is_flag and "=" not in word:
                assert next(args, None) is not None, f"{name} needs a value"


# --- the README --------------------------------------------------------------------------


def test_the_readme_terminal_examples_answer_as_written(serve: Callable[..., ServedMock]):
    """Each README shell block that calls the mock, run in bash against a fresh mock:
    every JSON answer equals the comment written under its command."""
    mock = serve()
    runs = 0
    for _, body in blocks(README, "sh"):
        expected = [json.loads(line[2:]) for line in body.splitlines() if line.startswith("# {")]
        if "127.0.0.1:8080" not in body or not expected or "capmock serve" in body:
            continue
        httpx.post(f"{mock.url}/__admin/reset").raise_for_status()
        script = body.replace("http://127.0.0.1:8080", mock.url)
        result = subprocess.run(
            ["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False
        )
        answers = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
        assert answers == expected, (body, result.stderr)
        runs += 1
    assert runs == 4  # the Basic deduction, the OAuth deduction, the reset, the other endpoints


def test_the_readme_background_start_waits_until_the_mock_answers(tmp_path: Path):
    """The README's one-terminal start, on a free port: the wait returns health."""
    body = block_after(README, "sh", "start the mock in the background")
    port = _free_port()
    script = body.replace(".venv/bin/capmock serve", f"capmock serve --port {port}").replace(
        "127.0.0.1:8080", f"127.0.0.1:{port}"
    )
    script += '\nkill "$!"\n'
    result = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=_env_with_capmock(),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[0]) == {
        "status": "ok",
        "customers": 5,
        "store": "memory",
    }


def test_the_readme_synopsis_lists_every_option_of_every_subcommand():
    synopsis = block_after(README, "", "## The command")
    entries: dict[str, str] = {}
    for line in synopsis.splitlines():
        if line.startswith("capmock "):
            current = line.split()[1]
            entries[current] = line
        elif line.startswith(" "):
            entries[current] += line
    for name, command in main.commands.items():
        assert name in entries, f"capmock {name} is missing from the README's synopsis"
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                named = any(re.search(rf"{opt}(?![\w-])", entries[name]) for opt in param.opts)
                assert named, f"capmock {name} {param.opts[0]} is missing from the synopsis"


# --- docs/integrating.md -----------------------------------------------------------------


def test_the_credentials_table_matches_the_default_fixtures():
    world = yaml.safe_load(DEFAULT_FIXTURES.read_text())
    passwords = {u["username"]: u["password"] for u in world["users"]}
    secrets = {c["key"]: c["secret"] for c in world["oauthClients"]}
    text = INTEGRATING.read_text()
    rows = re.findall(r"\| Basic user `([^`]+)` \| `([^`]+)` \(send `([0-9a-f]{32})`\)", text)
    assert {user for user, _, _ in rows} == set(passwords)
    for user, clear, md5 in rows:
        assert passwords[user] == clear
        assert hashlib.md5(clear.encode()).hexdigest() == md5
    clients = re.findall(r"\| OAuth client `([^`]+)` \| `([^`]+)` \|", text)
    assert dict(clients) == secrets


def shortest_file() -> str:
    return block_after(INTEGRATING, "yaml", "shortest file that serves a deduction")


def test_the_shortest_file_serves_and_passes_the_contract_suite(served: Callable[[object], str]):
    world = load_document(shortest_file(), "the shortest file")
    url = served(create_app(world, admin_token="docs"))
    shown = httpx.get(
        f"{url}/__admin/fixtures",
        params={"secrets": "true"},
        headers={"X-CAPMOCK-ADMIN-TOKEN": "docs"},
    )
    profile = derive_profile(shown.json(), "shortest")
    findings = contract_findings(
        url, profile, ("examples",), model_examples=5, seed=3, admin_token="docs"
    )
    assert findings == []


@pytest.mark.parametrize(
    ("remove", "named"),
    [
        (lambda doc: doc.pop("promotions"), "a promotion of program 973"),
        (
            lambda doc: doc.pop("pointsAwards"),
            "a points award of program 973 to a customer enrolled in it",
        ),
        (lambda doc: doc.pop("users"), "a user or OAuth client with the points access group"),
        (
            lambda doc: (
                doc["programs"][0].pop("alternateCurrencies"),
                doc["customers"][0]["enrollments"][0].pop("alternateCurrencies"),
            ),
            "an alternate currency in program 973",
        ),
    ],
    ids=["promotion", "award", "user", "currency"],
)
def test_a_missing_need_is_named_alone(remove: Callable[[dict], object], named: str):
    document = yaml.safe_load(shortest_file())
    remove(document)
    load_document(json.dumps(document), "still served")  # the mock itself needs none of them
    with pytest.raises(CannotDeriveError) as refused:
        derive_profile(document, "test")
    message = str(refused.value)
    assert message == (
        f"cannot derive a test profile from the mock's fixtures: they lack {named} "
        "(add what is missing to the fixtures, or give --profile)"
    )


def test_capmock_test_names_what_the_fixtures_lack(serve: Callable[..., ServedMock], tmp_path):
    document = yaml.safe_load(shortest_file())
    document.pop("promotions")
    fixtures = tmp_path / "no-promotion.yaml"
    fixtures.write_text(yaml.safe_dump(document))
    mock = serve("--fixtures", str(fixtures))
    result = subprocess.run(
        [sys.executable, "-m", "capmock", "test", "--base-url", mock.url],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env_with_capmock(),
        check=False,
    )
    assert result.returncode == 2
    assert "they lack a promotion of program 973 (add what is missing" in (
        result.stdout + result.stderr
    )
    assert "currency" not in result.stdout + result.stderr


@pytest.mark.parametrize("which", ["GitHub Actions", "GitLab CI"])
def test_the_ci_examples_run_real_capmock_commands(which: str):
    document = yaml.safe_load(block_after(INTEGRATING, "yaml", f"### {which}"))
    if which == "GitHub Actions":
        (job,) = document["jobs"].values()
        lines = [step["run"] for step in job["steps"] if "run" in step]
    else:
        (job,) = document.values()
        lines = [line for key in ("script", "after_script") for line in job.get(key, [])]
    script = "\n".join(lines)
    commands = capmock_commands(script)
    assert [c[0] for c in commands] == ["serve"]
    for command in commands:
        assert_real_command(command)
    assert "/__admin/health" in script and "kill" in script  # wait for it, then stop it


def test_the_ci_shell_script_starts_waits_runs_and_stops(tmp_path: Path):
    script = block_after(INTEGRATING, "sh", "save it as `with-capmock.sh`")
    for command in capmock_commands(script):
        assert_real_command(command)
    (tmp_path / "with-capmock.sh").write_text(script)
    env = _env_with_capmock()
    subprocess.run(["capmock", "init"], cwd=tmp_path, env=env, check=True, capture_output=True)
    probe = (
        "import os, httpx; url = os.environ['CAPILLARY_BASE_URL']; "
        "print(url); print(httpx.get(url + '/__admin/health').json()['status'])"
    )
    result = subprocess.run(
        ["sh", "with-capmock.sh", sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    url, status = result.stdout.splitlines()[-2:]
    assert status == "ok"
    assert url == f"http://127.0.0.1:{(tmp_path / 'capmock.port').read_text().strip()}"
    with pytest.raises(httpx.TransportError):  # stopped when the command ended
        httpx.get(f"{url}/__admin/health", timeout=2)


def _env_with_capmock() -> dict[str, str]:
    """The environment with this checkout's capmock first on PATH and on PYTHONPATH."""
    bin_dir = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
    }


def _free_port() -> int:
    from support import free_port

    return free_port()


# --- docs/ci-gates.md --------------------------------------------------------------------


def test_the_ci_gates_workflows_and_examples_run_real_capmock_commands():
    """Every workflow of the guide is a GitHub Actions job whose capmock commands, and
    every command of its shell examples, exist and take the options they are given."""
    workflows = [yaml.safe_load(body) for _, body in blocks(CI_GATES, "yaml")]
    gated = []
    for workflow in workflows:
        (job,) = workflow["jobs"].values()
        script = "\n".join(step["run"] for step in job["steps"] if "run" in step)
        commands = capmock_commands(script)
        gated += [c[0] for c in commands if c[0] != "serve"]
        for command in commands:
            assert_real_command(command)
    assert sorted(set(gated)) == ["compat", "diff"]  # a workflow for each
    examples = [c for _, body in blocks(CI_GATES, "sh") for c in capmock_commands(body)]
    assert {c[0] for c in examples} == {"compat", "diff"}
    for command in examples:
        assert_real_command(command)

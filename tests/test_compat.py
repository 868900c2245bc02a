"""capmock compat: the corpus of contract changes, the property check, the CLI and git refs.

Each file of ``tests/data/compat`` is one change, written as a JSON Patch applied to the
real ``openapi/capillary.yaml``, with the verdict and the findings it must give.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
import yaml

from contract_tests.compat import Budget, Contract, Report, Severity, compare, load
from contract_tests.compat.documents import parse
from mock_server.data import CONTRACT

ROOT = Path(__file__).resolve().parents[1]
CORPUS = sorted((ROOT / "tests" / "data" / "compat").glob("*.yaml"))
CASES = {path.stem: yaml.safe_load(path.read_text(encoding="utf-8")) for path in CORPUS}
WITH_EXAMPLES = [name for name, case in CASES.items() if "examples" in case]
EXAMPLES = 25
"""Messages per search in these tests; the CLI's default is 100."""


def _contract(label: str, patch: list[dict[str, Any]]) -> Contract:
    document = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    patched = jsonpatch.apply_patch(document, patch)
    return Contract(label, parse(json.dumps(patched), label))


def _pair(name: str) -> tuple[Contract, Contract]:
    case = CASES[name]
    return _contract(f"{name} (old)", case.get("old_patch", [])), _contract(
        f"{name} (new)", case["patch"]
    )


def _verdict(report: Report) -> str:
    return "breaking" if report.breaking(Severity.ERR) else "compatible"


def _flagged(report: Report) -> set[str]:
    return {f"{f.severity.name} {f.rule}" for f in report.findings if f.severity >= Severity.WARN}


def capmock(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "capmock", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )


# --- the corpus ---------------------------------------------------------------------


def test_corpus_is_large_and_has_both_verdicts() -> None:
    verdicts = [case["expect"]["verdict"] for case in CASES.values()]
    assert len(CASES) >= 40
    assert verdicts.count("compatible") >= 15 and verdicts.count("breaking") >= 15


@pytest.mark.parametrize("name", list(CASES))
def test_corpus_pair_by_the_rules(name: str) -> None:
    expect = CASES[name]["expect"]
    report = compare(*_pair(name), Budget(0, 0))
    assert _verdict(report) == expect["verdict"], report.findings
    assert _flagged(report) == set(expect["findings"]), report.findings
    assert set(expect.get("info", [])) <= {f.rule for f in report.findings}


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_corpus_pair_with_the_property_check(name: str) -> None:
    expect = CASES[name]["examples"]
    report = compare(*_pair(name), Budget(EXAMPLES, 0))
    assert _verdict(report) == expect["verdict"], report.findings
    confirmed = {f.rule for f in report.findings if f.example is not None}
    assert confirmed == set(expect["confirmed"]), report.findings


def test_examples_are_minimal_and_refused() -> None:
    """A shortened reasonOfReturn shows with the old limit, 50 characters; everything else
    in the example is shrunk to its simplest."""
    report = compare(*_pair("01-reason-max-length-decreased"), Budget(EXAMPLES, 0))
    (finding,) = [f for f in report.findings if f.example]
    body = dict(finding.example.message["body"])
    assert len(body.pop("reasonOfReturn")) == 50
    assert all(len(str(value)) <= 1 for value in body.values()), body
    assert "is too long" in finding.example.refusal


def test_the_same_seed_gives_the_same_report() -> None:
    old, new = _pair("35-amount-pattern-tightened")
    first, second = (compare(old, new, Budget(EXAMPLES, 7)) for _ in range(2))
    assert first.findings == second.findings


def test_identical_contracts_generate_nothing() -> None:
    contract = load(str(CONTRACT))
    report = compare(contract, contract, Budget(EXAMPLES, 0))
    assert report.findings == []
    assert "property check: 0 generated messages, 0 breaks (seed 0)" in report.checked


# --- the command ---------------------------------------------------------------------


@pytest.fixture
def pair_files(tmp_path: Path) -> tuple[Path, Path]:
    old, new = _pair("06-source-value-removed")
    paths = tmp_path / "old.yaml", tmp_path / "new.yaml"
    for path, contract in zip(paths, (old, new), strict=True):
        path.write_text(yaml.safe_dump(contract.document, sort_keys=False), encoding="utf-8")
    return paths


def test_command_exits_0_when_compatible() -> None:
    done = capmock("compat", str(CONTRACT), str(CONTRACT), "--examples", "5")
    assert done.returncode == 0, done.stderr
    assert "compatible (0 ERR, 0 WARN, 0 INFO; failing on ERR)" in done.stdout


def test_command_exits_1_when_breaking(pair_files: tuple[Path, Path]) -> None:
    done = capmock("compat", *map(str, pair_files), "--examples", "10")
    assert done.returncode == 1
    assert 'ERR  request-parameter-enum-value-removed: no longer accepts "JD"' in done.stdout
    assert '"source": "JD"' in done.stdout  # the minimal example
    assert "capmock compat: property check:" in done.stderr


def test_fail_on_warn_fails_on_a_warning(tmp_path: Path) -> None:
    old, new = _pair("38-error-message-changed")
    files = []
    for name, contract in (("old.yaml", old), ("new.yaml", new)):
        (tmp_path / name).write_text(json.dumps(contract.document), encoding="utf-8")
        files.append(str(tmp_path / name))
    assert capmock("compat", *files, "--examples", "0").returncode == 0
    done = capmock("compat", *files, "--examples", "0", "--fail-on", "WARN")
    assert done.returncode == 1
    assert "WARN error-message-changed: the message of code 8003 changed" in done.stdout


@pytest.mark.parametrize("fmt", ["json", "markdown", "junit", "github"])
def test_every_format_reports_the_break(
    fmt: str, pair_files: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / f"report.{fmt}"
    done = capmock(
        "compat", *map(str, pair_files), "--examples", "0", "--format", fmt, "-o", str(out)
    )
    assert done.returncode == 1
    text = out.read_text(encoding="utf-8")
    if fmt == "json":
        data = json.loads(text)
        assert data["verdict"] == "breaking"
        assert data["findings"][0]["rule"] == "request-parameter-enum-value-removed"
        assert data["findings"][0]["places"][0]["part"] == "query parameter source"
    elif fmt == "junit":
        suite = ET.fromstring(text)
        assert suite.get("failures") == "2"  # the source parameter; lookupParams.source
        assert suite.find("testcase/failure") is not None
    elif fmt == "github":
        assert text.startswith("::error title=ERR request-parameter-enum-value-removed::")
    else:
        assert "| severity | rule | change | where |" in text
        assert "| ERR | `request-parameter-enum-value-removed` |" in text
        assert "query parameter source |" in text


BROKEN = {
    "not-yaml": "openapi: [3.0.3\n",
    "not-openapi": "swagger: '2.0'\n",
    "openapi-31": "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n",
    "invalid": "openapi: 3.0.3\ninfo: {title: t}\npaths: {}\n",
    "dangling-ref": (
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n"
        "      responses:\n        '200':\n          description: ok\n          content:\n"
        "            application/json:\n              schema: {$ref: '#/components/schemas/Nope'}\n"
    ),
}


@pytest.mark.parametrize(
    ("name", "fmt"),
    [(name, "json") for name in BROKEN] + [("invalid", fmt) for fmt in ("text", "junit", "github")],
)
def test_a_contract_that_cannot_be_read_is_an_error_never_compatible(
    name: str, fmt: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN[name], encoding="utf-8")
    done = capmock("compat", str(CONTRACT), str(broken), "--format", fmt)
    assert done.returncode == 2
    assert done.stderr.startswith("capmock compat: ")
    assert "Traceback" not in done.stderr
    assert "compatible" not in done.stdout
    if fmt == "json":
        assert json.loads(done.stdout)["verdict"] == "error"
    elif fmt == "junit":
        assert ET.fromstring(done.stdout).get("errors") == "1"
    elif fmt == "github":
        assert done.stdout.startswith("::error title=capmock compat::")


@pytest.mark.parametrize(
    "args",
    [["only-one.yaml"], ["a.yaml", "b.yaml", "c.yaml"], ["--base", "HEAD", "a.yaml", "b.yaml"]],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert capmock("compat", *args).returncode == 2


def test_a_missing_file_exits_2() -> None:
    done = capmock("compat", "nowhere.yaml", str(CONTRACT))
    assert done.returncode == 2
    assert "capmock compat: nowhere.yaml: no such file" in done.stderr


# --- git refs ------------------------------------------------------------------------


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A git repository whose second commit removes the source JD."""
    git = shutil.which("git")
    assert git, "git is needed to compare against a ref"
    old, new = _pair("06-source-value-removed")
    contract = tmp_path / "api" / "contract.yaml"
    contract.parent.mkdir()

    def run(*args: str) -> None:
        subprocess.run([git, *args], cwd=tmp_path, check=True, capture_output=True)

    run("init", "-q")
    for message, version in (("first", old), ("second", new)):
        contract.write_text(yaml.safe_dump(version.document, sort_keys=False), encoding="utf-8")
        run("add", ".")
        run("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", message)
    return tmp_path


def test_base_ref_compares_the_same_path_at_that_ref(repository: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = capmock(
        "compat",
        "--base",
        "HEAD~1",
        str(repository / "api" / "contract.yaml"),
        "--examples",
        "0",
        cwd=elsewhere,
    )
    assert done.returncode == 1, done.stderr
    assert "capmock compat HEAD~1:api/contract.yaml ->" in done.stdout
    assert "request-parameter-enum-value-removed" in done.stdout


def test_ref_and_path_names_a_file_at_a_ref(repository: Path) -> None:
    done = capmock(
        "compat",
        "HEAD~1:api/contract.yaml",
        "HEAD:api/contract.yaml",
        "--examples",
        "0",
        cwd=repository,
    )
    assert done.returncode == 1, done.stderr
    assert (
        capmock(
            "compat",
            "HEAD:api/contract.yaml",
            "api/contract.yaml",
            "--examples",
            "0",
            cwd=repository,
        ).returncode
        == 0
    )


def test_an_unknown_ref_exits_2(repository: Path) -> None:
    done = capmock("compat", "--base", "no-such-ref", "api/contract.yaml", cwd=repository)
    assert done.returncode == 2
    assert done.stderr.startswith("capmock compat: git show no-such-ref:api/contract.yaml")


# --- this repository's own history ----------------------------------------------------------


def _history() -> list[str]:
    done = subprocess.run(
        ["git", "log", "--format=%H", "--follow", "--", "openapi/capillary.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return list(reversed(done.stdout.split()))


def test_every_version_of_our_contract_compares_with_the_next() -> None:
    """Every consecutive pair in the history parses and gets a verdict (see docs/ci-gates.md)."""
    commits = _history()
    assert len(commits) >= 2
    for older, newer in itertools.pairwise(commits):
        old = load(f"{older}:openapi/capillary.yaml")
        new = load(f"{newer}:openapi/capillary.yaml")
        report = compare(old, new, Budget(5, 0))
        assert _verdict(report) in ("breaking", "compatible")

"""capmock diff: real mocks (and servers that break the contract one way) on loopback,
compared through the real command; the drifts each pair must give, exactly; the
baseline; the safety of a run against a server that accepts everything; every output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from broken_servers import BROKEN, LenientServer
from test_contract_report import CHROMIUM, CHROMIUM_ARGS

from contract_tests.diff.normalise import Normaliser
from contract_tests.diff.options import ignored, substitution
from contract_tests.diff.send import Answer
from contract_tests.plans.requests import Request
from contract_tests.profile import DEFAULT_PROFILE, load_profile
from mock_server.admin.guard import ADMIN_HEADER
from mock_server.app import ADMIN_TOKEN_ENV, create_app
from mock_server.data import DEFAULT_FIXTURES
from mock_server.fixtures import load_fixtures

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "diff"
OTHER_ORG = DATA / "other-org.yaml"
PROFILE = load_profile(DEFAULT_PROFILE)
ADMIN_TOKEN = "diff-t0ken"
"""The mocks' admin token, in the environment of every capmock diff here: with it each
mock shows the credentials of its fixtures, from which its profile is derived."""
STATUS_DRIFTS = [
    ("status", "8015", "400", "404"),
    ("status", "8888", "400", "422"),
]
"""What a mock on the default fixtures and one on tests/data/diff/other-org.yaml differ
in: only the statuses other-org.yaml's errorStatus gives two codes. Its ids, names,
decimals, balances and users all differ too, and must read alike."""


def capmock_diff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "capmock", "diff", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), ADMIN_TOKEN_ENV: ADMIN_TOKEN},
        cwd=ROOT,
        timeout=300,
        check=False,
    )


def as_json(*args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    result = capmock_diff(*args, "--format", "json")
    assert result.stdout, result.stderr
    return result, json.loads(result.stdout)


def keys(report: dict[str, Any], known: bool | None = None) -> list[tuple[str, str, str, str]]:
    return [
        (d["kind"], d["subject"], d["a"], d["b"])
        for d in report["drifts"]
        if known is None or d["known"] is known
    ]


def drift(report: dict[str, Any], kind: str, subject: str) -> dict[str, Any]:
    return next(d for d in report["drifts"] if (d["kind"], d["subject"]) == (kind, subject))


@pytest.fixture
def default_mock(served: Callable[[object], str]) -> str:
    return served(create_app(load_fixtures(DEFAULT_FIXTURES), admin_token=ADMIN_TOKEN))


@pytest.fixture
def other_org(served: Callable[[object], str]) -> str:
    return served(create_app(load_fixtures(OTHER_ORG), admin_token=ADMIN_TOKEN))


# --- two mocks of two orgs --------------------------------------------------------------


def test_two_mocks_of_different_orgs_drift_exactly_where_their_statuses_differ(
    default_mock: str, other_org: str
) -> None:
    result, report = as_json("--a", default_mock, "--b", other_org)
    assert result.returncode == 1, result.stderr
    assert keys(report) == STATUS_DRIFTS
    assert [d["suggestion"] for d in report["drifts"]] == [
        "B answers 8015 with 404: set `errorStatus: {8015: 404}` in A's fixtures",
        "B answers 8888 with 422: set `errorStatus: {8888: 422}` in A's fixtures",
    ]
    assert report["mode"] == "read-only: nothing is sent that could take a point"
    assert (
        report["counts"]["alike"]
        + len({seen["case"] for d in report["drifts"] for seen in d["seenIn"]})
        == report["counts"]["requests"]
    )
    not_found = [seen["case"] for seen in drift(report, "status", "8015")["seenIn"]]
    assert "test_documented[8015-the-profile-s-unknown-customer]" in not_found
    assert "test_user_id_range[user-id-2^63-1]" in not_found
    assert [seen["case"] for seen in drift(report, "status", "8888")["seenIn"]] == [
        "test_documented[8888-an-amount-of-zero]"
    ]


def test_with_writes_other_ids_decimals_names_and_balances_read_alike(
    default_mock: str, other_org: str
) -> None:
    """The seed examples, 8906 (3 decimals sent to one, 4 to the other), 8907, 9114 (other
    user names), 1218 (other programs) and the currency's name all differ between the
    two orgs before normalisation; only the statuses may drift."""
    result, report = as_json("--a", default_mock, "--b", other_org, "--allow-writes")
    assert result.returncode == 1, result.stderr
    assert keys(report) == STATUS_DRIFTS
    assert report["mode"] == "writes allowed to each profile's test customer"
    cases = {seen["case"] for d in report["drifts"] for seen in d["seenIn"]}
    assert "test_documented[8015-the-test-customer-in-martjack-a-source-it-is-not-in]" in cases
    assert report["counts"]["requests"] > 50
    assert "B: reset (POST /__admin/reset) before the run" in " ".join(report["notes"])


def test_two_mocks_on_the_same_fixtures_do_not_drift(
    served: Callable[[object], str], default_mock: str
) -> None:
    twin = served(create_app(load_fixtures(DEFAULT_FIXTURES), admin_token=ADMIN_TOKEN))
    result, report = as_json("--a", default_mock, "--b", twin, "--allow-writes")
    assert result.returncode == 0, result.stderr
    assert report["drifts"] == []
    assert report["counts"]["alike"] == report["counts"]["requests"]


def test_requests_the_budget_did_not_allow_are_not_counted_as_alike(
    default_mock: str, other_org: str
) -> None:
    result, report = as_json("--a", default_mock, "--b", other_org, "--max-requests", "5")
    assert result.returncode == 1, result.stderr  # 8015 came within the budget
    counts = report["counts"]
    assert counts["unanswered"] == counts["requests"] - 4  # the preflight took one of five
    assert counts["alike"] + len(report["drifts"][0]["seenIn"]) == 4
    text = capmock_diff("--a", default_mock, "--b", other_org, "--max-requests", "5")
    assert f"{counts['unanswered']} requests answered by neither target, so not compared " in (
        text.stdout
    )
    assert "(--max-requests 5 reached)" in text.stdout


# --- the baseline -----------------------------------------------------------------------


def test_update_baseline_writes_one_that_then_silences_the_drifts(
    default_mock: str, other_org: str, tmp_path: Path
) -> None:
    drift_file = tmp_path / "drift.json"
    written = capmock_diff(
        *("--a", default_mock, "--b", other_org, "--baseline", str(drift_file)),
        "--update-baseline",
    )
    assert written.returncode == 0, written.stderr
    assert f"wrote 2 drifts to {drift_file}" in written.stderr
    assert f"baseline {drift_file}: 2 written to it\n" in written.stdout
    assert drift_file.read_text() == (DATA / "drift.json").read_text()
    again, report = as_json("--a", default_mock, "--b", other_org, "--baseline", str(drift_file))
    assert again.returncode == 0, again.stderr
    assert keys(report, known=True) == STATUS_DRIFTS
    assert report["verdict"] == "no new drift"


def test_a_committed_baseline_silences_the_drifts_in_every_format(
    default_mock: str, other_org: str
) -> None:
    args = ("--a", default_mock, "--b", other_org, "--baseline", str(DATA / "drift.json"))
    text = capmock_diff(*args)
    assert text.returncode == 0, text.stderr
    assert "KNOWN status-drift: 8015 comes with HTTP 400 from A, HTTP 404 from B" in text.stdout
    assert f"baseline {DATA / 'drift.json'}: 2 known from it\n" in text.stdout
    assert text.stdout.endswith("no new drift (0 NEW, 2 KNOWN)\n")
    github = capmock_diff(*args, "--format", "github")
    assert github.returncode == 0
    assert "::error" not in github.stdout
    assert github.stdout.count("::notice title=KNOWN status-drift::") == 2


def test_new_drift_on_top_of_a_baseline_fails_and_names_only_the_new(
    default_mock: str, other_org: str
) -> None:
    fixtures = OTHER_ORG.read_text().replace(
        "errorStatus: {8015: 404, 8888: 422}", "errorStatus: {8015: 404, 9113: 403}"
    )
    httpx.put(
        f"{other_org}/__admin/fixtures",
        content=fixtures.encode(),
        headers={"Content-Type": "application/yaml", ADMIN_HEADER: ADMIN_TOKEN},
    ).raise_for_status()
    args = ("--a", default_mock, "--b", other_org, "--baseline", str(DATA / "drift.json"))
    result, report = as_json(*args)
    assert result.returncode == 1, result.stderr
    assert keys(report, known=False) == [("status", "9113", "401", "403")]
    assert keys(report, known=True) == [STATUS_DRIFTS[0]]
    assert [(g["kind"], g["subject"]) for g in report["gone"]] == [("status", "8888")]
    text = capmock_diff(*args)
    assert "NEW   status-drift: 9113 comes with HTTP 401 from A, HTTP 403 from B" in text.stdout
    assert "known drift not seen this time (status 8888: 400 / 422)" in text.stdout
    assert text.stdout.endswith("new drift (1 NEW, 1 KNOWN)\n")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{", "bad.json: line 1, column 2: not JSON"),
        ('{"drifts": [{"kind": "status"}]}', "bad.json: drifts[0].subject: None is not a string"),
        ('{"drifts": [{"kind": "mood", "subject": "", "a": "", "b": ""}]}', "is not one of"),
        ("[]", "bad.json: not a baseline"),
        ('{"capmockDiffBaseline": 2, "drifts": []}', "bad.json: capmockDiffBaseline: 2 is a"),
    ],
)
def test_a_bad_baseline_is_a_usage_error_before_anything_is_sent(
    tmp_path: Path, content: str, problem: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = capmock_diff(
        "--a", "http://192.0.2.10", "--b", "http://192.0.2.11", "--baseline", str(bad)
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert problem in result.stderr


# --- suggestions, from servers that differ one way --------------------------------------


def _broken(name: str) -> Any:
    return next(b for b in BROKEN if b.name == name).app()


@pytest.mark.parametrize(
    ("broken", "args", "expected", "suggestion"),
    [
        (
            "undocumented error code",
            (),
            ("code", "test_documented[8888]", "8888", "8000"),
            "B answers 8000, a code capmock does not know: add it to `x-capmock-errors`",
        ),
        (
            "405 without Allow",
            (),
            ("header", "Allow with 9112", "POST", "(none)"),
            "B answers 405 without Allow, which HTTP requires: clients cannot rely on it",
        ),
        (
            "wrong message",
            ("--allow-writes",),
            ("message", "8874", "promotion id passed is invalid", "bad promotion"),
            "the messages of 8874 differ only in wording: if B is right, capmock's reads "
            "'bad promotion' (mock_server/errors.py)",
        ),
        (
            "answers served as text/html",
            (),
            ("header", "Content-Type of error answers", "application/json", "text/html"),
            "B answers text/html: a client that checks the type before it parses JSON breaks",
        ),
    ],
)
def test_a_server_that_differs_one_way_gives_that_drift_and_its_suggestion(
    served: Callable[[object], str],
    default_mock: str,
    broken: str,
    args: tuple[str, ...],
    expected: tuple[str, str, str, str],
    suggestion: str,
) -> None:
    other = served(_broken(broken))  # no admin token: its profile is given
    profile = ("--profile-b", str(DEFAULT_PROFILE))
    result, report = as_json("--a", default_mock, "--b", other, *profile, *args)
    assert result.returncode == 1, result.stderr
    assert keys(report) == [expected]
    assert report["drifts"][0]["suggestion"].startswith(suggestion)


def test_a_live_org_that_accepts_what_capmock_refuses_gets_told_which_limit_is_wrong(
    served: Callable[[object], str], default_mock: str
) -> None:
    """The lenient server stands for an org with none of capmock's rules; read-only, its
    lookups come first, so the suggestion says how to tell; with writes it accepts."""
    lenient = LenientServer()
    url = served(lenient)
    common = ("--a", default_mock, "--b", url, "--profile-b", str(DEFAULT_PROFILE))
    result, report = as_json(*common)
    assert result.returncode == 1
    assert lenient.ledger == []
    assert drift(report, "code", "test_documented[9107]")["suggestion"] == (
        "B answers 8015 where A answers 9107: B looks the customer up before it checks a "
        "reasonOfReturn of 51 characters, or does not check it at all; a run with "
        "--allow-writes (at the test customer) tells which"
    )
    result, report = as_json(*common, "--allow-writes")
    assert result.returncode == 1
    assert {user_id for user_id, _ in lenient.ledger} == {PROFILE.user_id}
    suggestions = {d["subject"]: d["suggestion"] for d in report["drifts"]}
    assert suggestions["test_documented[9107]"] == (
        "B accepts a reasonOfReturn of 51 characters: capmock's 9107 limit is wrong for this org"
    )
    assert suggestions["test_documented[8907]"].startswith(
        "B lets the balance go below zero: set `org.allowNegativeBalanceOnReturn: true` in "
        "A's fixtures"
    )
    assert suggestions["test_documented[8906]"].startswith(
        "B accepts an amount with 3 decimal places: its program rounds to more decimals"
    )


def test_an_org_that_throttles_the_run_is_told_apart_from_drift(
    served: Callable[[object], str], default_mock: str
) -> None:
    """After the preflight and one request, every request is answered 429."""
    lenient = LenientServer()
    answered: list[str] = []
    throttled: list[str] = []

    async def throttling(scope: dict[str, Any], receive: Any, send: Any) -> None:
        api = scope["type"] == "http" and scope["path"].startswith("/v2/")
        if not api or len(answered) < 2:
            answered.extend([scope["path"]] if api else [])
            await lenient(scope, receive, send)
            return
        throttled.append(scope["path"])
        headers = [(b"content-type", b"text/plain"), (b"retry-after", b"1")]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": b"Too Many Requests"})

    url = served(throttling)
    result, report = as_json("--a", default_mock, "--b", url, "--profile-b", str(DEFAULT_PROFILE))
    assert result.returncode == 1, result.stderr
    drifts = [d for d in report["drifts"] if d["b"] == "HTTP 429 text/plain"]
    assert len(drifts) == len(throttled) > 40  # one per request: each is its own question
    assert {d["suggestion"] for d in drifts} == {
        "B throttled the run (HTTP 429): lower --rate-limit, and run again before reading "
        "any other drift of these requests"
    }


# --- setup problems stop the run in one line -------------------------------------------


def test_a_target_that_refuses_the_credentials_stops_the_run_in_one_line(
    default_mock: str, other_org: str
) -> None:
    result = capmock_diff("--a", default_mock, "--b", other_org, "--auth-b", "org.api:wrong")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr == (
        f"capmock diff: B ({other_org}): the target refused the credentials of basic org.api "
        "(9113 Authentication failed. Please check username and password.); check --auth-b, "
        "--oauth-b or the profile's credentials\n"
    )


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--a", "http://127.0.0.1:9"], "give --b URL: the two targets to compare"),
        (["--a", "localhost:1", "--b", "http://127.0.0.1:9"], "localhost:1 has no scheme"),
        (
            ["--a", "http://127.0.0.1:9", "--b", "http://192.0.2.10", "--dry-run"],
            "B (http://192.0.2.10) is not on loopback: give --profile-b",
        ),
        (["--a", "http://127.0.0.1:9", "--b", "http://127.0.0.1:9"], "A: cannot reach"),
        (
            ["--a", "http://127.0.0.1:9", "--b", "http://127.0.0.1:9", "--update-baseline"],
            "--update-baseline needs --baseline FILE",
        ),
        (
            ["--a", "http://127.0.0.1:9", "--b", "http://127.0.0.1:9", "--ignore", "$.["],
            "'$.[' is not a JSON path",
        ),
        (
            ["--a", "http://127.0.0.1:9", "--b", "http://127.0.0.1:9", "--substitute", "(=x"],
            "'(' is not a regular expression",
        ),
        (
            [
                *("--a", "http://127.0.0.1:9", "--b", "http://127.0.0.1:9"),
                "--auth-a",
                "a:b",
                "--oauth-a",
                "c:d",
            ],
            "give --auth-a or --oauth-a, not both",
        ),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: list[str], problem: str) -> None:
    result = capmock_diff(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("capmock diff: ")
    assert problem in result.stderr
    assert result.stderr.count("\n") <= 2  # click adds "Try 'capmock diff --help'"


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["-o", "no-such-dir/diff.json"], "cannot write no-such-dir/diff.json: its directory"),
        (["-o", "tests"], "cannot write tests: it is a directory"),
        (["--report", "pyproject.toml"], "cannot write the report to pyproject.toml: not a dir"),
        (
            ["--baseline", "no-such-dir/drift.json", "--update-baseline"],
            "cannot write no-such-dir/drift.json: its directory does not exist",
        ),
        (["--profile-b", "pyproject.toml"], "B: pyproject.toml: invalid YAML at line"),
    ],
)
def test_what_can_be_checked_unsent_stops_the_run_before_either_target_gets_anything(
    served: Callable[[object], str], args: list[str], problem: str
) -> None:
    paths: list[str] = []

    async def counted(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            paths.append(scope["path"])
        await LenientServer()(scope, receive, send)

    url = served(counted)
    profile = str(DEFAULT_PROFILE)
    result = capmock_diff(
        *("--a", url, "--b", url, "--profile-a", profile, "--profile-b", profile),
        *("--format", "json", *args),
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"capmock diff: {problem}")
    assert result.stderr.count("\n") == 1
    if "-o" in args:  # nowhere to write the failure but standard error
        assert result.stdout == ""
    else:
        assert json.loads(result.stdout) == {"verdict": "error", "error": problem_line(result)}
    assert paths == []
    assert not (ROOT / "no-such-dir").exists()


def problem_line(result: subprocess.CompletedProcess[str]) -> str:
    return result.stderr.removeprefix("capmock diff: ").rstrip("\n")


def test_a_mock_that_hides_its_credentials_is_named_with_this_side_s_options(
    served: Callable[[object], str], default_mock: str
) -> None:
    """A mock without an admin token shows no password; --auth-b stands in for it."""
    hiding = served(create_app(load_fixtures(DEFAULT_FIXTURES)))
    result = capmock_diff("--a", default_mock, "--b", hiding)
    assert result.returncode == 2
    assert result.stderr == (
        "capmock diff: B: the mock hides its credentials: set CAPMOCK_ADMIN_TOKEN to the "
        "mock's --admin-token (it shows them to that token), or give --auth-b or --oauth-b\n"
    )
    given = capmock_diff("--a", default_mock, "--b", hiding, "--auth-b", "store.server:server123")
    assert given.returncode == 0, given.stderr


def test_a_loopback_server_that_is_not_capmock_needs_its_profile(
    served: Callable[[object], str], default_mock: str
) -> None:
    lenient = LenientServer()
    result = capmock_diff("--a", default_mock, "--b", served(lenient))
    assert result.returncode == 2
    assert "is not capmock" in result.stderr
    assert "give --profile-b" in result.stderr
    assert lenient.ledger == []


def test_a_target_given_live_is_treated_as_a_live_org_even_when_it_is_capmock(
    served: Callable[[object], str], default_mock: str
) -> None:
    paths: list[str] = []
    app = create_app(load_fixtures(DEFAULT_FIXTURES))

    async def counted(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            paths.append(scope["path"])
        await app(scope, receive, send)

    url = served(counted)
    without = capmock_diff("--a", default_mock, "--b", url, "--live-b")
    assert without.returncode == 2
    assert without.stderr == (
        f"capmock diff: B ({url}) with --live-b give --profile-b naming what exists there "
        "(capmock test --print-profile > my-org.yaml writes one to start from)\n"
    )
    assert paths == []
    result, report = as_json(
        "--a", default_mock, "--b", url, "--live-b", "--profile-b", str(DEFAULT_PROFILE)
    )
    assert result.returncode == 0, result.stderr
    assert report["targets"][1]["kind"] == "live"
    assert report["drifts"] == []
    # The preflight, then the plan but for its head over 16 KiB, which the server's
    # protocol refuses (431) before any app sees it.
    assert len(paths) == report["counts"]["requests"]
    assert not any(path.startswith("/__admin") for path in paths)


def test_dry_run_lists_what_each_target_would_get_and_sends_nothing(default_mock: str) -> None:
    lenient_url = "http://192.0.2.10"  # never routed: a request would fail the run
    result = capmock_diff(
        *("--a", default_mock, "--b", lenient_url, "--profile-b", str(DEFAULT_PROFILE)),
        "--dry-run",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (
        lines[0] == "dry run (read-only: nothing is sent that could take a point); nothing is sent"
    )
    index = lines.index("test_documented[9107-a-reasonofreturn-of-51-characters]")
    assert lines[index + 1].startswith(f"    A: POST {default_mock}/v2/customers/999999999/")
    assert lines[index + 2].startswith("    B: POST http://192.0.2.10/v2/customers/999999999/")
    assert "example-" not in result.stdout  # the seed examples need writes


# --- outputs ----------------------------------------------------------------------------


def test_every_format_and_the_report_say_the_same(
    default_mock: str, other_org: str, tmp_path: Path
) -> None:
    args = ("--a", default_mock, "--b", other_org)
    markdown = capmock_diff(*args, "--format", "markdown", "-o", str(tmp_path / "diff.md"))
    assert markdown.returncode == 1
    text = (tmp_path / "diff.md").read_text()
    assert text.startswith("## ❌ capmock diff: new drift (2 NEW, 0 KNOWN)")
    assert "| severity | rule | change |\n| --- | --- | --- |\n" in text  # no empty "where"
    assert "| NEW | `status-drift` | 8015 comes with HTTP 400 from A, HTTP 404 from B |\n" in text
    assert "- suggestion: B answers 8888 with 422" in text
    assert "capmock diff: new drift (2 NEW, 0 KNOWN); report in" in markdown.stderr
    github = capmock_diff(*args, "--format", "github")
    assert github.stdout.count("::error title=NEW status-drift::") == 2
    junit = capmock_diff(*args, "--format", "junit", "--report", str(tmp_path / "report"))
    suite = ET.fromstring(junit.stdout)
    assert suite.get("name") == "capmock diff"
    assert suite.get("failures") == "2"
    report = tmp_path / "report"
    assert sorted(p.name for p in report.iterdir()) == ["drift.json", "index.html", "junit.xml"]
    assert keys(json.loads((report / "drift.json").read_text())) == STATUS_DRIFTS
    assert (report / "junit.xml").read_text() == junit.stdout


def test_the_html_report_reads_in_a_real_browser(
    default_mock: str, other_org: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    result = capmock_diff("--a", default_mock, "--b", other_org, "--report", str(tmp_path))
    assert result.returncode == 1
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto((tmp_path / "index.html").as_uri())
        assert page.locator(".verdict").inner_text() == "New drift between the targets"
        assert page.locator("#drifts h2").inner_text() == "Drifts (2)"
        suggestions = page.locator(".suggestion").all_inner_texts()
        assert suggestions == [
            "Suggestion: B answers 8015 with 404: set errorStatus: {8015: 404} in A's fixtures",
            "Suggestion: B answers 8888 with 422: set errorStatus: {8888: 422} in A's fixtures",
        ]
        code = page.locator(".suggestion code").all_inner_texts()
        assert code == ["errorStatus: {8015: 404}", "errorStatus: {8888: 422}"]
        rows = page.locator("#requests tbody tr").all_inner_texts()
        drifting = [row for row in rows if "status-drift" in row]
        assert any(row.startswith("test_documented[8888-an-amount-of-zero]") for row in drifting)
        assert sum("alike" in row for row in rows) + len(drifting) == len(rows)
        browser.close()


# --- normalisation, piece by piece ------------------------------------------------------


def _answer(body: Any, headers: dict[str, str] | None = None, status: int = 400) -> Answer:
    sent = {"content-type": "application/json; charset=utf-8", **(headers or {})}
    lowered = {name.lower(): value for name, value in sent.items()}  # as the client keeps them
    return Answer("curl", status, lowered, json.dumps(body).encode())


ENVELOPE = {"errors": [{"status": False, "code": 8015, "message": "m"}], "warnings": []}
REQUEST = Request("POST", "/v2/customers/1/negativePointsAdjustment")


def test_request_ids_dates_tokens_and_uuids_read_alike() -> None:
    seen = Normaliser().seen(
        _answer(
            {
                **ENVELOPE,
                "requestId": "req-1f3a",
                "at": "2026-03-01T10:00:00Z",
                "data": {"accessToken": "eyJ.x.y", "id": "3f6c1d52-8a47-4e0b-9c1d-2b7e5a9f0c11"},
            },
            {"Retry-After": "30", "Allow": "post, GET", "WWW-Authenticate": 'Basic realm="org"'},
        ),
        PROFILE,
        REQUEST,
    )
    assert seen.values is not None and seen.headers is not None
    assert seen.values["requestId"] == "<request id>"
    assert seen.values["at"] == "<date>"
    assert seen.values["data.accessToken"] == "<token>"
    assert seen.values["data.id"] == "<uuid>"
    assert seen.headers == {
        "content-type": "application/json",
        "allow": "GET, POST",
        "www-authenticate": "Basic",
        "retry-after": "<seconds>",
    }


def test_ignored_paths_and_headers_and_substitutions_apply_to_both() -> None:
    normaliser = Normaliser(
        ignore=(ignored("$.warnings"), ignored("$.errors[*].message"), ignored("Retry-After")),
        substitutions=(substitution(r"org-\d+=<org>"),),
    )
    seen = normaliser.seen(
        _answer({**ENVELOPE, "org": "org-42"}, {"Retry-After": "1"}), PROFILE, REQUEST
    )
    assert seen.envelope
    assert seen.messages == ("<ignored>",)
    assert seen.shape is not None and "warnings" not in seen.shape
    assert seen.values == {"errors[0].status": False, "org": "<org>"}
    assert seen.headers == {"content-type": "application/json"}


def test_a_message_reads_its_template_with_the_values_this_request_explains() -> None:
    request = Request("POST", "/", body={"pointsToBeAdjusted": "0.001", "reasonOfReturn": "r"})
    message = (
        "decimal places passed: 3 is greater than the configured round decimals: 2 for "
        "programId: 973"
    )
    envelope = {"errors": [{"status": False, "code": 8906, "message": message}], "warnings": []}
    seen = Normaliser().seen(_answer(envelope), PROFILE, request)
    assert seen.messages == (
        "decimal places passed: {places} is greater than the configured round decimals: "
        "{decimals} for programId: {program_id}",
    )
    wrong = message.replace("round decimals: 2", "round decimals: 3")
    envelope["errors"][0]["message"] = wrong
    seen = Normaliser().seen(_answer(envelope), PROFILE, request)
    assert "round decimals: 3 for" in seen.messages[0]

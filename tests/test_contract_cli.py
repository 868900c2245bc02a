"""``capmock test`` and ``pytest contract_tests`` from the outside: one definition of the
options, the preflight that stops a run on its setup, the messages a new user sees."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from capmock.cli import main
from contract_tests.options import SPECS, Options, UsageError, add_pytest_options, options_from
from contract_tests.profile import DEFAULT_PROFILE, profile_from_document
from contract_tests.session import DEFAULT_ORIGIN, build_target, profile_text
from contract_tests.target import curl_command
from mock_server.app import create_app
from mock_server.data import DEFAULT_FIXTURES
from mock_server.fixtures import load_fixtures

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=300,
        check=False,
    )


def capmock_test(*args: str) -> subprocess.CompletedProcess[str]:
    return run("-m", "capmock", "test", *args)


@pytest.fixture
def mock_url(served: Callable[[object], str]) -> str:
    return served(create_app(load_fixtures(DEFAULT_FIXTURES)))


class Recorder:
    """Stands in for pytest's parser: records what the plugin adds."""

    def __init__(self) -> None:
        self.options: dict[str, dict[str, Any]] = {}

    def getgroup(self, *_args: str) -> Recorder:
        return self

    def addoption(self, flag: str, **kwargs: Any) -> None:
        self.options[flag] = kwargs


def test_click_and_pytest_offer_the_same_options_with_the_same_defaults() -> None:
    command = main.commands["test"]
    clicked = {
        param.opts[0]: param.default for param in command.params if param.opts[0] != "--help"
    }
    recorder = Recorder()
    add_pytest_options(recorder)  # type: ignore[arg-type]
    pytested = {flag: kwargs.get("default") for flag, kwargs in recorder.options.items()}
    assert clicked.keys() == {spec.flag for spec in SPECS}
    assert clicked == pytested


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--rate-limit", "fast"], "'fast' is not a rate such as 10/s, 100/min or 1000/h"),
        (["--base-url", "localhost:8080"], "localhost:8080 has no scheme: write http://"),
        (["--auth", "no-colon"], "takes NAME:SECRET, got 'no-colon'"),
        (["--min-coverage", "101"], "101 is not from 0 to 100"),
    ],
)
def test_both_command_lines_refuse_a_bad_value_alike(args: list[str], problem: str) -> None:
    clicked = CliRunner().invoke(main, ["test", *args])
    assert clicked.exit_code == 2
    assert problem in clicked.output
    pytested = run("-m", "pytest", "contract_tests", *args)
    assert pytested.returncode == 4, pytested.stdout + pytested.stderr  # pytest: usage error
    assert problem in pytested.stderr


def test_auth_and_oauth_together_are_refused() -> None:
    with pytest.raises(UsageError, match="--auth or --oauth, not both"):
        options_from({"auth": "a:b", "oauth": "c:d"})
    result = capmock_test("--auth", "a:b", "--oauth", "c:d")
    assert result.returncode == 2
    assert result.stderr == "capmock test: give --auth or --oauth, not both\n"


def test_wrong_credentials_stop_the_run_in_one_line(mock_url: str) -> None:
    result = capmock_test("--base-url", mock_url, "--auth", "store.server:wrong")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr == (
        "capmock test: the target refused the credentials of basic store.server (9113 "
        "Authentication failed. Please check username and password.); check --auth, --oauth "
        "or the profile's credentials\n"
    )


def test_a_refused_oauth_key_stops_the_run_in_one_line(mock_url: str) -> None:
    result = capmock_test("--base-url", mock_url, "--oauth", "doc-client:wrong")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1
    assert "refused the credentials of oauth doc-client (9116 Invalid key or secret)" in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--base-url", "http://192.0.2.10", "--dry-run"], "give --profile"),
        (["--base-url", "http://127.0.0.1:9"], "cannot reach http://127.0.0.1:9"),
        (["--live", "--dry-run"], "with --live give --profile"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: list[str], problem: str) -> None:
    result = capmock_test(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("capmock test: ")
    assert result.stderr.count("\n") == 1
    assert problem in result.stderr


def test_messages_point_to_print_profile_not_to_a_repository_path() -> None:
    with pytest.raises(UsageError) as refused:
        build_target(Options(base_url="http://192.0.2.10"), "http://192.0.2.10")
    assert "capmock test --print-profile" in str(refused.value)
    assert "contract_tests/" not in str(refused.value)


def test_a_loopback_target_that_is_not_capmock_gets_the_default_profile_and_a_note(
    served: Callable[[object], str],
) -> None:
    app = create_app(load_fixtures(DEFAULT_FIXTURES))

    async def without_admin(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/__admin"):
            scope = {**scope, "path": "/nowhere", "raw_path": b"/nowhere"}
        await app(scope, receive, send)

    url = served(without_admin)
    notes: list[str] = []
    target = build_target(Options(base_url=url), url, notes)
    assert not target.admin
    assert target.profile.origin == DEFAULT_ORIGIN
    assert len(notes) == 1
    assert f"{url} is not capmock" in notes[0]
    assert "the built-in default profile" in notes[0]


def test_print_profile_writes_the_default_one() -> None:
    result = capmock_test("--print-profile")
    assert result.returncode == 0, result.stderr
    assert result.stdout == DEFAULT_PROFILE.read_text()


def test_print_profile_derives_one_from_our_own_mock(served: Callable[[object], str]) -> None:
    """Its credentials included: the mock shows them to its admin token."""
    mock_url = served(create_app(load_fixtures(DEFAULT_FIXTURES), admin_token="t0ken"))
    text = profile_text(Options(base_url=mock_url, admin_token="t0ken"))
    assert text.startswith(f"# The target profile derived from {mock_url}/__admin/fixtures")
    profile = profile_from_document(yaml.safe_load(text), "printed")
    assert profile.user_id == 388034468
    assert profile.base_url == mock_url
    assert profile.credentials.secret == "server123"


@pytest.mark.parametrize(("token", "given"), [(None, "no admin token"), ("wr0ng", "the token in")])
def test_a_mock_that_refuses_its_fixtures_is_named_never_read_as_fixtures(
    served: Callable[[object], str], token: str | None, given: str
) -> None:
    """A mock with an admin token answers 9117 to GET /__admin/fixtures without it: that
    answer is not a fixture document that lacks a default program."""
    mock_url = served(create_app(load_fixtures(DEFAULT_FIXTURES), admin_token="t0ken"))
    with pytest.raises(UsageError) as refused:
        build_target(Options(base_url=mock_url, admin_token=token), mock_url)
    assert str(refused.value) == (
        f"{mock_url}/__admin/fixtures refused {given}"
        + (" CAPMOCK_ADMIN_TOKEN" if token else "")
        + " (HTTP 401): set CAPMOCK_ADMIN_TOKEN to the mock's --admin-token, or give --profile"
    )


def test_the_curl_of_a_non_utf8_body_sends_its_bytes(served: Callable[[object], str]) -> None:
    """The command a finding shows, run by a shell with the real curl, delivers exactly the
    bytes the test sent."""
    received: list[bytes] = []

    async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        received.append(body)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    url = served(echo)
    sent = b'{"reasonOfReturn": "\xff\xfe it\'s 100% \\ -\x00"}'
    for body in (sent, b"-" + sent, b"@file"):
        command = curl_command("POST", f"{url}/x", {"Content-Type": "application/json"}, body)
        subprocess.run(["bash", "-c", command + " -s -o /dev/null"], check=True, timeout=30)
        assert received[-1] == body

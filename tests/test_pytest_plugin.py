"""The pytest plugin as an integrator's project uses it: installed through its entry point,
one mock for the run (shared by pytest-xdist workers), a session per test."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import httpx
import pytest
from support import ROOT

TESTS = 200

MANY = textwrap.dedent(
    f"""
    import os
    from pathlib import Path

    import httpx
    import pytest

    AUTH = "Basic c3RvcmUuc2VydmVyOjhhMTZhNmI3MDUwNWViMWYxZmY3Y2RjMGNkNTU1OWE3"
    PATH = "/v2/customers/388034468/negativePointsAdjustment"


    @pytest.mark.parametrize("n", range({TESTS}))
    def test_each_test_has_the_world_to_itself(capmock_session, n):
        answer = httpx.post(
            capmock_session.url + PATH,
            params={{"source": "INSTORE"}},
            json={{"pointsToBeAdjusted": "10", "reasonOfReturn": f"test {{n}}"}},
            headers={{**capmock_session.headers, "Authorization": AUTH}},
        )
        assert answer.json()["pointsAvailable"] == "670.000"
        capmock_session.verify(operation="deductPoints", body={{"reasonOfReturn": f"test {{n}}"}})
        customer = capmock_session.customer(388034468)
        assert [e["reason"] for e in customer["ledger"]] == [f"test {{n}}"]
        regular = [b for b in customer["balances"] if b["name"] == "REGULAR"]
        assert regular[0]["balance"] == "670.000"
        request_id = answer.headers["X-Capmock-Request-Id"]
        assert capmock_session.explain(request_id).endswith("now 670.000")
        Path(os.environ["CAPMOCK_SEEN"], str(n)).write_text(capmock_session.url)
    """
)

FAILING = textwrap.dedent(
    """
    import httpx

    AUTH = "Basic c3RvcmUuc2VydmVyOjhhMTZhNmI3MDUwNWViMWYxZmY3Y2RjMGNkNTU1OWE3"


    def test_a_reason_that_differs(capmock_session):
        httpx.post(
            capmock_session.url + "/v2/customers/388034468/negativePointsAdjustment",
            params={"source": "INSTORE"},
            json={"pointsToBeAdjusted": "10", "reasonOfReturn": "refund"},
            headers={**capmock_session.headers, "Authorization": AUTH},
        )
        capmock_session.verify(operation="deductPoints", body={"reasonOfReturn": "Refund"})
    """
)


def run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CAPMOCK_SEEN": str(folder / "seen")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_installing_capmock_registers_the_plugin() -> None:
    (plugin,) = [e for e in entry_points(group="pytest11") if e.name == "capmock"]
    assert plugin.value == "capmock.pytest_plugin"


def test_200_tests_on_4_xdist_workers_share_one_mock(tmp_path: Path) -> None:
    (tmp_path / "seen").mkdir()
    (tmp_path / "test_many.py").write_text(MANY)
    result = run_pytest(tmp_path, "-n", "4", "-q")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"{TESTS} passed" in result.stdout
    urls = {path.read_text() for path in (tmp_path / "seen").iterdir()}
    assert len(list((tmp_path / "seen").iterdir())) == TESTS
    (url,) = urls  # one mock served every worker
    with pytest.raises(httpx.TransportError):  # and the run stopped it
        httpx.get(f"{url}/__admin/health", timeout=2)


def test_a_failed_verification_shows_the_near_miss(tmp_path: Path) -> None:
    (tmp_path / "test_failing.py").write_text(FAILING)
    result = run_pytest(tmp_path, "-q")
    assert result.returncode == 1
    assert "VerificationError: expected exactly 1 request matching" in result.stdout
    assert 'body.reasonOfReturn: expected "Refund", got "refund"' in result.stdout
    assert "answered because: success: REGULAR balance of program 973" in result.stdout

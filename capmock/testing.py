"""A running mock as a test sees it: sessions to isolate each test, the journal to ask
what was sent, verification that fails with the near-misses, explanations, faults that
fail a session's calls on purpose.

The pytest plugin (``capmock.pytest_plugin``) hands these out as fixtures; they work
without pytest too::

    server = CapmockServer("http://127.0.0.1:8080")
    with server.session() as session:
        ...  # point the application at session.url, with session.headers
        session.verify(operation="deductPoints", body={"reasonOfReturn": "Refund"})
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

SESSION_HEADER = "X-Capmock-Session"
ADMIN_HEADER = "X-CAPMOCK-ADMIN-TOKEN"
START_SECONDS = 60.0


class CapmockError(Exception):
    """The mock could not be started or answered something unexpected."""


class VerificationError(AssertionError):
    """Not as many requests matched as expected; the message shows the near-misses."""

    def __init__(self, report: dict[str, Any]) -> None:
        super().__init__(render(report))
        self.report = report


class CapmockServer:
    """A mock at ``url``: open sessions on it, ask its journal."""

    def __init__(self, url: str, admin_token: str | None = None) -> None:
        self.url = url.rstrip("/")
        headers = {ADMIN_HEADER: admin_token} if admin_token else {}
        self.client = httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def session(self, fixtures: dict[str, Any] | None = None, ttl: float | None = None) -> Session:
        """A new isolated session over the mock's fixtures, or over ``fixtures``."""
        body: dict[str, Any] = {}
        if fixtures is not None:
            body["fixtures"] = fixtures
        if ttl is not None:
            body["ttl"] = ttl
        answer = _ok(self.client.post("/__admin/sessions", json=body), 201)
        return Session(self, str(answer["id"]))

    def close(self) -> None:
        self.client.close()


class Session:
    """One isolated session: hand ``url`` and ``headers`` to the application under test."""

    def __init__(self, server: CapmockServer, session_id: str) -> None:
        self.server = server
        self.id = session_id
        self.url = server.url
        self.headers = {SESSION_HEADER: session_id}

    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        """This session's journal, newest first (filters: userId, path, status, code, since,
        limit)."""
        params = {"session": self.id, "limit": 100_000, **filters}
        answer = _ok(self.server.client.get("/__admin/requests", params=params))
        requests: list[dict[str, Any]] = answer["requests"]
        return requests

    def count(self, **match: Any) -> int:
        """How many of this session's requests match (see ``verify`` for the criteria)."""
        body = {"match": self._match(match)}
        return int(_ok(self.server.client.post("/__admin/requests/count", json=body))["count"])

    def verify(
        self,
        count: int | None = 1,
        *,
        at_least: int | None = None,
        at_most: int | None = None,
        **match: Any,
    ) -> dict[str, Any]:
        """Assert that ``count`` of this session's requests match (or ``at_least`` /
        ``at_most``); raises ``VerificationError`` showing the closest near-misses.

        Criteria: ``operation``, ``user_id``, ``source``, ``status``, ``code``, ``method``,
        ``path``, and ``body`` (field to value, or ``{"matches": regex}``).
        """
        expected: dict[str, int] = {}
        if at_least is not None or at_most is not None:
            expected.update({"min": at_least} if at_least is not None else {})
            expected.update({"max": at_most} if at_most is not None else {})
        elif count is not None:
            expected["eq"] = count
        body = {"match": self._match(match), "count": expected or {"min": 0}}
        response = self.server.client.post("/__admin/verify", json=body)
        if response.status_code == 409:
            raise VerificationError(response.json())
        report: dict[str, Any] = _ok(response)
        return report

    def customer(self, user_id: int) -> dict[str, Any]:
        """The customer's balances and ledger in this session."""
        path = f"/__admin/customers/{user_id}"
        view: dict[str, Any] = _ok(self.server.client.get(path, headers=self.headers))
        return view

    def explain(self, request_id: str) -> str:
        """Why the request of this id (its ``X-Capmock-Request-Id``) got its answer."""
        entry = _ok(self.server.client.get(f"/__admin/requests/{request_id}"))
        return str(entry["explanation"])

    def fault(self, action: str | Mapping[str, Any], **fields: Any) -> dict[str, Any]:
        """Make this session's calls fail: ``action`` as ``POST /__admin/faults`` takes it
        (``{"type": "code", "code": 8907}``), or the name of one that needs nothing more
        (``"reset"``, ``"empty"``, ``"timeout"``, ``"malformed"``); ``fields`` are the
        fault's others (``phase``, ``times``, ``probability``, ``ttl``, ``seed``,
        ``match``). The fault acts only on this session's calls and ends with it. Answers
        the fault as added, with its ``id``."""
        document = {"action": {"type": action} if isinstance(action, str) else dict(action)}
        response = self.server.client.post(
            "/__admin/faults", json={**document, **fields}, headers=self.headers
        )
        added: dict[str, Any] = _ok(response, 201)
        return added

    def reset(self) -> None:
        """Back to the session's fixtures, its journal emptied."""
        _ok(self.server.client.post(f"/__admin/sessions/{self.id}/reset"))

    def close(self) -> None:
        """End the session (its state and journal go with it)."""
        response = self.server.client.delete(f"/__admin/sessions/{self.id}")
        if response.status_code != 404:  # already gone (expired): nothing to end
            _ok(response)

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _match(self, match: dict[str, Any]) -> dict[str, Any]:
        criteria = {
            ("userId" if name == "user_id" else name): value for name, value in match.items()
        }
        return {**criteria, "session": self.id}


def render(report: dict[str, Any]) -> str:
    """A failed verification as a person reads it: what was expected, what was found, and
    for each near-miss which criterion differed."""
    lines = [str(report.get("message", "verification failed"))]
    near = report.get("nearMisses") or []
    if near:
        lines.append("closest requests:")
    for miss in near:
        answer = miss["status"] or "no answer"  # a fault reset, closed or held the connection
        lines.append(f"  {miss['request']} -> {answer}  (request {miss['id']})")
        lines.extend(f"    {difference}" for difference in miss["differences"])
        if miss.get("explanation"):
            lines.append(f"    answered because: {miss['explanation']}")
    if not near and report.get("actual", 0) == 0:
        lines.append("no request of this session comes close (none meets any criterion)")
    return "\n".join(lines)


class StartedMock:
    """``capmock serve`` started in a subprocess of its own, on a free port."""

    def __init__(self, fixtures: Path | None = None, extra: tuple[str, ...] = ()) -> None:
        folder = Path(tempfile.mkdtemp(prefix="capmock-"))
        port_file = folder / "port"
        command = [sys.executable, "-m", "capmock", "serve", "--port", "0"]
        command += ["--port-file", str(port_file), *extra]
        if fixtures is not None:
            command += ["--fixtures", str(fixtures)]
        self.log = folder / "capmock.log"
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_SECONDS
        while not port_file.exists():
            if self.process.poll() is not None:
                raise CapmockError(f"capmock serve stopped:\n{self.log.read_text()}")
            if time.monotonic() > deadline:
                self.stop()
                raise CapmockError(f"capmock serve did not listen within {START_SECONDS} s")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port_file.read_text().strip()}"

    def stop(self) -> None:
        stop_process(self.process.pid)
        self.process.wait(10)


def stop_process(pid: int) -> None:
    """Stop a mock started in its own session, with any workers it started."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return


def _ok(response: httpx.Response, status: int = 200) -> Any:
    if response.status_code != status:
        raise CapmockError(
            f"{response.request.method} {response.request.url}: {response.status_code} "
            f"{response.text[:500]}"
        )
    return json.loads(response.content)

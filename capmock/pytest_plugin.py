"""The pytest plugin (entry point ``pytest11``: installing capmock is enough).

Fixtures:

- ``capmock_server``: one mock for the whole run, started on a free port (or the one
  ``--capmock-url`` names), over ``--capmock-fixtures`` (default: capmock's own). Under
  pytest-xdist the first worker that needs it starts it, every worker uses it, and the
  controller stops it at the end.
- ``capmock_session``: a fresh isolated session per test, deleted afterwards;
  ``@pytest.mark.capmock_fixtures("world.yaml")`` gives it fixtures of its own.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from capmock.testing import (
    START_SECONDS,
    CapmockError,
    CapmockServer,
    Session,
    StartedMock,
    stop_process,
)

OPTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "--capmock-url",
        "CAPMOCK_URL",
        "Use the capmock already running at this URL instead of starting one.",
    ),
    (
        "--capmock-fixtures",
        "CAPMOCK_FIXTURES",
        "Fixture file of the capmock the run starts (default: capmock's own).",
    ),
    (
        "--capmock-admin-token",
        "CAPMOCK_ADMIN_TOKEN",
        "The admin token of the capmock at --capmock-url, if it has one.",
    ),
)
"""Every option of the plugin, once: the flag, the environment variable that gives its
default, and its help."""

SHARED = pytest.StashKey[Path]()
SHARED_INPUT = "capmock_shared"
MARKER = "capmock_fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("capmock", "capmock mock server")
    for flag, env, text in OPTIONS:
        group.addoption(flag, default=os.environ.get(env), help=f"{text} [env: {env}]")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(path): the test's capmock session serves this fixture file"
    )
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_Controller(), "capmock-xdist")


class _Controller:
    """The xdist controller's part: a folder every worker shares, where the first worker
    that needs a mock says where it runs; the controller stops it at the end."""

    def pytest_configure_node(self, node: Any) -> None:
        config = node.config
        if SHARED not in config.stash:
            config.stash[SHARED] = Path(tempfile.mkdtemp(prefix="capmock-xdist-"))
        node.workerinput[SHARED_INPUT] = str(config.stash[SHARED])


def pytest_unconfigure(config: pytest.Config) -> None:
    shared = config.stash.get(SHARED, None)
    if shared is None or hasattr(config, "workerinput"):
        return
    started = shared / "started.json"
    if started.exists():
        stop_process(json.loads(started.read_text())["pid"])
    shutil.rmtree(shared, ignore_errors=True)


@pytest.fixture(scope="session")
def capmock_server(pytestconfig: pytest.Config) -> Iterator[CapmockServer]:
    """The mock of this test run."""
    url = pytestconfig.getoption("--capmock-url")
    token = pytestconfig.getoption("--capmock-admin-token")
    if url:
        server = CapmockServer(url, token)
        yield server
        server.close()
        return
    fixtures = pytestconfig.getoption("--capmock-fixtures")
    extra = ("--max-sessions", "100000")
    workerinput = getattr(pytestconfig, "workerinput", None)
    if workerinput is not None and SHARED_INPUT in workerinput:
        shared = _shared_mock(Path(workerinput[SHARED_INPUT]), fixtures, extra)
        server = CapmockServer(shared, token)
        yield server  # the controller stops it once every worker is done
        server.close()
        return
    mock = StartedMock(Path(fixtures) if fixtures else None, extra)
    server = CapmockServer(mock.url, token)  # it inherits CAPMOCK_ADMIN_TOKEN, if set
    try:
        yield server
    finally:
        server.close()
        mock.stop()


@pytest.fixture
def capmock_session(
    capmock_server: CapmockServer, request: pytest.FixtureRequest
) -> Iterator[Session]:
    """A fresh isolated session of the run's mock, deleted after the test."""
    marker = request.node.get_closest_marker(MARKER)
    fixtures = _document(Path(marker.args[0])) if marker is not None else None
    session = capmock_server.session(fixtures)
    try:
        yield session
    finally:
        session.close()


def _shared_mock(shared: Path, fixtures: str | None, extra: tuple[str, ...]) -> str:
    """The URL of the run's mock: started by this worker if it is the first to ask."""
    started = shared / "started.json"
    try:
        claim = os.open(shared / "starting", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        deadline = time.monotonic() + START_SECONDS * 2
        while not started.exists():
            if (shared / "failed").exists():
                raise CapmockError((shared / "failed").read_text()) from None
            if time.monotonic() > deadline:
                raise CapmockError("another worker did not start capmock in time") from None
            time.sleep(0.05)
        return str(json.loads(started.read_text())["url"])
    os.close(claim)
    try:
        mock = StartedMock(Path(fixtures) if fixtures else None, extra)
    except CapmockError as error:
        (shared / "failed").write_text(str(error))
        raise
    partial = shared / "started.partial"
    partial.write_text(json.dumps({"url": mock.url, "pid": mock.process.pid}))
    partial.replace(started)
    return mock.url


def _document(path: Path) -> dict[str, Any]:
    """A fixture file as the document the admin API takes (YAML or JSON)."""
    import yaml

    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise CapmockError(f"{path}: a fixture file is a mapping")
    return document

"""From the run's options to a Session: the target, what may be sent to it, and the notes
a person must read. Shared by ``capmock test`` and the pytest plugin, so both apply the
same safety rules.

A target is *live* beyond loopback, and anywhere with ``--live``: a profile is then
required, ``/__admin`` is never used, and nothing that could take a point is sent
unless ``--allow-writes``. On loopback without ``--live`` the run may write, and our
own mock (recognised by ``/__admin/health``) is read and reset through its admin API.
"""

from __future__ import annotations

import contextlib
import random
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
import yaml

from contract_tests.beside import PHASES as BESIDE_PHASES
from contract_tests.beside import PhasesBeside
from contract_tests.derive import CannotDeriveError, derive_document, derive_profile
from contract_tests.findings import Finding
from contract_tests.limits import Limits
from contract_tests.local_mock import LocalMock, local_mocks
from contract_tests.options import ADMIN_TOKEN_ENV, Options, UsageError
from contract_tests.preflight import preflight
from contract_tests.profile import DEFAULT_PROFILE, Credentials, ProfileError, load_profile
from contract_tests.target import ADMIN, ADMIN_HEADER, Target, is_loopback

DRY_RUN_URL = "http://127.0.0.1:8080"
"""What a dry run that names no target describes: where ``capmock serve`` listens."""
PROFILE_HINT = "capmock test --print-profile > my-org.yaml writes one to start from"
DEFAULT_ORIGIN = "the built-in default profile (capmock test --print-profile shows it)"


@dataclass
class Session:
    """A run in progress: its options, its target, and what it started."""

    options: Options
    target: Target
    own_mock: bool = False
    """Whether the run started the mock it tests (and may start another like it)."""
    notes: list[str] = field(default_factory=list)
    """What a person must know about the setup (the summary and the report show them)."""
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    worker: PhasesBeside | None = None
    """The worker running the deep Schemathesis phases on a second mock, if any."""
    started: float = field(default_factory=time.monotonic)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def schema_phase(self, phase: str) -> list[Finding]:
        """The findings of one Schemathesis phase, run in line or beside."""
        from contract_tests.schema_run import run_phase

        if self.worker is None or phase not in BESIDE_PHASES:
            options = self.options
            return run_phase(
                self.target, phase, max_examples=options.max_examples, seed=options.seed
            )[0]
        result = self.worker.result(phase)
        if result.error is not None:
            raise RuntimeError(f"the {phase} phase failed in its worker: {result.error}")
        self.target.traffic.add(result.traffic)
        return result.findings

    def close(self) -> None:
        self.stack.close()


def seeded(options: Options) -> Options:
    """The options with a seed: the one given, or one drawn now and shown at the end."""
    return options if options.seed is not None else replace(options, seed=random.randrange(2**32))


def named_base_url(options: Options) -> str | None:
    """``--base-url``, else the profile's ``baseUrl``; None means: start our own mock."""
    if options.base_url is not None:
        return options.base_url
    if options.profile is None:
        return None
    try:
        return load_profile(options.profile).base_url
    except ProfileError as error:
        raise UsageError(str(error)) from None


def open_session(options: Options) -> Session:
    """Start our own mock when no target is named, build the target and, unless this is a
    dry run, send the preflight request. Raises UsageError naming what is wrong."""
    options = seeded(options)
    started, started_at = time.monotonic(), datetime.now(UTC).isoformat(timespec="seconds")
    stack = contextlib.ExitStack()
    try:
        url = named_base_url(options)
        own = url is None and not options.dry_run
        urls: list[str] = []
        if own:
            two = options.rate_limit is None and options.max_requests is None
            mocks = stack.enter_context(_started_mocks(2 if two else 1))
            urls = [mock.url for mock in mocks]
            url = urls[0]
            options = replace(options, admin_token=mocks[0].admin_token)
        notes: list[str] = []
        target = build_target(options, url or DRY_RUN_URL, notes)
        stack.callback(target.close)
        if not options.dry_run:
            notes += preflight(target)
        session = Session(
            options, target, own, notes, stack, started=started, started_at=started_at
        )
        if len(urls) > 1:
            session.worker = PhasesBeside(options, urls[1])
            stack.callback(session.worker.close)
    except BaseException:
        stack.close()
        raise
    return session


@contextlib.contextmanager
def _started_mocks(count: int) -> Iterator[list[LocalMock]]:
    try:
        with local_mocks(count) as mocks:
            yield mocks
    except RuntimeError as error:
        raise UsageError(f"cannot start the local mock: {error}") from None


def build_target(options: Options, base_url: str, notes: list[str] | None = None) -> Target:
    """The target at ``base_url``; raises UsageError naming what is wrong."""
    notes = notes if notes is not None else []
    loopback = is_loopback(base_url)
    live = options.live or not loopback
    if live and options.profile is None:
        where = "with --live" if loopback else f"{base_url} is not a loopback address:"
        raise UsageError(f"{where} give --profile naming what exists there ({PROFILE_HINT})")
    if not options.dry_run:
        _check_reachable(base_url)
    admin = not live and not options.dry_run and _is_capmock(base_url)
    credentials = _credentials(options)
    try:
        if options.profile is not None:
            profile = load_profile(options.profile)
        elif admin:
            profile = derive_profile(
                _fixtures(base_url, options.admin_token),
                f"derived from {base_url}{ADMIN}/fixtures",
                credentials,
            )
        else:
            profile = replace(load_profile(DEFAULT_PROFILE), origin=DEFAULT_ORIGIN)
            if not options.dry_run:
                notes.append(
                    f"{base_url} is not capmock (it has no {ADMIN}/fixtures to derive a profile "
                    "from) and no --profile was given, so the built-in default profile "
                    "(capmock's default fixtures) is used; give --profile if that is not what "
                    f"exists there ({PROFILE_HINT})"
                )
    except (ProfileError, CannotDeriveError) as error:
        raise UsageError(str(error)) from None
    if credentials is not None:
        profile = profile.with_credentials(credentials)
    return Target(
        base_url=base_url,
        profile=profile,
        limits=Limits(rate=options.rate_limit, max_requests=options.max_requests),
        writes_allowed=not live or options.allow_writes,
        admin=admin,
        admin_token=options.admin_token,
    )


def profile_text(options: Options) -> str:
    """The profile a run would use, as YAML to start from (``--print-profile``)."""
    url = named_base_url(options)
    if options.profile is not None:
        try:
            return options.profile.read_text(encoding="utf-8")
        except OSError as error:
            raise UsageError(
                f"{options.profile}: cannot read the profile: {error.strerror}"
            ) from None
    if url is not None and is_loopback(url) and not options.live:
        _check_reachable(url)
        if _is_capmock(url):
            try:
                document = derive_document(
                    _fixtures(url, options.admin_token), _credentials(options)
                )
            except CannotDeriveError as error:
                raise UsageError(str(error)) from None
            document = {"baseUrl": url, **document}
            header = f"# The target profile derived from {url}{ADMIN}/fixtures.\n"
            return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return DEFAULT_PROFILE.read_text(encoding="utf-8")


def _fixtures(base_url: str, admin_token: str | None) -> dict[str, object]:
    """Our own mock's fixtures; with its admin token, their secrets too."""
    url = f"{base_url.rstrip('/')}{ADMIN}/fixtures"
    document: object = None
    if admin_token:
        answer = httpx.get(
            url, params={"secrets": "true"}, headers={ADMIN_HEADER: admin_token}, timeout=10
        )
        document = answer.json() if answer.status_code == 200 else None
    if document is None:
        answer = httpx.get(url, timeout=10)
        if answer.status_code in (401, 403):
            given = f"the token in {ADMIN_TOKEN_ENV}" if admin_token else "no admin token"
            raise UsageError(
                f"{base_url}{ADMIN}/fixtures refused {given} (HTTP {answer.status_code}): set "
                f"{ADMIN_TOKEN_ENV} to the mock's --admin-token, or give --profile"
            )
        document = answer.json()
    if not isinstance(document, dict):
        raise UsageError(f"{base_url}{ADMIN}/fixtures did not answer with fixtures")
    return document


def _credentials(options: Options) -> Credentials | None:
    for kind, value in (("basic", options.auth), ("oauth", options.oauth)):
        if value is not None:
            name, _, secret = value.partition(":")
            return Credentials(kind, name, secret)
    return None


def _check_reachable(base_url: str) -> None:
    """A TCP connection only: no HTTP request reaches a live target before the preflight."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname or "", port), timeout=5).close()
    except OSError as error:
        raise UsageError(f"cannot reach {base_url}: {error.strerror or error}") from None


def _is_capmock(base_url: str) -> bool:
    """Whether a loopback target is our own mock (its admin health answers as ours)."""
    try:
        response = httpx.get(f"{base_url.rstrip('/')}{ADMIN}/health", timeout=5)
        return response.status_code == 200 and response.json().get("status") == "ok"
    except (httpx.HTTPError, ValueError, AttributeError):
        return False

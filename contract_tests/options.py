"""From the run's options to the Target: which profile, which credentials, what may be
written. Shared by ``capmock test`` and the pytest plugin, so both apply the same
safety rules."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from contract_tests.derive import CannotDeriveError, derive_profile
from contract_tests.limits import Limits
from contract_tests.profile import DEFAULT_PROFILE, Credentials, ProfileError, load_profile
from contract_tests.target import ADMIN, ADMIN_HEADER, Target, is_loopback


class UsageError(Exception):
    """The run was asked for something it must not or cannot do; exit 2."""


@dataclass(frozen=True)
class Options:
    base_url: str | None = None
    profile: Path | None = None
    auth: str | None = None
    oauth: str | None = None
    allow_writes: bool = False
    dry_run: bool = False
    max_examples: int = 50
    seed: int | None = None
    rate_limit: float | None = None
    max_requests: int | None = None
    admin_token: str | None = field(default_factory=lambda: os.environ.get(ADMIN_TOKEN_ENV))
    """Our own mock's admin token (``capmock serve --admin-token``), from the same
    environment variable: it reads the mock's credentials and resets it."""


ADMIN_TOKEN_ENV = "CAPMOCK_ADMIN_TOKEN"


DRY_RUN_URL = "http://127.0.0.1:8080"
"""What a dry run that names no target describes: where ``capmock serve`` listens."""


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


def build_target(options: Options, base_url: str) -> Target:
    """The target at ``base_url``; raises UsageError naming what is wrong."""
    loopback = is_loopback(base_url)
    if not loopback and options.profile is None:
        raise UsageError(
            f"{base_url} is not a loopback address: give --profile naming what exists there "
            "(see contract_tests/profiles/default.yaml)"
        )
    if not options.dry_run:
        _check_reachable(base_url)
    admin = loopback and not options.dry_run and _is_capmock(base_url)
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
            profile = load_profile(DEFAULT_PROFILE)
    except (ProfileError, CannotDeriveError) as error:
        raise UsageError(str(error)) from None
    if credentials is not None:
        profile = profile.with_credentials(credentials)
    if options.allow_writes and not loopback and options.profile is None:
        raise UsageError("--allow-writes needs --profile naming the test customer")
    return Target(
        base_url=base_url,
        profile=profile,
        limits=Limits(rate=options.rate_limit, max_requests=options.max_requests),
        writes_allowed=loopback or options.allow_writes,
        admin=admin,
        admin_token=options.admin_token,
    )


def _fixtures(base_url: str, admin_token: str | None) -> dict[str, Any]:
    """Our own mock's fixtures; with its admin token, secrets included."""
    url = f"{base_url.rstrip('/')}{ADMIN}/fixtures"
    if admin_token:
        response = httpx.get(
            url, params={"secrets": "true"}, headers={ADMIN_HEADER: admin_token}, timeout=10
        )
        if response.status_code == 200:
            fixtures: dict[str, Any] = response.json()
            return fixtures
    redacted: dict[str, Any] = httpx.get(url, timeout=10).json()
    return redacted


def _credentials(options: Options) -> Credentials | None:
    if options.auth and options.oauth:
        raise UsageError("give --auth or --oauth, not both")
    for kind, value, flag in (
        ("basic", options.auth, "--auth"),
        ("oauth", options.oauth, "--oauth"),
    ):
        if value is not None:
            name, sep, secret = value.partition(":")
            if not sep or not name:
                raise UsageError(f"{flag} takes NAME:SECRET, got {value!r}")
            return Credentials(kind, name, secret)
    return None


def _check_reachable(base_url: str) -> None:
    """A TCP connection only: no HTTP request reaches a live target before the tests."""
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

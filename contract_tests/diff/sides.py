"""The two targets of a diff, each built as ``capmock test`` builds its target, under
the same safety rules, and each checked by the same preflight.

Either target is live unless it is capmock on loopback (and not given ``--live-a``,
``--live-b``): a live one needs its profile
(``--profile-a``/``--profile-b``), never sees ``/__admin``, and, as any target of a diff,
gets only requests that cannot take a point unless ``--allow-writes``; then only the
profile's test customer is written to. The same plan goes to both, so whether the run
may write is decided once for both. Our own mock is reset before a run that writes, as
``capmock test`` resets it, so that its balances start from its fixtures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from contract_tests.diff.options import SIDES, DiffOptions
from contract_tests.options import Options, UsageError
from contract_tests.preflight import preflight
from contract_tests.profile import ProfileError, load_profile
from contract_tests.session import PROFILE_HINT, build_target
from contract_tests.target import Target, is_loopback

SHARED_FLAG = re.compile(r"(?<![\w-])--(profile|auth|oauth|live)(?![\w-])")
"""An option of ``capmock test`` that a diff takes once per target."""


@dataclass
class Side:
    """One target of the diff."""

    key: str
    """``a`` or ``b``, as in the options."""
    target: Target
    fixtures: dict[str, Any] | None = None
    """What our own mock serves (``/__admin/fixtures``); None on any other target."""
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.key.upper()

    @property
    def capmock(self) -> bool:
        return self.target.admin

    def describe(self) -> str:
        what = "capmock on loopback" if self.capmock else "live"
        return f"{self.name} {self.target.base_url} ({what}; profile {self.target.profile.origin})"


def open_sides(options: DiffOptions) -> dict[str, Side]:
    """Both targets, preflighted unless this is a dry run. Raises UsageError naming the
    side and the problem; closes what it opened when it does."""
    for key in SIDES:
        _check_side(options, key)
    sides: dict[str, Side] = {}
    try:
        for key in SIDES:
            sides[key] = _open_side(options, key)
    except BaseException:
        close_sides(sides)
        raise
    return sides


def close_sides(sides: dict[str, Side]) -> None:
    for side in sides.values():
        side.target.close()


def _check_side(options: DiffOptions, key: str) -> None:
    """What can be checked of a side without sending anything, for both sides before
    either is sent anything: a live A is not preflighted for a run B's profile stops."""
    url, profile = options.url(key), options.side(key, "profile")
    if profile is None and _live(options, key):
        where = f"with --live-{key}" if is_loopback(url) else "is not on loopback:"
        raise UsageError(
            f"{key.upper()} ({url}) {where} give --profile-{key} naming what exists there "
            f"({PROFILE_HINT})"
        )
    if profile is not None:
        try:
            load_profile(profile)
        except ProfileError as error:
            raise UsageError(f"{key.upper()}: {error}") from None


def _sided(problem: object, key: str) -> str:
    """capmock test's words, shared with it, for one target of a diff: its ``--auth`` is
    ``--auth-b`` here."""
    return SHARED_FLAG.sub(rf"--\1-{key}", str(problem))


def _live(options: DiffOptions, key: str) -> bool:
    return bool(options.side(key, "live")) or not is_loopback(options.url(key))


def _open_side(options: DiffOptions, key: str) -> Side:
    url = options.url(key)
    name = key.upper()
    profile = options.side(key, "profile")
    single = Options(
        base_url=url,
        profile=profile,
        auth=options.side(key, "auth"),
        oauth=options.side(key, "oauth"),
        live=_live(options, key),
        allow_writes=options.allow_writes,
        dry_run=options.dry_run,
        rate_limit=options.rate_limit,
        max_requests=options.max_requests,
    )
    try:
        target = build_target(single, url)
    except UsageError as error:
        raise UsageError(f"{name}: {_sided(error, key)}") from None
    if profile is None and not target.admin and not options.dry_run:
        raise UsageError(
            f"{name} ({url}) is not capmock (no {url}/__admin/health answers as ours): give "
            f"--profile-{key} naming what exists there ({PROFILE_HINT})"
        )
    # A diff sends one plan to both targets: writes are allowed to both, or to neither.
    target.writes_allowed = options.allow_writes
    side = Side(key, target)
    if options.dry_run:
        side.notes.append(f"{name}: profile {target.profile.origin}")
        return side
    try:
        side.notes += [f"{name}: {_sided(note, key)}" for note in preflight(target)]
        if target.admin:
            side.fixtures = target.admin_call("GET", "/fixtures")
            if options.allow_writes:
                target.reset()
                side.notes.append(
                    f"{name}: reset (POST /__admin/reset) before the run, as capmock test "
                    "resets its own mock: its balances start from its fixtures"
                )
    except UsageError as error:
        target.close()
        raise UsageError(f"{name} ({url}): {_sided(error, key)}") from None
    except httpx.HTTPError as error:
        target.close()
        raise UsageError(f"{name} ({url}): no answer to the preflight: {error}") from None
    return side

"""The options of ``capmock diff``, defined once, in the table style of ``capmock test``.

Where an option means what it means for ``capmock test`` (a profile, credentials, the
rate limit, the request budget, writes, a dry run) its reader comes from that table;
profiles and credentials are given per target (``--profile-a``, ``--auth-b``...).
Only the standard library and click are imported here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from contract_tests.options import SPECS, Spec, UsageError, base_url, choice

SIDES = ("a", "b")
FORMATS = ("text", "json", "markdown", "junit", "github")
BALANCES = ("auto", "compare", "ignore")
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


@dataclass(frozen=True)
class Substitution:
    """``--substitute REGEX=TEXT``: every match of ``pattern`` in either answer reads TEXT."""

    pattern: re.Pattern[str]
    text: str

    def __str__(self) -> str:
        return f"{self.pattern.pattern}={self.text}"


def substitution(text: str) -> Substitution:
    pattern, sep, replacement = text.rpartition("=")
    if not sep or not pattern:
        raise ValueError(f"takes REGEX=TEXT, got {text!r}")
    try:
        return Substitution(re.compile(pattern), replacement)
    except re.error as error:
        raise ValueError(f"{pattern!r} is not a regular expression: {error}") from None


def ignored(text: str) -> str:
    """A JSON path into the body (``$.warnings``, ``$.errors[*].message``) or a header."""
    if text.startswith("$"):
        import jsonpath

        try:
            jsonpath.compile(text)
        except jsonpath.JSONPathError as error:
            first = str(error).splitlines()[0]
            raise ValueError(f"{text!r} is not a JSON path: {first}") from None
        return text
    if not HEADER_NAME.match(text):
        raise ValueError(f"{text!r} is neither a JSON path (starting with $) nor a header name")
    return text.lower()


def _shared(flag: str) -> Spec:
    return next(spec for spec in SPECS if spec.flag == flag)


def _sided(flag: str, side: str, help: str) -> Spec:
    spec = _shared(flag)
    return replace(spec, flag=f"{flag}-{side}", attr=f"{spec.attr}_{side}", help=help)


def _per_target(flag: str) -> Spec:
    spec = _shared(flag)
    return replace(spec, help=spec.help.rstrip(".") + ", to each target.")


def _side_specs(side: str) -> tuple[Spec, ...]:
    name = side.upper()
    return (
        Spec(
            f"--{side}",
            side,
            "The first target, typically our mock."
            if side == "a"
            else "The second target, typically a live org.",
            base_url,
            metavar="URL",
        ),
        _sided(
            "--profile",
            side,
            f"Target profile of {name}: what exists there. Required unless {name} is capmock "
            "on loopback (its profile is then derived from its fixtures); "
            "capmock test --print-profile writes one to start from.",
        ),
        _sided(
            "--live",
            side,
            f"Treat {name} as a live org even on loopback (a tunnel to a sandbox): "
            f"--profile-{side} required, no /__admin.",
        ),
        _sided("--auth", side, f"Basic credentials for {name} instead of its profile's."),
        _sided("--oauth", side, f"OAuth key and secret for {name} instead of its profile's."),
    )


DIFF_SPECS: tuple[Spec, ...] = (
    *_side_specs("a"),
    *_side_specs("b"),
    replace(
        _shared("--allow-writes"),
        help="Send the plan that deducts from each profile's test customer, to both targets. "
        "Without it only requests that cannot take a point are sent, to either target.",
    ),
    replace(_shared("--dry-run"), help="List the requests each target would get; send nothing."),
    _per_target("--rate-limit"),
    _per_target("--max-requests"),
    Spec(
        "--ignore",
        "ignore",
        "Leave out of the comparison a JSON path of the body ($.warnings, "
        "$.errors[*].message, $..requestId) or a header (Retry-After). Repeatable.",
        ignored,
        metavar="PATH|HEADER",
        multiple=True,
    ),
    Spec(
        "--substitute",
        "substitute",
        "Read every match of REGEX in either answer (bodies and compared headers) as TEXT "
        "before comparing, e.g. 'org-[0-9]+=<org>'. Repeatable.",
        substitution,
        metavar="REGEX=TEXT",
        multiple=True,
    ),
    Spec(
        "--balances",
        "balances",
        "Compare balances in answers (compare), read every well-formed balance as "
        "<balance> (ignore), or compare them only when both targets are capmock serving "
        "the same fixtures (auto).",
        choice(*BALANCES),
        default="auto",
        metavar="auto|compare|ignore",
    ),
    Spec(
        "--baseline",
        "baseline",
        "Known drifts (a file --update-baseline wrote): they are reported, but only new "
        "drift fails the run.",
        Path,
        metavar="FILE",
    ),
    Spec(
        "--update-baseline",
        "update_baseline",
        "Write every drift of this run to the --baseline file, which then accepts them; exit 0.",
    ),
    Spec(
        "--format",
        "format",
        "github prints workflow annotations; markdown suits a pull-request comment.",
        choice(*FORMATS),
        default="text",
        metavar="|".join(FORMATS),
    ),
    Spec(
        "--output",
        "output",
        "Write the report to FILE instead of standard output.",
        Path,
        metavar="FILE",
        short="-o",
    ),
    Spec(
        "--report",
        "report",
        "Write index.html (a page in the style of capmock test's report), drift.json and "
        "junit.xml to DIR.",
        Path,
        metavar="DIR",
    ),
)


@dataclass(frozen=True)
class DiffOptions:
    """One run of ``capmock diff``."""

    a: str
    b: str
    profile_a: Path | None = None
    live_a: bool = False
    auth_a: str | None = None
    oauth_a: str | None = None
    profile_b: Path | None = None
    live_b: bool = False
    auth_b: str | None = None
    oauth_b: str | None = None
    allow_writes: bool = False
    dry_run: bool = False
    rate_limit: float | None = None
    max_requests: int | None = None
    ignore: tuple[str, ...] = ()
    substitute: tuple[Substitution, ...] = ()
    balances: str = "auto"
    baseline: Path | None = None
    update_baseline: bool = False
    format: str = "text"
    output: Path | None = None
    report: Path | None = None

    def __post_init__(self) -> None:
        for side in SIDES:
            if self.side(side, "auth") is not None and self.side(side, "oauth") is not None:
                raise UsageError(f"give --auth-{side} or --oauth-{side}, not both")
        if self.update_baseline and self.baseline is None:
            raise UsageError("--update-baseline needs --baseline FILE: the file to write")

    def side(self, side: str, name: str) -> Any:
        """The option ``name`` of one side, e.g. ``side("b", "profile")``."""
        return getattr(self, f"{name}_{side}")

    def url(self, side: str) -> str:
        return str(getattr(self, side))


def diff_options_from(values: dict[str, Any]) -> DiffOptions:
    """Options from parsed values by attribute name; both targets are required."""
    missing = [f"--{side} URL" for side in SIDES if not values.get(side)]
    if missing:
        raise UsageError(f"give {' and '.join(missing)}: the two targets to compare")
    names = {field.name for field in fields(DiffOptions)}
    return DiffOptions(**{k: v for k, v in values.items() if k in names and v is not None})

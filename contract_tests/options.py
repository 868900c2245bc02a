"""The options of ``capmock test``, defined once.

``SPECS`` is the one table: each option's flag, type, default, help and the function
that reads and checks its value. The click command (``capmock test``) and the pytest
plugin (``pytest contract_tests``) are both generated from it, and both end with the
same ``Options`` object, so neither can accept what the other refuses.

Only the standard library and click are imported here: ``capmock --help`` must not
pay for pytest, Schemathesis and the rest.
"""

from __future__ import annotations

import argparse
import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from contract_tests.limits import parse_rate

if TYPE_CHECKING:
    import pytest

FORMATS = ("text", "github")
ADMIN_TOKEN_ENV = "CAPMOCK_ADMIN_TOKEN"


class UsageError(Exception):
    """The run was asked for something it must not or cannot do; exit 2."""


def base_url(text: str) -> str:
    """An http or https URL with a host; a missing scheme is named as such."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        if "://" not in text:
            raise ValueError(f"{text} has no scheme: write http://{text} or https://{text}")
        raise ValueError(f"{text} is not an http:// or https:// URL")
    if not parts.hostname:
        raise ValueError(f"{text} names no host")
    try:
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        raise ValueError(f"{text} has a port that is not a number from 0 to 65535") from None
    return text


def pair(text: str) -> str:
    """``NAME:SECRET``, with a name."""
    name, sep, _secret = text.partition(":")
    if not sep or not name:
        raise ValueError(f"takes NAME:SECRET, got {text!r}")
    return text


def rate(text: str) -> float:
    return parse_rate(text)


def bounded(low: int, high: int | None = None) -> Callable[[str], int]:
    def read(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise ValueError(f"{value} is not {span}")
        return value

    return read


def whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None


def choice(*allowed: str) -> Callable[[str], str]:
    def read(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"{text!r} is not one of {', '.join(allowed)}")
        return text

    return read


@dataclass(frozen=True)
class Spec:
    """One option: its flag, where its value goes, and how a value is read."""

    flag: str
    attr: str
    help: str
    read: Callable[[str], Any] | None = None
    """Reads and checks a value (ValueError with the problem); None for a flag."""
    default: Any = None
    metavar: str | None = None
    secret: bool = False
    """Masked in the command line that reruns a run."""
    rerun: bool = True
    """Part of the command line that reruns a run (outputs are not)."""
    multiple: bool = False
    """Given any number of times; the value is then a tuple of what each gave (click
    only: no option of ``capmock test`` repeats)."""
    short: str | None = None
    """A one-letter alias such as ``-o``."""

    @property
    def is_flag(self) -> bool:
        return self.read is None


SPECS: tuple[Spec, ...] = (
    Spec(
        "--base-url",
        "base_url",
        "The API to test. Without it: the profile's baseUrl, else a fresh mock on the default "
        "fixtures, started and stopped by the run.",
        base_url,
        metavar="URL",
    ),
    Spec(
        "--profile",
        "profile",
        "Target profile YAML: credentials, test customer, program, promotion, award... "
        "Required beyond loopback and with --live; derived from our own mock otherwise. "
        "--print-profile writes one to start from.",
        Path,
        metavar="FILE",
    ),
    Spec(
        "--auth",
        "auth",
        "Basic credentials (clear password; sent as its md5, Capillary style).",
        pair,
        metavar="USER:PASSWORD",
        secret=True,
    ),
    Spec(
        "--oauth", "oauth", "OAuth client key and secret.", pair, metavar="KEY:SECRET", secret=True
    ),
    Spec(
        "--live",
        "live",
        "Treat the target as a live org even on loopback: --profile required, no /__admin, "
        "only requests that cannot take a point unless --allow-writes.",
    ),
    Spec(
        "--allow-writes",
        "allow_writes",
        "Let the run deduct from the profile's test customer on a live target (beyond "
        "loopback, or with --live).",
    ),
    Spec("--dry-run", "dry_run", "List every test and the requests it would send; send nothing."),
    Spec(
        "--print-profile",
        "print_profile",
        "Print the profile the run would use (the default one, or the one derived from our "
        "own mock at --base-url) as YAML to start from, and exit.",
        rerun=False,
    ),
    Spec(
        "--max-examples",
        "max_examples",
        "Examples per Schemathesis phase, and deduction sequences of the model test.",
        bounded(1),
        default=50,
        metavar="N",
    ),
    Spec(
        "--race",
        "race",
        "Simultaneous deductions of the race test, 2 to 100 (it runs where writes are allowed).",
        bounded(2, 100),
        default=10,
        metavar="N",
    ),
    Spec(
        "--seed",
        "seed",
        "Reproduce a run (without it a seed is drawn and shown).",
        whole,
        metavar="N",
    ),
    Spec(
        "--rate-limit",
        "rate_limit",
        "At most RATE requests, e.g. 10/s or 600/m.",
        rate,
        metavar="RATE",
    ),
    Spec("--max-requests", "max_requests", "Send at most N requests.", bounded(1), metavar="N"),
    Spec("--junit", "junit", "Write JUnit XML to FILE.", Path, metavar="FILE", rerun=False),
    Spec(
        "--report",
        "report",
        "Write index.html, findings.json and junit.xml to DIR.",
        Path,
        metavar="DIR",
        rerun=False,
    ),
    Spec(
        "--format",
        "format",
        "text, or github: also a ::error annotation per finding for GitHub Actions.",
        choice(*FORMATS),
        default="text",
        metavar="FORMAT",
        rerun=False,
    ),
    Spec(
        "--min-coverage",
        "min_coverage",
        "Fail (exit 1) when fewer than N% of the documented error codes were checked.",
        bounded(0, 100),
        default=0,
        metavar="N",
        rerun=False,
    ),
)


@dataclass(frozen=True)
class Options:
    """One run of ``capmock test``, as parsed from either command line."""

    base_url: str | None = None
    profile: Path | None = None
    auth: str | None = None
    oauth: str | None = None
    live: bool = False
    allow_writes: bool = False
    dry_run: bool = False
    print_profile: bool = False
    max_examples: int = 50
    race: int = 10
    seed: int | None = None
    rate_limit: float | None = None
    max_requests: int | None = None
    junit: Path | None = None
    report: Path | None = None
    format: str = "text"
    min_coverage: int = 0
    admin_token: str | None = field(
        default_factory=lambda: os.environ.get(ADMIN_TOKEN_ENV) or None, repr=False
    )
    """Our own mock's admin token (``capmock serve --admin-token``), from the same
    environment variable: with it the mock shows its fixtures' credentials."""

    def __post_init__(self) -> None:
        if self.auth is not None and self.oauth is not None:
            raise UsageError("give --auth or --oauth, not both")

    def rerun_command(self, base_url: str | None = None) -> str:
        """The command line that repeats this run, secrets masked."""
        words = ["capmock", "test"]
        values = {**self.__dict__, "base_url": self.base_url or base_url}
        for spec in SPECS:
            value = values[spec.attr]
            if not spec.rerun or value is None or value is False or value == spec.default:
                continue
            if spec.is_flag:
                words.append(spec.flag)
                continue
            if spec.secret:
                value = f"{str(value).partition(':')[0]}:***"
            elif spec.attr == "rate_limit":
                value = f"{value:g}/s"
            words += [spec.flag, str(value)]
        return " ".join(shlex.quote(word) for word in words)


def options_from(values: dict[str, Any]) -> Options:
    """Options from parsed values by attribute name (unknown names are ignored)."""
    names = {field.name for field in fields(Options)}
    return Options(**{k: v for k, v in values.items() if k in names and v is not None})


# --- click ---------------------------------------------------------------------------


class _Read(click.ParamType[Any, Any]):
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.name = (spec.metavar or "value").lower()

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        assert self.spec.read is not None
        try:
            return self.spec.read(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


def click_options_for(specs: tuple[Spec, ...]) -> Callable[[Callable[..., Any]], Any]:
    """A decorator that gives a click command every option of ``specs``."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for spec in reversed(specs):
            names = (spec.flag, *([spec.short] if spec.short else []), spec.attr)
            if spec.is_flag:
                option = click.option(*names, is_flag=True, default=False, help=spec.help)
            else:
                option = click.option(
                    *names,
                    type=_Read(spec),
                    default=() if spec.multiple else spec.default,
                    multiple=spec.multiple,
                    show_default=spec.default is not None,
                    metavar=spec.metavar,
                    help=spec.help,
                )
            command = option(command)
        return command

    return decorate


click_options = click_options_for(SPECS)
"""Decorate a click command with every option of ``capmock test``."""


# --- pytest --------------------------------------------------------------------------


def _argparse_type(spec: Spec) -> Callable[[str], Any]:
    def read(text: str) -> Any:
        assert spec.read is not None
        try:
            return spec.read(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    read.__name__ = spec.attr
    return read


def pytest_dest(spec: Spec) -> str:
    return f"capmock_{spec.attr}"


def add_pytest_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("capmock", "capmock contract tests")
    for spec in SPECS:
        if spec.is_flag:
            group.addoption(
                spec.flag,
                dest=pytest_dest(spec),
                action="store_true",
                default=False,
                help=spec.help,
            )
        else:
            group.addoption(
                spec.flag,
                dest=pytest_dest(spec),
                type=_argparse_type(spec),
                default=spec.default,
                metavar=spec.metavar,
                help=spec.help,
            )


def options_from_pytest(getoption: Callable[[str], Any]) -> Options:
    return options_from({spec.attr: getoption(pytest_dest(spec)) for spec in SPECS})

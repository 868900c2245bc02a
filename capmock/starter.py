"""``capmock init``: a starter fixture file and a target profile, written to a folder.

Both are copies of what capmock ships (the default world, and the profile that
describes it), so they work as written and never drift from the real defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from contract_tests.profile import DEFAULT_PROFILE
from mock_server.data import DEFAULT_FIXTURES

FIXTURES_NAME = "capmock-fixtures.yaml"
PROFILE_NAME = "capmock-profile.yaml"

FIXTURES_HEADER = f"""\
# Starter fixtures written by `capmock init`: a copy of capmock's default world, yours to
# edit. Check it:  capmock check {FIXTURES_NAME}
# Serve it:        capmock serve --fixtures {FIXTURES_NAME}
# Every field is described in fixtures/README.md of capmock's repository. Passwords here
# are clear; HTTP clients send md5hex(password) (printf %s 'server123' | md5sum).
#
"""

PROFILE_HEADER = f"""\
# Starter target profile written by `capmock init`: what exists on the server that
#   capmock test --profile {PROFILE_NAME}
# checks. As written it describes {FIXTURES_NAME}: keep the two in step when you
# edit the fixtures, or fill in your own org's ids to check a Capillary sandbox (see
# docs/contract-tests.md in capmock's repository). Passwords here are clear, as in the
# fixtures; capmock test sends their MD5.
"""


class StarterExistsError(Exception):
    """A file ``capmock init`` would write is already there, and ``force`` was not given."""

    def __init__(self, paths: list[Path]) -> None:
        names = " and ".join(str(p) for p in paths)
        super().__init__(f"{names} already exist{'s' if len(paths) == 1 else ''}")
        self.paths = paths


@dataclass(frozen=True)
class Starter:
    fixtures: Path
    profile: Path


def write_starter(folder: Path, *, force: bool = False) -> Starter:
    """Write the starter files into ``folder``; refuse to overwrite unless ``force``."""
    starter = Starter(folder / FIXTURES_NAME, folder / PROFILE_NAME)
    existing = [p for p in (starter.fixtures, starter.profile) if p.exists()]
    if existing and not force:
        raise StarterExistsError(existing)
    fixtures = _without_modeline(DEFAULT_FIXTURES.read_text())
    starter.fixtures.write_text(FIXTURES_HEADER + fixtures)
    starter.profile.write_text(PROFILE_HEADER + _without_header(DEFAULT_PROFILE.read_text()))
    return starter


def _without_modeline(text: str) -> str:
    """The text without its editor schema line, whose relative path would not hold in
    another folder."""
    lines = text.splitlines(keepends=True)
    if lines and lines[0].startswith("# yaml-language-server:"):
        lines = lines[1:]
        if lines and lines[0].strip() == "#":
            lines = lines[1:]
    return "".join(lines)


def _without_header(text: str) -> str:
    """The text without its leading comment block (the starter's header replaces it)."""
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines = lines[1:]
    return "".join(lines)

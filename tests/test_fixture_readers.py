"""One reading of a fixture, whichever reader read it.

PyYAML is the reference; rapidyaml and the json module only accelerate it. A scalar
means the same thing in a file that rapidyaml reads (plain YAML) and in the same file
with an unrelated anchor, which only PyYAML reads; and where rapidyaml answers at all,
its document is PyYAML's.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import ryml
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from support import ROOT

from mock_server.fixtures import FixtureError, load_document, parse
from mock_server.model import World

TRICKY = [
    "yes", "No", "on", "OFF", "y", "n", "true", "True", "TRUE", "false", "null", "Null", "~", "",
    "1e3", "1E3", "1.0e3", "1.5e+3", "1.5E-3", "-.5", ".5", "+.5", "5.", "-5.", "+5", "-0",
    "0x1F", "0o17", "0755", "00", "1_000", "1_0.5", "1:30", "1:30.5", ".inf", "-.Inf", ".NaN",
    "2001-12-14", "2001-12-14 21:59:43.10 -5", "=", "<<", "12e-2", "0.50", "680", "80155.5",
    "1000000000000", "1000000000000.001", "9" * 30, "'q'", '"d"', "a: b", "a #c", "#",
    "[1]", "{a: 1}", "- x", "?", "!x", "&x", "*x", "%x", "@x", "`x", "a\\u00e9", "\u00e9",
]  # fmt: skip

scalars = st.sampled_from(TRICKY) | st.text(
    alphabet=st.sampled_from(
        list("0123456789.-+eE_xob:~nulyYsNOfFtTrAI #'\"/,[]{}&*!%@`\\|>\u00e9")
    ),
    max_size=8,
)

TEMPLATE = """\
org:{anchor}
  allowNegativeBalanceOnReturn: {flag}
users:
  - username: store.server
    password: {password}
    accessGroups: [points]
programs:
  - {{id: 973, name: {name}, default: true, roundDecimals: 3}}
customers:
  - userId: 388034468
    sources: [INSTORE]
    enrollments:
      - programId: 973
        points: {{REGULAR: {regular}}}
"""


def outcome(text: str) -> World | list[str]:
    try:
        return load_document(text, "f.yaml")
    except FixtureError as error:
        return error.problems


def fixture(scalar: str, anchor: bool, slot: str) -> str:
    values = {"flag": "false", "password": "server123", "name": "P", "regular": "680"}
    values[slot] = scalar
    return TEMPLATE.format(anchor=" &unrelated_anchor" if anchor else "", **values)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scalar=scalars, slot=st.sampled_from(["flag", "password", "name", "regular"]))
@example(scalar="1e3", slot="regular")
@example(scalar="yes", slot="password")
@example(scalar="-.5", slot="regular")
@example(scalar="yes", slot="flag")
def test_a_scalar_means_one_thing_whichever_reader_reads_the_file(scalar: str, slot: str) -> None:
    plain, anchored = fixture(scalar, False, slot), fixture(scalar, True, slot)
    assert outcome(plain) == outcome(anchored)


@settings(max_examples=400, deadline=None)
@given(scalar=scalars)
def test_where_rapidyaml_answers_it_answers_as_pyyaml(scalar: str) -> None:
    for text in (f"a: {scalar}\n", f"a: [{scalar}]\n", f"{scalar}: 1\n", f"a: {{b: {scalar}}}\n"):
        fast = parse._by_ryml(text)
        if fast is not None:
            assert fast == yaml.load(text, Loader=parse.Loader)


number_tokens = st.from_regex(
    r"-?(0|[1-9][0-9]{0,5})(\.[0-9]{1,4})?([eE][-+]?[0-9]{1,3})?", fullmatch=True
)


@settings(max_examples=300, deadline=None)
@given(token=number_tokens)
@example(token="1e3")
@example(token="1.5e3")
@example(token="1.5e+3")
def test_json_numbers_are_read_as_pyyaml_reads_them(token: str) -> None:
    document = json.loads(TEMPLATE_JSON)
    text = json.dumps(document).replace('"REGULAR": 680', f'"REGULAR": {token}')
    reference = yaml.load(text, Loader=parse.Loader)
    read = parse.read(text, "f.json").document
    assert read == reference
    assert type(read["customers"][0]["enrollments"][0]["points"]["REGULAR"]) is type(
        reference["customers"][0]["enrollments"][0]["points"]["REGULAR"]
    )


TEMPLATE_JSON = json.dumps(yaml.safe_load(fixture("server123", False, "password")))


def test_1e3_is_a_string_in_every_kind_of_file() -> None:
    # YAML 1.1: a float needs a dot. The same words whatever else the file holds.
    problems = outcome(fixture("1e3", False, "regular"))
    assert problems == outcome(fixture("1e3", True, "regular"))
    assert isinstance(problems, list) and "expected a number, got string '1e3'" in problems[0]


def test_rapidyaml_errors_do_not_reach_stderr() -> None:
    script = (
        "from mock_server.fixtures import FixtureError, load_document\n"
        "try:\n    load_document('a: [1, 2\\nb: {c', 'broken.yaml')\n"
        "except FixtureError as error:\n    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.startswith("broken.yaml: invalid YAML at line")
    assert done.stderr == ""


def test_what_others_write_to_stderr_meanwhile_is_kept(capfd: pytest.CaptureFixture[str]) -> None:
    with parse._ryml_quiet(), pytest.raises(ryml.ExceptionParse):
        print("a line of someone else's", file=sys.stderr)
        ryml.parse_in_arena(b"a: [1, 2\nb: {c")
    assert capfd.readouterr().err == "a line of someone else's\n"

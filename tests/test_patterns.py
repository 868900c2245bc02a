"""The two validators give one verdict on every pattern the mock checks.

jsonschema-rs decides and jsonschema explains: if they disagreed, a refusal would have
no explanation (answered 9110 "does not match the contract" instead of its code), or an
explanation no refusal. Patterns are ECMA-262 regexes in both (``mock_server/schemas``);
Python's ``re`` alone would read ``$`` and ``\\s`` otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import jsonschema_rs
import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mock_server.data import ADMIN_CONTRACT, CONTRACT, FIXTURE_SCHEMA
from mock_server.schemas import explaining


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        for value in node.values():
            yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


PATTERNS = sorted(
    set(_patterns(yaml.safe_load(CONTRACT.read_text())))
    | set(_patterns(yaml.safe_load(ADMIN_CONTRACT.read_text())))
    | set(_patterns(json.loads(FIXTURE_SCHEMA.read_text())))
)

BLANKS = "\t\n\v\f\r \x85\xa0\u1680\u2000\u200a\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
edges = st.text(alphabet=st.sampled_from(list(BLANKS + "0123456789.-+eE_aZ\u0661\u00e9")))


def test_every_pattern_is_found() -> None:
    assert len(PATTERNS) >= 4  # the amount, the reason, balances, errorStatus keys


@pytest.mark.parametrize("pattern", PATTERNS)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
@example(data=None)
def test_both_validators_agree(pattern: str, data: st.DataObject | None) -> None:
    schema = {"type": "string", "pattern": pattern}
    fast = jsonschema_rs.Draft4Validator(schema)
    explaining_validator = explaining(jsonschema.Draft4Validator)(schema)
    if data is None:
        texts = ["10\n", "\ufeff", "\x85", " ", "1000000000000", "9999999999999", "\u0661"]
    else:
        matching = data.draw(st.from_regex(pattern))
        texts = [
            matching,
            matching + "\n",
            data.draw(edges) + matching + data.draw(edges),
            data.draw(st.text(max_size=20)),
        ]
    for text in texts:
        assert fast.is_valid(text) == explaining_validator.is_valid(text), (pattern, text)

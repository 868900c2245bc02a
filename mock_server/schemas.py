"""JSON Schema validators that give one verdict: jsonschema-rs decides, jsonschema explains.

The two must agree on every document, or a refusal has no explanation (or an explanation
has no refusal). They disagree out of the box on regular expressions: JSON Schema and
OpenAPI patterns are ECMA-262 regexes, which jsonschema-rs implements, while jsonschema
runs them with Python's ``re``, whose ``$`` also matches before a trailing newline and
whose ``\\s`` is another set of characters (U+FEFF is blank to ECMA-262, not to ``re``).
The explaining validators here run ``pattern`` with ``regress``, an ECMA-262 engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import jsonschema
import regress
from jsonschema import ValidationError
from jsonschema.protocols import Validator


@cache
def ecma_regex(pattern: str) -> regress.Regex:
    """A pattern compiled as ECMA-262 (with the ``u`` flag, as jsonschema-rs compiles it)."""
    return regress.Regex(pattern, "u")


def _pattern(
    validator: Validator, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if isinstance(instance, str) and ecma_regex(pattern).find(instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def explaining(base: type[Validator]) -> type[Validator]:
    """``base`` (a jsonschema validator class) with ECMA-262 patterns."""
    return _explaining(base)


@cache
def _explaining(base: type[Validator]) -> type[Validator]:
    extended: type[Validator] = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        base, {"pattern": _pattern}
    )
    return extended

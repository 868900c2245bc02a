"""Schemas as the rules compare them: ``$ref`` followed, ``allOf`` merged into one schema.

``pointCategoryTypes: {description, allOf: [$ref PointCategory]}`` and ``$ref
PointCategory`` read the same after this, so a refactor between the two is no change.
"""

from __future__ import annotations

from typing import Any

from contract_tests.compat.documents import ParseError, pointer

Schema = dict[str, Any]

ANNOTATIONS = frozenset(
    {"description", "title", "example", "examples", "deprecated", "externalDocs", "xml"}
)
"""Keywords that document a schema without changing what it accepts."""


class Resolver:
    """Looks up ``#/...`` references in one document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def follow(self, schema: Any) -> Schema:
        """The schema a chain of ``$ref`` ends at."""
        seen: set[str] = set()
        while isinstance(schema, dict) and "$ref" in schema:
            ref = schema["$ref"]
            if ref in seen:
                raise ParseError(f"$ref {ref!r} refers to itself")
            seen.add(ref)
            schema = self.lookup(ref)
        if isinstance(schema, bool):
            return {} if schema else {"not": {}}
        if not isinstance(schema, dict):
            raise ParseError(f"a schema must be an object, got {schema!r}")
        return schema

    def lookup(self, ref: str) -> Any:
        return pointer(self.document, ref)

    def flat(self, schema: Any) -> Schema:
        """The schema with its references followed and its ``allOf`` merged in."""
        followed = self.follow(schema)
        if "allOf" not in followed:
            return followed
        merged = {key: value for key, value in followed.items() if key != "allOf"}
        for part in followed["allOf"]:
            merged = _merge(merged, self.flat(part))
        return merged


def _merge(base: Schema, part: Schema) -> Schema:
    merged = dict(base)
    for key, value in part.items():
        if key not in merged:
            merged[key] = value
        elif key == "properties":
            properties = dict(merged[key])
            for name, schema in value.items():
                properties[name] = (
                    {"allOf": [properties[name], schema]} if name in properties else schema
                )
            merged[key] = properties
        elif key == "required":
            merged[key] = list(dict.fromkeys([*merged[key], *value]))
        elif merged[key] == value or key in ANNOTATIONS or key.startswith("x-"):
            continue
        else:
            merged["allOf"] = [*merged.get("allOf", []), {key: value}]
    return merged

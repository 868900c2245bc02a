"""Facts read from the OpenAPI contract, so that no enum is written down twice."""

from __future__ import annotations

from functools import cache

import yaml

from capmock.paths import CONTRACT


@cache
def document() -> dict:
    """The parsed contract (``openapi/capillary.yaml``)."""
    with CONTRACT.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def _enum(schema_name: str) -> tuple[str, ...]:
    return tuple(document()["components"]["schemas"][schema_name]["enum"])


def sources() -> tuple[str, ...]:
    return _enum("Source")


def categories() -> tuple[str, ...]:
    return _enum("PointCategory")


def ref_types() -> tuple[str, ...]:
    return _enum("PointsAwardedRefType")

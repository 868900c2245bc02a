"""Facts read from the OpenAPI contract, so that no enum is written down twice."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml
from connexion.json_schema import resolve_refs

from mock_server.data import ADMIN_CONTRACT, CONTRACT


@cache
def document() -> dict[str, Any]:
    """The parsed contract (``openapi/capillary.yaml``)."""
    with CONTRACT.open(encoding="utf-8") as stream:
        parsed: dict[str, Any] = yaml.safe_load(stream)
        return parsed


@cache
def resolved() -> dict[str, Any]:
    """The contract with its references resolved, as Connexion resolves it."""
    resolved: dict[str, Any] = resolve_refs(document())
    return resolved


@cache
def admin_document() -> dict[str, Any]:
    """The parsed admin API (``openapi/admin.yaml``)."""
    with ADMIN_CONTRACT.open(encoding="utf-8") as stream:
        parsed: dict[str, Any] = yaml.safe_load(stream)
        return parsed


def _enum(schema_name: str) -> tuple[str, ...]:
    return tuple(document()["components"]["schemas"][schema_name]["enum"])


def sources() -> tuple[str, ...]:
    return _enum("Source")


def categories() -> tuple[str, ...]:
    return _enum("PointCategory")


def ref_types() -> tuple[str, ...]:
    return _enum("PointsAwardedRefType")


@cache
def admin_schemas() -> dict[str, Any]:
    """The schemas of ``openapi/admin.yaml``, with their references (into the contract
    too) resolved."""
    from connexion.spec import Specification

    schemas: dict[str, Any] = Specification.load(str(ADMIN_CONTRACT)).spec["components"]["schemas"]
    return schemas

"""The ``Allow`` header of a 405: every method the contracts document for the path.

Routing answers 405 with the methods of the first route whose path matched, so a path
with two operations (``GET`` and ``PUT /__admin/fixtures``) advertised one of them only.
A literal path is preferred to a templated one that also matches it, as OpenAPI says
(``/__admin/requests/count`` is not ``/__admin/requests/{requestId}``).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml

from mock_server.data import ADMIN_CONTRACT, CONTRACT

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SERVED = ((CONTRACT, ""), (ADMIN_CONTRACT, "/__admin"))


def allowed(path: str) -> str | None:
    """The methods documented for ``path``, as an ``Allow`` value (None: no such path)."""
    literal = [
        methods
        for pattern, methods, templated in _routes()
        if not templated and pattern.fullmatch(path)
    ]
    found = literal or [methods for pattern, methods, _ in _routes() if pattern.fullmatch(path)]
    if not found:
        return None
    methods = sorted({method for group in found for method in group})
    return ", ".join(method.upper() for method in methods)


@cache
def _routes() -> tuple[tuple[re.Pattern[str], frozenset[str], bool], ...]:
    routes = []
    for document_path, base in SERVED:
        for template, item in _paths(document_path).items():
            parts = re.split(r"(\{[^}]+\})", base + template)
            regex = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
            methods = frozenset(name for name in item if name in METHODS)
            routes.append((re.compile(regex), methods, "{" in template))
    return tuple(routes)


def _paths(document_path: Path) -> dict[str, dict[str, object]]:
    with document_path.open(encoding="utf-8") as stream:
        paths: dict[str, dict[str, object]] = yaml.safe_load(stream)["paths"]
    return paths

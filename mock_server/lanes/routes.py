"""The paths of both contracts (the Capillary API's and the mock's admin API), as the
mock serves them: which methods each path allows, and which of its parameters are
integers. Read from the OpenAPI documents, so that nothing is written twice."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from mock_server import contract

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    """The path, matching any text (but a slash) in each parameter."""
    methods: tuple[str, ...]
    integers: tuple[str, ...]
    """The path parameters the contract types as integers."""


@cache
def routes() -> tuple[Route, ...]:
    """Literal paths first: ``/requests/count`` is not ``/requests/{requestId}``, as
    OpenAPI says."""
    found = []
    for document in (contract.document(), contract.admin_document()):
        prefix = urlsplit(document["servers"][0]["url"]).path.rstrip("/")
        for template, item in document["paths"].items():
            operations = [item[method] for method in METHODS if method in item]
            parameters = [*item.get("parameters", [])]
            for operation in operations:
                parameters += operation.get("parameters", [])
            integers = {
                p["name"]
                for p in parameters
                if p.get("in") == "path" and p.get("schema", {}).get("type") == "integer"
            }
            names = re.findall(r"{(\w+)}", template)
            regex = re.escape(prefix + template)
            for name in names:
                regex = regex.replace(re.escape(f"{{{name}}}"), f"(?P<{name}>[^/]*)")
            found.append(
                Route(
                    re.compile(regex, re.DOTALL),
                    tuple(method.upper() for method in METHODS if method in item),
                    tuple(name for name in names if name in integers),
                )
            )
    return tuple(sorted(found, key=lambda route: route.pattern.groups > 0))


def route_of(path: str) -> tuple[Route, re.Match[str]] | None:
    """The contract's route of a request path, with the match of its parameters."""
    for route in routes():
        match = route.pattern.fullmatch(path)
        if match:
            return route, match
    return None


def allowed_methods(path: str) -> str | None:
    """The Allow header for a path: every method the contract gives it, and HEAD
    wherever GET is (Starlette answers it); None for a path the contract lacks."""
    found = route_of(path)
    if found is None:
        return None
    methods = list(found[0].methods)
    if "GET" in methods and "HEAD" not in methods:
        methods.insert(methods.index("GET") + 1, "HEAD")
    return ", ".join(methods)

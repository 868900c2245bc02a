"""Structural rules on operations: paths, parameters, bodies, responses, media types, security.

Operations are matched by method and path template, whatever their path parameters are
called (``/customers/{id}`` is ``/customers/{userId}``); their schemas are compared by
``schemas.compare``. Rule ids follow oasdiff's checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from contract_tests.compat import schemas
from contract_tests.compat.findings import Finding, Place, Severity
from contract_tests.compat.resolve import Resolver

ERR, WARN, INFO = Severity.ERR, Severity.WARN, Severity.INFO
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PARAMETER = re.compile(r"\{[^}]*\}")


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of one document, with what it inherits from its path and the document."""

    label: str
    path: str
    method: str
    node: dict[str, Any]
    parameters: dict[tuple[str, str], dict[str, Any]]
    """By (location, name); header names lowercased, path parameters by position (``#0``)."""
    security: list[dict[str, list[str]]]


def operations(document: dict[str, Any], resolver: Resolver) -> dict[tuple[str, str], Operation]:
    """Every operation by (method, path template with its parameters unnamed)."""
    found = {}
    for path, item in (document.get("paths") or {}).items():
        item = resolver.follow(item)
        for method in METHODS:
            if method not in item:
                continue
            node = item[method]
            parameters = _parameters(
                path, [*item.get("parameters", []), *node.get("parameters", [])], resolver
            )
            security = node.get("security", document.get("security", []))
            found[(method, _PARAMETER.sub("{}", path))] = Operation(
                f"{method.upper()} {path}", path, method, node, parameters, security
            )
    return found


def compare(old_doc: dict[str, Any], new_doc: dict[str, Any]) -> list[Finding]:
    old, new = Resolver(old_doc), Resolver(new_doc)
    old_ops, new_ops = operations(old_doc, old), operations(new_doc, new)
    findings: list[Finding] = []
    old_paths = {key[1] for key in old_ops}
    new_paths = {key[1] for key in new_ops}
    for key, operation in old_ops.items():
        if key not in new_ops:
            gone = key[1] not in new_paths
            rule = (
                "api-path-removed-without-deprecation"
                if gone
                else "api-removed-without-deprecation"
            )
            what = "the path" if gone else "the operation"
            findings.append(
                Finding(rule, ERR, f"{what} was removed", (Place(operation.label, ""),))
            )
    for key, operation in new_ops.items():
        if key not in old_ops:
            what = "a new path" if key[1] not in old_paths else "a new operation"
            findings.append(Finding("endpoint-added", INFO, what, (Place(operation.label, ""),)))
    for key in sorted(old_ops.keys() & new_ops.keys()):
        findings.extend(_operation(old_ops[key], new_ops[key], old, new))
    findings.extend(_security_schemes(old_doc, new_doc, old_ops.values()))
    return findings


def _operation(
    old: Operation, new: Operation, old_r: Resolver, new_r: Resolver
) -> Iterator[Finding]:
    yield from _parameter_changes(old, new, old_r, new_r)
    yield from _body(old, new, old_r, new_r)
    yield from _responses(old, new, old_r, new_r)
    yield from _security(old, new)


def _parameter_changes(
    old: Operation, new: Operation, old_r: Resolver, new_r: Resolver
) -> Iterator[Finding]:
    for key, parameter in old.parameters.items():
        place = Place(new.label, _parameter_part(key, parameter))
        if key not in new.parameters:
            required = bool(parameter.get("required"))
            yield Finding(
                "request-parameter-removed",
                ERR if required else WARN,
                "the parameter was removed",
                (place,),
                note="clients send it and rely on what it selects"
                if required
                else "clients that send it are no longer understood",
            )
            continue
        current = new.parameters[key]
        if current.get("required") and not parameter.get("required"):
            yield Finding("request-parameter-became-required", ERR, "became required", (place,))
        elif parameter.get("required") and not current.get("required"):
            yield Finding("request-parameter-became-optional", INFO, "became optional", (place,))
        walk = schemas.Walk("request", "parameter", new.label, place.part, old_r, new_r)
        yield from schemas.compare(parameter.get("schema", {}), current.get("schema", {}), walk)
    for key, parameter in new.parameters.items():
        if key not in old.parameters:
            place = Place(new.label, _parameter_part(key, parameter))
            if parameter.get("required"):
                yield Finding(
                    "new-required-request-parameter", ERR, "a new required parameter", (place,)
                )
            else:
                yield Finding(
                    "new-optional-request-parameter", INFO, "a new optional parameter", (place,)
                )


def _body(old: Operation, new: Operation, old_r: Resolver, new_r: Resolver) -> Iterator[Finding]:
    was = old_r.follow(old.node["requestBody"]) if "requestBody" in old.node else None
    now = new_r.follow(new.node["requestBody"]) if "requestBody" in new.node else None
    place = Place(new.label, "request body")
    if now is None:
        if was is not None:
            yield Finding(
                "request-body-removed",
                WARN,
                "the request body was removed",
                (place,),
                note="clients that send one are no longer understood",
            )
        return
    if was is None:
        required = bool(now.get("required"))
        yield Finding(
            f"request-body-added-{'required' if required else 'optional'}",
            ERR if required else INFO,
            "a request body was added",
            (place,),
        )
        return
    if now.get("required") and not was.get("required"):
        yield Finding(
            "request-body-became-required", ERR, "the request body became required", (place,)
        )
    old_media, new_media = was.get("content") or {}, now.get("content") or {}
    for media in old_media:
        if media not in new_media:
            yield Finding(
                "request-body-media-type-removed", ERR, f"{media} is no longer accepted", (place,)
            )
    for media in new_media:
        if media not in old_media:
            yield Finding(
                "request-body-media-type-added", INFO, f"{media} is now accepted", (place,)
            )
        else:
            walk = schemas.Walk("request", "body", new.label, f"request body {media}", old_r, new_r)
            yield from schemas.compare(
                old_media[media].get("schema", {}), new_media[media].get("schema", {}), walk
            )


def _responses(
    old: Operation, new: Operation, old_r: Resolver, new_r: Resolver
) -> Iterator[Finding]:
    was, now = old.node.get("responses") or {}, new.node.get("responses") or {}
    for status, response in was.items():
        place = Place(new.label, f"response {status}")
        if str(status) not in {str(s) for s in now}:
            success = str(status).startswith("2")
            rule = (
                "response-success-status-removed"
                if success
                else "response-non-success-status-removed"
            )
            yield Finding(
                rule, ERR if success else WARN, f"the {status} response was removed", (place,)
            )
            continue
        current = new_r.follow(now[status] if status in now else now[str(status)])
        yield from _response(status, old_r.follow(response), current, new.label, old_r, new_r)
    for status in now:
        if str(status) not in {str(s) for s in was}:
            success = str(status).startswith("2")
            rule = (
                "response-success-status-added" if success else "response-non-success-status-added"
            )
            yield Finding(
                rule,
                WARN if success else INFO,
                f"a {status} response was added",
                (Place(new.label, f"response {status}"),),
                note="clients may not expect another success status" if success else "",
            )


def _response(
    status: Any,
    was: dict[str, Any],
    now: dict[str, Any],
    label: str,
    old_r: Resolver,
    new_r: Resolver,
) -> Iterator[Finding]:
    old_media, new_media = was.get("content") or {}, now.get("content") or {}
    for media in old_media:
        if media not in new_media:
            yield Finding(
                "response-media-type-removed",
                ERR,
                f"{media} is no longer answered",
                (Place(label, f"response {status}"),),
            )
    for media in new_media:
        if media not in old_media:
            yield Finding(
                "response-media-type-added",
                INFO,
                f"{media} may now be answered",
                (Place(label, f"response {status}"),),
            )
        else:
            walk = schemas.Walk(
                "response", "body", label, f"response {status} {media}", old_r, new_r
            )
            yield from schemas.compare(
                old_media[media].get("schema", {}), new_media[media].get("schema", {}), walk
            )


def _security(old: Operation, new: Operation) -> Iterator[Finding]:
    """A client of OLD authenticates with one of its alternatives; NEW must accept it."""
    place = (Place(new.label, "security"),)
    if _anonymous(new.security):
        if not _anonymous(old.security):
            yield Finding(
                "api-security-removed", INFO, "the operation no longer needs authentication", place
            )
        return
    if _anonymous(old.security):
        yield Finding(
            "api-security-added",
            ERR,
            "the operation now needs authentication",
            place,
            new=new.security,
        )
        return
    for alternative in old.security:
        if not any(_satisfies(alternative, candidate) for candidate in new.security):
            yield Finding(
                "api-security-removed",
                ERR,
                f"{_scheme_names(alternative)} is no longer enough to authenticate",
                place,
                old=alternative,
            )
    for candidate in new.security:
        if not any(_satisfies(alternative, candidate) for alternative in old.security):
            yield Finding(
                "api-security-added",
                INFO,
                f"{_scheme_names(candidate)} is now accepted",
                place,
                new=candidate,
            )


def _anonymous(security: list[dict[str, list[str]]]) -> bool:
    return not security or {} in security


def _satisfies(sent: dict[str, list[str]], required: dict[str, list[str]]) -> bool:
    return all(name in sent and set(scopes) <= set(sent[name]) for name, scopes in required.items())


def _scheme_names(requirement: dict[str, list[str]]) -> str:
    return " + ".join(sorted(requirement)) or "no authentication"


def _security_schemes(
    old_doc: dict[str, Any], new_doc: dict[str, Any], used_by: Any
) -> Iterator[Finding]:
    was = (old_doc.get("components") or {}).get("securitySchemes") or {}
    now = (new_doc.get("components") or {}).get("securitySchemes") or {}
    used = {
        name for operation in used_by for requirement in operation.security for name in requirement
    }
    for name, scheme in was.items():
        place = (Place("", f"security scheme {name}"),)
        if name not in now:
            yield Finding(
                "api-security-component-removed",
                ERR if name in used else INFO,
                "the security scheme was removed",
                place,
            )
            continue
        changed = {
            key: (scheme.get(key), now[name].get(key))
            for key in ("type", "in", "name", "scheme", "bearerFormat", "flows", "openIdConnectUrl")
            if scheme.get(key) != now[name].get(key)
        }
        if changed:
            text = ", ".join(
                f"{key} {before!r} -> {after!r}" for key, (before, after) in changed.items()
            )
            yield Finding(
                "api-security-component-type-changed",
                ERR if name in used else INFO,
                f"the security scheme changed: {text}",
                place,
                old={key: pair[0] for key, pair in changed.items()},
                new={key: pair[1] for key, pair in changed.items()},
            )
    for name in now:
        if name not in was:
            yield Finding(
                "api-security-component-added",
                INFO,
                "a security scheme was added",
                (Place("", f"security scheme {name}"),),
            )


def _parameters(
    path: str, raw: list[Any], resolver: Resolver
) -> dict[tuple[str, str], dict[str, Any]]:
    positions = {name: f"#{index}" for index, name in enumerate(re.findall(r"\{([^}]*)\}", path))}
    found = {}
    for parameter in raw:
        parameter = resolver.follow(parameter)
        location, name = parameter.get("in", ""), str(parameter.get("name", ""))
        if location == "path":
            name = positions.get(name, name)
        elif location == "header":
            name = name.lower()
        found[(location, name)] = parameter
    return found


def _parameter_part(key: tuple[str, str], parameter: dict[str, Any]) -> str:
    return f"{key[0]} parameter {parameter.get('name', key[1])}"

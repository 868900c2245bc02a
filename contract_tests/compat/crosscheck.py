"""The property-based check: messages one version accepts and the other refuses.

Requests are generated valid under OLD and validated against NEW: a refusal is a
request-side break. Responses are generated valid under NEW and validated against OLD
(with the enums OLD declared extensible left open): a refusal is a response-side break.
Schemathesis generates (from the OpenAPI schemas, nullable and all); openapi-schema-
validator's OAS 3.0 validator decides; Hypothesis shrinks each break to a minimal
example. It is deterministic for a seed and bounded by the number of examples.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from jsonschema.exceptions import ValidationError, best_match
from openapi_schema_validator import OAS30Validator
from schemathesis.core.errors import SchemathesisError

from contract_tests.compat.documents import Contract
from contract_tests.compat.findings import Example, Place
from contract_tests.compat.operations import Operation, operations
from contract_tests.compat.resolve import ANNOTATIONS, Resolver
from contract_tests.compat.schemas import TOLERANT, dotted

MAX_BREAKS = 5
"""Distinct breaks looked for per message kind (one operation's request or response)."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why one version refused a message: where, by which keyword, in its words."""

    part: str
    path: str
    keyword: str
    text: str


@dataclass(frozen=True, slots=True)
class Break:
    place: Place
    example: Example


@dataclass(frozen=True, slots=True)
class Budget:
    examples: int
    """Messages generated per search; 0 turns the check off."""
    seed: int


@dataclass(frozen=True, slots=True)
class Target:
    """One kind of message to generate and judge: an operation's request or one response."""

    operation: str
    """The operation's label, as the rules' places name it."""
    name: str
    """What progress lines call the target: the operation and its media type or status."""
    direction: str
    strategy: Any
    own: Callable[[dict[str, Any]], list[Refusal]]
    """The generating side's refusals: a message it refuses itself is not used."""
    other: Callable[[dict[str, Any]], list[Refusal]]
    """The other side's refusals: the breaks."""
    shape: Callable[[Any], dict[str, Any]]
    boundaries: tuple[tuple[tuple[str, ...], Any], ...] = ()
    """(path in the message, value): the edges of the generating side's bounds, which
    random generation rarely reaches (a 50-character reason where the limit was 50)."""


class _RefusedError(Exception):
    def __init__(self, message: dict[str, Any], refusals: list[Refusal]) -> None:
        super().__init__(refusals[0].text)
        self.message = message
        self.refusals = refusals


@dataclass(slots=True)
class Outcome:
    breaks: list[Break] = field(default_factory=list)
    generated: int = 0
    """Messages generated, shrinking included."""
    skipped: list[str] = field(default_factory=list)
    """Targets no message could be generated for, and why."""


def check(old: Contract, new: Contract, budget: Budget, progress: Callable[[str], None]) -> Outcome:
    """Every break found, with what the search did."""
    import schemathesis

    old_resolver, new_resolver = Resolver(old.document), Resolver(new.document)
    old_ops, new_ops = (
        operations(old.document, old_resolver),
        operations(new.document, new_resolver),
    )
    relaxed = _relaxed(old.document)
    targets: list[Target] = []
    old_schema = schemathesis.openapi.from_dict(_closed(old.document))
    for key in sorted(old_ops.keys() & new_ops.keys()):
        if _request_print(old_ops[key], old_resolver) != _request_print(new_ops[key], new_resolver):
            targets.extend(
                _request_targets(old_schema, old_ops[key], new_ops[key], old.document, new.document)
            )
    targets.extend(_response_targets(old_ops, new_ops, old.document, new.document, relaxed))
    outcome = Outcome()
    for target in targets:
        found, count = _search(target, budget, outcome.skipped)
        outcome.generated += count
        outcome.breaks.extend(found)
        progress(
            f"property check: {target.name} {target.direction}: {count} examples, "
            f"{len(found)} break{'s' if len(found) != 1 else ''}"
        )
    return outcome


def _search(target: Target, budget: Budget, skipped: list[str]) -> tuple[list[Break], int]:
    seen: set[tuple[str, str, str]] = set()
    found: list[Break] = []
    count = 0
    for _ in range(MAX_BREAKS):

        @settings(
            max_examples=budget.examples,
            database=None,
            deadline=None,
            derandomize=False,
            phases=[Phase.generate, Phase.shrink],
            report_multiple_bugs=False,
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
        )
        @seed(budget.seed)
        @given(target.strategy, st.sampled_from((None, *target.boundaries)))
        def probe(value: Any, boundary: tuple[tuple[str, ...], Any] | None) -> None:
            nonlocal count
            count += 1
            message = target.shape(value)
            if boundary is not None:
                message = _at_boundary(message, *boundary)
            if target.own(message):
                return
            refusals = target.other(message)
            if refusals and not any((r.part, r.path, r.keyword) in seen for r in refusals):
                raise _RefusedError(message, refusals)

        try:
            probe()
        except (HypothesisException, SchemathesisError) as error:
            skipped.append(
                f"{target.name} {target.direction}: no examples ({type(error).__name__})"
            )
            break
        except _RefusedError as refused:
            first = refused.refusals[0]
            seen.update((r.part, r.path, r.keyword) for r in refused.refusals)
            example = Example(target.direction, refused.message, first.text)
            found.append(Break(Place(target.operation, first.part, first.path), example))
        else:
            break
    return found, count


def _request_targets(
    old_schema: Any,
    old: Operation,
    new: Operation,
    old_doc: dict[str, Any],
    new_doc: dict[str, Any],
) -> Iterator[Target]:
    from schemathesis.core import NOT_SET

    api_operation = old_schema[old.path][old.method]
    body = old.node.get("requestBody")
    media_types = list(Resolver(old_doc).follow(body).get("content") or {}) if body else [None]
    names = {key: parameter.get("name") for key, parameter in old.parameters.items()}

    def shape(case: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "path": dict(case.path_parameters or {}),
            "query": dict(case.query or {}),
            "headers": {name.lower(): value for name, value in (case.headers or {}).items()},
        }
        if case.body is not NOT_SET:
            message["body"] = case.body
        return message

    resolver = Resolver(old_doc)
    edges = [
        edge
        for key, parameter in old.parameters.items()
        for edge in _boundaries(
            parameter.get("schema", {}),
            resolver,
            (_BUCKETS[key[0]], str(names[key]).lower() if key[0] == "header" else str(names[key])),
        )
        if key[0] in _BUCKETS
    ]
    for media in media_types:
        strategy = (
            api_operation.as_strategy(media_type=media) if media else api_operation.as_strategy()
        )
        content = (resolver.follow(body).get("content") or {}) if body else {}
        body_edges = (
            list(_boundaries(content[media].get("schema", {}), resolver, ("body",)))
            if media in content
            else []
        )
        yield Target(
            old.label,
            old.label if media is None else f"{old.label} ({media})",
            "request",
            strategy,
            _request_judge(old, names, old_doc, media),
            _request_judge(new, names, new_doc, media),
            shape,
            tuple(edges + body_edges),
        )


def _request_judge(
    side: Operation,
    names: dict[tuple[str, str], Any],
    document: dict[str, Any],
    media: str | None,
) -> Callable[[dict[str, Any]], list[Refusal]]:
    resolver = Resolver(document)
    components = document.get("components") or {}
    validators = {
        key: OAS30Validator({**parameter.get("schema", {}), "components": components})
        for key, parameter in side.parameters.items()
    }
    body = resolver.follow(side.node["requestBody"]) if "requestBody" in side.node else None
    content = (body or {}).get("content") or {}
    body_validator = (
        OAS30Validator({**content[media].get("schema", {}), "components": components})
        if media in content
        else None
    )

    def judge(message: dict[str, Any]) -> list[Refusal]:
        refusals = []
        for key, parameter in side.parameters.items():
            location, name = key
            part = f"{location} parameter {parameter.get('name', name)}"
            value = _parameter_value(
                message, location, names.get(key, name) if location == "path" else name
            )
            if value is _MISSING:
                if parameter.get("required"):
                    refusals.append(Refusal(part, "", "required", f"the {part} is required"))
                continue
            refusals.extend(_refusals(validators[key], value, part))
        part = f"request body {media}"
        if "body" not in message:
            if body and body.get("required"):
                refusals.append(
                    Refusal("request body", "", "required", "a request body is required")
                )
        elif media is not None and body is not None:
            if body_validator is None:
                refusals.append(Refusal("request body", "", "content", f"{media} is not accepted"))
            else:
                refusals.extend(_refusals(body_validator, message["body"], part))
        return refusals

    return judge


_MISSING = object()
_BUCKETS = {"path": "path", "query": "query", "header": "headers"}


def _boundaries(
    schema: Any, resolver: Resolver, path: tuple[str, ...], depth: int = 0
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """The values at the edges of a schema's bounds, by where they go in a message."""
    if depth > 8:
        return
    flat = resolver.flat(schema)
    for keyword in ("maxLength", "minLength"):
        if isinstance(flat.get(keyword), int) and flat[keyword] <= 1000:
            yield path, "x" * flat[keyword]
    for keyword, exclusive in (("maximum", "exclusiveMaximum"), ("minimum", "exclusiveMinimum")):
        if isinstance(flat.get(keyword), int | float) and not flat.get(exclusive):
            yield path, flat[keyword]
    for keyword in ("oneOf", "anyOf"):
        for branch in flat.get(keyword) or []:
            yield from _boundaries(branch, resolver, path, depth + 1)
    for name, subschema in (flat.get("properties") or {}).items():
        yield from _boundaries(subschema, resolver, (*path, name), depth + 1)


def _at_boundary(message: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """The message with one value set at its edge; a message the generating side then
    refuses is skipped like any other."""
    changed = copy.deepcopy(message)
    node = changed
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    return changed


def _parameter_value(message: dict[str, Any], location: str, name: str) -> Any:
    bucket = _BUCKETS.get(location)
    values = message.get(bucket, {}) if bucket else {}
    key = name.lower() if location == "header" else name
    return values.get(key, _MISSING)


def _response_targets(
    old_ops: dict[tuple[str, str], Operation],
    new_ops: dict[tuple[str, str], Operation],
    old_doc: dict[str, Any],
    new_doc: dict[str, Any],
    relaxed: dict[str, Any],
) -> Iterator[Target]:
    """Responses generated through a document whose request bodies are NEW's response schemas."""
    import schemathesis

    old_resolver, new_resolver = Resolver(old_doc), Resolver(new_doc)
    paths: dict[str, Any] = {}
    pending = []
    for key in sorted(old_ops.keys() & new_ops.keys()):
        new_op, old_op = new_ops[key], old_ops[key]
        for status, media, new_schema, old_pointer in _response_pairs(
            old_op, new_op, old_resolver, new_resolver
        ):
            if _print(old_resolver.lookup(old_pointer), old_resolver) == _print(
                new_schema, new_resolver
            ):
                continue
            synthetic = f"/responses/{len(paths)}"
            paths[synthetic] = {
                "post": {
                    "requestBody": {"required": True, "content": {media: {"schema": new_schema}}},
                    "responses": {"200": {"description": "unused"}},
                }
            }
            pending.append(
                (
                    synthetic,
                    media,
                    new_schema,
                    old_pointer,
                    new_op.label,
                    f"{new_op.label} {status} ({media})",
                    f"response {status} {media}",
                )
            )
    if not pending:
        return
    generator = schemathesis.openapi.from_dict(
        _closed(
            {
                "openapi": new_doc["openapi"],
                "info": {"title": "responses", "version": "0"},
                "paths": paths,
                "components": new_doc.get("components") or {},
            }
        )
    )
    new_components = new_doc.get("components") or {}
    relaxed_resolver = Resolver(relaxed)
    relaxed_components = relaxed.get("components") or {}
    for synthetic, media, new_schema, old_pointer, new_label, label, part in pending:
        own = OAS30Validator({**new_schema, "components": new_components})
        other = OAS30Validator(
            {**relaxed_resolver.lookup(old_pointer), "components": relaxed_components}
        )
        yield Target(
            new_label,
            label,
            "response",
            generator[synthetic]["post"].as_strategy(media_type=media),
            _body_judge(own, part),
            _body_judge(other, part),
            _response_message,
            tuple(_boundaries(new_schema, new_resolver, ("body",))),
        )


def _body_judge(validator: Any, part: str) -> Callable[[dict[str, Any]], list[Refusal]]:
    def judge(message: dict[str, Any]) -> list[Refusal]:
        return _refusals(validator, message["body"], part)

    return judge


def _response_message(case: Any) -> dict[str, Any]:
    return {"body": case.body}


def _response_pairs(
    old: Operation, new: Operation, old_resolver: Resolver, new_resolver: Resolver
) -> Iterator[tuple[str, str, Any, str]]:
    """(status, media type, NEW's schema, pointer to OLD's schema) per JSON response of both."""
    old_responses = old.node.get("responses") or {}
    for status, response in (new.node.get("responses") or {}).items():
        old_status = next((s for s in (status, str(status), "default") if s in old_responses), None)
        if old_status is None:
            continue
        base = f"#/paths/{_escape(old.path)}/{old.method}/responses/{old_status}"
        counterpart = old_responses[old_status]
        if "$ref" in counterpart:
            base = counterpart["$ref"]
        old_content = old_resolver.follow(counterpart).get("content") or {}
        for media, body in (new_resolver.follow(response).get("content") or {}).items():
            if media in old_content and "json" in media:
                yield (
                    str(status),
                    media,
                    body.get("schema", {}),
                    f"{base}/content/{_escape(media)}/schema",
                )


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _refusals(validator: Any, instance: Any, part: str) -> list[Refusal]:
    found = []
    for error in validator.iter_errors(instance):
        error = _deepest(error)
        path = [("[]" if isinstance(key, int) else str(key)) for key in error.absolute_path]
        if error.validator == "required" and isinstance(error.instance, dict):
            required: list[str] = list(error.validator_value)  # type: ignore[arg-type]
            missing = [name for name in required if name not in error.instance]
            path.extend(missing[:1])
        text = error.message if len(error.message) <= 200 else error.message[:197] + "..."
        found.append(Refusal(part, dotted(tuple(path)), str(error.validator), text))
    return found


def _deepest(error: ValidationError) -> ValidationError:
    while error.validator in ("oneOf", "anyOf") and error.context:
        # The branch whose type fits says why: "too long", not "not a number".
        fitting = [e for e in error.context if e.validator != "type"] or error.context
        deeper = best_match(fitting)
        if deeper is None:
            break
        error = deeper
    return error


def _request_print(operation: Operation, resolver: Resolver) -> str:
    """What an operation's requests are judged by, without what only documents them."""
    body = resolver.follow(operation.node["requestBody"]) if "requestBody" in operation.node else {}
    return json.dumps(
        [
            sorted(
                (f"{key}", bool(p.get("required")), _print(p.get("schema", {}), resolver))
                for key, p in operation.parameters.items()
            ),
            bool(body.get("required")),
            sorted(
                (media, _print(m.get("schema", {}), resolver))
                for media, m in (body.get("content") or {}).items()
            ),
        ]
    )


def _print(schema: Any, resolver: Resolver) -> str:
    """A schema with its references inlined and its annotations left out: two schemas that
    print the same accept the same messages, and need no examples."""

    def inline(node: Any, expanding: frozenset[str]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                if ref in expanding:
                    return {"$recursive": ref}
                return inline(resolver.lookup(ref), expanding | {ref})
            return {
                key: inline(value, expanding)
                for key, value in sorted(node.items())
                if key not in ANNOTATIONS and not key.startswith("x-")
            }
        if isinstance(node, list):
            return [inline(value, expanding) for value in node]
        return node

    return json.dumps(inline(schema, frozenset()), sort_keys=True, default=str)


def _closed(document: dict[str, Any]) -> dict[str, Any]:
    """The document as generation reads it: objects carry only the properties they name.

    Generating arbitrary extra properties costs most of the time and finds nothing a rule
    would not: the rules see ``additionalProperties`` changes."""
    closed = copy.deepcopy(document)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if (
                isinstance(node.get("properties"), dict)
                and node.get("additionalProperties", True) is True
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(closed)
    return closed


def _relaxed(document: dict[str, Any]) -> dict[str, Any]:
    """OLD with the enums it declared extensible left open: clients tolerate new values there."""
    relaxed = copy.deepcopy(document)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get(TOLERANT) is True:
                node.pop("enum", None)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(relaxed)
    return relaxed

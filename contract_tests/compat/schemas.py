"""Structural rules on schemas: types, enums, constraints, properties, composition.

A change breaks clients when it narrows what a request may carry or widens what a
response may carry; each rule knows its direction. Rule ids are oasdiff's where compat
mirrors one of its checks (``request-property-max-length-decreased``...); the guide
``docs/ci-gates.md`` lists them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from contract_tests.compat.findings import Finding, Place, Severity
from contract_tests.compat.resolve import Resolver, Schema

ERR, WARN, INFO = Severity.ERR, Severity.WARN, Severity.INFO

UPPER = {
    "maxLength": "max-length",
    "maximum": "max",
    "maxItems": "max-items",
    "maxProperties": "max-properties",
}
LOWER = {
    "minLength": "min-length",
    "minimum": "min",
    "minItems": "min-items",
    "minProperties": "min-properties",
}
FLAGS = {
    "exclusiveMaximum": "exclusive-max",
    "exclusiveMinimum": "exclusive-min",
    "uniqueItems": "unique-items",
}
WIDER_FORMATS = {("int32", "int64"), ("float", "double")}
TOLERANT = "x-capmock-extensible-enum"
"""Beside an ``enum``: clients must tolerate values they do not know (new ones may come)."""
UNDECIDED = "whether this narrows or widens is not decided by a rule; the property check tries it"
EXTENSIBLE = "x-extensible-enum"
"""Zalando's (and oasdiff's) open enum: the known values, in place of ``enum``."""


@dataclass(frozen=True, slots=True)
class Walk:
    """Where a schema comparison stands: whose schema it is and how deep."""

    direction: str
    """``request`` or ``response``."""
    kind: str
    """``body`` or ``parameter``: the oasdiff id family."""
    operation: str
    part: str
    old: Resolver
    new: Resolver
    path: tuple[str, ...] = ()

    def rule(self, name: str) -> str:
        subject = "parameter" if self.kind == "parameter" else "property" if self.path else "body"
        return f"{self.direction}-{subject}-{name}"

    def place(self) -> Place:
        return Place(self.operation, self.part, dotted(self.path))

    def finding(
        self,
        name: str,
        severity: Severity,
        message: str,
        old: Any = None,
        new: Any = None,
        note: str = "",
    ) -> Finding:
        return Finding(self.rule(name), severity, message, (self.place(),), old, new, note)

    def into(self, *keys: str) -> Walk:
        return replace(self, path=(*self.path, *keys))


def compare(old: Any, new: Any, walk: Walk) -> list[Finding]:
    """Every change between two schemas, as clients of ``walk.direction`` see it."""
    return list(_compare(old, new, walk, frozenset()))


def _compare(
    old_raw: Any, new_raw: Any, walk: Walk, seen: frozenset[tuple[int, int]]
) -> Iterator[Finding]:
    key = (id(walk.old.follow(old_raw)), id(walk.new.follow(new_raw)))
    if key in seen:
        return
    seen = seen | {key}
    old, new = walk.old.flat(old_raw), walk.new.flat(new_raw)
    request = walk.direction == "request"
    if (request and old.get("readOnly")) or (not request and old.get("writeOnly")):
        return
    type_changes = list(_types(old, new, walk))
    yield from type_changes
    if any(change.severity is ERR for change in type_changes):
        return
    yield from _nullable(old, new, walk)
    yield from _enums(old, new, walk)
    yield from _bounds(old, new, walk)
    yield from _pattern(old, new, walk)
    yield from _default(old, new, walk)
    yield from _properties(old, new, walk, seen)
    if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
        yield from _compare(old["items"], new["items"], walk.into("[]"), seen)
    for keyword in ("oneOf", "anyOf", "allOf"):
        yield from _branches(keyword, old, new, walk, seen)
    if _json(old.get("not")) != _json(new.get("not")):
        yield walk.finding(
            "not-changed",
            WARN,
            "the schema under 'not' changed",
            old.get("not"),
            new.get("not"),
            note=UNDECIDED,
        )


def _types(old: Schema, new: Schema, walk: Walk) -> Iterator[Finding]:
    was, now = old.get("type"), new.get("type")
    if was != now:
        wider = now is None or (was, now) == ("integer", "number")
        narrower = was is None or (was, now) == ("number", "integer")
        if walk.direction == "request":
            yield walk.finding(
                "type-generalized" if wider else "type-changed",
                INFO if wider else ERR,
                f"the type changed from {was or 'any'} to {now or 'any'}",
                was,
                now,
            )
        else:
            yield walk.finding(
                "type-changed",
                INFO if narrower else ERR,
                f"the type changed from {was or 'any'} to {now or 'any'}",
                was,
                now,
            )
        return
    was, now = old.get("format"), new.get("format")
    if was == now:
        return
    request = walk.direction == "request"
    wider = (
        now is None or (was, now) in WIDER_FORMATS
        if request
        else was is None or (now, was) in WIDER_FORMATS
    )
    yield walk.finding(
        "type-generalized" if wider and request else "type-changed",
        INFO if wider else ERR,
        f"the format changed from {was or 'none'} to {now or 'none'}",
        was,
        now,
    )


def _nullable(old: Schema, new: Schema, walk: Walk) -> Iterator[Finding]:
    was, now = bool(old.get("nullable")), bool(new.get("nullable"))
    if was == now:
        return
    breaks = was if walk.direction == "request" else now
    name = "became-nullable" if now else "became-not-nullable"
    yield walk.finding(
        name, ERR if breaks else INFO, f"null is {'now' if now else 'no longer'} allowed", was, now
    )


def _enums(old: Schema, new: Schema, walk: Walk) -> Iterator[Finding]:
    was, now = _values(old), _values(new)
    if was is None and now is None:
        return
    if walk.direction == "request":
        yield from _request_enum(old, new, was, now, walk)
        return
    open_old = EXTENSIBLE in old or old.get(TOLERANT) is True
    if was is None:
        yield walk.finding(
            "became-enum", INFO, f"restricted to the values {_list(now or [])}", None, now
        )
        return
    added = [value for value in now or [] if _key(value) not in {_key(v) for v in was}]
    removed = [value for value in was if _key(value) not in {_key(v) for v in now or []}]
    if now is None and not open_old:
        yield walk.finding("enum-unset", ERR, f"no longer restricted to {_list(was)}", was, None)
    if added:
        if open_old:
            yield walk.finding(
                "enum-value-added",
                INFO,
                f"may now answer {_list(added)}",
                None,
                added,
                note="the old contract told clients to tolerate new values",
            )
        else:
            yield walk.finding(
                "enum-value-added",
                ERR,
                f"may now answer {_list(added)}",
                None,
                added,
                note=f"clients were not told to tolerate new values (see {TOLERANT})",
            )
    if removed:
        yield walk.finding(
            "enum-value-removed", INFO, f"no longer answers {_list(removed)}", removed, None
        )


def _request_enum(
    old: Schema, new: Schema, was: list[Any] | None, now: list[Any] | None, walk: Walk
) -> Iterator[Finding]:
    closed_old, closed_new = "enum" in old, "enum" in new
    if closed_new and not closed_old:
        yield walk.finding(
            "became-enum", ERR, f"restricted to the values {_list(now or [])}", None, now
        )
        return
    if closed_old and not closed_new:
        yield walk.finding("enum-unset", INFO, "no longer restricted to a list of values", was, now)
        return
    removed = [value for value in was or [] if _key(value) not in {_key(v) for v in now or []}]
    added = [value for value in now or [] if _key(value) not in {_key(v) for v in was or []}]
    if removed:
        prefix = "enum-" if closed_old else "x-extensible-enum-"
        yield walk.finding(
            f"{prefix}value-removed", ERR, f"no longer accepts {_list(removed)}", removed, None
        )
    if added:
        yield walk.finding("enum-value-added", INFO, f"now accepts {_list(added)}", None, added)


def _bounds(old: Schema, new: Schema, walk: Walk) -> Iterator[Finding]:
    request = walk.direction == "request"
    for keyword, name in (*UPPER.items(), *LOWER.items()):
        was, now = old.get(keyword), new.get(keyword)
        if was == now:
            continue
        upper = keyword in UPPER
        if was is None:
            action, tighter = "set", True
        elif now is None:
            action, tighter = "unset", False
        else:
            action = "decreased" if now < was else "increased"
            tighter = (now < was) == upper
        breaks = tighter if request else not tighter
        text = {"set": f"{keyword} set to {now}", "unset": f"{keyword} {was} removed"}.get(
            action, f"{keyword} {action} from {was} to {now}"
        )
        yield walk.finding(f"{name}-{action}", ERR if breaks else INFO, text, was, now)
    for keyword, name in FLAGS.items():
        was, now = bool(old.get(keyword)), bool(new.get(keyword))
        if was != now:
            breaks = now if request else was
            yield walk.finding(
                f"{name}-{'set' if now else 'unset'}",
                ERR if breaks else INFO,
                f"{keyword} {'set' if now else 'unset'}",
                was,
                now,
            )
    was, now = old.get("multipleOf"), new.get("multipleOf")
    if was != now:
        tighter = was is None or (now is not None and now % was != 0)
        looser = now is None or (was is not None and was % now != 0)
        breaks = tighter if request else looser
        yield walk.finding(
            "multiple-of-changed",
            ERR if breaks else INFO,
            f"multipleOf changed from {was or 'none'} to {now or 'none'}",
            was,
            now,
        )


def _pattern(old: Schema, new: Schema, walk: Walk) -> Iterator[Finding]:
    was, now = old.get("pattern"), new.get("pattern")
    if was == now:
        return
    request = walk.direction == "request"
    if was is None:
        yield walk.finding(
            "pattern-added", ERR if request else INFO, f"pattern {now} added", None, now
        )
    elif now is None:
        yield walk.finding(
            "pattern-removed", INFO if request else ERR, f"pattern {was} removed", was, None
        )
    else:
        yield walk.finding(
            "pattern-changed",
            WARN,
            f"pattern changed from {was} to {now}",
            was,
            now,
            note="whether the new pattern accepts all the old one did is not decided by a rule; "
            "the property check tries examples",
        )


def _default(old: Schema, new: Schema, walk: Walk) -> Iterator[Finding]:
    if walk.direction != "request" or _json(old.get("default")) == _json(new.get("default")):
        return
    was, now = old.get("default"), new.get("default")
    yield walk.finding(
        "default-value-changed",
        WARN,
        f"the default changed from {_show(was)} to {_show(now)}",
        was,
        now,
        note="clients that leave the field out now get another behaviour",
    )


def _properties(
    old: Schema, new: Schema, walk: Walk, seen: frozenset[tuple[int, int]]
) -> Iterator[Finding]:
    old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
    old_required, new_required = set(old.get("required") or ()), set(new.get("required") or ())
    request = walk.direction == "request"
    for name in sorted(new_required - old_required):
        place = walk.into(name)
        if request and (name in old_props or name in old_required):
            yield Finding(
                "request-property-became-required", ERR, "became required", (place.place(),)
            )
        elif request:
            yield Finding(
                "new-required-request-property", ERR, "a new required property", (place.place(),)
            )
        elif name in old_props:
            yield Finding(
                "response-property-became-required", INFO, "became required", (place.place(),)
            )
        else:
            yield Finding(
                "response-required-property-added",
                INFO,
                "a new required property",
                (place.place(),),
            )
    for name in sorted(old_required - new_required):
        place = walk.into(name)
        if request:
            yield Finding(
                "request-property-became-optional", INFO, "became optional", (place.place(),)
            )
        elif name in new_props:
            yield Finding(
                "response-property-became-optional", ERR, "became optional", (place.place(),)
            )
        else:
            yield Finding(
                "response-required-property-removed",
                ERR,
                "a required property was removed",
                (place.place(),),
            )
    for name in sorted(set(new_props) - set(old_props) - new_required):
        rule = "new-optional-request-property" if request else "response-optional-property-added"
        yield Finding(rule, INFO, "a new optional property", (walk.into(name).place(),))
    for name in sorted(set(old_props) - set(new_props) - old_required):
        if request:
            closed = new.get("additionalProperties") is False
            yield Finding(
                "request-property-removed",
                ERR if closed else WARN,
                "the property was removed",
                (walk.into(name).place(),),
                note="the new schema refuses unknown properties"
                if closed
                else "clients that send it are no longer understood",
            )
        else:
            yield Finding(
                "response-optional-property-removed",
                INFO,
                "an optional property was removed",
                (walk.into(name).place(),),
            )
    for name in sorted(set(old_props) & set(new_props)):
        yield from _compare(old_props[name], new_props[name], walk.into(name), seen)
    was, now = old.get("additionalProperties", True), new.get("additionalProperties", True)
    if request and was is not False and now is False:
        yield walk.finding(
            "additional-properties-disallowed", ERR, "unknown properties are now refused", was, now
        )
    elif not request and was is False and now is not False:
        yield walk.finding(
            "additional-properties-allowed",
            WARN,
            "unknown properties may now be answered",
            was,
            now,
        )
    elif isinstance(was, dict) and isinstance(now, dict):
        yield from _compare(was, now, walk.into("*"), seen)


def _branches(
    keyword: str, old: Schema, new: Schema, walk: Walk, seen: frozenset[tuple[int, int]]
) -> Iterator[Finding]:
    was, now = old.get(keyword) or [], new.get(keyword) or []
    if not was and not now:
        return
    name = {"oneOf": "one-of", "anyOf": "any-of", "allOf": "all-of"}[keyword]
    request = walk.direction == "request"
    if not was or not now:
        yield walk.finding(
            f"{name}-{'added' if now else 'removed'}",
            WARN,
            f"{keyword} {'added' if now else 'removed'}",
            note=UNDECIDED,
        )
        return
    old_labels = [_label(walk.old, branch, index) for index, branch in enumerate(was)]
    new_labels = [_label(walk.new, branch, index) for index, branch in enumerate(now)]
    for label, branch in zip(old_labels, was, strict=True):
        if label in new_labels:
            yield from _compare(branch, now[new_labels.index(label)], walk, seen)
        elif keyword != "allOf":
            yield walk.finding(
                f"{name}-removed", ERR if request else INFO, f"{keyword} branch {label} removed"
            )
        else:
            yield walk.finding(
                f"{name}-removed", WARN if request else ERR, f"{keyword} part {label} removed"
            )
    for label in new_labels:
        if label not in old_labels:
            breaks = (not request) if keyword != "allOf" else request
            yield walk.finding(
                f"{name}-added", ERR if breaks else INFO, f"{keyword} branch {label} added"
            )


def _label(resolver: Resolver, branch: Any, index: int) -> str:
    if isinstance(branch, dict) and isinstance(branch.get("$ref"), str):
        return str(branch["$ref"]).rsplit("/", 1)[-1]
    title = resolver.follow(branch).get("title")
    return str(title) if title else f"#{index + 1}"


def _values(schema: Schema) -> list[Any] | None:
    values = schema.get("enum", schema.get(EXTENSIBLE))
    return list(values) if isinstance(values, list) else None


def _key(value: Any) -> str:
    """Equality as JSON has it: ``false`` is not ``0``."""
    return _json(value)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _list(values: list[Any]) -> str:
    return ", ".join(_show(value) for value in values)


def _show(value: Any) -> str:
    return json.dumps(value, default=str)


def dotted(path: tuple[str, ...]) -> str:
    return ".".join(path).replace(".[]", "[]").replace(".*", "{*}")

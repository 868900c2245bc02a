"""Reading the two contracts: a file, or a file as it is at a git ref.

``origin/main:openapi/capillary.yaml`` names a file at a ref (the path is from the top of
the repository, as git reads it); ``--base REF`` means "the NEW file's own path, at REF".
A document that cannot be read, parsed or validated as OpenAPI 3.0 raises; it never
compares as "no changes".
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class CompatError(Exception):
    """A comparison that cannot be made: every failure of compat's inputs derives from it."""


class SourceError(CompatError):
    """A contract that cannot be read: no such file, no such git ref."""


class ParseError(CompatError):
    """A contract that is not a valid OpenAPI 3.0 document."""


@dataclass(frozen=True, slots=True)
class Contract:
    label: str
    """As the user named it: a path or ``REF:path``."""
    document: dict[str, Any]


def load_pair(old: str | None, new: str, base: str | None) -> tuple[Contract, Contract]:
    """OLD and NEW as given: ``OLD NEW``, or ``--base REF NEW``."""
    if (old is None) == (base is None):
        raise SourceError("give OLD and NEW, or --base REF and NEW")
    new_contract = load(new)
    if base is not None:
        spec, top = _same_path_at(base, new)
        return Contract(spec, parse(_git("show", spec, cwd=top), spec)), new_contract
    assert old is not None
    return load(old), new_contract


def load(spec: str) -> Contract:
    """A contract from a file, or from ``REF:path`` when no such file exists."""
    path = Path(spec)
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise SourceError(f"cannot read {spec}: {error}") from None
    elif ":" in spec:
        text = _git("show", spec)
    else:
        raise SourceError(f"{spec}: no such file (nor REF:path)")
    return Contract(spec, parse(text, spec))


def parse(text: str, label: str) -> dict[str, Any]:
    """The document, checked to be OpenAPI 3.0 by openapi-spec-validator."""
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
    from referencing.exceptions import Unresolvable

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ParseError(f"{label} is not YAML or JSON: {error}") from None
    if not isinstance(document, dict) or "openapi" not in document:
        raise ParseError(f"{label} is not an OpenAPI document (no 'openapi' field)")
    version = str(document["openapi"])
    if not version.startswith("3.0."):
        raise ParseError(f"{label} is OpenAPI {version}; compat reads OpenAPI 3.0 documents")
    for ref in _references(document):
        try:
            pointer(document, ref)
        except ParseError as error:
            raise ParseError(f"{label}: {error}") from None
    try:
        validate(document)
    except OpenAPIValidationError as error:
        where = "/".join(str(part) for part in error.absolute_path) or "the top"
        raise ParseError(f"{label} is not valid OpenAPI 3.0 at {where}: {error.message}") from None
    except Unresolvable as error:
        raise ParseError(f"{label}: a reference points at nothing: {error}") from None
    return document


def pointer(document: Any, ref: str) -> Any:
    """What ``#/a/b`` points at in the document."""
    if not ref.startswith("#/"):
        raise ParseError(f"$ref {ref!r}: only references inside the document are read")
    node = document
    for raw in ref[2:].split("/"):
        key = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            raise ParseError(f"$ref {ref!r} points at nothing")
    return node


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for key, value in node.items():
            if not (key == "$ref" or str(key).startswith("x-") or key in ("example", "examples")):
                yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _same_path_at(ref: str, new: str) -> tuple[str, Path]:
    """``REF:path`` for NEW's own path, and the top of NEW's repository."""
    path = Path(new).resolve()
    if not path.is_file():
        raise SourceError(f"--base {ref} needs NEW to be a file in a git repository; {new} is not")
    top = Path(_git("rev-parse", "--show-toplevel", cwd=path.parent).strip())
    return f"{ref}:{path.relative_to(top).as_posix()}", top


def _git(*args: str, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SourceError(f"cannot run git {' '.join(args)}: {error}") from None
    if done.returncode != 0:
        problem = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
        raise SourceError(f"git {' '.join(args)}: {problem}")
    return done.stdout

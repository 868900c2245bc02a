"""The target profile: what exists on the target, so tests can aim at real records.

A profile is written by hand, so every mistake is reported with the file, the place in
it and the problem, never as a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from contract_tests import spec

HERE = Path(__file__).resolve().parent
PROFILE_SCHEMA = HERE / "profile.schema.json"
DEFAULT_PROFILE = HERE / "profiles" / "default.yaml"


class ProfileError(Exception):
    """A profile that cannot be used, with every problem found in it (one per line)."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """Basic (``username`` and the clear ``password``) or OAuth (``key`` and ``secret``)."""

    kind: str  # "basic" or "oauth"
    name: str
    secret: str

    def describe(self) -> str:
        return f"{self.kind} {self.name}"


UNKNOWN_VALUES = {
    "mobile": "0000000000",
    "email": "capmock-no-such-customer@example.invalid",
    "externalId": "capmock-no-such-customer",
}
"""Identifier values no customer can have, by name: where read-only lookups aim by default."""


@dataclass(frozen=True, slots=True)
class AllocationIds:
    """What ``manualCurrencyAllocate`` needs on the target, in the profile's program."""

    org_id: int
    award_strategy_id: int
    expiry_strategy_id: int
    currency_identifier: str | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    credentials: Credentials
    user_id: int
    source: str
    program_id: int
    round_decimals: int
    promotion_id: int
    promotion_identifier: str
    award_id: int
    award_ref_type: str
    currency: str
    allow_negative_balance: bool
    unknown_customer_id: int
    unknown_program_id: int = 999999999
    other_source: str | None = None
    base_url: str | None = None
    no_access: Credentials | None = None
    error_status: dict[int, int] = field(default_factory=dict)
    capmock_codes: bool = True
    origin: str = "built in"
    """Where the profile came from, for reports: a file, or the mock it was derived from."""
    identifiers: dict[str, str] = field(default_factory=dict)
    """The test customer's identifiers in ``source`` (mobile, email, externalId)."""
    primary_identifier: str = "mobile"
    dual_eligibility: bool = False
    unknown_identifier: tuple[str, str] = ("mobile", UNKNOWN_VALUES["mobile"])
    """(name, value) of an identifier no customer has."""
    allocation: AllocationIds | None = None

    def with_credentials(self, credentials: Credentials) -> Profile:
        return replace(self, credentials=credentials)

    @property
    def lookup(self) -> tuple[str, str]:
        """How a lookup names the test customer: its primary identifier, another one, or
        its userId (``id``)."""
        for name in (self.primary_identifier, *sorted(self.identifiers)):
            if name in self.identifiers:
                return name, self.identifiers[name]
        return "id", str(self.user_id)


def load_profile(path: Path) -> Profile:
    """Read and check a profile file; raise ProfileError naming the file and the place."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ProfileError(f"{path}: cannot read the profile: {error.strerror}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ProfileError(f"{path}: invalid YAML{where}: {error.problem}") from None
    return profile_from_document(document, str(path), text)


def profile_from_document(document: Any, origin: str, text: str | None = None) -> Profile:
    """A checked profile from a parsed document; ``text`` (the YAML) gives line numbers."""
    problems = _problems(document)
    if problems:
        root = yaml.compose(text) if text else None
        raise ProfileError(
            "\n".join(
                f"{origin}: {_line(root, place)}{_dotted(place)}: {message}"
                for place, message in problems
            )
        )
    customer, program = document["customer"], document["program"]
    no_access = document.get("noAccessCredentials")
    primary = document.get("primaryIdentifier", "mobile")
    unknown = document.get("unknownIdentifier", {"name": primary, "value": UNKNOWN_VALUES[primary]})
    return Profile(
        credentials=_credentials(document["credentials"]),
        user_id=customer["userId"],
        source=customer["source"],
        program_id=program["id"],
        round_decimals=program["roundDecimals"],
        promotion_id=document["promotion"]["id"],
        promotion_identifier=document["promotion"]["identifier"],
        award_id=document["award"]["id"],
        award_ref_type=document["award"]["refType"],
        currency=document["currency"],
        allow_negative_balance=document["allowNegativeBalance"],
        unknown_customer_id=document["unknownCustomerId"],
        unknown_program_id=document.get("unknownProgramId", 999999999),
        other_source=customer.get("otherSource"),
        base_url=document.get("baseUrl"),
        no_access=_credentials(no_access) if no_access else None,
        error_status={
            int(code): status for code, status in document.get("errorStatus", {}).items()
        },
        capmock_codes=document.get("capmockCodes", True),
        origin=origin,
        identifiers=dict(customer.get("identifiers", {})),
        primary_identifier=primary,
        dual_eligibility=document.get("dualEligibility", False),
        unknown_identifier=(unknown["name"], unknown["value"]),
        allocation=_allocation(document.get("allocation")),
    )


def _allocation(document: dict[str, Any] | None) -> AllocationIds | None:
    if document is None:
        return None
    return AllocationIds(
        document["orgId"],
        document["awardStrategyId"],
        document["expiryStrategyId"],
        document.get("currencyIdentifier"),
    )


def _credentials(document: dict[str, Any]) -> Credentials:
    if "basic" in document:
        return Credentials("basic", document["basic"]["username"], document["basic"]["password"])
    return Credentials("oauth", document["oauth"]["key"], document["oauth"]["secret"])


def _problems(document: Any) -> list[tuple[tuple[Any, ...], str]]:
    """Every problem with its place: the schema's, then the contract's sources."""
    schema = json.loads(PROFILE_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path)))
    problems = [(tuple(error.path), error.message) for error in errors]
    customer = (document.get("customer") or {}) if isinstance(document, dict) else {}
    unknown = document.get("unknownCustomerId") if isinstance(document, dict) else None
    if isinstance(customer, dict) and unknown is not None and unknown == customer.get("userId"):
        problems.append(
            (("unknownCustomerId",), "is the test customer: it must be an id no customer has")
        )
    identifiers = customer.get("identifiers") if isinstance(customer, dict) else None
    unknown_identifier = document.get("unknownIdentifier") if isinstance(document, dict) else None
    if isinstance(identifiers, dict) and isinstance(unknown_identifier, dict):
        name = unknown_identifier.get("name")
        if name in identifiers and identifiers[name] == unknown_identifier.get("value"):
            problems.append(
                (("unknownIdentifier",), f"is the test customer's {name}: no customer may have it")
            )
    for key in ("source", "otherSource"):
        source = customer.get(key) if isinstance(customer, dict) else None
        if isinstance(source, str) and source not in spec.enum("Source"):
            known = ", ".join(spec.enum("Source"))
            problems.append((("customer", key), f"{source!r} is not a source ({known})"))
    return problems


def _dotted(place: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in place) or "(top level)"


def _line(root: yaml.Node | None, place: tuple[Any, ...]) -> str:
    """``line N: `` of the deepest node of ``place`` found in the YAML, else nothing."""
    node = root
    for part in place:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(part)), None)
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            child = node.value[part]
        if child is None:
            break
        node = child
    return f"line {node.start_mark.line + 1}: " if node is not None else ""

"""Load a fixture (YAML or JSON) into the immutable World the mock serves.

A fixture is written by hand, so every mistake in it is reported at once, each with
the file, the path inside the document, the line and column, and what is wrong.
Loading is linear: a fixture of 100,000 customers is a supported size.

The steps: parse (balances as exact Decimals), check the shape against
``fixtures/fixture.schema.json``, check what the schema cannot say (ids that must
exist or be unique, the contract's enums), then build the World. Lines are only
looked up when something is wrong, so a good fixture never pays for them.
"""

from __future__ import annotations

import difflib
import gc
import json
import math
import re
from collections.abc import Hashable, Iterator
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import jsonschema
import jsonschema_rs
import ryml
import yaml

from mock_server import contract
from mock_server.data import FIXTURE_SCHEMA
from mock_server.errors import Code
from mock_server.model import (
    CURRENCY,
    DEFAULT_ORG_ID,
    DEFAULT_PRIMARY_IDENTIFIER,
    POINTS,
    Award,
    AwardStrategy,
    Bucket,
    Customer,
    ExpiryStrategy,
    Principal,
    Program,
    Promotion,
    World,
)

DEFAULT_ROUND_DECIMALS = 3
DEFAULT_TOKEN_TTL_SECONDS = 300
BALANCE_PLACES = 3
WILDCARD_SOURCE = "ALL"

PathParts = tuple[str | int, ...]


class FixtureError(Exception):
    """A fixture that cannot be loaded, with every problem found in it (one per line)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Problem(NamedTuple):
    path: PathParts
    message: str
    at_key: bool = False  # point at the key itself (an unknown key), not at its value


# --- parsing -------------------------------------------------------------------------

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class _Loader(_BaseLoader):
    """Safe YAML that keeps numbers exact (floats become Decimals read from their text)
    and refuses duplicate keys, which plain YAML silently resolves to the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        own = node.value  # flatten_mapping (merge keys) edits this list in place or replaces it
        mapping = super().construct_mapping(node, deep=deep)
        if len(mapping) < len(own) or own is not node.value:
            seen: dict[Any, yaml.Node] = {}
            for key_node, _ in own:
                key = self.construct_object(key_node)
                if key in seen:
                    first = seen[key].start_mark.line + 1
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"duplicate key {key!r} (first on line {first})",
                        key_node.start_mark,
                    )
                seen[key] = key_node
        return mapping


def _construct_decimal(loader: _Loader, node: yaml.ScalarNode) -> Decimal:
    try:
        return Decimal(loader.construct_scalar(node).replace("_", ""))
    except InvalidOperation:  # .inf, .nan, 1:30.5 (YAML 1.1 sexagesimal): never a balance
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a decimal number", node.start_mark
        ) from None


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise ValueError("duplicate key")  # the YAML parser then reports it with its line
    return document


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _parse(text: str, name: str) -> Any:
    """The document in ``text``, read by the fastest reader that reads it right.

    JSON goes through the json module; plain YAML (no anchors, aliases or tags) through
    rapidyaml, turned into JSON, when what that yields passes the schema. Both are far
    faster than PyYAML on big files. Anything else, and anything they refuse (a
    duplicate key, NaN, YAML 1.1's ``yes`` for true...), goes to PyYAML, whose reading
    is the reference and which says where a document fails.
    """
    if text.lstrip().startswith("{"):
        document = _from_json(text)
        if document is not None:
            return document
    elif not _YAML_REFERENCES.search(text):
        document = _from_json(_yaml_as_json(text))
        if document is not None and _validators()[0].is_valid(document):
            return document
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        context = f" ({error.context})" if error.context else ""
        raise FixtureError([f"{name}: invalid YAML{where}: {error.problem}{context}"]) from None
    except yaml.YAMLError as error:
        raise FixtureError([f"{name}: invalid YAML: {error}"]) from None


_YAML_REFERENCES = re.compile(r"[&*!]|<<")
"""Anchors, aliases, tags and merge keys: left to PyYAML (a password with these
characters only costs speed)."""


def _from_json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_refuse_constant,
            object_pairs_hook=_unique_object,
        )
    except ValueError:
        return None


def _yaml_as_json(text: str) -> str | None:
    """The YAML document as JSON text, by rapidyaml (C++), or None if it cannot say."""
    try:
        tree = ryml.parse_in_arena(text.encode("utf-8"))
        emitted: str = ryml.emit_json_malloc(tree, tree.root_id())
        return emitted
    except Exception:  # any refusal of rapidyaml's: PyYAML will read it and explain
        return None


def _plain(value: Any) -> Any:
    """A copy of an already-parsed document with floats turned into exact Decimals, as the
    YAML parser would have read them. A non-finite float becomes its text, so the schema
    refuses it as "not a number"."""
    kind = type(value)
    if kind is dict:
        return {key: _plain(item) for key, item in value.items()}
    if kind is list:
        return [_plain(item) for item in value]
    if kind is float:
        return Decimal(repr(value)) if math.isfinite(value) else repr(value)
    return value


# --- the schema ----------------------------------------------------------------------


@cache
def _schema() -> dict[str, Any]:
    """The fixture schema (``fixtures/fixture.schema.json``)."""
    with FIXTURE_SCHEMA.open(encoding="utf-8") as stream:
        schema: dict[str, Any] = json.load(stream)
        return schema


@cache
def _validators() -> tuple[Any, Any, dict[str, tuple[Any, Any]]]:
    """Fast (jsonschema-rs) and explaining (jsonschema) validators of the whole document,
    and of one item of each list section (customers...).

    jsonschema needs ~70 us per customer, too slow for 100,000 of them, so the fast one
    decides and the explaining one only looks at what the fast one refused.
    """
    root = _schema()
    jsonschema.Draft202012Validator.check_schema(root)
    sections = {
        key: (
            jsonschema_rs.validator_for(sub["items"]),
            jsonschema.Draft202012Validator(sub["items"]),
        )
        for key, sub in root["properties"].items()
        if sub.get("type") == "array" and isinstance(sub.get("items"), dict)
    }
    return jsonschema_rs.validator_for(root), jsonschema.Draft202012Validator(root), sections


def _schema_problems(document: dict[str, Any]) -> list[_Problem]:
    fast, explaining, sections = _validators()
    if fast.is_valid(document):
        return []
    rest = dict(document)
    item_problems: list[_Problem] = []
    for key, (fits, validator) in sections.items():
        items = document.get(key)
        if type(items) is list:
            rest[key] = []
            for index, item in enumerate(items):
                if not fits.is_valid(item):
                    for error in validator.iter_errors(item):
                        item_problems.extend(_explain(error, (key, index)))
    head = [problem for error in explaining.iter_errors(rest) for problem in _explain(error, ())]
    return head + item_problems


_ARTICLES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
}


def _show(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, Decimal):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    return "a list" if isinstance(value, list) else "a mapping"


def _any(value: Any) -> Any:
    """A field of a jsonschema error, which its stubs type as "or Unset"; read only after
    the error's kind says it is set."""
    return value


def _explain(error: jsonschema.ValidationError, prefix: PathParts) -> Iterator[_Problem]:
    """Turn one jsonschema error into problems a fixture author understands."""
    path = prefix + tuple(error.absolute_path)
    kind, expected, value = error.validator, _any(error.validator_value), _any(error.instance)
    if kind == "required":
        for key in expected:
            if key not in value:
                yield _Problem(path, f"missing required key {key!r}")
    elif kind == "additionalProperties":
        allowed = list(_any(error.schema).get("properties", {}))
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                yield _Problem(
                    (*path, key), f"unknown key {key!r} ({hint}allowed: {', '.join(allowed)})", True
                )
    elif "propertyNames" in error.schema_path:
        yield _Problem((*path, value), f"invalid key {value!r}: {_describe(error)}", True)
    else:
        yield _Problem(path, _describe(error))


def _describe(error: jsonschema.ValidationError) -> str:
    kind, expected, value = error.validator, _any(error.validator_value), _any(error.instance)
    if kind == "type":
        scalar = not isinstance(value, list | dict)
        hint = " (put it in quotes)" if expected == "string" and scalar else ""
        return f"expected {_ARTICLES.get(expected, expected)}, got {_show(value)}{hint}"
    if kind == "minimum":
        return f"{value} is less than the minimum {expected}"
    if kind == "maximum":
        return f"{value} is more than the maximum {expected}"
    if kind == "minLength":
        return "must not be empty"
    if kind == "minItems":
        return f"must list at least {expected} item(s)"
    if kind == "pattern":
        return f"{value!r} does not match the pattern {expected}"
    if kind == "uniqueItems":
        twice = next((item for index, item in enumerate(value) if item in value[:index]), None)
        return f"{twice!r} is listed twice"
    return error.message


# --- what the schema cannot say ------------------------------------------------------


def _first_seen(
    first: dict[Any, int],
    key: Any,
    index: int,
    where: PathParts,
    what: str,
    problems: list[_Problem],
) -> bool:
    """Record where ``key`` first appears; report it (and say False) if it was seen before."""
    if key in first:
        section = _render_path(where[:1])
        problems.append(
            _Problem(where, f"duplicate {what} {key!r} (first at {section}[{first[key]}])")
        )
        return False
    first[key] = index
    return True


def _places(value: Decimal) -> int:
    """Decimal places of a finite value, trailing zeros aside (1.5000 has one)."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # the schema admits finite numbers only
    while exponent < 0 and digits and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    return max(0, -exponent)


def _amount(value: int | Decimal, where: PathParts, problems: list[_Problem]) -> Decimal | None:
    if not isinstance(value, Decimal):
        return Decimal(value)
    if _places(value) > BALANCE_PLACES:
        problems.append(
            _Problem(
                where,
                f"{value} has {_places(value)} decimal places; at most {BALANCE_PLACES} are kept",
            )
        )
        return None
    return value


def _listing(values: Any) -> str:
    return ", ".join(str(value) for value in values) or "none"


def _principals(
    raw: list[dict[str, Any]],
    section: str,
    fields: tuple[str, str],
    what: str,
    problems: list[_Problem],
) -> dict[str, Principal]:
    principals: dict[str, Principal] = {}
    first: dict[str, int] = {}
    for index, item in enumerate(raw):
        name, secret = (item[field] for field in fields)
        if _first_seen(first, name, index, (section, index, fields[0]), what, problems):
            principals[name] = Principal(name, secret, frozenset(item.get("accessGroups", ())))
    return principals


def _programs(raw: list[dict[str, Any]], problems: list[_Problem]) -> dict[int, Program]:
    programs: dict[int, Program] = {}
    first: dict[int, int] = {}
    default_at: int | None = None
    identifiers_at: dict[str, str] = {}  # currency identifier -> where it first appears
    for index, item in enumerate(raw):
        if not _first_seen(
            first, item["id"], index, ("programs", index, "id"), "program id", problems
        ):
            continue
        currencies: dict[str, int] = {}
        for position, currency in enumerate(item.get("alternateCurrencies", ())):
            where = ("programs", index, "alternateCurrencies", position, "name")
            if currency["name"] in currencies:
                problems.append(
                    _Problem(
                        where, f"duplicate currency {currency['name']!r} in program {item['id']}"
                    )
                )
            currencies.setdefault(currency["name"], position)
            identifier = currency.get("identifier")
            if identifier is not None:
                here = ("programs", index, "alternateCurrencies", position, "identifier")
                if identifier in identifiers_at:
                    problems.append(
                        _Problem(
                            here,
                            f"duplicate currency identifier {identifier!r} (first at "
                            f"{identifiers_at[identifier]})",
                        )
                    )
                identifiers_at.setdefault(identifier, _render_path(here))
        default = item.get("default", False)
        if default and default_at is not None:
            problems.append(
                _Problem(
                    ("programs", index, "default"),
                    f"programs[{default_at}] is already the default program; only one may be",
                )
            )
        elif default:
            default_at = index
        programs[item["id"]] = Program(
            item["id"],
            item["name"],
            default,
            item.get("roundDecimals", DEFAULT_ROUND_DECIMALS),
            frozenset(currencies),
            {
                currency["identifier"]: currency["name"]
                for currency in item.get("alternateCurrencies", ())
                if "identifier" in currency
            },
        )
    return programs


def _unknown_program(program_id: int, programs: dict[int, Program]) -> str:
    return f"unknown program {program_id} (programs: {_listing(programs)})"


def _promotions(
    raw: list[dict[str, Any]], programs: dict[int, Program], problems: list[_Problem]
) -> dict[int, Promotion]:
    promotions: dict[int, Promotion] = {}
    first_id: dict[int, int] = {}
    first_identifier: dict[str, int] = {}
    for index, item in enumerate(raw):
        fresh = _first_seen(
            first_id, item["id"], index, ("promotions", index, "id"), "promotion id", problems
        )
        fresh &= _first_seen(
            first_identifier,
            item["identifier"],
            index,
            ("promotions", index, "identifier"),
            "promotion identifier",
            problems,
        )
        if item["programId"] not in programs:
            problems.append(
                _Problem(
                    ("promotions", index, "programId"),
                    _unknown_program(item["programId"], programs),
                )
            )
        elif fresh:
            promotions[item["id"]] = Promotion(item["id"], item["identifier"], item["programId"])
    return promotions


def _opening_balances(
    opening: dict[Bucket, Decimal],
    at: PathParts,
    program: Program,
    enrollment: dict[str, Any],
    categories: frozenset[str],
    buckets: dict[tuple[int, str, str], Bucket],
    problems: list[_Problem],
) -> None:
    """Add one enrollment's balances to ``opening``; ``buckets`` shares equal Bucket keys."""
    for section, kind, known in (
        ("points", POINTS, categories),
        ("alternateCurrencies", CURRENCY, program.currencies),
    ):
        for name, value in enrollment.get(section, {}).items():
            where = (*at, section, name)
            if name not in known:
                what = "point category" if kind == POINTS else "currency"
                owner = "" if kind == POINTS else f" in program {program.id}"
                known_list = _listing(sorted(known))
                problems.append(
                    _Problem(where, f"unknown {what} {name!r}{owner} (known: {known_list})", True)
                )
                continue
            amount = _amount(value, where, problems)
            if amount is not None:
                key = (program.id, kind, name)
                opening[buckets.get(key) or buckets.setdefault(key, Bucket(*key))] = amount


def _identifiers(
    item: dict[str, Any],
    here: PathParts,
    primary: str,
    taken: dict[tuple[str, str, str], str],
    problems: list[_Problem],
) -> dict[str, dict[str, str]]:
    """A customer's identifiers per source: each source one of the customer's, with the
    org's primary identifier; each value unique within its source (``taken`` holds where
    each was first given)."""
    found: dict[str, dict[str, str]] = {}
    for source, identifiers in item.get("identifiers", {}).items():
        at = (*here, "identifiers", source)
        if source not in item["sources"]:
            problems.append(
                _Problem(
                    at,
                    f"identifiers in {source!r}, a source the customer is not in (sources: "
                    f"{_listing(item['sources'])})",
                    True,
                )
            )
            continue
        if primary not in identifiers:
            problems.append(
                _Problem(at, f"no {primary}, the org's primary identifier (org.primaryIdentifier)")
            )
        for name, value in identifiers.items():
            key, where = (source, name, value), _render_path((*at, name))
            if key in taken:
                problems.append(
                    _Problem(
                        (*at, name),
                        f"duplicate {name} {value!r} in {source} (first at {taken[key]})",
                    )
                )
            taken.setdefault(key, where)
        found[source] = dict(identifiers)
    return found


def _customers(
    raw: list[dict[str, Any]],
    programs: dict[int, Program],
    primary: str,
    problems: list[_Problem],
) -> dict[int, Customer]:
    sources = frozenset(contract.sources()) - {WILDCARD_SOURCE}
    categories = frozenset(contract.categories())
    buckets: dict[tuple[int, str, str], Bucket] = {}  # few distinct ones, shared by all
    customers: dict[int, Customer] = {}
    first: dict[int, int] = {}
    taken: dict[tuple[str, str, str], str] = {}
    for index, item in enumerate(raw):
        here: PathParts = ("customers", index)
        for position, source in enumerate(item["sources"]):
            if source not in sources:
                reason = (
                    f"{WILDCARD_SOURCE!r} is a request-side wildcard; list the real sources instead"
                    if source == WILDCARD_SOURCE
                    else f"unknown source {source!r}"
                )
                problems.append(
                    _Problem(
                        (*here, "sources", position),
                        f"{reason} (sources: {_listing(sorted(sources))})",
                    )
                )
        opening: dict[Bucket, Decimal] = {}
        enrolled: dict[int, int] = {}
        for position, enrollment in enumerate(item.get("enrollments", ())):
            at = (*here, "enrollments", position)
            program_id = enrollment["programId"]
            program = programs.get(program_id)
            if program is None:
                problems.append(
                    _Problem((*at, "programId"), _unknown_program(program_id, programs))
                )
                continue
            if program_id in enrolled:
                problems.append(
                    _Problem(
                        (*at, "programId"),
                        f"already enrolled in program {program_id} at "
                        f"{_render_path((*here, 'enrollments', enrolled[program_id]))}",
                    )
                )
                continue
            enrolled[program_id] = position
            _opening_balances(opening, at, program, enrollment, categories, buckets, problems)
        identifiers = _identifiers(item, here, primary, taken, problems)
        user_id = item["userId"]
        if _first_seen(first, user_id, index, (*here, "userId"), "userId", problems):
            customers[user_id] = Customer(
                user_id,
                frozenset(item["sources"]),
                frozenset(enrolled),
                opening,
                identifiers,
                item.get("firstName"),
                item.get("lastName"),
            )
    return customers


def _awards(
    raw: list[dict[str, Any]],
    programs: dict[int, Program],
    customers: dict[int, Customer],
    problems: list[_Problem],
) -> dict[int, Award]:
    ref_types = contract.ref_types()
    awards: dict[int, Award] = {}
    first: dict[int, int] = {}
    for index, item in enumerate(raw):
        here: PathParts = ("pointsAwards", index)
        count = len(problems)
        _first_seen(first, item["id"], index, (*here, "id"), "award id", problems)
        if item["refType"] not in ref_types:
            problems.append(
                _Problem(
                    (*here, "refType"),
                    f"unknown refType {item['refType']!r} (refTypes: {_listing(ref_types)})",
                )
            )
        customer = customers.get(item["userId"])
        if item["programId"] not in programs:
            problems.append(
                _Problem((*here, "programId"), _unknown_program(item["programId"], programs))
            )
        elif customer is None:
            problems.append(_Problem((*here, "userId"), f"no customer has userId {item['userId']}"))
        elif item["programId"] not in customer.programs:
            problems.append(
                _Problem(
                    (*here, "programId"),
                    f"customer {item['userId']} is not enrolled in program {item['programId']}",
                )
            )
        points = _amount(item["points"], (*here, "points"), problems)
        if len(problems) == count and points is not None:
            awards[item["id"]] = Award(
                item["id"], item["userId"], item["programId"], item["refType"], points
            )
    return awards


def _award_strategies(
    raw: list[dict[str, Any]], programs: dict[int, Program], problems: list[_Problem]
) -> dict[int, AwardStrategy]:
    strategies: dict[int, AwardStrategy] = {}
    first: dict[int, int] = {}
    for index, item in enumerate(raw):
        here: PathParts = ("awardStrategies", index)
        count = len(problems)
        _first_seen(first, item["id"], index, (*here, "id"), "award strategy id", problems)
        if item["programId"] not in programs:
            problems.append(
                _Problem((*here, "programId"), _unknown_program(item["programId"], programs))
            )
        fixed = item.get("points")
        per_unit = item.get("pointsPerUnit")
        if (fixed is None) == (per_unit is None):
            problems.append(
                _Problem(
                    here,
                    "give points (a fixed award) or pointsPerUnit (an award per unit of "
                    "sourceValue), " + ("not both" if fixed is not None else "one of them"),
                )
            )
        points = _amount(fixed, (*here, "points"), problems) if fixed is not None else None
        rate = (
            _amount(per_unit, (*here, "pointsPerUnit"), problems) if per_unit is not None else None
        )
        if len(problems) == count:
            strategies[item["id"]] = AwardStrategy(item["id"], item["programId"], points, rate)
    return strategies


def _expiry_strategies(
    raw: list[dict[str, Any]], programs: dict[int, Program], problems: list[_Problem]
) -> dict[int, ExpiryStrategy]:
    strategies: dict[int, ExpiryStrategy] = {}
    first: dict[int, int] = {}
    for index, item in enumerate(raw):
        here: PathParts = ("expiryStrategies", index)
        fresh = _first_seen(first, item["id"], index, (*here, "id"), "expiry strategy id", problems)
        if item["programId"] not in programs:
            problems.append(
                _Problem((*here, "programId"), _unknown_program(item["programId"], programs))
            )
        elif fresh:
            strategies[item["id"]] = ExpiryStrategy(item["id"], item["programId"])
    return strategies


def _error_status(raw: dict[str, int], problems: list[_Problem]) -> dict[int, int]:
    codes = sorted(int(code) for code in Code)
    statuses: dict[int, int] = {}
    for key, status in raw.items():
        if int(key) in codes:
            statuses[int(key)] = status
        else:
            problems.append(
                _Problem(
                    ("errorStatus", key),
                    f"unknown error code {key} (codes: {_listing(codes)})",
                    True,
                )
            )
    return statuses


def _normalise_error_status(document: dict[str, Any]) -> list[_Problem]:
    """YAML reads ``{8015: 404}`` with an integer key, JSON with a string one: make both strings."""
    raw = document.get("errorStatus")
    if type(raw) is not dict:
        return []
    problems: list[_Problem] = []
    statuses: dict[Any, Any] = {}
    for key, status in raw.items():
        text = str(key) if type(key) is int else key
        if text in statuses:
            problems.append(
                _Problem(("errorStatus", text), f"error code {text} is listed twice", True)
            )
        statuses[text] = status
    document["errorStatus"] = statuses
    return problems


def _build(document: dict[str, Any], text: str | None) -> tuple[World, list[_Problem]]:
    problems: list[_Problem] = []
    org = document.get("org", {})
    programs = _programs(document["programs"], problems)
    promotions = _promotions(document.get("promotions", []), programs, problems)
    primary = org.get("primaryIdentifier", DEFAULT_PRIMARY_IDENTIFIER)
    customers = _customers(document["customers"], programs, primary, problems)
    world = World(
        allow_negative_balance=org.get("allowNegativeBalanceOnReturn", False),
        error_status=_error_status(document.get("errorStatus", {}), problems),
        token_ttl_seconds=org.get("oauthTokenTtlSeconds", DEFAULT_TOKEN_TTL_SECONDS),
        users=_principals(
            document.get("users", []), "users", ("username", "password"), "username", problems
        ),
        oauth_clients=_principals(
            document.get("oauthClients", []),
            "oauthClients",
            ("key", "secret"),
            "OAuth key",
            problems,
        ),
        programs=programs,
        promotions=promotions,
        promotions_by_identifier={
            promotion.identifier: promotion for promotion in promotions.values()
        },
        awards=_awards(document.get("pointsAwards", []), programs, customers, problems),
        customers=customers,
        document=document,
        text=text,
        org_id=org.get("id", DEFAULT_ORG_ID),
        primary_identifier=primary,
        dual_eligibility=org.get("dualEligibility", True),
        identifier_names={
            operation: frozenset(names)
            for operation, names in org.get("identifierNames", {}).items()
        },
        award_strategies=_award_strategies(document.get("awardStrategies", []), programs, problems),
        expiry_strategies=_expiry_strategies(
            document.get("expiryStrategies", []), programs, problems
        ),
    )
    return world, problems


# --- reporting -----------------------------------------------------------------------

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")


def _render_path(path: PathParts) -> str:
    text = ""
    for part in path:
        if not isinstance(part, str):
            text += f"[{part!r}]"  # a list index, or a YAML key that is not text (2024, null)
        elif _PLAIN_KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text or "top level"


def _locate(root: yaml.Node, path: PathParts, at_key: bool) -> yaml.Mark:
    """The mark of the deepest node of ``path`` found in the node tree."""
    node, mark = root, root.start_mark
    for part in path:
        if isinstance(node, yaml.MappingNode):
            found = next(
                (
                    pair
                    for pair in node.value
                    if isinstance(pair[0], yaml.ScalarNode) and pair[0].value == str(part)
                ),
                None,
            )
            if found is None:
                break
            node, mark = found[1], (found[0] if at_key else found[1]).start_mark
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            mark = node.start_mark
        else:
            break
    return mark


def _render(name: str, text: str | None, problems: list[_Problem]) -> list[str]:
    problems = list(dict.fromkeys(problems))
    root = None
    if text is not None:
        try:
            root = yaml.compose(text, Loader=_Loader)
        except yaml.YAMLError:  # JSON that YAML cannot read (tabs): no line numbers then
            root = None
    if root is None:
        return [f"{name}: {_render_path(problem.path)}: {problem.message}" for problem in problems]
    located = sorted(
        ((_locate(root, problem.path, problem.at_key), problem) for problem in problems),
        key=lambda pair: (pair[0].line, pair[0].column),
    )
    return [
        f"{name}: {_render_path(problem.path)} (line {mark.line + 1}, column {mark.column + 1}): "
        f"{problem.message}"
        for mark, problem in located
    ]


# --- public API ----------------------------------------------------------------------


def load_document(source: str | dict[str, Any], name: str) -> World:
    """The World of a fixture given as YAML/JSON text or as an already-parsed mapping
    (an admin request's body); ``name`` is what messages call the document."""
    collecting = gc.isenabled()
    gc.disable()  # a big fixture makes millions of objects: collecting would cost a third more
    try:
        return _load(source, name)
    finally:
        if collecting:
            gc.enable()


def _load(source: str | dict[str, Any], name: str) -> World:
    if isinstance(source, str):
        document, text = _parse(source, name), source
    else:
        document, text = _plain(source), None
    if type(document) is not dict:
        problem = _Problem(
            (), f"a fixture is a mapping with programs and customers, got {_show(document)}"
        )
        raise FixtureError(_render(name, text, [problem]))
    problems = _normalise_error_status(document) + _schema_problems(document)
    if not problems:
        world, problems = _build(document, text)
    if problems:
        raise FixtureError(_render(name, text, problems))
    return world


def load_fixtures(path: str | Path) -> World:
    """The World of a fixture file (.yaml, .yml or .json); messages name it as given."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FixtureError([f"{name}: no such file"]) from None
    except UnicodeDecodeError as error:
        raise FixtureError(
            [f"{name}: not UTF-8 text (byte {error.start}: {error.reason})"]
        ) from None
    except OSError as error:
        raise FixtureError([f"{name}: cannot read the file: {error.strerror or error}"]) from None
    return load_document(text, name)

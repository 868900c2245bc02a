"""Derive the target profile from our own mock's fixtures (``GET /__admin/fixtures``).

Picks the customer with the most to work with: enrolled in the default program, with an
award of that program and a currency; the unknown ids are ones no record uses. Its
identifiers, the org's lookup settings and what allocations need (a strategy of each
kind in the program) come along when the fixtures have them.
"""

from __future__ import annotations

from typing import Any

from contract_tests import spec
from contract_tests.profile import UNKNOWN_VALUES, Credentials, Profile, profile_from_document
from mock_server.model import DEFAULT_ORG_ID

REDACTED = "<redacted>"
"""What ``GET /__admin/fixtures`` shows for a secret without ``?secrets=true``."""


class CannotDeriveError(Exception):
    """The mock's fixtures lack something a profile needs; the message says what."""


def derive_profile(
    fixtures: dict[str, Any], origin: str, credentials: Credentials | None = None
) -> Profile:
    return profile_from_document(derive_document(fixtures, credentials), origin)


def derive_document(
    fixtures: dict[str, Any], credentials: Credentials | None = None
) -> dict[str, Any]:
    """The profile document (as a profile file holds it) that fits the fixtures;
    ``credentials`` (--auth, --oauth) stand in for the fixtures' own, which the mock
    shows only to its admin token."""
    programs = {p["id"]: p for p in fixtures.get("programs", [])}
    default = next((p for p in programs.values() if p.get("default")), None)
    if default is None:
        raise CannotDeriveError(_cannot(["a program marked default: true"]))
    program = f"program {default['id']}"
    currencies = [c["name"] for c in default.get("alternateCurrencies", [])]
    promotion = next(
        (p for p in fixtures.get("promotions", []) if p["programId"] == default["id"]), None
    )
    users = [u for u in fixtures.get("users", []) if "points" in u.get("accessGroups", [])]
    clients = [c for c in fixtures.get("oauthClients", []) if "points" in c.get("accessGroups", [])]
    awards = [a for a in fixtures.get("pointsAwards", []) if a["programId"] == default["id"]]
    enrolled = {
        c["userId"]: c
        for c in fixtures.get("customers", [])
        if any(e["programId"] == default["id"] for e in c.get("enrollments", []))
    }
    award = next((a for a in awards if a["userId"] in enrolled), None)
    missing = [
        need
        for need, present in (
            (f"an alternate currency in {program}", currencies),
            (f"a promotion of {program}", promotion),
            ("a user or OAuth client with the points access group", users or clients),
            (f"a points award of {program} to a customer enrolled in it", award),
        )
        if not present
    ]
    if missing or award is None or promotion is None:  # the last two: missing names them
        raise CannotDeriveError(_cannot(missing))
    customer = enrolled[award["userId"]]
    taken_ids = {c["userId"] for c in fixtures.get("customers", [])}
    no_access = [u for u in fixtures.get("users", []) if "points" not in u.get("accessGroups", [])]
    if credentials is not None:
        kind, name, secret = credentials.kind, credentials.name, credentials.secret
    elif users:
        kind, name, secret = "basic", users[0]["username"], users[0]["password"]
    else:
        kind, name, secret = "oauth", clients[0]["key"], clients[0]["secret"]
    if secret == REDACTED:
        raise CannotDeriveError(
            "the mock hides its credentials: set CAPMOCK_ADMIN_TOKEN to the mock's "
            "--admin-token (it shows them to that token), or give --auth or --oauth"
        )
    fields = ("username", "password") if kind == "basic" else ("key", "secret")
    document: dict[str, Any] = {
        "credentials": {kind: dict(zip(fields, (name, secret), strict=True))},
        "customer": {"userId": award["userId"], "source": sorted(customer["sources"])[0]},
        "program": {"id": default["id"], "roundDecimals": default.get("roundDecimals", 3)},
        "promotion": {"id": promotion["id"], "identifier": promotion["identifier"]},
        "award": {"id": award["id"], "refType": award["refType"]},
        "currency": currencies[0],
        "allowNegativeBalance": bool(fixtures.get("org", {}).get("allowNegativeBalanceOnReturn")),
        "unknownCustomerId": next(i for i in range(999999999, 1, -1) if i not in taken_ids),
        "unknownProgramId": next(i for i in range(999999999, 1, -1) if i not in programs),
        "errorStatus": {str(k): v for k, v in (fixtures.get("errorStatus") or {}).items()},
        "capmockCodes": True,
    }
    others = [s for s in spec.enum("Source") if s not in customer["sources"] and s != "ALL"]
    if others:
        document["customer"]["otherSource"] = others[0]
    if no_access and no_access[0]["password"] != REDACTED:
        document["noAccessCredentials"] = {
            "basic": {"username": no_access[0]["username"], "password": no_access[0]["password"]}
        }
    lookups, identifiers = _lookups(fixtures, customer)
    document.update(lookups)
    if identifiers:
        document["customer"]["identifiers"] = identifiers
    allocation = _allocation(fixtures, default, currencies[0])
    if allocation:
        document["allocation"] = allocation
    return document


def _lookups(
    fixtures: dict[str, Any], customer: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The org's primary identifier and dual eligibility, an identifier of the primary kind
    that no customer has; and the customer's identifiers in its source."""
    org = fixtures.get("org", {})
    primary = org.get("primaryIdentifier", "mobile")
    source = sorted(customer["sources"])[0]
    taken = {
        ids.get(primary)
        for other in fixtures.get("customers", [])
        for ids in (other.get("identifiers") or {}).values()
    }
    unknown = next(value for value in _unknown_values(primary) if value not in taken)
    found: dict[str, Any] = {
        "primaryIdentifier": primary,
        "dualEligibility": org.get("dualEligibility", True),
        "unknownIdentifier": {"name": primary, "value": unknown},
    }
    return found, dict((customer.get("identifiers") or {}).get(source) or {})


def _unknown_values(name: str) -> list[str]:
    return [UNKNOWN_VALUES[name], *(f"{UNKNOWN_VALUES[name]}{n}" for n in range(1, 100))]


def _allocation(
    fixtures: dict[str, Any], program: dict[str, Any], currency: str
) -> dict[str, Any] | None:
    """A fixed award strategy (else any) and an expiry strategy of the program, the org,
    and the identifier of the profile's currency."""
    awards = [a for a in fixtures.get("awardStrategies", []) if a["programId"] == program["id"]]
    expiries = [e for e in fixtures.get("expiryStrategies", []) if e["programId"] == program["id"]]
    if not awards or not expiries:
        return None
    award = next((a for a in awards if "points" in a), awards[0])
    allocation = {
        "orgId": fixtures.get("org", {}).get("id", DEFAULT_ORG_ID),
        "awardStrategyId": award["id"],
        "expiryStrategyId": expiries[0]["id"],
    }
    identifier = next(
        (
            c["identifier"]
            for c in program.get("alternateCurrencies", [])
            if c["name"] == currency and "identifier" in c
        ),
        None,
    )
    if identifier:
        allocation["currencyIdentifier"] = identifier
    return allocation


def _cannot(missing: list[str]) -> str:
    return (
        "cannot derive a test profile from the mock's fixtures: they lack "
        + "; ".join(missing)
        + " (add what is missing to the fixtures, or give --profile)"
    )

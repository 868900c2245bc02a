"""The test customer as the read endpoints show it: the points balance lookup and the
points ledger. Reading changes nothing, so a run may read the test customer even when
it may not write.

Numbers are read as exact decimals: the balance lookup writes them as JSON numbers with
three decimals (``670.000``), which a binary float would round.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from contract_tests import spec
from contract_tests.findings import Finding
from contract_tests.plans.requests import Request
from contract_tests.profile import Profile
from contract_tests.target import Exchange, Target

CATEGORIES = {
    "REGULAR": ("mainPoints",),
    "PROMISED": ("promisedPointsBreakup", "delayedAccrualPoints"),
    "EXTERNAL_TRIGGER_BASED": ("promisedPointsBreakup", "externalTriggerBasedPoints"),
}
"""Where the balance lookup shows each points category."""
NO_LEDGER_ENTRIES = 11003
LEDGER_CATEGORIES = {
    "Main": "REGULAR",
    "DelayedAccrualPointCategory": "PROMISED",
    "ExternalTriggerBasedPointCategory": "EXTERNAL_TRIGGER_BASED",
}


def exact_json(exchange: Exchange) -> Any:
    """The answer's JSON with every number an exact decimal (None when not JSON)."""
    try:
        return json.loads(exchange.response_body, parse_float=Decimal)
    except ValueError:
        return None


def lookup_params(profile: Profile) -> dict[str, Any]:
    """How a lookup names the test customer, in its source."""
    name, value = profile.lookup
    return {"identifierName": name, "identifierValue": value, "source": profile.source}


def balance_request(profile: Profile) -> Request:
    params = {**lookup_params(profile), "programId": profile.program_id}
    return Request("GET", spec.BALANCE_PATH, params)


def ledger_request(profile: Profile, **params: Any) -> Request:
    query = {
        **lookup_params(profile),
        "programId": profile.program_id,
        "includeAlternateCurrencies": "true",
        **params,
    }
    return Request("GET", spec.LEDGER_PATH, query)


def points(document: Any) -> dict[str, Decimal] | None:
    """The points per category a balance answer shows; None when it shows no number."""
    if not isinstance(document, dict):
        return None
    found: dict[str, Decimal] = {}
    for category, where in CATEGORIES.items():
        value: Any = document
        for key in where:
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, Decimal | int) or isinstance(value, bool):
            return None
        found[category] = Decimal(value)
    return found


@dataclass(frozen=True)
class Snapshot:
    """The test customer's points and the ledger's count and newest event, at one moment."""

    balance: Exchange
    ledger: Exchange
    points: dict[str, Decimal] | None
    entries: int | None
    newest: int | None

    def problems(self) -> list[Finding]:
        """Findings when either read could not be done."""
        found = []
        if self.points is None:
            found.append(
                Finding(
                    f"the test customer's balance could not be read: HTTP {self.balance.status}",
                    self.balance.curl(),
                    self.balance.describe_response(),
                    "HTTP 200 with the customer's points, numbers with three decimals",
                )
            )
        if self.entries is None:
            found.append(
                Finding(
                    f"the test customer's ledger could not be read: HTTP {self.ledger.status}",
                    self.ledger.curl(),
                    self.ledger.describe_response(),
                    "HTTP 200 with ledgerDetails.totalEntries",
                )
            )
        return found


def snapshot(target: Target) -> Snapshot:
    profile = target.profile
    balance = balance_request(profile).send(target)
    ledger = ledger_request(profile, limit=1).send(target)
    document = exact_json(ledger)
    entries = newest = None
    if ledger.status == 200 and isinstance(document, dict):
        details = document.get("ledgerDetails") or {}
        entries = details.get("totalEntries") if isinstance(details, dict) else None
        events = document.get("ledgerEntries") or [{}]
        newest = events[0].get("eventLogId") if isinstance(events[0], dict) else None
    elif _codes(document)[:1] == [NO_LEDGER_ENTRIES]:
        entries = 0
    shown = points(exact_json(balance)) if balance.status == 200 else None
    return Snapshot(balance, ledger, shown, entries, newest)


def _codes(document: Any) -> list[Any]:
    errors = document.get("errors") if isinstance(document, dict) else None
    return (
        [e.get("code") for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
    )

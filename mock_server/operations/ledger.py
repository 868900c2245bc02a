"""The points ledger: the query to a ``LedgerQuery``, ``rules.ledger`` on the world and
the customer's stored changes, the page as Capillary writes it. A read: nothing is
written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.types import Scope

from mock_server.errors import ApiError, Code
from mock_server.instrument.context import note, note_customer, session_of
from mock_server.model import CURRENCY, Customer, World
from mock_server.rules import ledger
from mock_server.rules.lookup import Identifier
from mock_server.rules.money import balance_text
from mock_server.runtime import Runtime

OPERATION = "getCustomerLedgerInfo"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
CATEGORY_NAMES = {
    "REGULAR": "Main",
    "PROMISED": "DelayedAccrualPointCategory",
    "EXTERNAL_TRIGGER_BASED": "ExternalTriggerBasedPointCategory",
}
"""How Capillary's ledger names the point categories; alternate currencies are ``Main``."""


def to_query(params: dict[str, Any]) -> ledger.LedgerQuery:
    names = params.get("alternateCurrencyNames")
    return ledger.LedgerQuery(
        Identifier.of(
            OPERATION, params["source"], params["identifierName"], params["identifierValue"]
        ),
        limit=params.get("limit", 10),
        offset=params.get("offset", 0),
        program_id=params.get("programId"),
        ascending=params.get("order", "DESC") == "ASC",
        include_currencies=bool(params.get("includeAlternateCurrencies", False)),
        currency_names=tuple(name.strip() for name in names.split(",")) if names else None,
        exclude_points=bool(params.get("excludePointCategories", False)),
        entry_type=params.get("ledgerEntryType"),
        category=params.get("pointCategoryType"),
        start=_date(params, "startDate"),
        end=_date(params, "endDate"),
        filter_by_date=bool(params.get("isFilterBasedOnDate", True)),
        last_year=bool(params.get("includeLastOneYearData", False)),
        entity_type=params.get("type", ledger.CUSTOMER),
    )


async def show(runtime: Runtime, params: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """One page of the ledger in the request's session, noting on its exchange what
    decided; raises the rules' refusal as an ``ApiError``."""
    query = to_query(params)
    session = session_of(scope)
    world = await runtime.store.world(session)
    customer = ledger.customer(world, query)
    if isinstance(customer, ApiError):
        note(scope, customer)
        raise customer
    note_customer(scope, customer.user_id)
    entries = await runtime.store.ledger(customer.user_id, session)
    page = ledger.ledger_page(world, query, customer, entries)
    note(scope, page)
    if isinstance(page, ApiError):
        raise page
    return {
        "customerDetails": {
            "firstName": customer.first_name,
            "lastName": customer.last_name,
            "userId": customer.user_id,
            "externalId": customer.identifier(query.identifier.source, "externalId"),
            "entityType": ledger.CUSTOMER,
        },
        "ledgerDetails": {
            "pageNumber": page.page,
            "pageSize": page.size,
            "totalEntries": page.total,
            "pageCount": page.pages,
        },
        "ledgerEntries": [_event(world, customer, event) for event in page.events],
        "warnings": [],
    }


def _event(world: World, customer: Customer, event: ledger.Event) -> dict[str, Any]:
    program = world.programs.get(event.program_id)
    dates = {"eventDate": _shown(event.time), "eventDateISO": _iso(event.time)}
    return {
        "eventLogId": event.event_id,
        "eventName": event.name,
        "customerId": customer.user_id,
        "ledgerCreatedDate": dates["eventDate"],
        "ledgerCreatedDateISO": dates["eventDateISO"],
        "customerDetails": None,
        "entryDetails": [_row(world, row) for row in event.rows],
        "netPointsOnEvent": balance_text(event.net_points),
        "netAlternateCurrenciesOnEvent": {
            name: balance_text(net) for name, net in event.net_currencies.items()
        },
        "transactionDetails": {},
        "store": "",
        "storeCode": "",
        "tillCode": "",
        "eventDetails": dates,
        "sourceProgramId": event.program_id,
        "sourceProgramName": program.name if program else "",
        "orgId": world.org_id,
    }


def _row(world: World, row: ledger.Row) -> dict[str, Any]:
    bucket = row.bucket
    program = world.programs.get(bucket.program_id)
    currency = bucket.kind == CURRENCY
    shown: dict[str, Any] = {
        "ledgerEntryType": row.entry_type,
        "points": balance_text(row.amount),
        "pointsCategory": "Main" if currency else CATEGORY_NAMES[bucket.name],
        "programName": program.name if program else "",
        "programId": bucket.program_id,
    }
    if currency:
        shown["alternateCurrencyName"] = bucket.name
    return shown


def _date(params: dict[str, Any], name: str) -> datetime | None:
    text = params.get(name)
    if text is None:
        return None
    try:
        return datetime.strptime(text, DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise ApiError.of(
            Code.INVALID_INPUT, detail=f"{name}: {text!r} is not a date and time"
        ) from None


def _shown(time: datetime) -> str:
    return f"{time.astimezone(UTC):%Y-%m-%d %H:%M:%S}.0"


def _iso(time: datetime) -> str:
    return f"{time.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z"

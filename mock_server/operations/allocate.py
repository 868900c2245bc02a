"""manualCurrencyAllocate: each item to an ``Allocation``, ``rules.allocate`` through the
store (one atomic step per item, in order), every outcome to its place in the answer:
200 when every item was issued, 207 otherwise. Connexion has already checked the
credentials and the call's shape."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from starlette.types import Scope

from mock_server.errors import ApiError
from mock_server.instrument.context import note, note_customer, session_of
from mock_server.model import CURRENCY, Bucket, World
from mock_server.rules import allocate
from mock_server.rules.change import Change
from mock_server.rules.lookup import NO_CUSTOMER, Identifier, located
from mock_server.runtime import Runtime
from mock_server.stores.base import Decide

OPERATION = "bulkManualCurrencyAllocation"
THREE_PLACES = Decimal("0.001")
ALL_ISSUED, SOME_REFUSED = 200, 207


def to_allocation(world: World, item: dict[str, Any]) -> allocate.Allocation:
    lookup = item["lookupParams"]
    identifier = Identifier.of(
        OPERATION, lookup["source"], lookup["identifierType"], lookup["identifierValue"]
    )
    return allocate.Allocation(
        user_id=located(world, identifier),
        identifier=identifier,
        org_id=item["orgId"],
        program_id=item["programId"],
        award_strategy_id=item["awardStrategyId"],
        expiry_strategy_id=item["expiryStrategyId"],
        source_value=Decimal(item["sourceValue"]),
        event_name=item["eventName"],
        event_source_id=item["eventSourceId"],
        entity_type=lookup.get("entityType", allocate.CUSTOMER),
        currency_type=item.get("currencyType", "REGULAR"),
        currency_identifier=item.get("alternateCurrencyIdentifier"),
        unique_id=item.get("uniqueId"),
        source_value_rounding=item.get("sourceValueRoundingStrategy", allocate.FLOOR),
        points_rounding=item.get("pointsRoundingStrategy", allocate.FLOOR),
    )


def decision(item: allocate.Allocation, now: datetime) -> Decide:
    """``rules.allocate`` for one item; the store supplies the world and the balances."""

    def decide(world: World, balances: Mapping[Bucket, Decimal]) -> Change | ApiError:
        return allocate.allocate(world, item, balances, now)

    return decide


class Items:
    """What each item of one call came to: what the journal says of the call."""

    def __init__(self) -> None:
        self.outcomes: list[Change | ApiError] = []

    def explain(self) -> str:
        return "; ".join(
            f"item {index}: {outcome.explain()}" for index, outcome in enumerate(self.outcomes)
        )


async def issue(
    runtime: Runtime, body: list[dict[str, Any]], scope: Scope
) -> tuple[dict[str, Any], int]:
    """Every item through the store, in order, in the request's session; the answer and
    its status. The journal gets each item's outcome, and the customer when every item
    names the same one."""
    session = session_of(scope)
    results, items, customers = [], Items(), set()
    note(scope, items)
    for raw in body:
        world = await runtime.store.world(session)
        item = to_allocation(world, raw)
        outcome = await runtime.store.apply(item.user_id, decision(item, runtime.now()), session)
        items.outcomes.append(outcome)
        customers.add(item.user_id)
        results.append(_result(world, item, outcome))
    if len(customers) == 1 and NO_CUSTOMER not in customers:
        note_customer(scope, customers.pop())
    issued = sum(result["status"] == "SUCCESS" for result in results)
    answer = {
        "total": len(results),
        "success": issued,
        "failures": len(results) - issued,
        "data": results,
        "warnings": [],
    }
    return answer, ALL_ISSUED if issued == len(results) else SOME_REFUSED


def _result(world: World, item: allocate.Allocation, outcome: Change | ApiError) -> dict[str, Any]:
    if isinstance(outcome, ApiError):
        return {
            "status": "FAILURE",
            "eventLogId": -1,
            "entityId": item.user_id if item.user_id != NO_CUSTOMER else -1,
            "httpStatus": outcome.status(world.error_status),
            "errors": outcome.envelope()["errors"],
        }
    awarded = outcome.entry.amount
    raw = (
        outcome.raw
        if isinstance(outcome, allocate.Credited) and outcome.raw is not None
        else awarded
    )
    effect: dict[str, Any] = {"entityType": "USER", "customerId": item.user_id}
    if outcome.bucket.kind == CURRENCY:
        effect |= {
            "rawAwardedValue": raw.quantize(THREE_PLACES),
            "awardedValue": _whole_or_exact(awarded),
            "alternateCurrencyIdentifier": item.currency_identifier,
            "alternateCurrencyName": outcome.bucket.name,
            "type": "alternate_currency",
        }
    else:
        effect |= {
            "rawAwardedPoints": raw.quantize(THREE_PLACES),
            "awardedPoints": _whole_or_exact(awarded),
            "type": "points",
        }
    return {
        "status": "SUCCESS",
        "eventLogId": outcome.entry.event_id,
        "entityId": item.user_id,
        "httpStatus": ALL_ISSUED,
        "sideEffects": [effect],
    }


def _whole_or_exact(amount: Decimal) -> Decimal:
    """A whole number as an integer (``500``), else the exact decimal."""
    return amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount

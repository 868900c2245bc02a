"""The points balance lookup: the query to a ``BalanceQuery``, ``rules.balance`` on the
world and the customer's balances as the store has them, the aggregate as Capillary
writes it (numbers with three decimals). A read: nothing is written."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from starlette.types import Scope

from mock_server.errors import ApiError
from mock_server.instrument.context import note, note_customer, session_of
from mock_server.rules import balance
from mock_server.rules.lookup import Identifier
from mock_server.runtime import Runtime

OPERATION = "getPointsBalance"
THREE_PLACES = Decimal("0.001")


def to_query(params: dict[str, Any], dual_eligibility: bool) -> balance.BalanceQuery:
    """With dual eligibility, names and values are comma-separated lists."""
    name, value = params["identifierName"], params["identifierValue"]
    names, values = (name.split(","), value.split(",")) if dual_eligibility else ([name], [value])
    identifier = Identifier(
        OPERATION, params["source"], tuple(names), tuple(values), dual_eligibility
    )
    return balance.BalanceQuery(
        identifier,
        params.get("programId"),
        bool(params.get("fetchDataForAllPrograms", False)),
        params.get("entityType", balance.CUSTOMER),
    )


async def show(runtime: Runtime, params: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """The balance answer in the request's session, noting on its exchange what decided;
    raises the rules' refusal as an ``ApiError``."""
    session = session_of(scope)
    world = await runtime.store.world(session)
    query = to_query(params, world.dual_eligibility)
    customer = balance.customer(world, query)
    if isinstance(customer, ApiError):
        note(scope, customer)
        raise customer
    note_customer(scope, customer.user_id)
    balances = await runtime.store.balances(customer.user_id, session)
    points = balance.points_balance(world, query, customer, balances)
    note(scope, points)
    if isinstance(points, ApiError):
        raise points
    return {
        "entityId": points.user_id,
        "entityType": balance.CUSTOMER,
        "totalPoints": _number(points.total),
        "mainPoints": _number(points.main),
        "promisedPoints": _number(points.promised),
        "promisedPointsBreakup": {
            "delayedAccrualPoints": _number(points.delayed_accrual),
            "externalTriggerBasedPoints": _number(points.external_trigger),
        },
        "warnings": [],
    }


def _number(amount: Decimal) -> Decimal:
    """Three decimals, as Capillary writes them (``8500.000``)."""
    return amount.quantize(THREE_PLACES)

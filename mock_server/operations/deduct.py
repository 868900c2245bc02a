"""negativePointsAdjustment: the request to a ``Deduction``, ``rules.deduct`` through the
store, the outcome to the success body. Connexion or the fast lane has already checked
the credentials and the request's shape."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from starlette.types import Scope

from mock_server.errors import ApiError
from mock_server.instrument.context import current, note
from mock_server.model import POINTS, Bucket, World
from mock_server.rules.deduct import Deducted, Deduction, deduct
from mock_server.rules.money import balance_text
from mock_server.runtime import Runtime
from mock_server.stores.base import Decide


def decision(request: Deduction, now: datetime) -> Decide:
    """``rules.deduct`` for one request; the store supplies the world and the balances."""

    def decide(world: World, balances: Mapping[Bucket, Decimal]) -> Deducted | ApiError:
        return deduct(world, request, balances, now)

    return decide


def to_deduction(user_id: int, source: str, body: dict[str, Any]) -> Deduction:
    currency = body.get("alternateCurrencyName")
    amount = body["valueToBeAdjusted"] if currency is not None else body["pointsToBeAdjusted"]
    return Deduction(
        user_id=user_id,
        source=source,
        reason=body["reasonOfReturn"],
        amount=Decimal(amount),
        category=body.get("pointCategoryTypes", "REGULAR"),
        currency=currency,
        program_id=body.get("programId"),
        promotion_id=body.get("promotionId"),
        promotion_identifier=body.get("promotionIdentifier"),
        award_id=body.get("pointsAwardedId"),
        award_ref_type=body.get("pointsAwardedRefType"),
    )


async def apply(
    runtime: Runtime, user_id: int, source: str, body: dict[str, Any], scope: Scope
) -> Deducted:
    """Apply one deduction in the request's session, noting on its exchange what decided;
    raises the rules' refusal as an ``ApiError``."""
    exchange = current(scope)
    session = exchange.session if exchange else None
    deduction = to_deduction(user_id, source, body)
    outcome = await runtime.store.apply(user_id, decision(deduction, runtime.now()), session)
    note(scope, outcome)
    if isinstance(outcome, ApiError):
        raise outcome
    return outcome


def success(outcome: Deducted) -> dict[str, Any]:
    field = "pointsAvailable" if outcome.bucket.kind == POINTS else "valueAvailable"
    return {
        "status": "success",
        field: balance_text(outcome.balance),
        "message": outcome.message,
        "warnings": [],
    }

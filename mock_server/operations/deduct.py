"""negativePointsAdjustment by userId: the request to a ``Deduction``, ``rules.deduct``
through the store, the outcome to the success body. Connexion or the fast lane has
already checked the credentials and the request's shape. The lookup form
(``deduct_lookup``) goes through the same steps."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from starlette.types import Scope

from mock_server.errors import ApiError
from mock_server.instrument.context import note, session_of
from mock_server.model import POINTS, Bucket, World
from mock_server.rules.change import Change
from mock_server.rules.deduct import Deduction, deduct, success_message
from mock_server.rules.lookup import Identifier
from mock_server.rules.money import balance_text
from mock_server.runtime import Runtime
from mock_server.stores.base import Decide


def decision(request: Deduction, now: datetime) -> Decide:
    """``rules.deduct`` for one request; the store supplies the world and the balances."""

    def decide(world: World, balances: Mapping[Bucket, Decimal]) -> Change | ApiError:
        return deduct(world, request, balances, now)

    return decide


def to_deduction(
    user_id: int, source: str, body: dict[str, Any], identifier: Identifier | None = None
) -> Deduction:
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
        identifier=identifier,
    )


async def apply(
    runtime: Runtime, user_id: int, source: str, body: dict[str, Any], scope: Scope
) -> Change:
    """Apply one deduction in the request's session; raises the rules' refusal as an
    ``ApiError``."""
    return await applied(runtime, to_deduction(user_id, source, body), scope)


async def applied(runtime: Runtime, deduction: Deduction, scope: Scope) -> Change:
    """``deduction`` through the store, in the request's session, noting on its exchange
    what decided; raises the rules' refusal as an ``ApiError``."""
    decide = decision(deduction, runtime.now())
    outcome = await runtime.store.apply(deduction.user_id, decide, session_of(scope))
    note(scope, outcome)
    if isinstance(outcome, ApiError):
        raise outcome
    return outcome


def success(outcome: Change) -> dict[str, Any]:
    field = "pointsAvailable" if outcome.bucket.kind == POINTS else "valueAvailable"
    return {
        "status": "success",
        field: balance_text(outcome.balance),
        "message": success_message(outcome.bucket),
        "warnings": [],
    }

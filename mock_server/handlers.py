"""The Capillary operations: translate HTTP to a rules call and the outcome back.

Connexion has already checked the credentials and the request's shape; what is
left here is plumbing, so that ``rules.deduct`` stays free of HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from connexion import request

from mock_server.errors import ApiError
from mock_server.model import POINTS, Bucket, World
from mock_server.rules import Deducted, Deduction, balance_text, deduct
from mock_server.runtime import Runtime
from mock_server.store import Decide
from mock_server.validation import BODY_KEY

Response = tuple[dict[str, Any], int]


def parsed_body() -> Any:
    """The body as the validator parsed it (amounts as exact Decimals)."""
    return request.scope.get("state", {}).get(BODY_KEY)


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


class CapillaryApi:
    """Operation handlers of ``openapi/capillary.yaml``, by operationId."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def deductPoints(self, userId: int, source: str) -> Response:  # noqa: N802, N803
        return await self.deduct(userId, source, parsed_body())

    async def deduct(self, user_id: int, source: str, body: dict[str, Any]) -> Response:
        """Apply one deduction whose credentials and shape were already checked.

        Raises the rules' refusal as an ``ApiError``.
        """
        deduction = to_deduction(user_id, source, body)
        outcome = await self.runtime.store.apply(user_id, decision(deduction, self.runtime.now()))
        if isinstance(outcome, ApiError):
            raise outcome
        return success(outcome), 200

    async def generateToken(self) -> Response:  # noqa: N802
        body = parsed_body()
        try:
            token, ttl = await self.runtime.auth.issue_token(body["key"], body["secret"])
        except ApiError as error:
            return {"data": None, "errors": error.envelope()["errors"]}, 401
        return {"data": {"accessToken": token, "ttlSeconds": ttl}, "errors": None}, 200


def success(outcome: Deducted) -> dict[str, Any]:
    field = "pointsAvailable" if outcome.bucket.kind == POINTS else "valueAvailable"
    return {
        "status": "success",
        field: balance_text(outcome.balance),
        "message": outcome.message,
        "warnings": [],
    }

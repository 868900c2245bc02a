"""The handlers of ``openapi/capillary.yaml``, by operationId, for Connexion's resolver."""

from __future__ import annotations

from typing import Any

from connexion import request
from starlette.responses import Response as StarletteResponse

from mock_server.lanes.render import json_response
from mock_server.lanes.validation import BODY_KEY
from mock_server.operations import allocate, balance, deduct, deduct_lookup, ledger, token
from mock_server.runtime import Runtime

Response = tuple[dict[str, Any], int]


def parsed_body() -> Any:
    """The body as the validator parsed it (amounts as exact Decimals)."""
    return request.scope.get("state", {}).get(BODY_KEY)


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
        return deduct.success(await deduct.apply(self.runtime, user_id, source, body)), 200

    async def deductPointsByLookup(  # noqa: N802
        self,
        identifierName: str,  # noqa: N803
        identifierValue: str,  # noqa: N803
        source: str,
    ) -> Response:
        outcome = await deduct_lookup.apply(
            self.runtime, identifierName, identifierValue, source, parsed_body()
        )
        return deduct.success(outcome), 200

    async def getPointsBalance(self, **params: Any) -> StarletteResponse:  # noqa: N802
        # numbers with three decimals (8500.000), which Connexion's JSON would write as floats
        return json_response(await balance.show(self.runtime, params), 200)

    async def getCustomerLedgerInfo(self, **params: Any) -> Response:  # noqa: N802
        return await ledger.show(self.runtime, params), 200

    async def bulkManualCurrencyAllocation(self) -> StarletteResponse:  # noqa: N802
        return json_response(*await allocate.issue(self.runtime, parsed_body()))

    async def generateToken(self) -> Response:  # noqa: N802
        return await token.generate(self.runtime, parsed_body())

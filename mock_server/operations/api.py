"""The handlers of ``openapi/capillary.yaml``, by operationId, for Connexion's resolver."""

from __future__ import annotations

from typing import Any

from connexion import request
from starlette.responses import Response
from starlette.types import Scope

from mock_server.lanes.render import json_response
from mock_server.lanes.validation import BODY_KEY
from mock_server.operations import allocate, balance, deduct, deduct_lookup, ledger, token
from mock_server.runtime import Runtime

Answer = tuple[int, dict[str, Any]]


def _declared(arguments: dict[str, Any]) -> dict[str, Any]:
    """A handler's parameters by their contract names, as Connexion passed them: declared
    one by one, so that an unknown query parameter is ignored without a log line."""
    return {name: value for name, value in arguments.items() if name != "self"}


def parsed_body() -> Any:
    """The body as the validator parsed it (amounts as exact Decimals)."""
    return request.scope.get("state", {}).get(BODY_KEY)


class CapillaryApi:
    """Operation handlers of ``openapi/capillary.yaml``, by operationId."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def deductPoints(self, userId: int, source: str) -> Response:  # noqa: N802, N803
        return json_response(*await self.deduct(userId, source, parsed_body(), request.scope))

    async def deduct(self, user_id: int, source: str, body: dict[str, Any], scope: Scope) -> Answer:
        """Apply one deduction whose credentials and shape were already checked.

        Raises the rules' refusal as an ``ApiError``.
        """
        outcome = await deduct.apply(self.runtime, user_id, source, body, scope)
        return 200, deduct.success(outcome)

    async def deductPointsByLookup(  # noqa: N802
        self,
        identifierName: str,  # noqa: N803
        identifierValue: str,  # noqa: N803
        source: str,
    ) -> Response:
        outcome = await deduct_lookup.apply(
            self.runtime, identifierName, identifierValue, source, parsed_body(), request.scope
        )
        return json_response(200, deduct.success(outcome))

    async def getPointsBalance(  # noqa: N802
        self,
        source: str,
        identifierName: str,  # noqa: N803
        identifierValue: str,  # noqa: N803
        programId: int | None = None,  # noqa: N803
        fetchDataForAllPrograms: bool = False,  # noqa: N803
        entityType: str = "CUSTOMER",  # noqa: N803
        accountId: str | None = None,  # noqa: N803 (one account per source: not used)
    ) -> Response:
        params = _declared(locals())
        # numbers with three decimals (8500.000), which json alone would write as floats
        return json_response(200, await balance.show(self.runtime, params, request.scope))

    async def getCustomerLedgerInfo(  # noqa: N802
        self,
        identifierName: str,  # noqa: N803
        identifierValue: str,  # noqa: N803
        source: str,
        limit: int = 10,
        offset: int = 0,
        programId: int | None = None,  # noqa: N803
        order: str = "DESC",
        includeAlternateCurrencies: bool = False,  # noqa: N803
        alternateCurrencyNames: str | None = None,  # noqa: N803
        excludePointCategories: bool = False,  # noqa: N803
        ledgerEntryType: str | None = None,  # noqa: N803
        pointCategoryType: str | None = None,  # noqa: N803
        startDate: str | None = None,  # noqa: N803
        endDate: str | None = None,  # noqa: N803
        isFilterBasedOnDate: bool = True,  # noqa: N803
        includeLastOneYearData: bool = False,  # noqa: N803
        type: str = "CUSTOMER",
        accountId: str | None = None,  # noqa: N803 (one account per source: not used)
    ) -> Response:
        params = _declared(locals())
        return json_response(200, await ledger.show(self.runtime, params, request.scope))

    async def bulkManualCurrencyAllocation(self) -> Response:  # noqa: N802
        answer, status = await allocate.issue(self.runtime, parsed_body(), request.scope)
        return json_response(status, answer)

    async def generateToken(self) -> Response:  # noqa: N802
        answer, status, headers = await token.generate(self.runtime, parsed_body(), request.scope)
        return json_response(status, answer, headers)

"""The handlers of ``openapi/capillary.yaml``, by operationId, for Connexion's resolver."""

from __future__ import annotations

from typing import Any

from connexion import request
from starlette.types import Scope

from mock_server.lanes.validation import BODY_KEY
from mock_server.operations import deduct, token
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
        return await self.deduct(userId, source, parsed_body(), request.scope)

    async def deduct(
        self, user_id: int, source: str, body: dict[str, Any], scope: Scope
    ) -> Response:
        """Apply one deduction whose credentials and shape were already checked.

        Raises the rules' refusal as an ``ApiError``.
        """
        outcome = await deduct.apply(self.runtime, user_id, source, body, scope)
        return deduct.success(outcome), 200

    async def generateToken(self) -> tuple[dict[str, Any], int, dict[str, str]]:  # noqa: N802
        return await token.generate(self.runtime, parsed_body(), request.scope)

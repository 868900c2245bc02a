"""The handlers of ``openapi/capillary.yaml``, by operationId, for Connexion's resolver."""

from __future__ import annotations

from typing import Any

from connexion import request
from starlette.responses import Response
from starlette.types import Scope

from mock_server.lanes.render import json_response
from mock_server.lanes.validation import BODY_KEY
from mock_server.operations import deduct, token
from mock_server.runtime import Runtime

Answer = tuple[int, dict[str, Any]]


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

    async def generateToken(self) -> Response:  # noqa: N802
        answer, status, headers = await token.generate(self.runtime, parsed_body(), request.scope)
        return json_response(status, answer, headers)

"""The handlers of ``openapi/admin.yaml``, by operationId, for Connexion's resolver.

The admin API is outside the Capillary contract, so contract tests against a live org
never see it. When the mock has an admin token, every call but health demands it.
"""

from __future__ import annotations

from typing import Any

from connexion import request

from mock_server.admin import customers, faults, world
from mock_server.admin.guard import ADMIN_HEADER, authorize
from mock_server.lanes.body import read_body
from mock_server.lanes.validation import BODY_KEY
from mock_server.runtime import Runtime

Response = tuple[Any, int]


def parsed_body() -> Any:
    """The JSON body as the body validator parsed it (numbers with a fraction as Decimals)."""
    return request.scope.get("state", {}).get(BODY_KEY)


class AdminApi:
    """Operation handlers of ``openapi/admin.yaml``, by operationId."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def _authorize(self, *, always: bool = False) -> None:
        authorize(self.runtime.admin_token, request.headers.get(ADMIN_HEADER), always=always)

    async def resetState(self) -> Response:  # noqa: N802
        self._authorize()
        return await world.reset(self.runtime), 200

    async def showCustomer(self, userId: int) -> Response:  # noqa: N802, N803
        self._authorize()
        return await customers.show(self.runtime, userId), 200

    async def showFixtures(self, secrets: bool = False) -> Response:  # noqa: N802
        self._authorize(always=secrets)
        return await world.show(self.runtime, secrets=secrets), 200

    async def replaceFixtures(self) -> Response:  # noqa: N802
        self._authorize()
        body = await read_body(request.receive, request.scope)
        return await world.replace(self.runtime, body), 200

    async def health(self) -> Response:
        return await world.health(self.runtime), 200

    async def addFault(self) -> Response:  # noqa: N802
        self._authorize()
        return await faults.add(self.runtime, parsed_body()), 201

    async def listFaults(self) -> Response:  # noqa: N802
        self._authorize()
        return await faults.listing(self.runtime), 200

    async def showFault(self, faultId: str) -> Response:  # noqa: N802, N803
        self._authorize()
        return await faults.show(self.runtime, faultId), 200

    async def removeFault(self, faultId: str) -> Response:  # noqa: N802, N803
        self._authorize()
        return await faults.remove(self.runtime, faultId), 200

    async def clearFaults(self) -> Response:  # noqa: N802
        self._authorize()
        return await faults.clear(self.runtime), 200

    async def showLatency(self) -> Response:  # noqa: N802
        self._authorize()
        return await faults.latency(self.runtime), 200

    async def setLatency(self) -> Response:  # noqa: N802
        self._authorize()
        return await faults.set_latency(self.runtime, parsed_body()), 200

    async def clearLatency(self) -> Response:  # noqa: N802
        self._authorize()
        return await faults.set_latency(self.runtime, None), 200

    async def showRateLimit(self) -> Response:  # noqa: N802
        self._authorize()
        return await faults.rate_limit(self.runtime), 200

    async def setRateLimit(self) -> Response:  # noqa: N802
        self._authorize()
        return await faults.set_rate_limit(self.runtime, parsed_body()), 200

    async def clearRateLimit(self) -> Response:  # noqa: N802
        self._authorize()
        return await faults.set_rate_limit(self.runtime, None), 200

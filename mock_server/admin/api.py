"""The handlers of ``openapi/admin.yaml``, by operationId, for Connexion's resolver.

The admin API is outside the Capillary contract, so contract tests against a live org
never see it. When the mock has an admin token, every call but health demands it.
"""

from __future__ import annotations

from typing import Any

from connexion import request
from starlette.responses import Response as StarletteResponse

from mock_server.admin import customers, faults, requests, sessions, world
from mock_server.admin.guard import ADMIN_HEADER, authorize
from mock_server.console import Console
from mock_server.instrument.context import current
from mock_server.lanes.body import read_body
from mock_server.operations.api import parsed_body
from mock_server.runtime import Runtime

Response = tuple[Any, int]


class AdminApi:
    """Operation handlers of ``openapi/admin.yaml``, by operationId."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.console = Console()

    def _authorize(self, *, always: bool = False) -> None:
        authorize(self.runtime.admin_token, request.headers.get(ADMIN_HEADER), always=always)

    def _session(self) -> str | None:
        """The session ``X-Capmock-Session`` names (checked by the instrument middleware)."""
        exchange = current(request.scope)
        return exchange.session if exchange else None

    async def resetState(self) -> Response:  # noqa: N802
        self._authorize()
        return await world.reset(self.runtime, self._session()), 200

    async def showCustomer(self, userId: int) -> Response:  # noqa: N802, N803
        self._authorize()
        return await customers.show(self.runtime, userId, self._session()), 200

    async def listRequests(self, **filters: Any) -> Response:  # noqa: N802
        self._authorize()
        return await requests.listed(self.runtime, filters), 200

    async def showRequest(self, requestId: str) -> Response:  # noqa: N802, N803
        self._authorize()
        return await requests.shown(self.runtime, requestId), 200

    async def countRequests(self) -> Response:  # noqa: N802
        self._authorize()
        return await requests.counted(self.runtime, parsed_body()["match"]), 200

    async def verifyRequests(self) -> Response:  # noqa: N802
        self._authorize()
        body = parsed_body()
        return await requests.verified(self.runtime, body["match"], body.get("count"))

    async def clearRequests(self, session: str | None = None) -> Response:  # noqa: N802
        self._authorize()
        return await requests.cleared(self.runtime, session), 200

    async def createSession(self) -> Response:  # noqa: N802
        self._authorize()
        return await sessions.opened(self.runtime, parsed_body()), 201

    async def deleteSession(self, sessionId: str) -> Response:  # noqa: N802, N803
        self._authorize()
        closed = await sessions.closed(self.runtime, sessionId)
        await faults.ended(self.runtime, sessionId)
        return closed, 200

    async def resetSession(self, sessionId: str) -> Response:  # noqa: N802, N803
        self._authorize()
        return await sessions.reset(self.runtime, sessionId), 200

    async def showFixtures(self, secrets: bool = False) -> Response:  # noqa: N802
        self._authorize(always=secrets)
        return await world.show(self.runtime, secrets=secrets), 200

    async def replaceFixtures(self) -> Response:  # noqa: N802
        self._authorize()
        body = await read_body(request.receive, request.scope)
        return await world.replace(self.runtime, body), 200

    async def showConsole(self) -> StarletteResponse:  # noqa: N802
        return self.console.page()

    async def showConsoleFile(self, name: str) -> StarletteResponse:  # noqa: N802
        return self.console.asset(name)

    async def health(self) -> Response:
        return await world.health(self.runtime), 200

    async def addFault(self) -> Response:  # noqa: N802
        self._authorize()
        return await faults.add(self.runtime, parsed_body(), self._session()), 201

    async def listFaults(self) -> Response:  # noqa: N802
        self._authorize()
        return await faults.listing(self.runtime, self._session()), 200

    async def showFault(self, faultId: str) -> Response:  # noqa: N802, N803
        self._authorize()
        return await faults.show(self.runtime, faultId), 200

    async def removeFault(self, faultId: str) -> Response:  # noqa: N802, N803
        self._authorize()
        return await faults.remove(self.runtime, faultId), 200

    async def clearFaults(self) -> Response:  # noqa: N802
        self._authorize()
        return await faults.clear(self.runtime, self._session()), 200

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

"""The mock's own admin API (``openapi/admin.yaml``): reset, inspect, replace, health.

It is outside the Capillary contract, so contract tests against a live org never
see it. When the mock listens beyond loopback it demands the admin token.
"""

from __future__ import annotations

import hmac
from decimal import Decimal
from typing import Any

from connexion import request

from mock_server import contract
from mock_server.errors import ApiError, Code
from mock_server.fixtures import FixtureError, load_document
from mock_server.handlers import Response
from mock_server.model import CURRENCY, POINTS, Bucket
from mock_server.rules import ZERO, balance_text, plain
from mock_server.runtime import Runtime

ADMIN_HEADER = "X-CAPMOCK-ADMIN-TOKEN"


class AdminApi:
    """Operation handlers of ``openapi/admin.yaml``, by operationId."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def _authorize(self) -> None:
        expected = self.runtime.admin_token
        if expected is None:
            return
        given = request.headers.get(ADMIN_HEADER, "")
        if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
            raise ApiError.of(Code.ADMIN_TOKEN_REQUIRED)

    async def resetState(self) -> Response:  # noqa: N802
        self._authorize()
        await self.runtime.store.reset()
        world = await self.runtime.store.world()
        return {"status": "reset", "customers": len(world.customers)}, 200

    async def showCustomer(self, userId: int) -> Response:  # noqa: N802, N803
        self._authorize()
        store = self.runtime.store
        world = await store.world()
        customer = world.customers.get(userId)
        if customer is None:
            raise ApiError.of(Code.NOT_FOUND, method="GET", path=f"/__admin/customers/{userId}")
        balances = await store.balances(userId)
        for program_id in customer.programs:
            for category in contract.categories():
                balances.setdefault(Bucket(program_id, POINTS, category), ZERO)
            for currency in world.programs[program_id].currencies:
                balances.setdefault(Bucket(program_id, CURRENCY, currency), ZERO)
        return {
            "userId": userId,
            "sources": sorted(customer.sources),
            "balances": [
                {**_bucket_fields(bucket), "balance": balance_text(amount)}
                for bucket, amount in sorted(balances.items(), key=lambda item: item[0].key())
            ],
            "ledger": [
                {
                    "time": entry.time.isoformat(),
                    "source": entry.source,
                    "reason": entry.reason,
                    **_bucket_fields(entry.bucket),
                    "amount": plain(entry.amount),
                    "balanceAfter": balance_text(entry.balance_after),
                }
                for entry in await store.ledger(userId)
            ],
        }, 200

    async def showFixtures(self) -> Response:  # noqa: N802
        self._authorize()
        world = await self.runtime.store.world()
        return _json_ready(world.document), 200

    async def replaceFixtures(self) -> Response:  # noqa: N802
        self._authorize()
        # The raw text, JSON or YAML, not the parsed body: a shared store keeps the text
        # so that other workers can load exactly the same world from it.
        text = (await request.body()).decode("utf-8", "replace")
        try:
            world = load_document(text, "PUT /__admin/fixtures")
        except FixtureError as error:
            raise ApiError.of(Code.INVALID_FIXTURES, detail="; ".join(error.problems)) from None
        await self.runtime.store.replace(world)
        return {"status": "replaced", "customers": len(world.customers)}, 200

    async def health(self) -> Response:
        world = await self.runtime.store.world()
        return {
            "status": "ok",
            "customers": len(world.customers),
            "store": self.runtime.store.name,
        }, 200


def _json_ready(value: Any) -> Any:
    """The fixture document with its Decimals as JSON numbers (ints when whole).

    Exact: the loader admits at most 3 decimals and 10^12, so at most 15 significant
    digits, which a float holds and ``repr`` prints back unchanged.
    """
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_ready(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _bucket_fields(bucket: Bucket) -> dict[str, Any]:
    return {"programId": bucket.program_id, "kind": bucket.kind, "name": bucket.name}

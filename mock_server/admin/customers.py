"""One customer as the mock sees it: its identifiers, every balance, and the ledger of
deductions and allocations."""

from __future__ import annotations

from typing import Any

from mock_server import contract
from mock_server.errors import ApiError, Code
from mock_server.model import CURRENCY, POINTS, Bucket
from mock_server.rules.money import ZERO, balance_text, plain
from mock_server.runtime import Runtime


async def show(runtime: Runtime, user_id: int, session: str | None = None) -> dict[str, Any]:
    """The customer in the session's world (the default one without a session)."""
    store = runtime.store
    world = await store.world(session)
    customer = world.customers.get(user_id)
    if customer is None:
        raise ApiError.of(Code.NOT_FOUND, method="GET", path=f"/__admin/customers/{user_id}")
    balances = {
        bucket: amount
        for bucket, amount in (await store.balances(user_id, session)).items()
        if bucket.describes_a_balance()
    }
    for program_id in customer.programs:
        for category in contract.categories():
            balances.setdefault(Bucket(program_id, POINTS, category), ZERO)
        for currency in world.programs[program_id].currencies:
            balances.setdefault(Bucket(program_id, CURRENCY, currency), ZERO)
    return {
        "userId": user_id,
        "sources": sorted(customer.sources),
        "identifiers": customer.identifiers,
        "balances": [
            {**_bucket_fields(bucket), "balance": balance_text(amount)}
            for bucket, amount in sorted(balances.items(), key=lambda item: item[0].key())
        ],
        "ledger": [
            {
                "eventLogId": entry.event_id,
                "direction": entry.direction,
                "time": entry.time.isoformat(),
                "source": entry.source,
                "reason": entry.reason,
                **_bucket_fields(entry.bucket),
                "amount": plain(entry.amount),
                "balanceAfter": balance_text(entry.balance_after),
            }
            for entry in await store.ledger(user_id, session)
        ],
    }


def _bucket_fields(bucket: Bucket) -> dict[str, Any]:
    return {"programId": bucket.program_id, "kind": bucket.kind, "name": bucket.name}

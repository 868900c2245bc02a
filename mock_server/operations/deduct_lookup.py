"""negativePointsAdjustment by lookup: the customer named by an identifier rather than
by userId, then the same ``Deduction`` through the same rules and store as the userId
form (``operations.deduct``)."""

from __future__ import annotations

from typing import Any

from starlette.types import Scope

from mock_server.instrument.context import note_customer, session_of
from mock_server.operations import deduct
from mock_server.rules.change import Change
from mock_server.rules.lookup import NO_CUSTOMER, Identifier, located
from mock_server.runtime import Runtime

OPERATION = "deductPointsByLookup"


async def apply(
    runtime: Runtime, name: str, value: str, source: str, body: dict[str, Any], scope: Scope
) -> Change:
    """Apply one deduction in the request's session; raises the rules' refusal as an
    ``ApiError``."""
    identifier = Identifier.of(OPERATION, source, name, value)
    user_id = located(await runtime.store.world(session_of(scope)), identifier)
    if user_id != NO_CUSTOMER:
        note_customer(scope, user_id)
    deduction = deduct.to_deduction(user_id, source, body, identifier)
    return await deduct.applied(runtime, deduction, scope)

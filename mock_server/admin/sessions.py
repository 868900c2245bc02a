"""Sessions: isolated namespaces of the state, one per test, made, reset and ended."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from mock_server.errors import ApiError, Code
from mock_server.fixtures import FixtureError, load_document
from mock_server.model import World
from mock_server.runtime import Runtime
from mock_server.stores.base import SESSION_TTL, UnknownSessionError


async def opened(runtime: Runtime, body: dict[str, Any] | None) -> dict[str, Any]:
    """A new session over the fixtures given, else over the store's (nothing copied)."""
    body = body or {}
    world = _world(body["fixtures"]) if body.get("fixtures") is not None else None
    ttl = float(body.get("ttl") or SESSION_TTL)
    session = await runtime.store.open_session(world, ttl, runtime.max_sessions)
    return {
        "id": session.id,
        "expires": datetime.fromtimestamp(session.expires, UTC).isoformat(timespec="seconds"),
        "ttl": ttl,
    }


async def closed(runtime: Runtime, session: str) -> dict[str, Any]:
    try:
        await runtime.store.close_session(session)
    except UnknownSessionError:
        raise _missing("DELETE", session) from None
    removed = await runtime.journal.clear(session) if runtime.journal else 0
    return {"status": "deleted", "id": session, "requestsRemoved": removed}


async def reset(runtime: Runtime, session: str) -> dict[str, Any]:
    """Back to the session's fixtures, its journal emptied."""
    try:
        await runtime.store.reset(session)
    except UnknownSessionError:
        raise _missing("POST", f"{session}/reset") from None
    if runtime.journal:
        await runtime.journal.clear(session)
    world = await runtime.store.world(session)
    return {"status": "reset", "id": session, "customers": len(world.customers)}


def _world(document: Any) -> World:
    # Amounts come parsed as Decimals, written back as floats: exact for any valid
    # fixture (at most 3 decimals and 10^12: 15 digits, which a float prints back as is).
    text = json.dumps(document, default=float)
    try:
        return load_document(text, "POST /__admin/sessions fixtures")
    except FixtureError as error:
        raise ApiError.of(Code.INVALID_FIXTURES, detail="; ".join(error.problems)) from None


def _missing(method: str, rest: str) -> ApiError:
    return ApiError.of(Code.NOT_FOUND, method=method, path=f"/__admin/sessions/{rest}")

"""The failure instruments: faults (add, list, show, remove), the latency of every
Capillary operation, and the rate limit. All kept in the store, so that a change made
through any worker or replica acts on all of them from their next request.

A session named in ``X-Capmock-Session`` scopes the faults calls: a fault added is the
session's (``match.session``), and listing or removing them sees only the session's.
A session's faults go with it when it is deleted."""

from __future__ import annotations

import json
from typing import Any

from mock_server.errors import ApiError, Code
from mock_server.instrument.delays import delay_from
from mock_server.instrument.faults import Fault, jsonable, stored
from mock_server.instrument.ratelimit import RateLimit
from mock_server.instrument.settings import LATENCY, RATE_LIMIT, settings_from
from mock_server.runtime import Runtime


async def add(
    runtime: Runtime, document: dict[str, Any], session: str | None = None
) -> dict[str, Any]:
    if session is not None:
        await runtime.store.world(session)  # UnknownSessionError (9140) if there is none
        match = document.get("match") or {}
        named = match.get("session", session)
        if named != session:
            detail = f"match.session {named!r} is not the session X-Capmock-Session names"
            raise ApiError.of(Code.INVALID_INPUT, detail=detail)
        document = {**document, "match": {**match, "session": session}}
    text = stored(document, runtime.clock())
    fault_id = await runtime.store.failures.add(text)
    return Fault.from_record(fault_id, text).view(0)


async def listing(runtime: Runtime, session: str | None = None) -> dict[str, Any]:
    """The live faults (only the session's, when one is named), oldest first (those past
    their ``ttl`` are removed), and the seed their draws are keyed by."""
    if session is not None:
        await runtime.store.world(session)
    failures = runtime.store.failures
    settings = settings_from(await failures.load())
    now = runtime.clock()
    ended = [fault.id for fault in settings.faults if not fault.live(now)]
    if ended:
        await failures.remove(ended)
    matched = await failures.matched()
    live = [
        fault.view(matched.get(fault.id, 0))
        for fault in settings.faults
        if fault.live(now) and (session is None or fault.match.session == session)
    ]
    return {"faults": live, "seed": settings.seed}


async def show(runtime: Runtime, fault_id: str) -> dict[str, Any]:
    for fault in (await listing(runtime))["faults"]:
        if fault["id"] == fault_id:
            return dict(fault)
    raise _missing("GET", fault_id)


async def remove(runtime: Runtime, fault_id: str) -> dict[str, Any]:
    if not await runtime.store.failures.remove([fault_id]):
        raise _missing("DELETE", fault_id)
    return {"removed": 1}


async def clear(runtime: Runtime, session: str | None = None) -> dict[str, Any]:
    """Remove every fault, or only the session's."""
    if session is None:
        return {"removed": len(await runtime.store.failures.remove())}
    await runtime.store.world(session)
    return {"removed": await ended(runtime, session)}


async def ended(runtime: Runtime, session: str) -> int:
    """Remove the faults of a session (one that was just deleted, too); how many went."""
    failures = runtime.store.failures
    faults = settings_from(await failures.load()).faults
    return len(await failures.remove([f.id for f in faults if f.match.session == session]))


async def latency(runtime: Runtime) -> dict[str, Any]:
    setting = settings_from(await runtime.store.failures.load()).latency
    return {} if setting is None else {"latency": setting.document()}


async def set_latency(runtime: Runtime, document: dict[str, Any] | None) -> dict[str, Any]:
    delay = None if document is None else delay_from(jsonable(document))
    text = None if delay is None else json.dumps(delay.document())
    await runtime.store.failures.configure(LATENCY, text)
    return {} if delay is None else {"latency": delay.document()}


async def rate_limit(runtime: Runtime) -> dict[str, Any]:
    setting = settings_from(await runtime.store.failures.load()).rate_limit
    return {} if setting is None else {"rateLimit": setting.document()}


async def set_rate_limit(runtime: Runtime, document: dict[str, Any] | None) -> dict[str, Any]:
    limit = None if document is None else RateLimit.from_document(jsonable(document))
    text = None if limit is None else json.dumps(limit.document())
    await runtime.store.failures.configure(RATE_LIMIT, text)
    await runtime.store.failures.forget_windows()
    return {} if limit is None else {"rateLimit": limit.document()}


def _missing(method: str, fault_id: str) -> ApiError:
    return ApiError.of(Code.NOT_FOUND, method=method, path=f"/__admin/faults/{fault_id}")

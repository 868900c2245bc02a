"""The world being served: reset it, show it, replace it, and say whether it is healthy."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import anyio.to_thread

from mock_server.errors import ApiError, Code
from mock_server.fixtures import FixtureError, load_document
from mock_server.runtime import Runtime

REDACTED = "<redacted>"
SECRETS = (("users", "password"), ("oauthClients", "secret"))
"""The fields of the fixture document that are credentials."""


async def reset(runtime: Runtime, session: str | None = None) -> dict[str, Any]:
    """Back to the fixtures: the default world's state, or the session's."""
    await runtime.store.reset(session)
    world = await runtime.store.world(session)
    return {"status": "reset", "customers": len(world.customers)}


async def show(runtime: Runtime, *, secrets: bool = False) -> Any:
    """The document in force; passwords and OAuth secrets redacted unless ``secrets``."""
    world = await runtime.store.world()
    document = _json_ready(world.document)
    return document if secrets else redacted(document)


def redacted(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every credential's secret replaced by ``<redacted>``."""
    shown = dict(document)
    for section, field in SECRETS:
        if isinstance(shown.get(section), list):
            shown[section] = [
                {**item, field: REDACTED} if isinstance(item, dict) and field in item else item
                for item in shown[section]
            ]
    return shown


async def replace(runtime: Runtime, raw: bytes) -> dict[str, Any]:
    # The raw text, JSON or YAML, not the parsed body: a shared store keeps the text
    # so that other workers can load exactly the same world from it. It is read in a
    # worker thread, one document at a time, so that the event loop goes on answering.
    text = raw.decode("utf-8", "replace")
    try:
        world = await anyio.to_thread.run_sync(
            load_document, text, "PUT /__admin/fixtures", limiter=runtime.fixture_reader()
        )
    except FixtureError as error:
        raise ApiError.of(Code.INVALID_FIXTURES, detail="; ".join(error.problems)) from None
    await runtime.store.replace(world)
    return {"status": "replaced", "customers": len(world.customers)}


async def health(runtime: Runtime) -> dict[str, Any]:
    """Ok only when the store can be read and written now; else the store's error (503,
    naming the store and the problem) is raised."""
    await runtime.store.check()
    world = await runtime.store.world()
    return {"status": "ok", "customers": len(world.customers), "store": runtime.store.name}


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

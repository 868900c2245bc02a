"""The request journal as the admin API shows it: list, one entry and why, count,
verify (with near-misses), clear."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from mock_server.errors import ApiError, Code
from mock_server.instrument.journal import Page, View
from mock_server.instrument.verify import PatternError, matching, verify
from mock_server.runtime import Runtime

LIMIT = 100


async def _entries(runtime: Runtime) -> tuple[list[View], int]:
    if runtime.journal is None:
        return [], 0
    return await runtime.journal.entries()


FILTERS = (
    ("session", "session"),
    ("userId", "userId"),
    ("path", "path"),
    ("status", "status"),
    ("code", "code"),
    ("fault", "fault"),
)
"""The listing's query parameters, and the field of the entry's summary each one matches."""


async def listed(runtime: Runtime, filters: Mapping[str, Any]) -> dict[str, Any]:
    """The newest entries first, filtered; ``since`` is a time (ISO 8601) or a request id."""
    wanted = [(key, filters[name]) for name, key in FILTERS if filters.get(name) is not None]
    since = filters.get("since")
    after = _time(since) if since else None

    def keep(entry: View) -> bool:
        return all(entry[key] == value for key, value in wanted) and (
            since is None or (entry["time"] >= after if after is not None else entry["id"] > since)
        )

    limit = filters.get("limit") or LIMIT
    if runtime.journal is None:
        page = Page([], 0, 0, 0)
    else:
        page = await runtime.journal.page(keep if wanted or since else None, limit)
    return {
        "requests": page.entries,
        "matched": page.matched,
        "kept": page.kept,
        "dropped": page.dropped,
        "size": runtime.journal.size if runtime.journal else 0,
    }


async def shown(runtime: Runtime, request_id: str) -> View:
    """One entry, found on the summaries: only that one is rendered."""
    if runtime.journal is not None:
        page = await runtime.journal.page(lambda entry: entry["id"] == request_id, 1)
        if page.entries:
            return page.entries[0]
    raise ApiError.of(Code.NOT_FOUND, method="GET", path=f"/__admin/requests/{request_id}")


async def counted(runtime: Runtime, match: Mapping[str, Any]) -> dict[str, Any]:
    entries, _ = await _entries(runtime)
    return {"count": len(_matching(match, entries))}


async def verified(
    runtime: Runtime, match: Mapping[str, Any], count: Mapping[str, int] | None
) -> tuple[dict[str, Any], int]:
    """200 when as many requests match as ``count`` says (exactly 1 by default), else 409
    with the report: expected, actual, and the closest near-misses."""
    entries, _ = await _entries(runtime)
    try:
        ok, report = verify(match, count or {"eq": 1}, entries)
    except PatternError as error:
        raise ApiError.of(Code.INVALID_INPUT, detail=f"match.{error}") from None
    return report, 200 if ok else 409


async def cleared(runtime: Runtime, session: str | None) -> dict[str, Any]:
    removed = await runtime.journal.clear(session) if runtime.journal else 0
    return {"status": "cleared", "removed": removed}


def _matching(match: Mapping[str, Any], entries: list[View]) -> list[View]:
    try:
        return matching(match, entries)
    except PatternError as error:
        raise ApiError.of(Code.INVALID_INPUT, detail=f"match.{error}") from None


def _time(text: str) -> str | None:
    """``since`` as the journal writes times, when it is a time."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")

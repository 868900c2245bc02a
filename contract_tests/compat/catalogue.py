"""The error catalogue: which codes the API answers with, their status and message.

Capillary's behaviour lives in codes inside bodies, which no schema diff sees. The
contract lists them in ``x-capmock-errors`` (code, default HTTP status, message with
``{placeholders}``); this module compares the two lists. A client that switches on 8015
breaks when 8015 disappears or moves from 400 to 404: those are ERR. A new code is WARN
(clients must treat unknown codes as a generic refusal, which the contract asks them to),
a new message WARN (clients should not parse messages, some show or match them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from contract_tests.compat.documents import ParseError
from contract_tests.compat.findings import Finding, Place, Severity

EXTENSION = "x-capmock-errors"


@dataclass(frozen=True, slots=True)
class Entry:
    code: int
    status: int
    message: str


def read(document: dict[str, Any], label: str) -> dict[int, Entry] | None:
    """The catalogue of a contract by code, or None when it carries none."""
    if EXTENSION not in document:
        return None
    rows = document[EXTENSION]
    if not isinstance(rows, list):
        raise ParseError(f"{label}: {EXTENSION} must be a list of {{code, status, message}}")
    entries: dict[int, Entry] = {}
    for index, row in enumerate(rows):
        if not (
            isinstance(row, dict)
            and _integer(row.get("code"))
            and _integer(row.get("status"))
            and isinstance(row.get("message"), str)
        ):
            raise ParseError(
                f"{label}: {EXTENSION}[{index}] must have an integer code and status and a "
                f"string message, got {row!r}"
            )
        if row["code"] in entries:
            raise ParseError(f"{label}: {EXTENSION} lists code {row['code']} twice")
        entries[row["code"]] = Entry(row["code"], row["status"], " ".join(row["message"].split()))
    return entries


def compare(
    old: dict[str, Any], new: dict[str, Any], old_label: str, new_label: str
) -> list[Finding]:
    return list(_compare(read(old, old_label), read(new, new_label)))


def _compare(was: dict[int, Entry] | None, now: dict[int, Entry] | None) -> Iterator[Finding]:
    table = (Place("", EXTENSION),)
    if was is None and now is None:
        return
    if was is None:
        yield Finding(
            "error-catalogue-added",
            Severity.INFO,
            f"the contract now lists its {len(now or {})} error codes",
            table,
            source="catalogue",
            note="the old contract had no catalogue: codes are compared from the next change on",
        )
        return
    if now is None:
        yield Finding(
            "error-catalogue-removed",
            Severity.WARN,
            "the contract no longer lists its error codes",
            table,
            source="catalogue",
            note="removed, moved or reworded codes can no longer be seen",
        )
        return
    for code, entry in sorted(was.items()):
        place = (Place("", f"error {code}"),)
        if code not in now:
            yield Finding(
                "error-code-removed",
                Severity.ERR,
                f"code {code} ({entry.status}) was removed",
                place,
                old=_row(entry),
                source="catalogue",
                note="clients that switch on it no longer see it",
            )
            continue
        current = now[code]
        if current.status != entry.status:
            yield Finding(
                "error-status-changed",
                Severity.ERR,
                f"code {code} moved from {entry.status} to {current.status}",
                place,
                old=entry.status,
                new=current.status,
                source="catalogue",
                note="clients that switch on the status take another branch",
            )
        if current.message != entry.message:
            yield Finding(
                "error-message-changed",
                Severity.WARN,
                f"the message of code {code} changed",
                place,
                old=entry.message,
                new=current.message,
                source="catalogue",
                note=f"was: {entry.message} | now: {current.message}",
            )
    for code, entry in sorted(now.items()):
        if code not in was:
            yield Finding(
                "error-code-added",
                Severity.WARN,
                f"new code {code} ({entry.status})",
                (Place("", f"error {code}"),),
                new=_row(entry),
                source="catalogue",
                note=f"message: {entry.message}",
            )


def _row(entry: Entry) -> dict[str, Any]:
    return {"code": entry.code, "status": entry.status, "message": entry.message}


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

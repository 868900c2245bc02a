"""Which customers a request may name: the one rule that keeps live runs safe.

A request names customers in three places: the ``userId`` of a path, the
``identifierName``/``identifierValue`` of a lookup's query (comma-separated lists in the
balance lookup), and the ``lookupParams`` of each allocation item. Every customer it
names must be one the run may reach:

- always, ids and identifiers no customer has: the profile's unknown customer and
  unknown identifier, and the ids beyond 32 bits of ``spec.WIDE_USER_IDS``;
- for a read (GET: the balance, the ledger), also the test customer: reading changes
  nothing;
- for anything else, the test customer only when the run may write.

A request that names no customer (a malformed path, no identifier, a body that is not
JSON) reaches nobody, so it is safe anywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from contract_tests import spec
from contract_tests.profile import Profile

CUSTOMER_PATH = re.compile(r"^/v2/customers/([^/?]+)/")
INT64_MAX = 2**63 - 1
ID = "id"


class UnsafeRequestError(Exception):
    """A request that could change the target's data, in a run that may not write."""


@dataclass(frozen=True)
class Reach:
    profile: Profile
    writes: bool

    def user_ids(self, read: bool = False) -> frozenset[int]:
        """The userIds a request may name."""
        ids = {self.profile.unknown_customer_id, *spec.WIDE_USER_IDS}
        if self.writes or read:
            ids.add(self.profile.user_id)
        return frozenset(ids)

    def values(self, name: str, read: bool = False) -> frozenset[str]:
        """The identifier values a request may give under ``name`` (any name it does not
        know: the values of every name)."""
        ids = frozenset(str(user_id) for user_id in self.user_ids(read))
        values = {self.profile.unknown_identifier[1]}
        if self.writes or read:
            values |= set(self.profile.identifiers.values())
        if name == ID:
            return ids
        if name in spec.enum("IdentifierName"):
            return frozenset(values)
        return frozenset(values) | ids

    def aim(self, name: str, read: bool = False) -> str:
        """The value a request gives an identifier ``name`` to stay within reach: the test
        customer's when it may be reached (by userId for ``id``), else the unknown one's."""
        profile = self.profile
        if self.writes or read:
            if name == ID:
                return str(profile.user_id)
            if name in profile.identifiers:
                return profile.identifiers[name]
        return str(profile.unknown_customer_id) if name == ID else profile.unknown_identifier[1]

    def check(
        self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None
    ) -> None:
        """Raise ``UnsafeRequestError`` for a request that names a customer the run may not
        reach. ``body``: the JSON sent, or the raw bytes."""
        read = method.upper() == "GET"
        match = CUSTOMER_PATH.match(path)
        if match is not None and match[1].isdigit():
            user_id = int(match[1])
            if 1 <= user_id <= INT64_MAX and user_id not in self.user_ids(read):
                raise UnsafeRequestError(
                    f"{method} {path} names customer {user_id}: {self._why(user_id)}"
                )
        query = params or {}
        if "identifierValue" in query:
            names = str(query.get("identifierName", "")).split(",")
            self._check_values(method, path, names, str(query["identifierValue"]).split(","), read)
        if path == spec.ALLOCATE_PATH:
            for name, value in _allocated(body):
                self._check_values(method, path, [name], [value], read)

    def _check_values(
        self, method: str, path: str, names: list[str], values: list[str], read: bool
    ) -> None:
        for index, value in enumerate(values):
            name = names[index] if index < len(names) else ""
            if value not in self.values(name, read):
                why = (
                    "this run may not write"
                    if value in self.values(name, read=True)
                    else "it is not the profile's test customer nor its unknown identifier"
                )
                raise UnsafeRequestError(
                    f"{method} {path} names {name or 'a customer'} {value!r}: {why}"
                )

    def _why(self, user_id: int) -> str:
        if user_id == self.profile.user_id:
            return "this run may not write"
        return "it is not the profile's test customer"


def _allocated(body: Any) -> Iterator[tuple[str, str]]:
    """The (identifierType, identifierValue) of every allocation item of a body."""
    if isinstance(body, bytes):
        try:
            body = json.loads(body)
        except (ValueError, RecursionError):  # not JSON: it names nobody
            return
    if not isinstance(body, list):
        return
    for item in body:
        lookup = item.get("lookupParams") if isinstance(item, dict) else None
        if isinstance(lookup, dict) and "identifierValue" in lookup:
            yield str(lookup.get("identifierType", "")), _text(lookup["identifierValue"])


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)

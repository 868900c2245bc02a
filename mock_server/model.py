"""The world the mock emulates: immutable records built from a fixture file.

Balances are the only thing that changes while the mock runs, and they live in a
store (see ``store.py``); everything here is read-only once loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

POINTS = "points"
CURRENCY = "currency"


@dataclass(frozen=True, slots=True)
class Program:
    id: int
    name: str
    default: bool
    round_decimals: int
    currencies: frozenset[str]


@dataclass(frozen=True, slots=True)
class Promotion:
    id: int
    identifier: str
    program_id: int


@dataclass(frozen=True, slots=True)
class Award:
    """A points-awarded record that a deduction may name (``pointsAwardedId``)."""

    id: int
    user_id: int
    program_id: int
    ref_type: str
    points: Decimal


@dataclass(frozen=True, slots=True)
class Principal:
    """A Basic-auth user or an OAuth client: a name, a secret and access groups."""

    name: str
    secret: str
    access_groups: frozenset[str]


@dataclass(frozen=True, slots=True)
class Bucket:
    """One balance of a customer: a points category or an alternate currency of a program."""

    program_id: int
    kind: str  # POINTS or CURRENCY
    name: str  # the category (REGULAR...) or the currency name

    def describe(self) -> str:
        """How explanations name it: ``REGULAR balance of program 973``."""
        return f"{self.name} balance of program {self.program_id}"

    def key(self) -> str:
        """A stable text key, used by stores that persist balances."""
        return f"{self.program_id}:{self.kind}:{self.name}"

    @classmethod
    def from_key(cls, key: str) -> Bucket:
        program_id, kind, name = key.split(":", 2)
        return cls(int(program_id), kind, name)


@dataclass(frozen=True, slots=True)
class Customer:
    user_id: int
    sources: frozenset[str]
    programs: frozenset[int]
    opening: dict[Bucket, Decimal] = field(hash=False)
    """Opening balances from the fixture; a bucket that is not listed starts at 0."""


@dataclass(frozen=True, slots=True)
class World:
    """Everything a fixture file defines."""

    allow_negative_balance: bool
    error_status: dict[int, int]
    token_ttl_seconds: int
    users: dict[str, Principal]
    oauth_clients: dict[str, Principal]
    programs: dict[int, Program]
    promotions: dict[int, Promotion]
    promotions_by_identifier: dict[str, Promotion]
    awards: dict[int, Award]
    customers: dict[int, Customer]
    document: dict[str, Any] = field(hash=False, compare=False, repr=False)
    """The fixture document as parsed (amounts as Decimals)."""
    text: str | None = field(default=None, compare=False, repr=False)
    """The YAML or JSON text the world was loaded from (None when loaded from a parsed
    mapping). Shared stores persist this text and other workers load it again: the
    only form that is exact by construction, where a re-serialised document is not."""

    default_program_id: int | None = field(init=False, compare=False)
    """The program a request that names none is made in (computed: it is asked per request)."""

    def __post_init__(self) -> None:
        default = next((p.id for p in self.programs.values() if p.default), None)
        object.__setattr__(self, "default_program_id", default)

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
UNIQUE = "unique"
"""The kind of a customer's record of an allocation's ``uniqueId``: kept beside the
balances, so that the check for a repeated one is as atomic as a balance."""

IDENTIFIER_NAMES = ("mobile", "email", "externalId")
"""The identifiers a customer may have in each source (unique within the source)."""
ID = "id"
"""The identifier name that looks a customer up by userId."""
LOOKUP_NAMES = (*IDENTIFIER_NAMES, ID)
"""The identifier names a lookup accepts unless the fixtures narrow them."""
DEFAULT_ORG_ID = 100737
"""The org of Capillary's own documentation examples."""
DEFAULT_PRIMARY_IDENTIFIER = "mobile"
"""Capillary's usual ``CONF_REGISTRATION_PRIMARY_KEY``, and its documentation's example."""


@dataclass(frozen=True, slots=True)
class Program:
    id: int
    name: str
    default: bool
    round_decimals: int
    currencies: frozenset[str]
    currency_identifiers: dict[str, str] = field(default_factory=dict, hash=False)
    """``alternateCurrencyIdentifier`` (e.g. ``9DxGBP``) to the currency's name."""


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
class AwardStrategy:
    """How an allocation computes what it issues (``awardStrategyId``, the "earn code"):
    ``points`` whatever the sourceValue, or ``per_unit`` for each unit of it."""

    id: int
    program_id: int
    points: Decimal | None = None
    per_unit: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ExpiryStrategy:
    id: int
    program_id: int


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

    def describes_a_balance(self) -> bool:
        return self.kind != UNIQUE

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
    identifiers: dict[str, dict[str, str]] = field(default_factory=dict, hash=False)
    """Per source, the customer's identifiers there: ``mobile``, ``email``, ``externalId``."""
    first_name: str | None = None
    last_name: str | None = None

    def identifier(self, source: str, name: str) -> str | None:
        """The customer's identifier ``name`` in ``source`` (any source for ``ALL``)."""
        if source in self.identifiers:
            return self.identifiers[source].get(name)
        found = (ids[name] for ids in self.identifiers.values() if name in ids)
        return next(found, None) if source == "ALL" else None


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
    org_id: int = DEFAULT_ORG_ID
    primary_identifier: str = DEFAULT_PRIMARY_IDENTIFIER
    """The org's ``CONF_REGISTRATION_PRIMARY_KEY``: mobile, email or externalId."""
    dual_eligibility: bool = True
    """Whether the balance lookup takes several identifiers and needs the primary one."""
    identifier_names: dict[str, frozenset[str]] = field(default_factory=dict, hash=False)
    """Per lookup operation (operationId), the identifier names it accepts; an operation
    not listed accepts ``LOOKUP_NAMES``."""
    award_strategies: dict[int, AwardStrategy] = field(default_factory=dict, hash=False)
    expiry_strategies: dict[int, ExpiryStrategy] = field(default_factory=dict, hash=False)
    buckets: dict[tuple[int, str, str], Bucket] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )
    """The Buckets of the opening balances, one object each, shared by every customer."""
    text: str | None = field(default=None, compare=False, repr=False)
    """The YAML or JSON text the world was loaded from (None when loaded from a parsed
    mapping). Shared stores persist this text and other workers load it again: the
    only form that is exact by construction, where a re-serialised document is not."""

    default_program_id: int | None = field(init=False, compare=False)
    """The program a request that names none is made in (computed: it is asked per request)."""
    by_identifier: dict[tuple[str, str, str], int] = field(
        init=False, compare=False, hash=False, repr=False
    )
    """(source, identifier name, value) to userId (computed from the customers)."""

    def __post_init__(self) -> None:
        default = next((p.id for p in self.programs.values() if p.default), None)
        object.__setattr__(self, "default_program_id", default)
        index = {
            (source, name, value): customer.user_id
            for customer in self.customers.values()
            for source, identifiers in customer.identifiers.items()
            for name, value in identifiers.items()
        }
        object.__setattr__(self, "by_identifier", index)

    def bucket(self, program_id: int, kind: str, name: str) -> Bucket:
        """The fixtures' own Bucket for this balance, or a new one: a deduction shares it
        rather than making one more object for the journal and the ledger to keep."""
        return self.buckets.get((program_id, kind, name)) or Bucket(program_id, kind, name)

    def accepts(self, operation: str, name: str) -> bool:
        """Whether the lookup ``operation`` takes the identifier ``name``."""
        return name in self.identifier_names.get(operation, LOOKUP_NAMES)

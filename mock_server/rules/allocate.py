"""The rules of one item of manualCurrencyAllocate, in the order they are checked.

``allocate`` is a pure function: the world, one item, the customer's balances and the
time in; a credit or a refusal out. Each item of a call is decided (and stored) on its
own, in order, so one refusal never undoes another item. The shape of the call (an
array of 1 to 10 items, each with its required fields) is the contract's; see
``lanes/validation.py``.

What is issued comes from the award strategy (``awardStrategyId``), not from the item:
a fixed number of points, or points per unit of ``sourceValue``, rounded as the item
says (``FLOOR`` when it does not). It goes to the customer's ``currencyType`` points
(``REGULAR`` when not given) or, with ``alternateCurrencyIdentifier``, to that currency.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from mock_server.errors import Code, RuleError
from mock_server.model import CURRENCY, POINTS, UNIQUE, Bucket, Customer, Program, World
from mock_server.rules.change import CREDIT, Change, LedgerEntry
from mock_server.rules.lookup import Identifier, find
from mock_server.rules.money import MAX_AMOUNT, ZERO, plain

CUSTOMER = "CUSTOMER"
EVENTS = ("TransactionAdd", "TargetCompleted", "GenericEvent")
"""The ``eventName`` values an allocation may give."""
FLOOR, ROUND, ACTUAL = "FLOOR", "ROUND", "ACTUAL"
FIXED_SOURCE_VALUE = Decimal(-1)
"""The ``sourceValue`` Capillary's examples send for a fixed award."""
UNIQUE_PROGRAM = 0
"""The program of a customer's ``uniqueId`` records: one set per customer, any program."""

ROWS: dict[int, Code] = {
    7: Code.WRONG_ORG,
    8: Code.NOT_SUPPORTED,
    9: Code.INVALID_IDENTIFIER,
    10: Code.CUSTOMER_NOT_FOUND,
    11: Code.ALLOCATION_REFUSED,
    12: Code.NOT_ENROLLED,
    13: Code.ALLOCATION_REFUSED,
    14: Code.ALLOCATION_REFUSED,
    15: Code.ALLOCATION_REFUSED,
    16: Code.ALLOCATION_REFUSED,
    17: Code.SOURCE_VALUE_NEGATIVE,
    18: Code.AMOUNT_TOO_LARGE,
    19: Code.DUPLICATE_UNIQUE_ID,
}
"""The rows of the allocation's rules table (docs/rules.md) and the code of each."""

LOOKUP_ROWS = {Code.INVALID_IDENTIFIER: 9, Code.CUSTOMER_NOT_FOUND: 10}


@dataclass(frozen=True, slots=True)
class Allocation:
    """One item of a call, with its shape already checked against the contract."""

    user_id: int
    """Whom the lookup found when the call came in (``rules.lookup.NO_CUSTOMER`` if nobody)."""
    identifier: Identifier
    org_id: int
    program_id: int
    award_strategy_id: int
    expiry_strategy_id: int
    source_value: Decimal
    event_name: str
    event_source_id: str
    entity_type: str = CUSTOMER
    currency_type: str = "REGULAR"
    currency_identifier: str | None = None
    unique_id: str | None = None
    source_value_rounding: str = FLOOR
    points_rounding: str = FLOOR


@dataclass(frozen=True, slots=True)
class Credited(Change):
    raw: Decimal | None = None
    """What the strategy gave before rounding (None when not known: an entry read back)."""


def _refuse(row: int, reason: str, **values: object) -> RuleError:
    return RuleError(row, ROWS[row], reason, **values)


def allocate(
    world: World,
    item: Allocation,
    balances: Mapping[Bucket, Decimal],
    now: datetime,
) -> Credited | RuleError:
    """Apply every rule to one item; return the credit to store, or the refusal and why."""
    if item.org_id != world.org_id:
        return _refuse(
            7,
            f"the item names orgId {item.org_id}; this org is {world.org_id} (org.id)",
            org_id=item.org_id,
            expected=world.org_id,
        )
    if item.entity_type != CUSTOMER:
        return _refuse(
            8,
            f"lookupParams.entityType is {item.entity_type}",
            what=f"allocations to a {item.entity_type}",
        )
    customer = find(world, item.identifier, LOOKUP_ROWS)
    if isinstance(customer, RuleError):
        return customer
    if customer.user_id != item.user_id:
        return _refuse(
            10,
            f"the fixtures were replaced while the item was decided: the identifier now names "
            f"customer {customer.user_id}; send it again",
        )
    program = _program(world, item, customer)
    if isinstance(program, RuleError):
        return program
    refused = _strategies_and_event(world, item, program)
    if refused is not None:
        return refused
    bucket = _bucket(item, program)
    if isinstance(bucket, RuleError):
        return bucket
    raw = _award(world, item)
    if isinstance(raw, RuleError):
        return raw
    awarded = _rounded(raw, item.points_rounding, program.round_decimals)
    if awarded > MAX_AMOUNT:
        return _refuse(
            18,
            f"award strategy {item.award_strategy_id} gives {plain(awarded)} for sourceValue "
            f"{plain(item.source_value)}",
            field="awardedPoints",
            value=plain(awarded),
        )
    marker = None
    if item.unique_id is not None:
        marker = Bucket(UNIQUE_PROGRAM, UNIQUE, item.unique_id)
        if marker in balances:
            return _refuse(
                19,
                f"customer {customer.user_id} already has an event with uniqueId "
                f"{item.unique_id!r}",
            )
    balance = balances.get(bucket, ZERO) + awarded
    reason = f"{item.event_name} {item.event_source_id}"
    entry = LedgerEntry(now, item.identifier.source, reason, bucket, awarded, balance, CREDIT)
    return Credited(bucket, balance, entry, marker, raw)


def _program(world: World, item: Allocation, customer: Customer) -> Program | RuleError:
    program = world.programs.get(item.program_id)
    if program is None:
        return _refuse(
            11, f"program {item.program_id} does not exist", detail="Program with id not found"
        )
    if program.id not in customer.programs:
        enrolled = ", ".join(str(p) for p in sorted(customer.programs))
        return _refuse(
            12,
            f"customer {customer.user_id} is enrolled in [{enrolled}], not in {program.id}",
            program_id=program.id,
        )
    return program


def _strategies_and_event(world: World, item: Allocation, program: Program) -> RuleError | None:
    strategy = world.award_strategies.get(item.award_strategy_id)
    if strategy is None or strategy.program_id != program.id:
        return _refuse(
            13,
            f"program {program.id} has no award strategy {item.award_strategy_id}",
            detail=f"Award Strategy not found with id : {item.award_strategy_id}",
        )
    expiry = world.expiry_strategies.get(item.expiry_strategy_id)
    if expiry is None or expiry.program_id != program.id:
        return _refuse(
            14,
            f"program {program.id} has no expiry strategy {item.expiry_strategy_id}",
            detail=f"Expiry strategy not found with id :  : {item.expiry_strategy_id}",
        )
    if item.event_name not in EVENTS:
        return _refuse(
            15,
            f"eventName {item.event_name!r} is not one of {', '.join(EVENTS)}",
            detail="Event not supported for Manual currency allocation, Supported events are "
            "[TransactionAdd, TargetCompleted, Behavioural events]",
        )
    return None


def _bucket(item: Allocation, program: Program) -> Bucket | RuleError:
    if item.currency_identifier is None:
        return Bucket(program.id, POINTS, item.currency_type)
    name = program.currency_identifiers.get(item.currency_identifier)
    if name is None:
        known = ", ".join(sorted(program.currency_identifiers)) or "none"
        return _refuse(
            16,
            f"program {program.id} has the currency identifiers [{known}], not "
            f"{item.currency_identifier!r}",
            detail=f"Alternate currency not found with provided identifier : "
            f"{item.currency_identifier}",
        )
    return Bucket(program.id, CURRENCY, name)


def _award(world: World, item: Allocation) -> Decimal | RuleError:
    """What the strategy gives, before the points are rounded."""
    strategy = world.award_strategies[item.award_strategy_id]
    if strategy.points is not None:
        return strategy.points
    assert strategy.per_unit is not None  # the loader admits one of the two
    if item.source_value < 0:
        return _refuse(
            17,
            f"award strategy {strategy.id} awards {plain(strategy.per_unit)} per unit of "
            f"sourceValue, and sourceValue is {plain(item.source_value)}",
            strategy_id=strategy.id,
            value=plain(item.source_value),
        )
    units = _rounded(item.source_value, item.source_value_rounding, None)
    return strategy.per_unit * units


def _rounded(value: Decimal, strategy: str, decimals: int | None) -> Decimal:
    """FLOOR and ROUND give a whole number; ACTUAL keeps ``decimals`` places (flooring
    beyond them), or the value itself when ``decimals`` is None."""
    if strategy == FLOOR:
        return value.quantize(Decimal(1), ROUND_FLOOR)
    if strategy == ROUND:
        return value.quantize(Decimal(1), ROUND_HALF_UP)
    if decimals is None:
        return value
    return value.quantize(Decimal(1).scaleb(-decimals), ROUND_FLOOR)

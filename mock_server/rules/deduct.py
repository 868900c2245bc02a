"""The business rules of negativePointsAdjustment, in the order they are checked.

``deduct`` is a pure function: the world, one request, the customer's balances and
the time in; a deduction or a refusal out. It knows nothing of HTTP or of stores.
Shape errors (missing source, a reason that is blank or too long, an amount that is
not a number...) are refused earlier, by the contract's schema; see ``lanes/validation.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from mock_server.errors import ApiError, Code
from mock_server.model import CURRENCY, POINTS, Bucket, World
from mock_server.rules.money import MAX_AMOUNT, ZERO, decimal_places, plain

ANY_SOURCE = "ALL"


@dataclass(frozen=True, slots=True)
class Deduction:
    """One request to deduct, with its shape already checked against the contract."""

    user_id: int
    source: str
    reason: str
    amount: Decimal
    """``valueToBeAdjusted`` when a currency is named, else ``pointsToBeAdjusted``."""
    category: str = "REGULAR"
    currency: str | None = None
    program_id: int | None = None
    promotion_id: int | None = None
    promotion_identifier: str | None = None
    award_id: int | None = None
    award_ref_type: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    time: datetime
    source: str
    reason: str
    bucket: Bucket
    amount: Decimal
    balance_after: Decimal


@dataclass(frozen=True, slots=True)
class Deducted:
    bucket: Bucket
    balance: Decimal
    entry: LedgerEntry

    @property
    def message(self) -> str:
        what = "points" if self.bucket.kind == POINTS else self.bucket.name
        return f"{what} deducted successfully for the user "


def deduct(
    world: World,
    request: Deduction,
    balances: Mapping[Bucket, Decimal],
    now: datetime,
) -> Deducted | ApiError:
    """Apply every business rule; return the deduction to store, or the refusal."""
    amount = request.amount
    if amount == ZERO:
        return ApiError.of(Code.AMOUNT_ZERO)
    if amount > MAX_AMOUNT:
        field = "valueToBeAdjusted" if request.currency else "pointsToBeAdjusted"
        return ApiError.of(Code.AMOUNT_TOO_LARGE, field=field, value=plain(amount))
    if request.promotion_id is not None and request.promotion_identifier is not None:
        return ApiError.of(Code.PROMOTION_ID_AND_IDENTIFIER)
    if request.promotion_identifier is not None and request.program_id is None:
        return ApiError.of(Code.PROGRAM_ID_REQUIRED)

    customer = world.customers.get(request.user_id)
    if customer is None or (
        request.source != ANY_SOURCE and request.source not in customer.sources
    ):
        return ApiError.of(Code.CUSTOMER_NOT_FOUND)

    named_program = _check_promotion(world, request)
    if isinstance(named_program, ApiError):
        return named_program
    award_program = _check_award(world, request, named_program)
    if isinstance(award_program, ApiError):
        return award_program

    program_id = named_program if named_program is not None else award_program
    if program_id is None:
        program_id = world.default_program_id
    program = world.programs.get(program_id) if program_id is not None else None
    if program is None or program.id not in customer.programs:
        shown = program_id if program_id is not None else "null"
        return ApiError.of(Code.NOT_ENROLLED, program_id=shown)

    if request.currency is not None:
        if request.currency not in program.currencies:
            return ApiError.of(Code.UNKNOWN_CURRENCY, name=request.currency)
        bucket = Bucket(program.id, CURRENCY, request.currency)
    else:
        bucket = Bucket(program.id, POINTS, request.category)

    places = decimal_places(amount)
    if places > program.round_decimals:
        return ApiError.of(
            Code.TOO_MANY_DECIMALS,
            places=places,
            decimals=program.round_decimals,
            program_id=program.id,
        )

    available = balances.get(bucket, ZERO)
    if amount > available and not world.allow_negative_balance:
        return ApiError.of(Code.INSUFFICIENT_BALANCE, amount=plain(amount))

    balance = available - amount
    entry = LedgerEntry(now, request.source, request.reason, bucket, amount, balance)
    return Deducted(bucket, balance, entry)


def _check_promotion(world: World, request: Deduction) -> int | ApiError | None:
    """The program the request names (``programId``, else its promotion's), or 8874
    for a promotion that does not exist or is not of the named program."""
    if request.promotion_id is not None:
        promotion = world.promotions.get(request.promotion_id)
    elif request.promotion_identifier is not None:
        promotion = world.promotions_by_identifier.get(request.promotion_identifier)
    else:
        return request.program_id
    if promotion is None or (
        request.program_id is not None and promotion.program_id != request.program_id
    ):
        return ApiError.of(Code.INVALID_PROMOTION)
    return promotion.program_id


def _check_award(
    world: World, request: Deduction, named_program: int | None
) -> int | ApiError | None:
    """The award's program, or 8877 for an award that is unknown, another customer's
    or of another program than the one named; 9975 when its ref type is missing or
    not the award's."""
    if request.award_id is None:
        return None
    award = world.awards.get(request.award_id)
    if (
        award is None
        or award.user_id != request.user_id
        or (named_program is not None and award.program_id != named_program)
    ):
        return ApiError.of(Code.INVALID_AWARD)
    if request.award_ref_type != award.ref_type:
        return ApiError.of(Code.INVALID_REF_TYPE)
    return award.program_id

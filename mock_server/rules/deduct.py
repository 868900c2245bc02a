"""The business rules of negativePointsAdjustment, in the order they are checked.

``deduct`` is a pure function: the world, one request, the customer's balances and
the time in; a deduction or a refusal out. It knows nothing of HTTP or of stores.
Shape errors (missing source, a reason that is blank or too long, an amount that is
not a number...) are refused earlier, by the contract's schema; see ``lanes/validation.py``.

Both forms of the endpoint, by ``userId`` and by lookup (``identifierName``...), share
every rule; only rule 19, which finds the customer, differs (``rules.lookup``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from mock_server.errors import Code, RuleError
from mock_server.model import CURRENCY, POINTS, Bucket, Customer, Program, World
from mock_server.rules.change import Change, LedgerEntry
from mock_server.rules.lookup import ANY_SOURCE, Identifier, find
from mock_server.rules.money import MAX_AMOUNT, ZERO, balance_text, decimal_places, plain


@dataclass(frozen=True, slots=True)
class Deduction:
    """One request to deduct, with its shape already checked against the contract."""

    user_id: int
    """The customer whose balances the store reads: the path's userId, or whom the
    lookup found when the request came in (``rules.lookup.NO_CUSTOMER`` if nobody)."""
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
    identifier: Identifier | None = None
    """How the lookup form names the customer; None for the userId form."""


@dataclass(frozen=True, slots=True)
class Deducted(Change):
    @property
    def message(self) -> str:
        return success_message(self.bucket)


ROWS: dict[Code, int] = {
    Code.AMOUNT_TOO_LARGE: 12,
    Code.AMOUNT_ZERO: 16,
    Code.PROMOTION_ID_AND_IDENTIFIER: 17,
    Code.PROGRAM_ID_REQUIRED: 18,
    Code.CUSTOMER_NOT_FOUND: 19,
    Code.INVALID_PROMOTION: 20,
    Code.INVALID_AWARD: 21,
    Code.INVALID_REF_TYPE: 22,
    Code.NOT_ENROLLED: 23,
    Code.UNKNOWN_CURRENCY: 24,
    Code.TOO_MANY_DECIMALS: 25,
    Code.INSUFFICIENT_BALANCE: 26,
}
"""The row of the rules table (docs/rules.md) each refusal of ``deduct`` comes from."""

LOOKUP_ROWS: dict[Code, int] = {**ROWS, Code.INVALID_IDENTIFIER: 19}
"""The rows of the lookup form's table: the same, and rule 19 also refuses an
identifierName the org does not accept (8013)."""


def success_message(bucket: Bucket) -> str:
    """The success body's message: ``points deducted...`` or ``<currency> deducted...``."""
    what = "points" if bucket.kind == POINTS else bucket.name
    return f"{what} deducted successfully for the user "


def _refuse(
    code: Code,
    reason: str,
    request: Deduction,
    program_id: int | None = None,
    program: Program | None = None,
) -> RuleError:
    return RuleError(ROWS[code], code, reason, **_values(code, request, program_id, program))


def _values(
    code: Code, request: Deduction, program_id: int | None, program: Program | None
) -> dict[str, object]:
    """What the message of ``code`` names for this request, in the program it is made in."""
    if code == Code.AMOUNT_TOO_LARGE:
        return {"field": _amount_field(request), "value": plain(request.amount)}
    if code == Code.NOT_ENROLLED:
        return {"program_id": program_id if program_id is not None else "null"}
    if code == Code.UNKNOWN_CURRENCY:
        return {"name": request.currency}
    if code == Code.TOO_MANY_DECIMALS:
        return {
            "places": decimal_places(request.amount),
            "decimals": program.round_decimals if program is not None else "null",
            "program_id": program_id if program_id is not None else "null",
        }
    if code == Code.INSUFFICIENT_BALANCE:
        return {"amount": plain(request.amount)}
    return {}


def _amount_field(request: Deduction) -> str:
    return "valueToBeAdjusted" if request.currency else "pointsToBeAdjusted"


def forced(world: World, request: Deduction, code: Code, reason: str) -> RuleError:
    """The refusal ``code`` of this table for this request, whether or not its rule
    holds: the message names the values ``deduct`` would name, in the program the request
    is made in. What a fault that forces the code answers."""
    program_id = _program_for(world, request)
    program = world.programs.get(program_id) if program_id is not None else None
    return _refuse(code, reason, request, program_id, program)


def _program_for(world: World, request: Deduction) -> int | None:
    """The program ``deduct`` makes the request in, found in the same order, without
    checking that the promotion or award named is valid."""
    if request.program_id is not None:
        return request.program_id
    if request.promotion_id is not None:
        promotion = world.promotions.get(request.promotion_id)
    elif request.promotion_identifier is not None:
        promotion = world.promotions_by_identifier.get(request.promotion_identifier)
    else:
        promotion = None
    if promotion is not None:
        return promotion.program_id
    award = world.awards.get(request.award_id) if request.award_id is not None else None
    if award is not None:
        return award.program_id
    return world.default_program_id


def deduct(
    world: World,
    request: Deduction,
    balances: Mapping[Bucket, Decimal],
    now: datetime,
) -> Deducted | RuleError:
    """Apply every business rule; return the deduction to store, or the refusal and why."""
    amount = request.amount
    if amount == ZERO:
        return _refuse(Code.AMOUNT_ZERO, "the amount is zero", request)
    if amount > MAX_AMOUNT:
        return _refuse(
            Code.AMOUNT_TOO_LARGE,
            f"{_amount_field(request)} {plain(amount)} is above {plain(MAX_AMOUNT)}",
            request,
        )
    if request.promotion_id is not None and request.promotion_identifier is not None:
        return _refuse(
            Code.PROMOTION_ID_AND_IDENTIFIER,
            f"the request names both promotionId {request.promotion_id} and "
            f"promotionIdentifier {request.promotion_identifier!r}",
            request,
        )
    if request.promotion_identifier is not None and request.program_id is None:
        return _refuse(
            Code.PROGRAM_ID_REQUIRED,
            f"promotionIdentifier {request.promotion_identifier!r} is given without programId",
            request,
        )

    customer = _customer(world, request)
    if isinstance(customer, RuleError):
        return customer

    named_program = _check_promotion(world, request)
    if isinstance(named_program, RuleError):
        return named_program
    award_program = _check_award(world, request, named_program)
    if isinstance(award_program, RuleError):
        return award_program

    program_id = named_program if named_program is not None else award_program
    if program_id is None:
        program_id = world.default_program_id
    program = world.programs.get(program_id) if program_id is not None else None
    if program is None or program.id not in customer.programs:
        if program_id is None:
            reason = "the request names no program and the fixtures have no default program"
        elif program is None:
            reason = f"program {program_id} does not exist"
        else:
            enrolled = ", ".join(str(p) for p in sorted(customer.programs))
            reason = f"customer {customer.user_id} is enrolled in [{enrolled}], not in {program_id}"
        return _refuse(Code.NOT_ENROLLED, reason, request, program_id)

    if request.currency is not None:
        if request.currency not in program.currencies:
            known = ", ".join(sorted(program.currencies))
            return _refuse(
                Code.UNKNOWN_CURRENCY,
                f"program {program.id} has the currencies [{known}], not {request.currency!r}",
                request,
            )
        bucket = world.bucket(program.id, CURRENCY, request.currency)
    else:
        bucket = world.bucket(program.id, POINTS, request.category)

    places = decimal_places(amount)
    if places > program.round_decimals:
        return _refuse(
            Code.TOO_MANY_DECIMALS,
            f"the amount {plain(amount)} has {places} decimal places; program {program.id} "
            f"allows {program.round_decimals}",
            request,
            program.id,
            program,
        )

    available = balances.get(bucket, ZERO)
    if amount > available and not world.allow_negative_balance:
        return _refuse(
            Code.INSUFFICIENT_BALANCE,
            f"{bucket.describe()} is {balance_text(available)}; asked {plain(amount)}, and the "
            "org does not allow negative balances",
            request,
        )

    balance = available - amount
    entry = LedgerEntry(now, request.source, request.reason, bucket, amount, balance)
    return Deducted(bucket, balance, entry)


def _customer(world: World, request: Deduction) -> Customer | RuleError:
    """Rule 19: the customer with this userId in this source (``ALL``: any), or, in the
    lookup form, the one the identifier names."""
    if request.identifier is not None:
        found = find(world, request.identifier, LOOKUP_ROWS)
        if isinstance(found, Customer) and found.user_id != request.user_id:
            return _refuse(
                Code.CUSTOMER_NOT_FOUND,
                f"the fixtures were replaced while the request was decided: the identifier "
                f"now names customer {found.user_id}; send it again",
                request,
            )
        return found
    customer = world.customers.get(request.user_id)
    if customer is None:
        return _refuse(
            Code.CUSTOMER_NOT_FOUND, f"no customer has userId {request.user_id}", request
        )
    if request.source != ANY_SOURCE and request.source not in customer.sources:
        return _refuse(
            Code.CUSTOMER_NOT_FOUND,
            f"customer {customer.user_id} is registered in [{', '.join(sorted(customer.sources))}]"
            f"; the request's source is {request.source}",
            request,
        )
    return customer


def _check_promotion(world: World, request: Deduction) -> int | RuleError | None:
    """The program the request names (``programId``, else its promotion's), or 8874
    for a promotion that does not exist or is not of the named program."""
    if request.promotion_id is not None:
        promotion = world.promotions.get(request.promotion_id)
        named = f"promotionId {request.promotion_id}"
    elif request.promotion_identifier is not None:
        promotion = world.promotions_by_identifier.get(request.promotion_identifier)
        named = f"promotionIdentifier {request.promotion_identifier!r}"
    else:
        return request.program_id
    if promotion is None:
        return _refuse(Code.INVALID_PROMOTION, f"no promotion has {named}", request)
    if request.program_id is not None and promotion.program_id != request.program_id:
        return _refuse(
            Code.INVALID_PROMOTION,
            f"promotion {promotion.id} is of program {promotion.program_id}; the request "
            f"names program {request.program_id}",
            request,
        )
    return promotion.program_id


def _check_award(
    world: World, request: Deduction, named_program: int | None
) -> int | RuleError | None:
    """The award's program, or 8877 for an award that is unknown, another customer's
    or of another program than the one named; 9975 when its ref type is missing or
    not the award's."""
    if request.award_id is None:
        return None
    award = world.awards.get(request.award_id)
    if award is None:
        return _refuse(
            Code.INVALID_AWARD, f"no award has pointsAwardedId {request.award_id}", request
        )
    if award.user_id != request.user_id:
        return _refuse(
            Code.INVALID_AWARD,
            f"award {award.id} belongs to customer {award.user_id}, not {request.user_id}",
            request,
        )
    if named_program is not None and award.program_id != named_program:
        return _refuse(
            Code.INVALID_AWARD,
            f"award {award.id} is of program {award.program_id}; the request's program is "
            f"{named_program}",
            request,
        )
    if request.award_ref_type != award.ref_type:
        given = "none" if request.award_ref_type is None else repr(request.award_ref_type)
        return _refuse(
            Code.INVALID_REF_TYPE,
            f"award {award.id} has the refType {award.ref_type!r}; the request gives {given}",
            request,
        )
    return award.program_id

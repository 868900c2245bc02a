"""The rules of the points balance lookup (``GET /v2/customers/lookup/points/balance``).

A read: nothing is written. ``customer`` finds whom the request names (rows 8-10),
``points_balance`` sums that customer's balances (row 11). Capillary's answer is one
aggregate per point category, of one program (``programId``, else the default program)
or of all of them (``fetchDataForAllPrograms``): REGULAR points are ``mainPoints``,
PROMISED ``delayedAccrualPoints``, EXTERNAL_TRIGGER_BASED ``externalTriggerBasedPoints``;
``promisedPoints`` is the sum of the last two and ``totalPoints`` of all three. It has no
alternate currencies (Capillary documents none in this answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from mock_server.errors import Code, RuleError
from mock_server.model import POINTS, Bucket, Customer, World
from mock_server.rules.lookup import Identifier, find
from mock_server.rules.money import ZERO, balance_text

CUSTOMER = "CUSTOMER"

ROWS: dict[int, Code] = {
    8: Code.NOT_SUPPORTED,
    9: Code.INVALID_IDENTIFIER,
    10: Code.CUSTOMER_NOT_FOUND,
    11: Code.NOT_ENROLLED,
}
"""The rows of the balance's rules table (docs/rules.md) and the code of each."""

LOOKUP_ROWS = {Code.INVALID_IDENTIFIER: 9, Code.CUSTOMER_NOT_FOUND: 10}


@dataclass(frozen=True, slots=True)
class BalanceQuery:
    identifier: Identifier
    program_id: int | None = None
    all_programs: bool = False
    entity_type: str = CUSTOMER


@dataclass(frozen=True, slots=True)
class PointsBalance:
    user_id: int
    main: Decimal
    delayed_accrual: Decimal
    external_trigger: Decimal

    @property
    def promised(self) -> Decimal:
        return self.delayed_accrual + self.external_trigger

    @property
    def total(self) -> Decimal:
        return self.main + self.promised

    def explain(self) -> str:
        return (
            f"success: customer {self.user_id} has {balance_text(self.total)} points: "
            f"{balance_text(self.main)} REGULAR, {balance_text(self.delayed_accrual)} PROMISED, "
            f"{balance_text(self.external_trigger)} EXTERNAL_TRIGGER_BASED"
        )


def customer(world: World, query: BalanceQuery) -> Customer | RuleError:
    """Whom the request names, or the refusal (rows 8-10)."""
    if query.entity_type != CUSTOMER:
        return RuleError(
            8,
            Code.NOT_SUPPORTED,
            f"entityType is {query.entity_type}",
            what=f"the balance of a {query.entity_type}",
        )
    return find(world, query.identifier, LOOKUP_ROWS)


def points_balance(
    world: World, query: BalanceQuery, customer: Customer, balances: Mapping[Bucket, Decimal]
) -> PointsBalance | RuleError:
    """The customer's points, summed over the programs the query names (row 11)."""
    if query.all_programs:
        programs = customer.programs
    else:
        program_id = query.program_id if query.program_id is not None else world.default_program_id
        if program_id is None or program_id not in customer.programs:
            shown = program_id if program_id is not None else "null"
            if program_id is None:
                reason = "the request names no program and the fixtures have no default program"
            elif program_id not in world.programs:
                reason = f"program {program_id} does not exist"
            else:
                enrolled = ", ".join(str(p) for p in sorted(customer.programs))
                reason = (
                    f"customer {customer.user_id} is enrolled in [{enrolled}], not in {program_id}"
                )
            return RuleError(11, Code.NOT_ENROLLED, reason, program_id=shown)
        programs = frozenset({program_id})

    def total(category: str) -> Decimal:
        return sum(
            (balances.get(Bucket(program, POINTS, category), ZERO) for program in programs), ZERO
        )

    return PointsBalance(
        customer.user_id, total("REGULAR"), total("PROMISED"), total("EXTERNAL_TRIGGER_BASED")
    )

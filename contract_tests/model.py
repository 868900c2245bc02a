"""A model of one customer's balances in one program: what every deduction must answer.

The documented-behaviour tests (seed examples) and the state-machine tests both ask
the model what a deduction should do, then compare the answer the target gave. The
rules are the contract's, in the contract's order: zero (8888), more decimal places
than the program allows (8906), more than the balance while negative balances are not
allowed (8907), else the balance goes down by exactly the amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from contract_tests import spec
from contract_tests.expectations import content_type_problems, success_problems
from contract_tests.findings import Finding
from contract_tests.target import Exchange

POINTS = "points"
CURRENCY = "currency"


@dataclass(frozen=True, slots=True)
class Bucket:
    kind: str  # POINTS or CURRENCY
    name: str  # a points category or the currency's name

    def describe(self) -> str:
        return f"{self.name} points" if self.kind == POINTS else f"currency {self.name}"


@dataclass(frozen=True, slots=True)
class Expected:
    """What the contract says a deduction answers; ``balance`` None when unknown."""

    code: int | None = None
    message: str | None = None
    balance: Decimal | None = None


def places(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def balance_text(balance: Decimal) -> str:
    return f"{balance.quantize(Decimal('0.001')):f}"


def answered_balance(exchange: Exchange, field: str) -> Decimal | None:
    """The balance a successful deduction answered in ``field``; None otherwise."""
    document = exchange.json()
    if exchange.status != 200 or not isinstance(document, dict):
        return None
    value = document.get(field)
    if not isinstance(value, str):
        return None
    try:
        return Decimal(value)
    except ArithmeticError:
        return None


class BalanceModel:
    """Known balances per bucket; a bucket whose balance is None is not known yet."""

    def __init__(
        self,
        program_id: int,
        round_decimals: int,
        allow_negative: bool,
        balances: dict[Bucket, Decimal | None],
    ) -> None:
        self.program_id = program_id
        self.round_decimals = round_decimals
        self.allow_negative = allow_negative
        self.balances = dict(balances)

    def predict(self, bucket: Bucket, amount: Decimal) -> Expected:
        text = spec.templates()
        if amount == 0:
            return Expected(8888, text[8888].render())
        if places(amount) > self.round_decimals:
            message = text[8906].render(
                places=places(amount), decimals=self.round_decimals, program_id=self.program_id
            )
            return Expected(8906, message)
        balance = self.balances.get(bucket)
        if balance is None:
            return Expected()
        if amount > balance and not self.allow_negative:
            return Expected(8907, text[8907].render(amount=f"{amount:f}"))
        return Expected(balance=balance - amount)

    def learn(self, bucket: Bucket, balance: Decimal) -> None:
        self.balances[bucket] = balance


def compare(
    exchange: Exchange,
    expected: Expected,
    bucket: Bucket,
    *,
    error_status: dict[int, int],
    allow_negative: bool,
    why: str,
) -> list[Finding]:
    """Findings when the answer to a deduction is not the one the model predicts."""
    document = exchange.json()
    currency = bucket.name if bucket.kind == CURRENCY else None
    problems = content_type_problems(exchange.response_headers)
    if expected.code is not None:
        statuses = spec.expected_statuses(expected.code, error_status) or frozenset({400})
        codes = _codes(document)
        if exchange.status not in statuses or codes[:1] != [expected.code]:
            got = (
                f"HTTP {exchange.status} with codes {codes}" if codes else f"HTTP {exchange.status}"
            )
            problems.append(f"{expected.code} expected for {bucket.describe()}, got {got}")
        elif document["errors"][0].get("message") != expected.message:
            problems.append(
                f"{expected.code} message is {document['errors'][0].get('message')!r}, "
                f"expected {expected.message!r}"
            )
        wanted = f"HTTP {min(statuses)}, error {expected.code}: {expected.message}"
    elif exchange.status != 200:
        if expected.balance is not None or exchange.status != 400 or 8907 not in _codes(document):
            codes = _codes(document)
            problems.append(
                f"a deduction of {bucket.describe()} was refused with HTTP {exchange.status}"
                + (f" (codes {codes})" if codes else "")
            )
        wanted = "HTTP 200 and the balance left"
    else:
        problems += success_problems(document, currency=currency, allow_negative=allow_negative)
        field = "valueAvailable" if currency else "pointsAvailable"
        shown = document.get(field) if isinstance(document, dict) else None
        if expected.balance is not None and shown != balance_text(expected.balance):
            problems.append(
                f"{field} is {shown!r}, the model's balance of {bucket.describe()} is "
                f"{balance_text(expected.balance)!r}"
            )
        wanted = (
            f"HTTP 200, {field} {balance_text(expected.balance)!r}"
            if expected.balance is not None
            else f"HTTP 200 with {field}"
        )
    return [
        Finding(problem, exchange.curl(), exchange.describe_response(), f"{wanted}\n{why}")
        for problem in problems
    ]


def _codes(document: object) -> list[object]:
    if not isinstance(document, dict) or not isinstance(document.get("errors"), list):
        return []
    return [e.get("code") for e in document["errors"] if isinstance(e, dict)]

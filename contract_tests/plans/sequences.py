"""Model-based stateful tests: random sequences of deductions on the test customer.

A hypothesis state machine deducts points (any category) and the profile's currency in
random amounts, some with too many decimal places, some over the balance, some zero,
sent as JSON numbers or numeric strings. After every step the answer must be the
model's: the exact balance left (so categories and currencies must be independent and
nothing may be deducted twice or not at all), 8907 exactly when the model's balance is
short, 8906 by the program's decimals, three-decimal balances.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from contract_tests import spec
from contract_tests.findings import ContractBrokenError, Finding
from contract_tests.limits import BudgetExhaustedError
from contract_tests.model import CURRENCY, POINTS, BalanceModel, Bucket, compare
from contract_tests.plans.documented import mock_balances
from contract_tests.plans.requests import REASON
from contract_tests.profile import Profile
from contract_tests.target import Target

STEPS = 20
"""Deductions in each sequence of the model test."""
DEFAULT_CATEGORY = "REGULAR"
"""The category deducted when a request names none; the machine sometimes names none."""


def buckets(profile: Profile) -> list[Bucket]:
    categories = [Bucket(POINTS, category) for category in spec.enum("PointCategory")]
    return [*categories, Bucket(CURRENCY, profile.currency)]


def amounts(balance: Decimal | None, round_decimals: int) -> st.SearchStrategy[Decimal]:
    """Amounts around the balance, so that 8907 and its edge are reached; zero; amounts
    with one decimal place too many, some of them ending in zeros (``0.010``: decimals
    count as sent); whole and fractional amounts, some with trailing zeros."""
    unit = Decimal(1).scaleb(-round_decimals)
    finer = round_decimals + 1
    choices = [
        st.integers(1, 5000).map(lambda n: Decimal(n) * unit),
        st.integers(1, 500).map(Decimal),
        st.integers(1, 10**4).map(lambda n: Decimal(n).scaleb(-finer)),
        st.integers(1, 10**3).map(lambda n: Decimal(n * 10).scaleb(-finer)),
        st.just(Decimal(0)),
    ]
    if balance is not None and balance > 0:
        exact = balance.quantize(unit)
        choices += [st.sampled_from([exact, exact + unit, max(unit, exact - unit)])]
    return st.one_of(choices)


def run_model(
    target: Target, profile: Profile, *, max_examples: int, steps: int, seed: int | None
) -> None:
    """Run the state machine; raise ContractBrokenError with the first broken step."""
    known: dict[Bucket, Decimal | None] = {bucket: None for bucket in buckets(profile)}
    first_found: dict[str, list[Finding]] = {}
    path = spec.DEDUCT_PATH.replace("{userId}", str(profile.user_id))

    class Deductions(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            if target.admin:
                target.reset()
                known.update(mock_balances(target, profile))
            self.model = BalanceModel(
                profile.program_id,
                profile.round_decimals,
                profile.allow_negative_balance,
                dict(known),
            )
            self.sequence: list[str] = []

        @rule(
            data=st.data(),
            bucket=st.sampled_from(buckets(profile)),
            as_string=st.booleans(),
            name_category=st.booleans(),
        )
        def deduct(
            self, data: st.DataObject, bucket: Bucket, as_string: bool, name_category: bool
        ) -> None:
            amount = data.draw(amounts(self.model.balances.get(bucket), profile.round_decimals))
            field = "valueToBeAdjusted" if bucket.kind == CURRENCY else "pointsToBeAdjusted"
            body: dict[str, object] = {field: f"{amount:f}" if as_string else amount}
            if bucket.kind == CURRENCY:
                body["alternateCurrencyName"] = bucket.name
            elif name_category or bucket.name != DEFAULT_CATEGORY:
                body["pointCategoryTypes"] = bucket.name
            body["reasonOfReturn"] = REASON
            expected = self.model.predict(bucket, amount)
            before = self.model.balances.get(bucket)
            exchange = target.send("POST", path, params={"source": profile.source}, body=body)
            self.sequence.append(f"deduct {amount:f} from {bucket.describe()} (was {before})")
            findings = compare(
                exchange,
                expected,
                bucket,
                error_status=profile.error_status,
                allow_negative=profile.allow_negative_balance,
                why="after: " + "; ".join(self.sequence),
            )
            if findings:
                first_found.setdefault("findings", findings)
                raise ContractBrokenError(findings)
            if exchange.status == 200:
                field = "valueAvailable" if bucket.kind == CURRENCY else "pointsAvailable"
                balance = Decimal(exchange.json()[field])
                self.model.learn(bucket, balance)
                known[bucket] = balance

    if seed is not None:
        Deductions._hypothesis_internal_use_seed = seed
    phases = [Phase.explicit, Phase.reuse, Phase.generate]
    if target.admin:
        phases.append(Phase.shrink)
    try:
        run_state_machine_as_test(
            Deductions,
            settings=settings(
                max_examples=max_examples,
                stateful_step_count=steps,
                deadline=None,
                database=None,
                derandomize=seed is None,
                phases=phases,
                suppress_health_check=list(HealthCheck),
                report_multiple_bugs=False,
            ),
        )
    except ContractBrokenError:
        raise
    except Exception as error:
        # Once the request budget is spent, hypothesis's replays fail in odd ways (flaky
        # data); report what was found before, else that the budget stopped the test.
        if not target.limits.exhausted:
            raise
        if "findings" in first_found:
            raise ContractBrokenError(first_found["findings"]) from error
        raise BudgetExhaustedError(
            f"--max-requests {target.limits.max_requests} reached"
        ) from error

"""Races: N simultaneous deductions on the test customer.

A contract is also broken by a server that loses or repeats deductions under
concurrency. A probe deduction gives the balance S; then N deductions of 1 leave
together (released by a barrier). Each must succeed with its own balance, the N
balances must be exactly S-1 ... S-N, and a last probe must answer S-N-1. A lost update
shows as a repeated balance or a final balance too high; a double deduction as a final
balance too low. Runs only where the run may write; ``--race N`` sets N.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from contract_tests.findings import Finding, NotRunError, Verdict
from contract_tests.model import POINTS, Bucket, answered_balance, balance_text
from contract_tests.plans.guard import probe_request
from contract_tests.target import Exchange, Target

AMOUNT = Decimal(1)
BUCKET = Bucket(POINTS, "REGULAR")
FIELD = "pointsAvailable"


def run_race(target: Target, n: int) -> Verdict:
    """The findings of one race of ``n``; NotRunError when the balance is too low."""
    profile = target.profile
    probe = probe_request(profile, BUCKET)
    target.auth_headers()  # fetch an OAuth token now, not in N threads at once
    first = probe.send(target)
    start = answered_balance(first, FIELD)
    if start is None:
        raise NotRunError(
            f"a deduction of {AMOUNT} from the test customer got no readable {FIELD}, so the "
            f"race has no balance to start from: {first.describe_response()}"
        )
    if start < (n + 1) * AMOUNT and not profile.allow_negative_balance:
        raise NotRunError(
            f"the test customer's {BUCKET.describe()} balance ({balance_text(start)}) cannot "
            f"take {n + 1} deductions of {AMOUNT}"
        )
    barrier = threading.Barrier(n)

    def deduct() -> Exchange:
        barrier.wait(timeout=30)
        return probe.send(target)

    with ThreadPoolExecutor(max_workers=n) as pool:
        exchanges = list(pool.map(lambda _: deduct(), range(n)))
    final = probe.send(target)
    return Verdict(_findings(start, n, exchanges, final))


def _findings(start: Decimal, n: int, exchanges: list[Exchange], final: Exchange) -> list[Finding]:
    shown = exchanges[0]
    what = (
        f"{n} simultaneous deductions of {AMOUNT} from {BUCKET.describe()} at {balance_text(start)}"
    )
    findings = []
    refused = [e for e in exchanges if e.status != 200]
    if refused:
        statuses = Counter(e.status for e in refused)
        findings.append(
            Finding(
                f"{len(refused)} of {what} were refused ({dict(statuses)})",
                refused[0].curl(),
                refused[0].describe_response(),
                "every deduction succeeds: the balance covers them all",
            )
        )
    balances = [b for b in (answered_balance(e, FIELD) for e in exchanges) if b is not None]
    wanted = {start - k * AMOUNT for k in range(1, n + 1)}
    repeated = sorted(b for b, count in Counter(balances).items() if count > 1)
    if repeated:
        findings.append(
            Finding(
                f"{what} returned the same balance more than once "
                f"({', '.join(balance_text(b) for b in repeated)}): updates were lost",
                shown.curl(),
                "\n".join(sorted(balance_text(b) for b in balances)),
                f"{n} distinct balances, {balance_text(start - n * AMOUNT)} to "
                f"{balance_text(start - AMOUNT)}",
            )
        )
    elif not refused and set(balances) != wanted:
        findings.append(
            Finding(
                f"{what} returned balances other than {balance_text(start - n * AMOUNT)} to "
                f"{balance_text(start - AMOUNT)}",
                shown.curl(),
                "\n".join(sorted(balance_text(b) for b in balances)),
                "each deduction answers the balance it left",
            )
        )
    after = answered_balance(final, FIELD)
    expected = start - (n + 1) * AMOUNT
    if after != expected:
        lost = (after - expected) / AMOUNT if after is not None else None
        why = (
            f"{lost:f} deductions were lost"
            if lost is not None and lost > 0
            else f"{-lost:f} more were taken"
            if lost is not None
            else "the next deduction failed"
        )
        findings.append(
            Finding(
                f"after {what}, the next deduction answered "
                f"{balance_text(after) if after is not None else f'HTTP {final.status}'}, "
                f"not {balance_text(expected)}: {why}",
                final.curl(),
                final.describe_response(),
                f"HTTP 200, {FIELD} {balance_text(expected)!r}: start minus {n + 1} x {AMOUNT}",
            )
        )
    return findings

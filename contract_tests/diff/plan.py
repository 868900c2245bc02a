"""What a diff sends: the cases of ``capmock test``'s plans, built for each target from
its own profile, and paired so that each pair asks both targets the same question.

Without writes that is the refusal-only plan (every request names the profile's unknown
customer, an id no customer can have, or no customer); with ``--allow-writes`` it is
the plan that reaches the test customer, seed examples included. Each case's request is
sent once, as it is: the balance probes and judges of ``capmock test`` are not, since a
diff compares answers rather than judging them.

A case's name may carry its profile's values (``9975-the-award-38768508-...``), so cases
are paired by a key that does not: the test and the documented code (with a count when a
code has several cases), else the test and the case's name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from contract_tests.plans.listing import collected_cases
from contract_tests.plans.requests import Case
from contract_tests.target import Target


@dataclass(frozen=True)
class Pair:
    """One question asked of both targets: the case as each target's profile built it."""

    key: str
    """Stable across profiles: ``test_documented[8015]``, ``test_odd_input[odd-input-empty-body]``
    (the case name, when no code names the case)."""
    cases: dict[str, Case]
    """By side (``a``, ``b``)."""

    def name(self, side: str = "a") -> str:
        test = self.key.partition("[")[0]
        return f"{test}[{self.cases[side].name}]"

    @property
    def code(self) -> int | None:
        return self.cases["a"].code

    @property
    def what(self) -> str:
        """What the case sends, in words: "a reasonOfReturn of 51 characters"."""
        summary = self.cases["a"].summary
        return summary.split(" is refused with ")[0]


def keyed_cases(target: Target) -> dict[str, Case]:
    """The cases this target can be sent, by key, in the order of the plans."""
    keyed: dict[str, Case] = {}
    for test, cases in collected_cases(target).items():
        seen: Counter[int] = Counter()
        for case in cases:
            if case.needs_writes and not target.writes_allowed:
                continue
            if case.code is None:
                keyed[f"{test}[{case.name}]"] = case
                continue
            seen[case.code] += 1
            count = f"#{seen[case.code]}" if seen[case.code] > 1 else ""
            keyed[f"{test}[{case.code}{count}]"] = case
    return keyed


def paired(targets: dict[str, Target]) -> tuple[list[Pair], list[str]]:
    """The pairs, in A's order, and a line for each case only one target can be sent."""
    keyed = {side: keyed_cases(target) for side, target in targets.items()}
    pairs = [
        Pair(key, {side: cases[key] for side, cases in keyed.items()})
        for key in keyed["a"]
        if all(key in cases for cases in keyed.values())
    ]
    alone = []
    for side, cases in keyed.items():
        for key, case in cases.items():
            if any(key not in other for other in keyed.values()):
                test = key.partition("[")[0]
                alone.append(
                    f"not compared: {test}[{case.name}], which only {side.upper()}'s profile allows"
                )
    return pairs, alone


def print_plan(write: Callable[[str], None], targets: dict[str, Target], pairs: list[Pair]) -> None:
    """``--dry-run``: each pair and the request each target would get."""
    for pair in pairs:
        write(pair.name())
        for side, target in targets.items():
            write(f"    {side.upper()}: {pair.cases[side].request.describe(target.base_url)}")

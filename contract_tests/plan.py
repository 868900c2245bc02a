"""Every test of a run and the requests it would send, for ``--dry-run``."""

from __future__ import annotations

from dataclasses import dataclass

from contract_tests import documented, schema_run, spec
from contract_tests.odd_inputs import odd_input_cases
from contract_tests.target import Target


@dataclass(frozen=True)
class Planned:
    test_id: str
    writes: bool
    requests: list[str]


def schema_plan(target: Target, phase: str, max_examples: int) -> list[str]:
    user = schema_run.user_id_for(target)
    deduct = spec.DEDUCT_PATH.replace("{userId}", str(user))
    return [
        f"Schemathesis {phase} phase: generated POST {target.base_url}{deduct} "
        f"(userId pinned to {user}) and POST {target.base_url}{spec.TOKEN_PATH}, "
        f"up to {max_examples} per operation"
    ]


def model_plan(target: Target, max_examples: int, steps: int) -> list[str]:
    p = target.profile
    deduct = spec.DEDUCT_PATH.replace("{userId}", str(p.user_id))
    return [
        f"up to {max_examples} sequences of up to {steps} POST {target.base_url}"
        f"{deduct}?source={p.source} deducting points "
        f"(every category) and {p.currency} in random amounts"
    ]


def plan(target: Target, max_examples: int, steps: int) -> list[Planned]:
    p = target.profile
    items = [
        Planned(
            f"test_documented[{case.name}]", case.writes, [case.request.describe(target.base_url)]
        )
        for case in documented.error_cases(p) + documented.example_cases(p)
    ]
    items += [
        Planned(f"test_odd_input[{case.name}]", False, [case.request.describe(target.base_url)])
        for case in odd_input_cases(p)
    ]
    items += [
        Planned(f"test_schema[{phase}]", False, schema_plan(target, phase, max_examples))
        for phase in schema_run.PHASES
    ]
    items.append(Planned("test_model", True, model_plan(target, max_examples, steps)))
    return items

"""Every test of a run and the requests it would send: the one dry-run printer, used by
``capmock test --dry-run`` and ``pytest contract_tests --dry-run`` alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from contract_tests import schema_run, spec
from contract_tests.options import Options
from contract_tests.plans import across
from contract_tests.plans.guard import reads
from contract_tests.plans.identifiers import identifier_cases
from contract_tests.plans.odd_inputs import odd_input_cases
from contract_tests.plans.requests import Case, Request
from contract_tests.plans.sequences import STEPS
from contract_tests.plans.suite import documented_cases
from contract_tests.preflight import preflight_request
from contract_tests.target import Target

NEEDS_WRITES = "needs --allow-writes"


@dataclass(frozen=True)
class Planned:
    test_id: str
    not_run: str | None
    """Why the test will not run, or None."""
    requests: list[str]


def collected_cases(target: Target) -> dict[str, list[Case]]:
    """The cases of each parametrised test, as the suite collects them."""
    writes = target.writes_allowed
    profile = target.profile
    return {
        "test_documented": documented_cases(profile, writes=writes, admin=target.admin),
        "test_odd_input": odd_input_cases(profile, writes=writes),
        "test_user_id_range": identifier_cases(profile),
    }


def plan(target: Target, options: Options) -> list[Planned]:
    p = target.profile
    url = target.base_url.rstrip("/")
    path, params, body = preflight_request(target)
    items = [
        Planned(
            "preflight (before any test)",
            None,
            [Request("POST", path, params, body).describe(url)],
        )
    ]
    for test, cases in collected_cases(target).items():
        for case in cases:
            not_run = NEEDS_WRITES if case.needs_writes and not target.writes_allowed else None
            lines = [case.request.describe(url)]
            if case.guarded:
                lines += [
                    f"before and after it, to check nothing moved: {read.describe(url)}"
                    for read in reads(p)
                ]
            items.append(Planned(f"{test}[{case.name}]", not_run, lines))
    writes = None if target.writes_allowed else NEEDS_WRITES
    user = schema_run.user_id_for(target)
    deduct = spec.DEDUCT_PATH.replace("{userId}", str(user))
    for phase in schema_run.PHASES:
        items.append(
            Planned(
                f"test_schema[{phase}]",
                None,
                [
                    f"Schemathesis {phase} phase: generated POST {url}{deduct} (userId pinned to "
                    f"{user}) and POST {url}{spec.TOKEN_PATH}, up to {options.max_examples} per "
                    "operation"
                ],
            )
        )
    customer = spec.DEDUCT_PATH.replace("{userId}", str(p.user_id))
    items.append(
        Planned(
            "test_model",
            writes,
            [
                f"up to {options.max_examples} sequences of up to {STEPS} POST {url}{customer}"
                f"?source={p.source} deducting points (every category) and {p.currency} in "
                "random amounts, some up to the whole balance"
            ],
        )
    )
    across_requests = across.requests(p)
    items.append(
        Planned(
            "test_across_endpoints",
            writes or (None if across_requests else "the profile names no allocation settings"),
            [
                "the test customer's balance and ledger read, then, in order:",
                *(f"    {request.describe(url)}" for request in across_requests),
                "then the balance and the ledger read again, and a ledger page of 100",
            ],
        )
    )
    items.append(
        Planned(
            "test_race",
            writes,
            [
                f"{options.race} simultaneous POST {url}{customer}?source={p.source} deducting 1 "
                "REGULAR point each, between two more such deductions"
            ],
        )
    )
    return items


def print_plan(write: Callable[[str], None], target: Target, options: Options) -> None:
    write(
        f"dry run against {target.base_url}, profile {target.profile.origin} ({target.mode}); "
        "nothing is sent"
    )
    for planned in plan(target, options):
        write(planned.test_id + (f"  (not run: {planned.not_run})" if planned.not_run else ""))
        for line in planned.requests:
            write(f"    {line}")

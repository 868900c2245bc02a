"""Every documented-behaviour case, over every operation of the contract: the refusals
(one case per documented code at least) and the documented examples."""

from __future__ import annotations

from contract_tests.plans.allocations import allocation_error_cases, allocation_example_cases
from contract_tests.plans.documented import check_every_code_has_a_case, error_cases, example_cases
from contract_tests.plans.lookup_deduct import lookup_error_cases, lookup_example_cases
from contract_tests.plans.reads import read_error_cases, read_example_cases
from contract_tests.plans.requests import Case
from contract_tests.profile import Profile


def documented_cases(profile: Profile, *, writes: bool, admin: bool = False) -> list[Case]:
    """The refusals of every operation, then every documented example; ``writes``: whether
    the run may write to the test customer; ``admin``: whether the target is our own mock,
    whose admin API may set a rate limit."""
    refusals = [
        *error_cases(profile, writes=writes, admin=admin),
        *lookup_error_cases(profile, writes=writes),
        *read_error_cases(profile, writes=writes),
        *allocation_error_cases(profile, writes=writes),
    ]
    check_every_code_has_a_case(refusals, profile)
    examples = [
        *example_cases(profile),
        *lookup_example_cases(profile),
        *read_example_cases(profile),
        *allocation_example_cases(profile),
    ]
    return refusals + examples

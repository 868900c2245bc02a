"""The error-code coverage matrix, the order the target checks in, and the warnings that
would make a pass meaningless: computed from what the tests observed."""

from __future__ import annotations

from collections.abc import Iterable

from contract_tests import spec
from contract_tests.findings import Observation
from contract_tests.plans.documented import (
    CUSTOMER_NOT_FOUND,
    NEVER_LOOKED_UP_FIRST,
    not_covered,
)
from contract_tests.profile import Profile
from contract_tests.report.model import (
    CHECKED,
    NOT_CHECKED,
    NOT_RUN,
    OTHER_FIRST,
    PASSED,
    CodeRow,
    TestResult,
)
from contract_tests.target import Traffic


def documented_codes_in_order() -> list[int]:
    """The contract's codes in the order it lists them (Capillary's first, then ours)."""
    document = spec.document()
    return list(document["components"]["schemas"]["ErrorItem"]["properties"]["code"]["enum"])


def coverage_rows(
    profile: Profile,
    observations: Iterable[Observation],
    results: dict[str, TestResult],
    tests_of_code: dict[int, list[str]],
) -> list[CodeRow]:
    """A row per documented code. ``tests_of_code``: the tests collected for each code;
    ``results``: what became of each test, by name."""
    seen: dict[int, list[Observation]] = {}
    for observation in observations:
        seen.setdefault(observation.code, []).append(observation)
    uncovered = not_covered(profile)
    rows = []
    for code in documented_codes_in_order():
        template = spec.templates().get(code)
        message = template.text if template else ""
        tests = tests_of_code.get(code, [])
        observed = seen.get(code, [])
        checked = [o for o in observed if o.checked]
        if checked:
            rows.append(
                CodeRow(
                    code,
                    message,
                    tests,
                    CHECKED,
                    triggered=any(o.triggered for o in checked),
                    code_ok=all(o.triggered for o in checked),
                    status_ok=all(o.status_ok for o in checked),
                    message_ok=_all_known(o.message_ok for o in checked),
                    note=_failed_note(tests, results),
                )
            )
        elif observed:
            rows.append(
                CodeRow(
                    code,
                    message,
                    tests,
                    OTHER_FIRST,
                    triggered=False,
                    note="read-only, the request named the unknown customer, and the target "
                    f"answered {CUSTOMER_NOT_FOUND} first: it looks the customer up before this "
                    "check; run with --allow-writes to check it",
                )
            )
        else:
            rows.append(
                CodeRow(
                    code,
                    message,
                    tests,
                    NOT_CHECKED,
                    note=_why_not(code, tests, results, uncovered),
                )
            )
    return rows


def _all_known(values: Iterable[bool | None]) -> bool | None:
    known = [value for value in values if value is not None]
    return all(known) if known else None


def _failed_note(tests: list[str], results: dict[str, TestResult]) -> str:
    failed = [
        name for name in tests if name in results and results[name].outcome not in (PASSED, NOT_RUN)
    ]
    return f"findings in {', '.join(failed)}" if failed else ""


def _why_not(
    code: int, tests: list[str], results: dict[str, TestResult], uncovered: dict[int, str]
) -> str:
    if code in uncovered:
        return uncovered[code]
    ran = [results[name] for name in tests if name in results]
    if not ran:
        return "its test was not selected"
    not_run = [result for result in ran if result.outcome == NOT_RUN]
    if not_run:
        return f"not run: {not_run[0].detail}"
    return f"{ran[0].name} stopped before judging the answer: {ran[0].detail}"


def order_notes(observations: Iterable[Observation]) -> list[str]:
    """Which codes a read-only run saw the target check before the customer lookup, and
    which after it."""
    before, after = set(), set()
    for observation in observations:
        if observation.first == CUSTOMER_NOT_FOUND:
            after.add(observation.code)
        elif observation.triggered and observation.code not in NEVER_LOOKED_UP_FIRST | {
            CUSTOMER_NOT_FOUND
        }:
            before.add(observation.code)
    if not after:
        return []
    notes = [
        "the target looks the customer up (8015) before it checks "
        + ", ".join(map(str, sorted(after)))
    ]
    if before:
        notes.append("and checks " + ", ".join(map(str, sorted(before))) + " before the lookup")
    return ["; ".join(notes)]


def warnings(traffic: Traffic, results: Iterable[TestResult]) -> list[str]:
    found = []
    if traffic.answers and traffic.refused_credentials == traffic.answers:
        found.append(
            f"every answer ({traffic.answers}) was 401 or 403: the credentials were refused, "
            "so nothing beyond authentication was checked"
        )
    if traffic.deductions and traffic.customer_not_found == traffic.deductions:
        found.append(
            f"every deduction ({traffic.deductions}) was answered 8015: no request reached the "
            "business rules, so they were not checked (is the test customer in that source? "
            "a read-only run on a target that looks customers up first checks little more "
            "than credentials; use --allow-writes on a test customer)"
        )
    ran = [result for result in results if result.outcome != NOT_RUN]
    if not ran:
        found.append("no test ran")
    return found

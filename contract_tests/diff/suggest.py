"""What to do about a drift, where something can be said: one small function per kind.

Suggestions are written for the side that is capmock, since that is the side a team
can change (its fixtures, ``errorStatus``, the catalogue): A, unless only B is capmock.
The other side is taken as the truth about the org it stands for. A drift with nothing
useful to say gets no suggestion rather than a vague one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from contract_tests import spec
from contract_tests.diff.compare import (
    ABSENT,
    CODE,
    HEADER,
    MESSAGE,
    NO_ANSWER,
    SHAPE,
    STATUS,
    VALUE,
    Difference,
)
from contract_tests.diff.normalise import BALANCE_FIELDS, Seen
from contract_tests.diff.sides import Side
from contract_tests.plans.documented import CUSTOMER_NOT_FOUND

INSUFFICIENT_BALANCE, TOO_MANY_DECIMALS, REASON_TOO_LONG = 8907, 8906, 9107
TOO_MANY_REQUESTS = 429
_VALUE = re.compile(r"\{\w+\}|<[\w ]+>|-?\d+(?:\.\d+)?|'[^']*'|\"[^\"]*\"")


class Roles:
    """Which side is the mock (the one to change) and which the org it should mimic."""

    def __init__(self, sides: dict[str, Side], writes: bool) -> None:
        only_b = sides["b"].capmock and not sides["a"].capmock
        self.mock, self.org = (sides["b"], sides["a"]) if only_b else (sides["a"], sides["b"])
        self.writes = writes

    def pick(self, difference: Difference) -> tuple[Seen, Seen]:
        """The mock's answer, then the org's."""
        return difference.seen[self.mock.key], difference.seen[self.org.key]

    @property
    def fixtures(self) -> str:
        if self.mock.capmock:
            return f"{self.mock.name}'s fixtures"
        return f"the fixtures of the mock that stands for {self.org.name}"


def suggestion(difference: Difference, roles: Roles) -> str:
    if roles.pick(difference)[1].status == TOO_MANY_REQUESTS:
        return (
            f"{roles.org.name} throttled the run (HTTP 429): lower --rate-limit, and run again "
            "before reading any other drift of these requests"
        )
    return SUGGESTERS[difference.kind](difference, roles)


def _status(d: Difference, roles: Roles) -> str:
    org = roles.pick(d)[1]
    if not org.envelope or org.status is None or not 400 <= org.status <= 599:
        return ""
    code = org.codes[0]
    told = roles.org.target.profile.error_status.get(code) == org.status
    return (
        f"{roles.org.name} answers {code} with {org.status}: set `errorStatus: {{{code}: "
        f"{org.status}}}` in {roles.fixtures}"
        + ("" if told else f", and in {roles.org.name}'s profile so that capmock test expects it")
    )


def _code(d: Difference, roles: Roles) -> str:
    mock, org = roles.pick(d)
    what, o, m = d.sent.pair.what, roles.org.name, roles.mock.name
    if org.envelope and org.codes[0] not in spec.documented_codes():
        code = org.codes[0]
        return (
            f"{o} answers {code}, a code capmock does not know: add it to `x-capmock-errors` in "
            f"openapi/capillary.yaml and to mock_server/errors.py ({org.messages[0]!r})"
        )
    if not org.envelope and org.status is not None and not 200 <= org.status < 300:
        return (
            f"{o}'s answer is not the error envelope ({org.describe()}): a gateway or proxy may "
            "have answered, not the API"
        )
    if org.status is not None and 200 <= org.status < 300 and mock.envelope:
        return _accepted(mock.codes[0], what, roles)
    if mock.status is not None and 200 <= mock.status < 300 and org.envelope:
        return _refused(org.codes[0], what, roles)
    if not (mock.envelope and org.envelope):
        return ""
    ours, theirs = mock.codes[0], org.codes[0]
    if theirs == CUSTOMER_NOT_FOUND and not roles.writes:
        return (
            f"{o} answers 8015 where {m} answers {ours}: {o} looks the customer up before it "
            f"checks {what}, or does not check it at all; a run with --allow-writes (at the "
            "test customer) tells which"
        )
    if ours == CUSTOMER_NOT_FOUND and not roles.writes:
        return (
            f"{o} checks {what} ({theirs}) before it looks the customer up; capmock looks the "
            "customer up first (docs/rules.md gives its order)"
        )
    if ours in spec.CAPMOCK_CODES and theirs not in spec.CAPMOCK_CODES:
        return (
            f"{o} refuses {what} with {theirs} where capmock uses its own {ours}, a stand-in "
            f"for a code Capillary does not document: {theirs} is likely the real one "
            "(mock_server/errors.py)"
        )
    return ""


def _accepted(ours: int, what: str, roles: Roles) -> str:
    """The org accepts what the mock refuses with ``ours``."""
    o, m = roles.org.name, roles.mock.name
    if ours == REASON_TOO_LONG:
        return f"{o} accepts {what}: capmock's 9107 limit is wrong for this org"
    if ours == TOO_MANY_DECIMALS:
        program = roles.mock.target.profile.program_id
        return (
            f"{o} accepts {what}: its program rounds to more decimals; raise `roundDecimals` of "
            f"program {program} in {roles.fixtures} and `program.roundDecimals` in {o}'s profile"
        )
    if ours == INSUFFICIENT_BALANCE:
        return (
            f"{o} lets the balance go below zero: set `org.allowNegativeBalanceOnReturn: true` "
            f"in {roles.fixtures} and `allowNegativeBalance: true` in {o}'s profile"
        )
    return (
        f"{o} accepts {what}, which {m} refuses with {ours}: if {o} is right, capmock's rule "
        f"for {ours} is wrong for this org (docs/rules.md)"
    )


def _refused(theirs: int, what: str, roles: Roles) -> str:
    """The org refuses with ``theirs`` what the mock accepts."""
    o, m = roles.org.name, roles.mock.name
    if theirs == INSUFFICIENT_BALANCE:
        return (
            f"{o}'s test customer has less to deduct from than {m}'s: the worlds differ, not "
            f"the rules; give the customer in {roles.fixtures} {o}'s balances, or accept this "
            "drift in the baseline"
        )
    if theirs == CUSTOMER_NOT_FOUND:
        return (
            f"{o} does not know the test customer of its profile in that source: check "
            f"customer.userId and customer.source in {o}'s profile"
        )
    return (
        f"{o} refuses {what} with {theirs}, which {m} accepts: {m} is missing that rule, or "
        f"{m}'s world lets the request through where {o}'s does not"
    )


def _message(d: Difference, roles: Roles) -> str:
    mock, org = (d.a, d.b) if roles.mock.key == "a" else (d.b, d.a)
    o = roles.org.name
    if sorted(_VALUE.findall(mock)) == sorted(_VALUE.findall(org)):
        return (
            f"the messages of {d.subject} differ only in wording: if {o} is right, capmock's "
            f"reads {org!r} (mock_server/errors.py); clients should not match messages"
        )
    return (
        f"{o}'s message of {d.subject} carries other values: one profile may not describe "
        "its target (programs, decimals, currencies, users)"
    )


def _header(d: Difference, roles: Roles) -> str:
    mock, org = (d.a, d.b) if roles.mock.key == "a" else (d.b, d.a)
    name = d.subject.split(" ")[0]
    m, o = roles.mock.name, roles.org.name
    if mock == ABSENT:
        return (
            f"{m} sends no {name} where {o} sends {org!r}: if clients need it, capmock should "
            "send it too (mock_server/errors.py, HEADERS)"
        )
    if org == ABSENT:
        if name == "Allow" and roles.pick(d)[1].status == 405:
            return f"{o} answers 405 without Allow, which HTTP requires: clients cannot rely on it"
        return f"{o} sends no {name}: clients must not rely on it there"
    if name == "Content-Type":
        return f"{o} answers {org}: a client that checks the type before it parses JSON breaks"
    return ""


def _shape(d: Difference, roles: Roles) -> str:
    mock, org = (d.a, d.b) if roles.mock.key == "a" else (d.b, d.a)
    path = d.subject.split(" in ")[0]
    o = roles.org.name
    if mock == "absent":
        pointer = "$." + path.replace("[]", "[*]")
        return (
            f"{o}'s answers carry `{path}`: add it to the contract (openapi/capillary.yaml) and "
            f"the mock if clients need it, or --ignore '{pointer}'"
        )
    if org == "absent":
        return f"{o}'s answers lack `{path}`: a client that reads it breaks there"
    return f"`{path}` is {org} on {o}: a client that reads it as {mock} breaks there"


def _no_answer(d: Difference, roles: Roles) -> str:
    silent = next(seen for seen in d.seen.values() if seen.problem is not None)
    if silent.problem and "--max-requests" in silent.problem:
        return "raise --max-requests: the budget ran out before this request"
    return ""


def _value(d: Difference, roles: Roles) -> str:
    if d.subject.split(" in ")[0].endswith(tuple(BALANCE_FIELDS)):
        return "the balances differ: --balances ignore reads well-formed balances alike"
    return ""


SUGGESTERS: dict[str, Callable[[Difference, Roles], str]] = {
    STATUS: _status,
    CODE: _code,
    MESSAGE: _message,
    HEADER: _header,
    SHAPE: _shape,
    VALUE: _value,
    NO_ANSWER: _no_answer,
}

"""Each operation's rules table in docs/rules.md names the rows its rules answer with: row N
of an operation's table carries the code its rules module reports as row N."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mock_server.errors import Code
from mock_server.rules import allocate, balance, ledger
from mock_server.rules.deduct import LOOKUP_ROWS, ROWS

RULES = Path(__file__).resolve().parents[1] / "docs" / "rules.md"
DEDUCT = "## The rules, in the order they are checked"


def table(heading: str) -> dict[int, str]:
    """The rows of the table under ``heading``: number to the text of its code column."""
    text = RULES.read_text(encoding="utf-8")
    assert heading in text, f"docs/rules.md has no section {heading!r}"
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    return {
        int(match[1]): match[2]
        for match in re.finditer(r"^\| (\d+) \|[^|]*\| ([^|]*) \|", section, re.MULTILINE)
    }


@pytest.mark.parametrize(
    ("heading", "rows"),
    [
        ("## The points balance", balance.ROWS),
        ("## The points ledger", ledger.ROWS),
        ("## Issuing points: manualCurrencyAllocate", allocate.ROWS),
    ],
    ids=["balance", "ledger", "allocate"],
)
def test_each_row_of_an_operation_shows_the_code_its_rules_give_it(
    heading: str, rows: dict[int, Code]
) -> None:
    documented = table(heading)
    for row, code in rows.items():
        assert str(int(code)) in documented[row], f"{heading}: row {row} does not show {code}"
    # and the rows the module decides are the table's rows that are not about shape
    assert max(rows) == max(documented)


def test_the_lookup_deducts_rows_are_the_deducts_but_for_the_customer_lookup() -> None:
    """The lookup deduct's table lists only the rows that differ; every other row of its
    rules is the userId form's own, with the same code."""
    own, shared = table("## Deducting by identifier"), table(DEDUCT)
    assert set(own) == {4, 19}
    for code, row in LOOKUP_ROWS.items():
        assert str(int(code)) in (own.get(row) or shared[row]), f"row {row} does not show {code}"
    assert {code for code, row in LOOKUP_ROWS.items() if row == 19} == {
        Code.CUSTOMER_NOT_FOUND,
        Code.INVALID_IDENTIFIER,
    }
    assert {code: row for code, row in LOOKUP_ROWS.items() if code in ROWS} == ROWS

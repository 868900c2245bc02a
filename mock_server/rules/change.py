"""What a decision writes: one balance moved, and the ledger entry that says so.

A deduction and an allocation are the same kind of change, a debit or a credit of one
balance, so every store writes both through its one atomic ``apply``. The store gives
each entry its ``eventLogId`` as it writes it (``numbered``): increasing, never reused
while the entry is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from mock_server.model import Bucket
from mock_server.rules.money import balance_text, plain

DEBIT = "DEBIT"
CREDIT = "CREDIT"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    time: datetime
    source: str
    reason: str
    bucket: Bucket
    amount: Decimal
    """What moved, as sent (a deduction) or as awarded (an allocation): never negative."""
    balance_after: Decimal
    direction: str = DEBIT
    event_id: int | None = None
    """The ledger's ``eventLogId``, given by the store when it writes the entry."""

    def numbered(self, event_id: int) -> LedgerEntry:
        """This entry as written (every field named: ``dataclasses.replace`` costs more on
        the hot path)."""
        return LedgerEntry(
            self.time,
            self.source,
            self.reason,
            self.bucket,
            self.amount,
            self.balance_after,
            self.direction,
            event_id,
        )


@dataclass(frozen=True, slots=True)
class Change:
    """One balance moved: its new value, and the entry to append to the ledger."""

    bucket: Bucket
    balance: Decimal
    entry: LedgerEntry
    marker: Bucket | None = None
    """Another bucket set to 1 in the same write: an allocation's ``uniqueId``, so that
    the check for a repeated one is as atomic as the balance itself."""

    def explain(self) -> str:
        """In words, for the journal: the balance before, what moved, the balance after."""
        amount = self.entry.amount
        debit = self.entry.direction == DEBIT
        before = self.balance + amount if debit else self.balance - amount
        return (
            f"success: {self.bucket.describe()} was {balance_text(before)}; {plain(amount)} "
            f"{'deducted' if debit else 'issued'}; now {balance_text(self.balance)}"
        )

    def numbered(self, event_id: int) -> Change:
        """This change as written, its entry carrying its ``eventLogId``."""
        return type(self)(self.bucket, self.balance, self.entry.numbered(event_id), self.marker)

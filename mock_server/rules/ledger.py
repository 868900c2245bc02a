"""The rules of the points ledger (``GET /v2/pointsLedger/getCustomerLedgerInfo``).

A read: nothing is written. ``customer`` checks the query and finds whom it names
(rows 8-12); ``ledger_page`` turns that customer's fixture balances and stored changes
into Capillary's ledger events, filters, sorts and pages them (row 13).

The events:
- the fixture's opening balances: one ``CustomerRegistration`` event, ``eventLogId`` 0,
  with an ``OPENING_BALANCE`` row per balance the fixture lists, dated ``OPENING_TIME``;
- each deduction (either deduct endpoint): a ``ManualPointsAdjustment`` event with one
  ``DEBIT`` row;
- each allocation: a ``BulkAllocatePoints`` event with one ``CREDIT`` row.

So for every program and bucket, the opening rows plus the credits minus the debits are
the balance (as long as the customer's ledger keeps every entry: the stores keep the
newest 1,000 per customer). Alternate-currency rows are shown only when asked for
(``includeAlternateCurrencies`` or ``alternateCurrencyNames``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from mock_server.errors import Code, RuleError
from mock_server.model import CURRENCY, POINTS, Bucket, Customer, World
from mock_server.rules.change import CREDIT, DEBIT, LedgerEntry
from mock_server.rules.lookup import Identifier, find
from mock_server.rules.money import ZERO

CUSTOMER = "CUSTOMER"
OPENING_BALANCE = "OPENING_BALANCE"
OPENING_EVENT_ID = 0
OPENING_TIME = datetime(2025, 1, 1, tzinfo=UTC)
"""When the fixture's opening balances are dated: before anything the mock records."""
EVENT_NAMES = {
    OPENING_BALANCE: "CustomerRegistration",
    DEBIT: "ManualPointsAdjustment",
    CREDIT: "BulkAllocatePoints",
}
CATEGORIES = {
    "REGULAR": "REGULAR",
    "PROMISED": "PROMISED",
    "TRIGGER_BASED": "EXTERNAL_TRIGGER_BASED",
}
"""``pointCategoryType`` to the category it selects (alternate currencies count as REGULAR,
as Capillary shows their rows in the ``Main`` category)."""
MAX_LIMIT = 100
WINDOW_DAYS = 90
YEAR_DAYS = 365

ROWS: dict[int, Code] = {
    8: Code.NOT_SUPPORTED,
    9: Code.LIMIT_TOO_LARGE,
    10: Code.INVALID_DATE_RANGE,
    11: Code.INVALID_IDENTIFIER,
    12: Code.CUSTOMER_NOT_FOUND,
    13: Code.NO_LEDGER_ENTRIES,
}
"""The rows of the ledger's rules table (docs/rules.md) and the code of each."""

LOOKUP_ROWS = {Code.INVALID_IDENTIFIER: 11, Code.CUSTOMER_NOT_FOUND: 12}


@dataclass(frozen=True, slots=True)
class LedgerQuery:
    identifier: Identifier
    limit: int = 10
    offset: int = 0
    """The page, counted from 0."""
    program_id: int | None = None
    ascending: bool = False
    include_currencies: bool = False
    currency_names: tuple[str, ...] | None = None
    exclude_points: bool = False
    entry_type: str | None = None
    category: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    filter_by_date: bool = True
    last_year: bool = False
    entity_type: str = CUSTOMER


@dataclass(frozen=True, slots=True)
class Row:
    entry_type: str
    """OPENING_BALANCE, CREDIT or DEBIT."""
    bucket: Bucket
    amount: Decimal
    """Never negative: the type says which way it went."""

    @property
    def signed(self) -> Decimal:
        return -self.amount if self.entry_type == DEBIT else self.amount


@dataclass(frozen=True, slots=True)
class Event:
    event_id: int
    name: str
    time: datetime
    program_id: int
    """The program the event happened in (``sourceProgramId``)."""
    rows: tuple[Row, ...]
    net_points: Decimal
    net_currencies: dict[str, Decimal]


@dataclass(frozen=True, slots=True)
class LedgerPage:
    customer: Customer
    events: list[Event]
    page: int
    size: int
    total: int
    pages: int

    def explain(self) -> str:
        return (
            f"success: page {self.page} of {self.pages} by {self.size}: {len(self.events)} "
            f"of the {self.total} events of customer {self.customer.user_id}"
        )


def customer(world: World, query: LedgerQuery) -> Customer | RuleError:
    """Whom the request names, once the query is one the ledger takes (rows 8-12)."""
    if query.entity_type != CUSTOMER:
        return RuleError(
            8,
            Code.NOT_SUPPORTED,
            f"type is {query.entity_type}",
            what=f"the ledger of a {query.entity_type}",
        )
    if query.limit > MAX_LIMIT:
        return RuleError(9, Code.LIMIT_TOO_LARGE, f"limit is {query.limit}, above {MAX_LIMIT}")
    window = _window(query)
    if isinstance(window, RuleError):
        return window
    return find(world, query.identifier, LOOKUP_ROWS)


def ledger_page(
    world: World, query: LedgerQuery, customer: Customer, entries: Sequence[LedgerEntry]
) -> LedgerPage | RuleError:
    """One page of the customer's events, newest first unless ``ascending`` (row 13)."""
    window = _window(query)
    assert not isinstance(window, RuleError)  # customer() refused it before
    events = [
        shown
        for event in (_opening(world, customer), *(_event(entry) for entry in entries))
        if event is not None and _dated(event, window)
        for shown in [_filtered(event, query)]
        if shown is not None
    ]
    events.sort(key=lambda event: (event.time, event.event_id), reverse=not query.ascending)
    pages = -(-len(events) // query.limit)
    if query.offset >= pages:
        return RuleError(
            13,
            Code.NO_LEDGER_ENTRIES,
            f"{len(events)} event(s) match, {pages} page(s) of {query.limit}; offset is "
            f"{query.offset} (pages count from 0)",
        )
    first = query.offset * query.limit
    return LedgerPage(
        customer, events[first : first + query.limit], query.offset, query.limit, len(events), pages
    )


def _window(query: LedgerQuery) -> tuple[datetime | None, datetime | None] | RuleError:
    """The dates an event must fall between (either end open), or row 10's refusal."""
    if not query.filter_by_date or (query.start is None and query.end is None):
        return None, None
    days = timedelta(days=YEAR_DAYS if query.last_year else WINDOW_DAYS)
    start, end = query.start, query.end
    if start is None:
        assert end is not None
        return end - days, end
    if end is None:
        return start, start + days
    if start > end:
        return RuleError(
            10,
            Code.INVALID_DATE_RANGE,
            f"startDate {start:%Y-%m-%dT%H:%M:%S} is after endDate {end:%Y-%m-%dT%H:%M:%S}",
            detail="startDate is after endDate",
        )
    if end - start > days:
        return RuleError(
            10,
            Code.INVALID_DATE_RANGE,
            f"startDate and endDate are {(end - start).days} days apart",
            detail=f"startDate and endDate must be at most {days.days} days apart",
        )
    return start, end


def _dated(event: Event, window: tuple[datetime | None, datetime | None]) -> bool:
    start, end = window
    return (start is None or event.time >= start) and (end is None or event.time <= end)


def _opening(world: World, customer: Customer) -> Event | None:
    rows = [
        Row(OPENING_BALANCE, bucket, amount)
        for bucket, amount in sorted(customer.opening.items(), key=lambda item: item[0].key())
    ]
    if not rows:
        return None
    default = world.default_program_id
    program = default if default in customer.programs else min(customer.programs)
    return _made(OPENING_EVENT_ID, OPENING_BALANCE, OPENING_TIME, program, rows)


def _event(entry: LedgerEntry) -> Event:
    row = Row(entry.direction, entry.bucket, entry.amount)
    return _made(entry.event_id or 0, entry.direction, entry.time, entry.bucket.program_id, [row])


def _made(event_id: int, kind: str, time: datetime, program: int, rows: Iterable[Row]) -> Event:
    return Event(event_id, EVENT_NAMES[kind], time, program, tuple(rows), ZERO, {})


def _filtered(event: Event, query: LedgerQuery) -> Event | None:
    """The event with the rows the query shows and its nets, or None when none is shown."""
    rows = [
        row
        for row in event.rows
        if query.program_id is None or row.bucket.program_id == query.program_id
    ]
    currencies = query.include_currencies or query.currency_names is not None
    net_points = sum((row.signed for row in rows if row.bucket.kind == POINTS), ZERO)
    net_currencies: dict[str, Decimal] = {}
    shown = []
    for row in rows:
        if row.bucket.kind == CURRENCY:
            if not currencies or (
                query.currency_names is not None and row.bucket.name not in query.currency_names
            ):
                continue
            net_currencies[row.bucket.name] = net_currencies.get(row.bucket.name, ZERO) + row.signed
        elif currencies and query.exclude_points:
            continue
        if query.entry_type is not None and row.entry_type != query.entry_type:
            continue
        category = row.bucket.name if row.bucket.kind == POINTS else "REGULAR"
        if query.category is not None and CATEGORIES[query.category] != category:
            continue
        shown.append(row)
    if not shown:
        return None
    return Event(
        event.event_id,
        event.name,
        event.time,
        event.program_id,
        tuple(shown),
        net_points,
        net_currencies,
    )

"""Memory: the ledgers are bounded for all customers together, not only per customer.

The memory and SQLite stores keep the entries of the newest ``ledger_total``
deductions (and at most ``ledger_limit`` per customer), oldest dropped first; balances
are never trimmed. Redis bounds each customer's ledger only (docs/stores.md).
"""

from __future__ import annotations

import asyncio
import random
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from support import DEDUCT, ServedMock, basic_header

from mock_server.fixtures import load_document
from mock_server.model import POINTS, Bucket
from mock_server.operations.deduct import decision
from mock_server.rules.deduct import Deduction
from mock_server.stores.base import Store
from mock_server.stores.open import open_store

CUSTOMERS = range(1, 21)
REGULAR = Bucket(1, POINTS, "REGULAR")
WORLD = "\n".join(
    [
        "users: [{username: u, password: p, accessGroups: [points]}]",
        "programs: [{id: 1, name: P, default: true, roundDecimals: 0}]",
        "customers:",
        *(
            f"  - {{userId: {user}, sources: [INSTORE], "
            "enrollments: [{programId: 1, points: {REGULAR: 1000000}}]}"
            for user in CUSTOMERS
        ),
    ]
)


def deduct(store: Store, user: int, reason: str) -> None:
    asyncio.run(deduct_all(store, [user], reason))


async def deduct_all(store: Store, users: list[int], reason: str) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for user in users:
        await store.apply(user, decision(Deduction(user, "INSTORE", reason, Decimal(1)), now))


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_the_ledgers_keep_the_entries_of_the_newest_deductions(
    backend: str, tmp_path: Path
) -> None:
    url = "memory" if backend == "memory" else f"sqlite:///{tmp_path / 'state.db'}"
    store = open_store(url, load_document(WORLD, "many.yaml"), ledger_limit=4, ledger_total=25)
    chooser = random.Random(8)
    made = [(chooser.choice([1, 1, 1, 2, 3, *CUSTOMERS]), f"d{n}") for n in range(300)]
    for user, reason in made:
        deduct(store, user, reason)

    newest = made[-25:]
    for user in CUSTOMERS:
        kept = [entry.reason for entry in asyncio.run(store.ledger(user))]
        assert kept == [reason for who, reason in newest if who == user][-4:], user
        balance = asyncio.run(store.balances(user))[REGULAR]
        assert balance == 1000000 - sum(who == user for who, _ in made)  # never trimmed
    asyncio.run(store.close())


def test_the_memory_store_stops_growing_at_its_bound() -> None:
    store = open_store("memory", load_document(WORLD, "many.yaml"), ledger_total=1000)
    users = [CUSTOMERS[n % len(CUSTOMERS)] for n in range(5000)]
    tracemalloc.start()
    try:
        asyncio.run(deduct_all(store, users, "first"))  # past the bound already
        before = tracemalloc.get_traced_memory()[0]
        asyncio.run(deduct_all(store, users, "then"))
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    kept = [entry.reason for user in CUSTOMERS for entry in asyncio.run(store.ledger(user))]
    assert kept == ["then"] * 1000
    assert grown < 100_000  # 5,000 entries more would take about 2 MB


def test_the_memory_store_lets_go_of_what_a_customers_own_limit_dropped() -> None:
    store = open_store("memory", load_document(WORLD, "many.yaml"), ledger_limit=10)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        asyncio.run(deduct_all(store, [1] * 5000, "one customer"))
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(asyncio.run(store.ledger(1))) == 10
    assert grown < 800_000, grown  # 4,990 entries dropped, kept, would take about 2.5 MB


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_takes_the_bound_from_ledger_entries(
    serve: Callable[..., ServedMock], tmp_path: Path, workers: int
) -> None:
    store = "memory" if workers == 1 else f"sqlite:///{tmp_path / 'state.db'}"
    served = serve("--ledger-entries", "5", "--store", store, "--workers", str(workers))
    headers = {"Authorization": basic_header("store.server", "server123")}
    for user in [388034468] * 4 + [388034472] * 4:
        response = httpx.post(
            served.url + DEDUCT.format(user_id=user),
            params={"source": "INSTORE"},
            json={"pointsToBeAdjusted": 1, "reasonOfReturn": f"to {user}"},
            headers=headers,
        )
        assert response.status_code == 200
    seed = httpx.get(f"{served.url}/__admin/customers/388034468").json()
    other = httpx.get(f"{served.url}/__admin/customers/388034472").json()
    assert (len(seed["ledger"]), len(other["ledger"])) == (1, 4)
    regular = next(row for row in seed["balances"] if row["name"] == "REGULAR")
    assert regular["balance"] == "676.000"

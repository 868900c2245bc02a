"""No lost update, no double deduction, no overdraft, and nothing lost on a crash.

200 deductions of 1 point are sent at once to a customer with 100 points and overdraft
off: exactly 100 must succeed, each answering a different balance, 100 must be refused
with 8907, and the customer must end at 0.000 with 100 ledger entries. Then adds and
deductions mixed: 200 deductions of 1 (half by userId, half by mobile) and 200
allocations of 2 at once on a customer with 200 points must all succeed and end at
exactly 400, with a ledger of 400 entries each of which follows from the one before.
Both are checked on every store in one process, with several worker processes (sqlite,
redis), and with two separate servers sharing one Redis. Only loopback addresses are used.
"""

from __future__ import annotations

import asyncio
import os
import signal
import ssl
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import (
    ALLOCATE,
    BALANCE,
    DEDUCT,
    LOOKUP_DEDUCT,
    ServedMock,
    basic_header,
    start_server,
    stop_server,
)

from mock_server.app import create_app
from mock_server.fixtures import load_fixtures
from mock_server.stores.open import open_store

HUNDRED = Path(__file__).parent / "data" / "hundred.yaml"
MIXED = Path(__file__).parent / "data" / "mixed.yaml"
MOBILE = "5550001001"
USER = 1001
REQUESTS = 200
CLIENTS = 20
AUTH = basic_header("load.tester", "load123")

Serve = Callable[..., ServedMock]


async def _send_all(urls: list[str]) -> list[httpx.Response]:
    """REQUESTS deductions of 1 point, all in flight at once, spread over ``urls``.

    The requests go through several clients: one httpx pool of 200 connections spends
    its time scanning its own connections (quadratic), not waiting for the server.
    """
    limits = httpx.Limits(max_connections=REQUESTS // CLIENTS)
    tls = ssl.create_default_context()  # unused on http://, but costly to make 20 times
    clients = [httpx.AsyncClient(timeout=30, limits=limits, verify=tls) for _ in range(CLIENTS)]
    try:
        return await asyncio.gather(
            *(
                clients[index % CLIENTS].post(
                    urls[index % len(urls)] + DEDUCT.format(user_id=USER),
                    params={"source": "INSTORE"},
                    json={"pointsToBeAdjusted": 1, "reasonOfReturn": f"load {index}"},
                    headers={"Authorization": AUTH},
                )
                for index in range(REQUESTS)
            )
        )
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))


def assert_exactly_100_deducted(urls: list[str]) -> None:
    responses = asyncio.run(_send_all(urls))
    succeeded = [r.json()["pointsAvailable"] for r in responses if r.status_code == 200]
    refused = [
        (r.status_code, r.json()["errors"][0]["code"]) for r in responses if r.status_code != 200
    ]
    every_balance = [f"{points}.000" for points in range(100)]
    assert sorted(succeeded, key=Decimal) == every_balance  # 100, none answering twice
    assert refused == [(400, 8907)] * 100
    for url in urls:
        customer = httpx.get(f"{url}/__admin/customers/{USER}", timeout=10).json()
        balances = {row["name"]: row["balance"] for row in customer["balances"]}
        assert balances["REGULAR"] == "0.000"
        ledger = customer["ledger"]
        assert [entry["amount"] for entry in ledger] == ["1"] * 100
        assert [entry["balanceAfter"] for entry in ledger] == every_balance[::-1]


def _mixed_request(client: httpx.AsyncClient, url: str, index: int) -> Any:
    """The index-th request of the mixed race: an allocation of 2, a deduction of 1 by
    userId or a deduction of 1 by mobile."""
    headers = {"Authorization": AUTH}
    if index % 2 == 0:
        item = {
            "orgId": 1,
            "programId": 1,
            "awardStrategyId": 7,
            "expiryStrategyId": 8,
            "sourceValue": -1,
            "eventName": "TransactionAdd",
            "eventSourceId": f"bill-{index}",
            "lookupParams": {
                "identifierType": "id",
                "identifierValue": str(USER),
                "source": "INSTORE",
            },
        }
        return client.post(url + ALLOCATE, json=[item], headers=headers)
    body = {"pointsToBeAdjusted": 1, "reasonOfReturn": f"mixed {index}"}
    if index % 4 == 1:
        return client.post(
            url + DEDUCT.format(user_id=USER),
            params={"source": "INSTORE"},
            json=body,
            headers=headers,
        )
    lookup = {"identifierName": "mobile", "identifierValue": MOBILE, "source": "INSTORE"}
    return client.post(url + LOOKUP_DEDUCT, params=lookup, json=body, headers=headers)


async def _send_mixed(urls: list[str]) -> list[httpx.Response]:
    """2 x REQUESTS requests at once: half allocations, half deductions."""
    limits = httpx.Limits(max_connections=2 * REQUESTS // CLIENTS)
    tls = ssl.create_default_context()
    clients = [httpx.AsyncClient(timeout=60, limits=limits, verify=tls) for _ in range(CLIENTS)]
    try:
        return await asyncio.gather(
            *(
                _mixed_request(clients[index % CLIENTS], urls[index % len(urls)], index)
                for index in range(2 * REQUESTS)
            )
        )
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))


def assert_mixed_exact(urls: list[str]) -> None:
    responses = asyncio.run(_send_mixed(urls))
    assert [r.status_code for r in responses] == [200] * (2 * REQUESTS)
    issued = [r.json()["data"][0] for r in responses[::2]]
    assert {item["status"] for item in issued} == {"SUCCESS"}
    for url in urls:
        customer = httpx.get(f"{url}/__admin/customers/{USER}", timeout=10).json()
        regular = next(row for row in customer["balances"] if row["name"] == "REGULAR")
        assert regular["balance"] == "400.000"  # 200 - 200 x 1 + 200 x 2
        ledger = customer["ledger"]
        assert sorted((e["direction"], e["amount"]) for e in ledger) == sorted(
            [("CREDIT", "2")] * REQUESTS + [("DEBIT", "1")] * REQUESTS
        )
        before = Decimal(200)  # each entry follows from the one before it: one order
        for entry in ledger:
            sign = 1 if entry["direction"] == "CREDIT" else -1
            before += sign * Decimal(entry["amount"])
            assert Decimal(entry["balanceAfter"]) == before, entry
        ids = [entry["eventLogId"] for entry in ledger]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert {item["eventLogId"] for item in issued} <= set(ids)
        shown = httpx.get(
            url + BALANCE,
            params={"identifierName": "mobile", "identifierValue": MOBILE, "source": "INSTORE"},
            headers={"Authorization": AUTH},
        )
        assert '"mainPoints": 400.000' in shown.text


def test_one_process_on_each_store(fresh_store_url: str) -> None:
    store = open_store(fresh_store_url, load_fixtures(HUNDRED))
    server, thread, url = start_server(create_app(store=store))
    try:
        assert_exactly_100_deducted([url])
    finally:
        stop_server(server, thread)


def test_adds_and_deductions_mixed_on_each_store(fresh_store_url: str) -> None:
    store = open_store(fresh_store_url, load_fixtures(MIXED))
    server, thread, url = start_server(create_app(store=store))
    try:
        assert_mixed_exact([url])
    finally:
        stop_server(server, thread)


@pytest.mark.parametrize("workers", [2])
def test_adds_and_deductions_mixed_on_several_workers(
    shared_store_url: str, serve: Serve, workers: int
) -> None:
    served = serve("--fixtures", str(MIXED), "--store", shared_store_url, "--workers", str(workers))
    assert f"Workers    {workers}" in served.output()
    assert_mixed_exact([served.url])


def test_adds_and_deductions_mixed_on_two_servers_sharing_one_store(
    shared_store_url: str, serve: Serve
) -> None:
    """Two replicas: one Redis, or one SQLite file on one host."""
    first = serve("--fixtures", str(MIXED), "--store", shared_store_url)
    second = serve("--fixtures", str(MIXED), "--store", shared_store_url)
    assert_mixed_exact([first.url, second.url])


@pytest.mark.parametrize("workers", [2])
def test_several_workers_on_a_shared_store(
    shared_store_url: str, serve: Serve, workers: int
) -> None:
    served = serve(
        "--fixtures", str(HUNDRED), "--store", shared_store_url, "--workers", str(workers)
    )
    assert f"Workers    {workers}" in served.output()
    assert_exactly_100_deducted([served.url])

    # Fixtures PUT on whichever worker answers are then served by every worker: each
    # request below comes on a new connection, so the workers share them out.
    text = HUNDRED.read_text(encoding="utf-8").replace("REGULAR: 100", "REGULAR: 7.5")
    response = httpx.put(
        f"{served.url}/__admin/fixtures", content=text, headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 200
    for _ in range(10):
        customer = httpx.get(f"{served.url}/__admin/customers/{USER}").json()
        assert [row["balance"] for row in customer["balances"] if row["name"] == "REGULAR"] == [
            "7.500"
        ]
        assert customer["ledger"] == []


def test_two_servers_sharing_one_store(shared_store_url: str, serve: Serve) -> None:
    """Two replicas: one Redis, or one SQLite file on one host."""
    first = serve("--fixtures", str(HUNDRED), "--store", shared_store_url)
    second = serve("--fixtures", str(HUNDRED), "--store", shared_store_url)
    assert "balances and ledgers kept" in second.output()  # joined, did not reset
    assert_exactly_100_deducted([first.url, second.url])


def test_a_sqlite_deduction_survives_sigkill(tmp_path: Path, serve: Serve) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    first = serve("--store", url)
    response = httpx.post(
        first.url + DEDUCT.format(user_id=388034468),
        params={"source": "INSTORE"},
        json={"pointsToBeAdjusted": "10.5", "reasonOfReturn": "before the crash"},
        headers={"Authorization": basic_header("store.server", "server123")},
    )
    assert response.status_code == 200 and response.json()["pointsAvailable"] == "669.500"
    os.killpg(first.process.pid, signal.SIGKILL)
    assert first.process.wait(10) == -signal.SIGKILL

    second = serve("--store", url)
    assert "balances and ledgers kept" in second.output()
    customer = httpx.get(f"{second.url}/__admin/customers/388034468").json()
    regular = next(row for row in customer["balances"] if row["name"] == "REGULAR")
    assert regular["balance"] == "669.500"
    assert [(e["amount"], e["reason"]) for e in customer["ledger"]] == [
        ("10.5", "before the crash")
    ]

"""Faults from the command line, kept in the store: applied by every worker and replica,
counted exactly across them, and drawn the same way on every run."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
from support import DEDUCT, SEED_USER, ServedMock, basic_header

BODY = {"pointsToBeAdjusted": "1", "reasonOfReturn": "Fault test"}
AUTH = {"Authorization": basic_header("store.server", "server123")}


def deduct(url: str) -> int:
    with httpx.Client(base_url=url, timeout=30) as client:
        return client.post(
            DEDUCT.format(user_id=SEED_USER), params={"source": "INSTORE"}, json=BODY, headers=AUTH
        ).status_code


def ledger(url: str) -> list[dict]:
    return httpx.get(f"{url}/__admin/customers/{SEED_USER}").json()["ledger"]


def test_times_holds_exactly_across_two_workers(
    shared_store_url: str, serve: Callable[..., ServedMock]
):
    served = serve("--store", shared_store_url, "--workers", "2", "--fault", "status=599,times=10")
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: deduct(served.url), range(30)))
    assert statuses.count(599) == 10
    assert statuses.count(200) == 20
    assert len(ledger(served.url)) == 20
    assert httpx.get(f"{served.url}/__admin/faults").json()["faults"] == []


def test_a_fault_added_through_one_replica_acts_on_the_other(
    shared_store_url: str, serve: Callable[..., ServedMock]
):
    first = serve("--store", shared_store_url)
    second = serve("--store", shared_store_url)  # starting replaces the store's faults: none
    added = httpx.post(
        f"{first.url}/__admin/faults",
        json={"match": {"userId": SEED_USER}, "action": {"type": "status", "status": 599}},
    )
    assert added.status_code == 201
    assert deduct(second.url) == 599
    assert httpx.get(f"{second.url}/__admin/faults").json()["faults"][0]["matched"] == 1
    assert httpx.delete(f"{second.url}/__admin/faults").json() == {"removed": 1}
    assert deduct(first.url) == 200


def test_the_seed_fails_the_same_calls_on_every_run(
    shared_store_url: str, serve: Callable[..., ServedMock]
):
    """Two runs over two workers, with the same --seed and a fault without a seed of its
    own (its draws are keyed by its id, f1 on both runs): the same calls fail."""
    patterns = []
    for _ in range(2):
        served = serve(
            "--store",
            shared_store_url,
            "--workers",
            "2",
            "--seed",
            "7",
            "--fault",
            "status=599,p=0.3",
        )
        patterns.append([n for n in range(40) if deduct(served.url) == 599])
        assert httpx.get(f"{served.url}/__admin/faults").json()["seed"] == 7
        served.process.terminate()
        served.process.wait(10)
    assert 3 <= len(patterns[0]) <= 25
    assert patterns[0] == patterns[1]


def test_the_command_line_replaces_the_faults_and_settings_a_store_held(
    tmp_path, serve: Callable[..., ServedMock]
):
    url = f"sqlite:///{tmp_path / 'state.db'}"
    first = serve("--store", url, "--fault", "reset", "--latency", "1ms", "--rate-limit", "5/s")
    assert len(httpx.get(f"{first.url}/__admin/faults").json()["faults"]) == 1
    first.process.terminate()
    first.process.wait(10)
    second = serve("--store", url, "--seed", "3")
    assert httpx.get(f"{second.url}/__admin/faults").json() == {"faults": [], "seed": 3}
    assert httpx.get(f"{second.url}/__admin/latency").json() == {}
    assert httpx.get(f"{second.url}/__admin/rate-limit").json() == {}
    assert deduct(second.url) == 200

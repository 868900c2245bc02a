"""Store URLs, restart semantics, one world shared by several processes, and clear
errors for stores that cannot be used."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from click.testing import CliRunner
from support import (
    DEDUCT,
    SEED_USER,
    RedisServer,
    basic_header,
    free_port,
    start_server,
    stop_server,
)

from capmock.cli import main
from mock_server import app as app_module
from mock_server.app import create_app
from mock_server.data import DEFAULT_FIXTURES
from mock_server.fixtures import load_document, load_fixtures
from mock_server.model import POINTS, Bucket
from mock_server.operations.deduct import decision
from mock_server.rules.deduct import Deducted, Deduction
from mock_server.stores.base import Store, StoreError, redacted
from mock_server.stores.open import open_store
from mock_server.stores.sqlite import TRIM_EVERY, database_path

T = TypeVar("T")
REGULAR = Bucket(973, POINTS, "REGULAR")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
SHARED_SECRET = "one-secret-that-every-worker-signs-tokens-with"


def using(store: Store, work: Callable[[Store], Awaitable[T]]) -> T:
    """Run ``work`` on the store in a fresh event loop, then close the store there."""

    async def run() -> T:
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


def deduct(amount: str, user_id: int = SEED_USER) -> Callable[[Store], Awaitable[Any]]:
    request = Deduction(user_id, "INSTORE", "test", Decimal(amount))
    return lambda store: store.apply(user_id, decision(request, NOW))


async def state(store: Store) -> tuple[Decimal, list[Decimal]]:
    balances = await store.balances(SEED_USER)
    return balances[REGULAR], [entry.amount for entry in await store.ledger(SEED_USER)]


def default_world_with(old: str, new: str) -> Any:
    text = DEFAULT_FIXTURES.read_text(encoding="utf-8")
    assert old in text
    return load_document(text.replace(old, new), "changed.yaml")


# --- the ledger's bound -------------------------------------------------------------


def test_each_ledger_keeps_its_newest_entries_and_every_balance_stays_exact(
    fresh_store_url: str,
) -> None:
    store = open_store(fresh_store_url, load_fixtures(DEFAULT_FIXTURES), ledger_limit=3)

    async def five_deductions(store: Store) -> tuple[Decimal, list[Decimal]]:
        for amount in ("1", "2", "3", "4", "5"):
            assert isinstance(await deduct(amount)(store), Deducted)
        return await state(store)

    balance, ledger = using(store, five_deductions)
    assert balance == Decimal("665")  # 680 - 15: every deduction counted
    assert ledger == [Decimal("3"), Decimal("4"), Decimal("5")]


def test_a_deduction_right_after_a_reset_counts_from_the_opening_balances(
    fresh_store_url: str,
) -> None:
    """No request in between reads the world again: the deduction must still land in
    the state that the reset started, and be the only thing in it."""
    store = open_store(fresh_store_url, load_fixtures(DEFAULT_FIXTURES))

    async def deduct_reset_deduct(store: Store) -> tuple[Decimal, list[Decimal]]:
        assert isinstance(await deduct("5")(store), Deducted)
        await store.reset()
        assert isinstance(await deduct("10")(store), Deducted)
        return await state(store)

    assert using(store, deduct_reset_deduct) == (Decimal("670"), [Decimal("10")])


def test_sqlite_deletes_trimmed_rows_from_the_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    store = open_store(url, load_fixtures(DEFAULT_FIXTURES), ledger_limit=3)

    async def many(store: Store) -> None:
        for _ in range(TRIM_EVERY * 2):
            assert isinstance(await deduct("1")(store), Deducted)

    using(store, many)
    with sqlite3.connect(tmp_path / "state.db") as db:
        (rows,) = db.execute("SELECT count(*) FROM ledger").fetchone()
    assert rows <= 3 + TRIM_EVERY  # trimmed in batches, never more than one batch behind


# --- restart semantics -----------------------------------------------------------------


def test_the_same_fixtures_keep_the_state_and_others_replace_it(shared_store_url: str) -> None:
    first = open_store(shared_store_url, load_fixtures(DEFAULT_FIXTURES))
    assert first.resumed is False
    assert isinstance(using(first, deduct("10.25")), Deducted)

    again = open_store(shared_store_url, load_fixtures(DEFAULT_FIXTURES))
    assert again.resumed is True
    assert using(again, state) == (Decimal("669.75"), [Decimal("10.25")])

    other = open_store(shared_store_url, default_world_with("REGULAR: 680,", "REGULAR: 90,"))
    assert other.resumed is False
    assert using(other, state) == (Decimal("90"), [])


def test_a_worker_serves_the_world_the_store_holds(shared_store_url: str) -> None:
    parent = open_store(shared_store_url, default_world_with("REGULAR: 680,", "REGULAR: 7,"))
    using(parent, deduct("2"))
    worker = open_store(shared_store_url)
    assert worker.resumed is True
    assert using(worker, state) == (Decimal("5"), [Decimal("2")])


def test_an_empty_store_has_no_world_to_serve(shared_store_url: str) -> None:
    with pytest.raises(StoreError, match="holds no fixtures yet"):
        open_store(shared_store_url)


def test_a_shared_store_needs_the_fixture_text(shared_store_url: str) -> None:
    world = load_fixtures(DEFAULT_FIXTURES)
    from_mapping = load_document(world.document, "mapping")
    with pytest.raises(ValueError, match="fixture text"):
        open_store(shared_store_url, from_mapping)


# --- one world, several processes --------------------------------------------------------


@pytest.fixture
def two_workers(shared_store_url: str) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Two apps on one shared store, each with its own connection, as two workers have."""
    parent = open_store(shared_store_url, load_fixtures(DEFAULT_FIXTURES))
    asyncio.run(parent.close())
    servers = [
        start_server(create_app(store=open_store(shared_store_url), token_secret=SHARED_SECRET))
        for _ in range(2)
    ]
    clients = [httpx.Client(base_url=url, timeout=10) for _, _, url in servers]
    yield clients[0], clients[1]
    for client, (server, thread, _) in zip(clients, servers, strict=True):
        client.close()
        stop_server(server, thread)


def _deduct(client: httpx.Client, amount: str, **headers: str) -> httpx.Response:
    return client.post(
        DEDUCT.format(user_id=SEED_USER),
        params={"source": "INSTORE"},
        json={"pointsToBeAdjusted": amount, "reasonOfReturn": "shared"},
        headers=headers or {"Authorization": basic_header("store.server", "server123")},
    )


def _regular(client: httpx.Client, user_id: int = SEED_USER) -> str:
    customer = client.get(f"/__admin/customers/{user_id}").json()
    return next(row["balance"] for row in customer["balances"] if row["name"] == "REGULAR")


def test_workers_share_balances_and_reset(two_workers: tuple[httpx.Client, httpx.Client]) -> None:
    one, other = two_workers
    assert _deduct(one, "10").json()["pointsAvailable"] == "670.000"
    assert _deduct(other, "10").json()["pointsAvailable"] == "660.000"
    assert len(one.get(f"/__admin/customers/{SEED_USER}").json()["ledger"]) == 2
    other.post("/__admin/reset").raise_for_status()
    assert _regular(one) == "680.000"


def test_fixtures_put_on_one_worker_are_served_by_all(
    two_workers: tuple[httpx.Client, httpx.Client],
) -> None:
    one, other = two_workers
    assert _deduct(other, "10").is_success
    text = DEFAULT_FIXTURES.read_text(encoding="utf-8").replace("REGULAR: 680,", "REGULAR: 0.3,")
    response = one.put(
        "/__admin/fixtures", content=text, headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 200
    assert _regular(other) == "0.300"
    assert _deduct(other, "0.1").json()["pointsAvailable"] == "0.200"
    assert _deduct(one, "0.2").json()["pointsAvailable"] == "0.000"
    assert _deduct(other, "0.01").json()["errors"][0]["code"] == 8907


def test_a_token_issued_by_one_worker_is_accepted_by_another(
    two_workers: tuple[httpx.Client, httpx.Client],
) -> None:
    one, other = two_workers
    token = one.post(
        "/v3/oauth/token/generate", json={"key": "doc-client", "secret": "doc-secret"}
    ).json()["data"]["accessToken"]
    response = _deduct(other, "1", **{"X-CAP-API-OAUTH-TOKEN": token})
    assert response.json()["pointsAvailable"] == "679.000"


# --- SQLite ----------------------------------------------------------------------------


def test_sqlite_keeps_amounts_as_exact_text(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = open_store(f"sqlite:///{path}", load_fixtures(DEFAULT_FIXTURES))
    using(store, deduct("0.1"))
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT typeof(amount), amount FROM balance").fetchall() == [
            ("text", "679.9")
        ]
        assert db.execute(
            "SELECT typeof(amount), amount, typeof(balance_after), balance_after FROM ledger"
        ).fetchall() == [("text", "0.1", "text", "679.9")]


def test_sqlite_urls_follow_sqlalchemy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert database_path("sqlite:///state.db") == tmp_path / "state.db"
    assert database_path("sqlite:///data/my%20state.db") == tmp_path / "data" / "my state.db"
    assert database_path(f"sqlite:///{tmp_path}/x.db") == tmp_path / "x.db"
    assert database_path("sqlite:////var/lib/state.db") == Path("/var/lib/state.db")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://host/state.db", "sqlite:///relative/state.db or sqlite:////absolute"),
        ("sqlite:///", "names no file"),
        ("sqlite:///state.db?mode=ro", "sqlite:///relative/state.db or sqlite:////absolute"),
        (
            "sqlite:///no/such/dir/state.db",
            "the folder {tmp}/no/such/dir does not exist: create it first (three slashes",
        ),
        ("sqlite:////no-such-capmock-dir/x.db", "the folder /no-such-capmock-dir does not exist"),
    ],
)
def test_unusable_sqlite_urls_are_explained(
    url: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    expected = re.escape(message.format(tmp=tmp_path))
    with pytest.raises(StoreError, match=expected) as caught:
        open_store(url, load_fixtures(DEFAULT_FIXTURES))
    assert str(caught.value).startswith(url)


def test_sqlite_refuses_a_file_that_is_not_its_own(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE accounts (id INTEGER)")
    with pytest.raises(StoreError, match="is not a capmock state file"):
        open_store(f"sqlite:///{other}", load_fixtures(DEFAULT_FIXTURES))
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all, " * 100, encoding="utf-8")
    with pytest.raises(StoreError, match=r"cannot use .* as capmock's state"):
        open_store(f"sqlite:///{text}", load_fixtures(DEFAULT_FIXTURES))


# --- Redis and URLs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meanwhile", "seen_again", "after"),
    [
        (deduct("5"), Decimal("675"), (Decimal("665"), [Decimal("5"), Decimal("10")])),
        (
            lambda store: store.replace(default_world_with("REGULAR: 680,", "REGULAR: 90,")),
            Decimal("90"),
            (Decimal("80"), [Decimal("10")]),
        ),
    ],
    ids=["another-deduction", "new-fixtures"],
)
def test_redis_decides_again_when_another_replica_wrote_in_between(
    redis_server: RedisServer,
    meanwhile: Callable[[Store], Awaitable[Any]],
    seen_again: Decimal,
    after: tuple[Decimal, list[Decimal]],
) -> None:
    """Between this replica's read and its write, another replica deducts or replaces
    the fixtures: the write must not happen on the stale read, the rule runs again."""
    url = redis_server.fresh_url()
    store = open_store(url, load_fixtures(DEFAULT_FIXTURES))
    other = open_store(url, load_fixtures(DEFAULT_FIXTURES))
    rule = decision(Deduction(SEED_USER, "INSTORE", "test", Decimal("10")), NOW)
    seen: list[Decimal] = []

    def decide(world: Any, balances: Any) -> Any:
        seen.append(balances[REGULAR])
        if len(seen) == 1:  # the other replica, on its own event loop, right now
            replica = threading.Thread(target=using, args=(other, meanwhile))
            replica.start()
            replica.join()
        return rule(world, balances)

    assert isinstance(using(store, lambda store: store.apply(SEED_USER, decide)), Deducted)
    assert seen == [Decimal("680"), seen_again]
    assert using(open_store(url), state) == after


def test_one_processs_deductions_of_one_customer_pipeline_without_a_retry(
    redis_server: RedisServer,
) -> None:
    """Each deduction is decided on the balances the ones sent before it will leave, and
    sent before their replies: 200 at once run the compare-and-set 200 times (none
    found other balances than expected) after one shared first read, and end exact."""
    import redis

    url = redis_server.fresh_url()
    store = open_store(url, default_world_with("REGULAR: 680,", "REGULAR: 1000,"))
    with redis.Redis.from_url(url) as client:
        client.config_resetstat()

        async def race(store: Store) -> list[Any]:
            await store.world()
            return list(await asyncio.gather(*(deduct("1.5")(store) for _ in range(200))))

        outcomes = using(store, race)
        calls = client.info("commandstats")["cmdstat_evalsha"]["calls"]
    assert all(isinstance(outcome, Deducted) for outcome in outcomes)
    balance, amounts = using(open_store(url), state)
    assert (balance, len(amounts)) == (Decimal("700.0"), 200)
    # the commits; a read, the shard (new) moved to the world's epoch, and a read again
    assert calls == 200 + 3


def test_unreachable_redis_is_a_clear_error() -> None:
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    with pytest.raises(StoreError, match=r"cannot use Redis: .*[Cc]onnect") as caught:
        open_store(url, load_fixtures(DEFAULT_FIXTURES))
    assert "hunter2" not in str(caught.value)
    assert str(caught.value).startswith(redacted(url))


def test_bad_redis_urls_are_explained(redis_server: RedisServer) -> None:
    with pytest.raises(StoreError, match="not a usable Redis URL"):
        open_store("redis://127.0.0.1:port/0", load_fixtures(DEFAULT_FIXTURES))
    with pytest.raises(StoreError, match="DB index is out of range"):
        open_store(redis_server.url(999), load_fixtures(DEFAULT_FIXTURES))


def test_unknown_store_urls_and_memory_without_fixtures() -> None:
    with pytest.raises(StoreError, match=r"^mongodb://x: unknown store URL \(use memory"):
        open_store("mongodb://x", load_fixtures(DEFAULT_FIXTURES))
    with pytest.raises(StoreError, match="needs fixtures"):
        open_store("memory")


@pytest.mark.parametrize("url", ["redis://[::1", "sqlite://[x", "sqlite:state.db", "Memory"])
def test_malformed_urls_are_store_errors_naming_them(url: str) -> None:
    with pytest.raises(StoreError) as caught:
        open_store(url, load_fixtures(DEFAULT_FIXTURES))
    assert str(caught.value).startswith(f"{url}: ")


def test_redacted_hides_only_the_password() -> None:
    assert redacted("redis://user:secret@host:6379/0") == "redis://user:***@host:6379/0"
    assert redacted("redis://:secret@host/0") == "redis://:***@host/0"
    assert redacted("redis://host:6379/0") == "redis://host:6379/0"
    assert redacted("redis://u:secret@[::1") == "redis://u:***@[::1"


# --- the command line and the worker factory ----------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "2"], "--workers 2 needs a shared store"),
        (["--store", "mongodb://db"], "cannot use the store mongodb://db: unknown store URL"),
        (["--store", "redis://127.0.0.1:{port}/0"], "cannot use the store redis://127.0.0.1:"),
        (
            ["--store", "sqlite:///{tmp}/missing/state.db"],
            "missing does not exist: create it first",
        ),
    ],
)
def test_serve_refuses_unusable_stores_with_exit_2(
    args: list[str], message: str, tmp_path: Path
) -> None:
    args = [arg.format(port=free_port(), tmp=tmp_path) for arg in args]
    result = CliRunner().invoke(main, ["serve", "--port", "0", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_the_worker_factory_reads_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    monkeypatch.setenv(app_module.STORE_ENV, url)
    monkeypatch.setenv(app_module.FIXTURES_ENV, str(DEFAULT_FIXTURES))
    monkeypatch.setenv(app_module.ADMIN_TOKEN_ENV, "admin-secret")
    monkeypatch.setenv(app_module.TOKEN_SECRET_ENV, SHARED_SECRET)
    server, thread, base = start_server(app_module.app_from_env())
    try:
        assert httpx.post(f"{base}/__admin/reset").status_code == 401
        health = httpx.get(f"{base}/__admin/health")
        assert health.json() == {"status": "ok", "customers": 5, "store": "sqlite"}
    finally:
        stop_server(server, thread)

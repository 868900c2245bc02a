"""The Redis store on a real Redis Cluster of three ``redis-server`` nodes: commands go
to the node of their key's slot and follow it when it moves (ASK, then MOVED), every
script stays in one slot, customers on different nodes are deducted from at once and
exactly, and a node that fails fails only its commands and the customers it holds.
What a node did is read from the node itself (its command and error statistics).

The shared-store tests (2 workers, 2 replicas, the journal, faults, rate limits) run on
the session's cluster too (``shared_store_url``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from redis.crc import key_slot
from redis.exceptions import ConnectionError, ResponseError
from support import RedisCluster

from mock_server.fixtures import load_document
from mock_server.model import POINTS, Bucket
from mock_server.operations.deduct import decision
from mock_server.rules.deduct import Deducted, Deduction
from mock_server.stores.base import StoreError, StoreUnavailableError
from mock_server.stores.clustered import ClusterClient
from mock_server.stores.open import open_store
from mock_server.stores.rediskeys import SHARDS, WORLD, guard_key

HUNDRED = (Path(__file__).parent / "data" / "hundred.yaml").read_text(encoding="utf-8")
REGULAR = Bucket(1, POINTS, "REGULAR")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
CUSTOMER = """
  - userId: {user_id}
    sources: [INSTORE]
    enrollments:
      - programId: 1
        points: {{REGULAR: 100}}
"""


def _client(url: str) -> ClusterClient:
    return ClusterClient(url, connect_timeout=3, timeout=30)


def _customer_on(cluster: RedisCluster, port: int) -> int:
    """A userId whose shard lives on the node at ``port``."""
    for user_id in range(1001, 1001 + SHARDS):
        if cluster.owner(key_slot(guard_key(user_id % SHARDS).encode())) == port:
            return user_id
    raise LookupError(f"no shard on node {port}")


def _world(user_ids: list[int]) -> Any:
    head = HUNDRED[: HUNDRED.index("customers:")] + "customers:"
    text = head + "".join(CUSTOMER.format(user_id=user_id) for user_id in user_ids)
    return load_document(text, "customers on every node")


def _deduct(user_id: int) -> Any:
    return decision(Deduction(user_id, "INSTORE", "race", Decimal(1)), NOW)


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[RedisCluster]:
    """A cluster of this test's own, which it may break; it keeps serving the slots of
    the nodes that answer when one fails."""
    cluster = RedisCluster.start(tmp_path, "--cluster-require-full-coverage", "no")
    yield cluster
    cluster.stop()


def test_commands_reach_every_node_and_each_gets_its_reply(redis_cluster: RedisCluster) -> None:
    url = redis_cluster.fresh_url()

    async def scenario() -> list[str]:
        client = _client(url)
        try:
            call = client.execute_command
            await asyncio.gather(*(call("SET", f"k{{{i}}}", f"v{i}") for i in range(300)))
            return list(await asyncio.gather(*(call("GET", f"k{{{i}}}") for i in range(300))))
        finally:
            await client.aclose()

    assert asyncio.run(scenario()) == [f"v{i}" for i in range(300)]
    sizes = []
    for port in redis_cluster.ports:
        with redis_cluster.client(port) as node:
            sizes.append(node.dbsize())
    assert sum(sizes) == 300 and all(size > 50 for size in sizes)


def test_a_script_runs_on_its_slots_node_and_crossing_slots_is_an_error(
    redis_cluster: RedisCluster,
) -> None:
    url = redis_cluster.fresh_url()
    for port in redis_cluster.ports:
        with redis_cluster.client(port) as node:
            node.script_flush()

    async def scenario() -> tuple[Any, Any]:
        client = _client(url)
        try:
            script = client.register_script(
                "redis.call('SET', KEYS[1], ARGV[1]) return redis.call('INCR', KEYS[2])"
            )
            same = await script(keys=["a{t}", "b{t}"], args=["x"])
            with pytest.raises(ResponseError, match=r"CROSSSLOT|same slot"):
                await script(keys=["a{t}", "b{u}"], args=["x"])
            return same, await client.execute_command("GET", "a{t}")
        finally:
            await client.aclose()

    assert asyncio.run(scenario()) == (1, "x")


def _run(scenario: Callable[[ClusterClient], Coroutine[Any, Any, Any]], url: str) -> Any:
    """``scenario(client)`` in an event loop, failed after 20 s rather than hanging."""

    async def run() -> Any:
        client = _client(url)
        try:
            return await asyncio.wait_for(scenario(client), 20)
        finally:
            await client.aclose()

    return asyncio.run(run())


def _tags(cluster: RedisCluster, per_node: int) -> dict[int, list[str]]:
    """``per_node`` hash tags (``{t0}``, ...) served by each node, by port, as the
    cluster says (CLUSTER KEYSLOT), not as the client computes."""
    tags: dict[int, list[str]] = {port: [] for port in cluster.ports}
    with cluster.client(cluster.ports[0]) as node:
        for number in range(10_000):
            tag = f"{{t{number}}}"
            found = tags[cluster.owner(node.cluster("KEYSLOT", tag))]
            if len(found) < per_node:
                found.append(tag)
            if all(len(found) == per_node for found in tags.values()):
                return tags
    raise AssertionError(f"no {per_node} tags on every node: {tags}")


def _stat(cluster: RedisCluster, port: int, section: str, name: str, field: str) -> int:
    """A counter of INFO commandstats or errorstats on one node; 0 if absent."""
    with cluster.client(port) as node:
        return int(node.info(section).get(name, {}).get(field, 0))


def _reset_stats(cluster: RedisCluster) -> None:
    for port in cluster.ports:
        with cluster.client(port) as node:
            node.config_resetstat()


def _migrate(cluster: RedisCluster, slot: int, source: int, target: int, asked: Any) -> None:
    """Move ``slot`` from node ``source`` to node ``target`` as redis-cli does; call
    ``asked()`` while its keys are already on the target but the slot is still the
    source's (which answers ASK)."""
    with cluster.client(source) as old, cluster.client(target) as new:
        old_id, new_id = old.cluster("MYID"), new.cluster("MYID")
        new.cluster("SETSLOT", slot, "IMPORTING", old_id)
        old.cluster("SETSLOT", slot, "MIGRATING", new_id)
        keys = old.cluster("GETKEYSINSLOT", slot, 1000)
        old.execute_command("MIGRATE", "127.0.0.1", target, "", 0, 5000, "KEYS", *keys)
        asked()
        for port in (target, source, *(p for p in cluster.ports if p not in (source, target))):
            with cluster.client(port) as node:
                node.cluster("SETSLOT", slot, "NODE", new_id)


def test_a_slot_that_moves_is_followed_ask_then_moved(own_cluster: RedisCluster) -> None:
    cluster = own_cluster
    source, target = cluster.ports[0], cluster.ports[1]
    key = f"{_tags(cluster, per_node=1)[source][0]}moving"
    slot = key_slot(key.encode())

    async def scenario(client: ClusterClient) -> list[Any]:
        replies = [await client.execute_command("SET", key, "before")]  # the table is read
        loop = asyncio.get_running_loop()

        def asked() -> None:  # the key is on the target, the slot still the source's
            future = asyncio.run_coroutine_threadsafe(client.execute_command("GET", key), loop)
            replies.append(future.result(10))

        await asyncio.to_thread(_migrate, cluster, slot, source, target, asked)
        replies.append(await client.execute_command("GET", key))  # MOVED, table read again
        replies.append(await client.execute_command("SET", key, "after"))
        await asyncio.to_thread(_migrate, cluster, slot, target, source, lambda: None)
        replies.append(await client.execute_command("GET", key))
        return replies

    _reset_stats(cluster)
    assert _run(scenario, cluster.url) == ["OK", "before", "before", "OK", "after"]
    # ASK was followed with ASKING on the target, once
    assert _stat(cluster, source, "errorstats", "errorstat_ASK", "count") == 1
    assert _stat(cluster, target, "commandstats", "cmdstat_asking", "calls") == 1
    # MOVED once from each side: after a redirect the client knew where the slot was
    assert _stat(cluster, source, "errorstats", "errorstat_MOVED", "count") == 1
    assert _stat(cluster, target, "errorstats", "errorstat_MOVED", "count") == 1
    with cluster.client(source) as node:
        assert node.get(key) == "after"


def test_a_node_killed_fails_its_commands_and_not_the_others(own_cluster: RedisCluster) -> None:
    cluster = own_cluster
    tags = _tags(cluster, per_node=1)
    doomed = cluster.ports[2]
    process = cluster.processes[cluster.ports.index(doomed)]
    living = [tags[port][0] for port in cluster.ports[:2]]

    async def scenario(client: ClusterClient) -> tuple[BaseException | Any, ...]:
        for tag in tags.values():
            await client.execute_command("SET", f"{tag[0]}k", "v")  # a connection to each
        waiting = asyncio.ensure_future(client.execute_command("BLPOP", f"{tags[doomed][0]}q", 0))
        await asyncio.sleep(0.2)
        process.kill()
        lost = (await asyncio.gather(waiting, return_exceptions=True))[0]
        others = [await client.execute_command("GET", f"{tag}k") for tag in living]
        again = await asyncio.gather(
            client.execute_command("GET", f"{tags[doomed][0]}k"), return_exceptions=True
        )
        return lost, others, again[0]

    _reset_stats(cluster)
    lost, others, again = _run(scenario, cluster.url)
    process.wait(10)
    assert isinstance(lost, ConnectionError), lost
    assert others == ["v", "v"]
    assert isinstance(again, ConnectionError), again
    assert "cannot connect" in str(again)
    # the table was read at the start, and once again after the connection was lost
    reads = (
        _stat(cluster, port, "commandstats", "cmdstat_cluster|slots", "calls")
        for port in cluster.ports[:2]
    )
    assert sum(reads) == 2


@pytest.mark.parametrize("header", ["", "#!lua\n"], ids=["no-shebang", "shebang"])
def test_a_script_may_touch_undeclared_keys_of_its_declared_keys_slot(
    redis_cluster: RedisCluster, header: str
) -> None:
    """Redis 7.0: a script reaches keys it did not declare in KEYS if they hash to the
    slot of the ones it did (what ``rediskeys.FORGET`` relies on: it deletes the keys a
    shard's ``touched`` set names); keys of another node are refused, and with a
    ``#!lua`` header, keys of another slot of the same node too (without one, Redis
    lets those through: not relied on)."""
    url = redis_cluster.fresh_url()
    tags = _tags(redis_cluster, per_node=2)
    own, same_node = tags[redis_cluster.ports[0]]
    other_node = tags[redis_cluster.ports[1]][0]
    cleanup = header + (
        "local gone = redis.call('DEL', ARGV[1]); redis.call('HSET', ARGV[2], 'f', 'v')"
        "; return {gone, redis.call('EXISTS', ARGV[1])}"
    )
    touch = header + "return redis.call('SET', ARGV[1], 'x')"

    async def scenario(client: ClusterClient) -> tuple[Any, Any, BaseException | Any, Any]:
        await client.execute_command("SET", f"{own}declared", "1")
        await client.execute_command("SET", f"{own}undeclared", "1")
        declared = [f"{own}declared"]
        cleaned = await client.register_script(cleanup)(
            keys=declared, args=[f"{own}undeclared", f"{own}created"]
        )
        created = await client.execute_command("HGET", f"{own}created", "f")
        run = client.register_script(touch)
        outcomes = await asyncio.gather(
            run(keys=declared, args=[f"{other_node}x"]),
            run(keys=declared, args=[f"{same_node}x"]),
            return_exceptions=True,
        )
        return cleaned, created, *outcomes

    cleaned, created, elsewhere, same_node_other_slot = _run(scenario, url)
    assert cleaned == [1, 0]
    assert created == "v"
    assert isinstance(elsewhere, ResponseError)
    assert "non local key" in str(elsewhere)
    if header:
        assert isinstance(same_node_other_slot, ResponseError)
        assert "do not hash to the same slot" in str(same_node_other_slot)
    else:
        assert same_node_other_slot == "OK"


def test_a_cluster_client_has_only_database_0_over_tcp() -> None:
    with pytest.raises(ValueError, match="only database 0"):
        ClusterClient("redis://127.0.0.1:7000/2", connect_timeout=1, timeout=1)
    with pytest.raises(ValueError, match="unix socket"):
        ClusterClient("unix:///tmp/redis.sock", connect_timeout=1, timeout=1)
    ClusterClient("redis+cluster://127.0.0.1:7000/0", connect_timeout=1, timeout=1)


def test_deductions_on_every_node_at_once_are_exact(redis_cluster: RedisCluster) -> None:
    """Three customers, one on each node; two replicas (two stores) send 200 deductions
    of 1 point to each at once: each ends at exactly 100 successes and 0 points."""
    url = redis_cluster.fresh_url()
    users = [_customer_on(redis_cluster, port) for port in redis_cluster.ports]
    world = _world(users)
    replicas = [open_store(url, world), open_store(url)]

    async def race() -> list[Any]:
        try:
            for store in replicas:
                await store.world()
            return list(
                await asyncio.gather(
                    *(
                        replicas[i % 2].apply(user, _deduct(user))
                        for user in users
                        for i in range(200)
                    )
                )
            )
        finally:
            for store in replicas:
                await store.close()

    outcomes = asyncio.run(race())
    for index in range(len(users)):
        mine = outcomes[index * 200 : (index + 1) * 200]
        answered = sorted(o.balance for o in mine if isinstance(o, Deducted))
        assert answered == [Decimal(points) for points in range(100)]
        assert [o.code for o in mine if not isinstance(o, Deducted)] == [8907] * 100

    async def check() -> list[tuple[Decimal, int]]:
        store = open_store(url)
        try:
            return [
                ((await store.balances(user))[REGULAR], len(await store.ledger(user)))
                for user in users
            ]
        finally:
            await store.close()

    assert asyncio.run(check()) == [(Decimal(0), 100)] * 3


def test_a_replacement_clears_the_old_state_on_every_node(redis_cluster: RedisCluster) -> None:
    url = redis_cluster.fresh_url()
    users = [_customer_on(redis_cluster, port) for port in redis_cluster.ports]
    store = open_store(url, _world(users))

    def customer_keys() -> int:
        total = 0
        for port in redis_cluster.ports:
            with redis_cluster.client(port) as node:
                total += sum(1 for key in node.scan_iter("capmock:{*}:*:[bl]:*"))
        return total

    async def deduct_then_replace() -> int:
        try:
            await store.world()
            for user in users:
                assert isinstance(await store.apply(user, _deduct(user)), Deducted)
            written = customer_keys()
            await store.replace(_world(users))
            return written
        finally:
            await store.close()

    assert asyncio.run(deduct_then_replace()) == 6  # a balance and a ledger per customer
    assert customer_keys() == 0


def test_a_failed_node_fails_only_the_customers_it_holds(own_cluster: RedisCluster) -> None:
    world_port = own_cluster.owner(key_slot(WORLD.encode()))
    broken = next(port for port in own_cluster.ports if port != world_port)
    healthy = _customer_on(own_cluster, world_port)
    lost = _customer_on(own_cluster, broken)
    store = open_store(own_cluster.url, _world([healthy, lost]))

    async def scenario() -> tuple[Any, Any]:
        try:
            await store.world()
            for user in (healthy, lost):
                assert isinstance(await store.apply(user, _deduct(user)), Deducted)
            own_cluster.processes[own_cluster.ports.index(broken)].kill()
            with pytest.raises(StoreUnavailableError):
                await store.apply(lost, _deduct(lost))
            return await store.apply(healthy, _deduct(healthy)), await store.balances(healthy)
        finally:
            await store.close()

    served, balances = asyncio.run(scenario())
    assert isinstance(served, Deducted) and balances[REGULAR] == Decimal(98)


def test_a_redis_of_capmock_before_shards_is_refused(redis_cluster: RedisCluster) -> None:
    url = redis_cluster.fresh_url()
    with redis_cluster.client(redis_cluster.owner(key_slot(b"capmock:fixture"))) as node:
        node.hset("capmock:fixture", mapping={"epoch": "1", "text": "old"})
    with pytest.raises(StoreError, match=r"older capmock \(the key capmock:fixture\)"):
        open_store(url, _world([1001]))


def test_a_cluster_url_with_a_database_is_refused(redis_cluster: RedisCluster) -> None:
    with pytest.raises(StoreError, match=r"database 0|db"):
        open_store(f"{redis_cluster.url}/3", _world([1001]))
